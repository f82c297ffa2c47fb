"""The analysed voxels' curves, taken from the (T, voxels) series when they are used.

:class:`CurveSource` gathers the curves of the "needed" voxels (the analysis mask plus
arterial candidates) block by block from the series, with no full-size copy; a
:class:`SignalToConcentration` converts them from SPGR signal to mM (exact inversion, per-voxel
T10 and flip angle) and makes a whole-blood AIF from arterial voxels' mean signal.
"""
import warnings as python_warnings

import numpy as np

from TMEMonitorLib.errors import InputError

from . import signal
from .t10_sources import literature_blood_t1


class CurveSource:
    """Curves (n, T) of the needed voxels of a (T, slices, rows, cols) series; rows index them."""

    def __init__(self, series_4d, needed):
        self.series_2d = series_4d.reshape(series_4d.shape[0], -1)
        self.needed_index = np.flatnonzero(needed.ravel())

    @property
    def n_needed(self):
        return self.needed_index.size

    def rows_of(self, flat_voxels):
        """Rows of the needed voxels at flat volume indices."""
        return np.searchsorted(self.needed_index, np.asarray(flat_voxels).ravel())

    def gather(self, rows):
        """(n, T) float32 curves of the needed voxels ``rows`` (indices or slice)."""
        return np.ascontiguousarray(self.series_2d[:, self.needed_index[rows]].T)

    def convert(self, rows):
        """The curves in mM: a concentration series is already."""
        return self.gather(rows).astype(np.float32, copy=False)

    aif_from_signal = None          # a concentration series has no signal to convert an AIF from


class SignalToConcentration(CurveSource):
    """SPGR signal curves converted to concentration with the voxels' T10 and flip angle."""

    def __init__(self, series_4d, needed, baseline, t10_rows, flip_rows, acquisition, settings):
        super().__init__(series_4d, needed)
        self.baseline, self.t10_rows, self.flip_rows = baseline, t10_rows, flip_rows
        self.tr, self.r1 = acquisition["TR_s"][0], acquisition["r1_per_mM_s"][0]
        self.field_T = acquisition.get("field_strength_T", (None,))[0]
        self.blood_t1_setting = settings.blood_t1_s

    def _flip(self, rows):
        return self.flip_rows if np.ndim(self.flip_rows) == 0 else self.flip_rows[rows]

    def convert(self, rows):
        with np.errstate(all="ignore"):
            return signal.spgr_to_concentration(self.gather(rows), self.baseline, self.t10_rows[rows], self.tr,
                                                self._flip(rows), self.r1).astype(np.float32)

    def aif_from_signal(self, flat_voxels):
        """Whole-blood AIF (mM) from the mean signal of arterial voxels (flat volume indices),
        converted once with the blood T1: averaging before the nonlinear SPGR inversion keeps
        noise from biasing the peak, and vessel VFA T1 values (noise, inflow) are not used."""
        rows = self.rows_of(flat_voxels)
        curves = self.gather(rows).astype(float)
        curves = curves[np.all(np.isfinite(curves), axis=1)]
        if curves.shape[0] == 0:
            raise InputError("arterial voxels: no voxel has a finite signal at every frame")
        flip_aif = self.flip_rows if np.ndim(self.flip_rows) == 0 else float(np.nanmean(self.flip_rows[rows]))
        if not self.blood_t1_setting and self.field_T is None:
            raise InputError("arterial signal: no field strength to choose the blood T1; give the blood T1")
        blood_t1 = self.blood_t1_setting or literature_blood_t1(self.field_T)
        with np.errstate(all="ignore"), python_warnings.catch_warnings():
            python_warnings.simplefilter("ignore")
            cb = signal.spgr_to_concentration(curves.mean(axis=0), self.baseline, blood_t1, self.tr, flip_aif, self.r1)
        if not np.all(np.isfinite(cb)):
            raise InputError(f"arterial signal: {int(np.sum(~np.isfinite(cb)))} frames lie beyond the "
                             f"SPGR saturation limit for blood T1 {blood_t1:g} s; check the flip angle, "
                             "TR and blood T1, or use a population AIF")
        return cb, (f"mean signal of {curves.shape[0]} voxels converted with blood T1 {blood_t1:g} s"
                    + (" (user setting)" if self.blood_t1_setting else " (Lu et al. 2004)"))
