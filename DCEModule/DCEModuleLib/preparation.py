"""Preparation of a DCE analysis: the inputs checked, the acquisition resolved, T10 mapped,
the signal-to-concentration conversion set up, the baseline frames and the AIF found.

:func:`prepare` turns a :class:`DCEInputs` into a :class:`PreparedDCE`, which the block fit
(block_fit.py) and the AIF preview use. Arrays of a series are (frames, slices, rows, cols);
times inside the analysis (AIF delay, bolus arrival) count from the first frame.
"""
import warnings as python_warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import report

from .curve_source import CurveSource, SignalToConcentration
from .acquisition import hematocrit_entry, resolve_acquisition
from .aif_resolution import arterial_input
from .pre_contrast import CONCENTRATION_CHUNK, baseline_frames, even_sample, first_finite_curves
from .series_checks import b1_values, check_concentration_values, check_series, volume_mask
from .t10_sources import t10_of_voxels
from .warnings_capture import collecting_warnings

AIF_SAMPLE_CANDIDATES = 16384    # tissue voxels converted to time the bolus and the population AIF
# Foreground: mean signal above this fraction of the image's 99th percentile. Air and
# background noise lie far below it; their "concentration" is noise and would pass for an
# artery or fill the maps with meaningless fits.
FOREGROUND_FRACTION = 0.1


@dataclass
class DCEInputs:
    """The arrays of one DCE analysis (see :func:`DCEModuleLib.pipeline.analyse_dce`)."""
    signal_4d: Any                        # (frames, slices, rows, cols) SPGR signal, or mM for concentration input
    t_s: Any                              # (frames,) frame times (s)
    metadata: Optional[dict] = None       # acquisition metadata (TR_s, flip_angle_deg, field_strength_T)
    provenance: Optional[dict] = None     # where each metadata value came from
    mask: Any = None                      # (slices, rows, cols) analysed voxels; None: every voxel with signal
    vfa: Any = None                       # (vfa signal (n_flip, ...), flip angles deg[, TR s])
    t10_map: Any = None                   # (slices, rows, cols) T1 (s)
    aif_mask: Any = None                  # arterial ROI for a measured AIF
    aif_table: Any = None                 # (t_s, plasma mM) on the series' frame times
    b1_map: Any = None                    # relative flip-angle scale on the DCE grid
    t10_labels: Any = None                # integer labels, or (labels, {segment name: label value})


@dataclass
class PreparedDCE:
    """Everything the fit needs, computed and checked before any voxel is fitted."""
    t: np.ndarray                         # frame times as given (s)
    t_rel: np.ndarray                     # frame times from the first frame (s)
    volume_shape: tuple
    mask: np.ndarray                      # analysed voxels
    mask_given: bool                      # False: the foreground was taken as the mask
    needed: np.ndarray                    # voxels whose concentration is needed (mask and arterial candidates)
    convert: Callable                     # rows of the needed voxels -> (n, T) float32 concentration (mM)
    tissue_rows: np.ndarray               # rows (into the needed voxels) of the analysed voxels
    concentration: Optional[np.ndarray]   # (slices, rows, cols, T) mM when made (measured/automatic AIF, written)
    baseline: np.ndarray                  # indices of the pre-contrast frames
    acquisition: dict                     # name -> (value, where it came from)
    aif: dict                             # t_s, cp_mM, cb_mM, source, voxels, tissue_arrival_s, ...
    t10_voxels: Optional[np.ndarray]      # T10 (s) of the needed voxels (None for concentration input)
    warnings: list = field(default_factory=list)


@dataclass
class _Region:
    """The checked series and the voxels of the analysis (what prepare needs before T10)."""
    signal_4d: np.ndarray
    t: np.ndarray
    t_rel: np.ndarray
    acquisition: dict
    foreground: np.ndarray
    mask: np.ndarray
    mask_given: bool
    needed: np.ndarray              # voxels whose concentration is needed: the mask plus arterial candidates
    arterial: Optional[np.ndarray]  # arterial candidates (automatic AIF) or the arterial ROI (measured AIF)
    aif_mask: Any
    b1: Optional[np.ndarray]
    from_concentration: bool
    warnings: list


def prepare(inputs, settings, progress=None):
    """Everything up to and including the AIF: checks, T10, concentration, baseline, AIF.

    ``inputs``: :class:`DCEInputs`; ``settings``: validated DCESettings. Returns a
    :class:`PreparedDCE`; raises InputError/MetadataError before anything is written."""
    region = _checked_region(inputs, settings)
    warnings, acquisition = region.warnings, region.acquisition
    t10_voxels = None
    with collecting_warnings(warnings):
        if region.from_concentration:
            curves = CurveSource(region.signal_4d, region.needed)
            baseline = _baseline(settings, curves, region)
        else:
            report(progress, 0.05, "T1 mapping")
            t10_voxels, t10_rows, flip_rows = _t10_and_flip(inputs, settings, region)
            report(progress, 0.15, "signal to concentration")
            baseline = _baseline(settings, CurveSource(region.signal_4d, region.needed), region)
            curves = SignalToConcentration(region.signal_4d, region.needed, baseline, t10_rows, flip_rows,
                                           acquisition, settings)
    acquisition["baseline_frames"] = (float(baseline.size), "user setting" if settings.baseline_frames is not None
                                      else "frames before the bolus arrival")
    tissue_rows = np.flatnonzero(region.mask.ravel()[curves.needed_index])
    conc, convert, tissue_curves = _converters(settings, curves, region)
    sample = _tissue_sample(tissue_curves, tissue_rows, region.from_concentration)
    report(progress, 0.25, "arterial input function")
    with collecting_warnings(warnings):
        aif_info = arterial_input(settings, region.t, region.t_rel, conc, sample, region.aif_mask, inputs.aif_table,
                                  curves.aif_from_signal)
    return PreparedDCE(t=region.t, t_rel=region.t_rel, volume_shape=region.signal_4d.shape[1:], mask=region.mask,
                       mask_given=region.mask_given, needed=region.needed, convert=convert, tissue_rows=tissue_rows,
                       concentration=conc, baseline=baseline, acquisition=acquisition, warnings=warnings,
                       aif=aif_info, t10_voxels=t10_voxels)


def _checked_region(inputs, settings):
    """Input checks, the acquisition, the foreground, the mask and the voxels to convert."""
    from_concentration = settings.input_kind == "concentration"
    what = "concentration series" if from_concentration else "DCE series"
    signal_4d = np.asarray(inputs.signal_4d, dtype=np.float32)
    t = check_series(signal_4d, inputs.t_s, what)
    volume_shape = signal_4d.shape[1:]
    if from_concentration:
        acquisition = {"input": (None, "concentration series (mM) given: no T1 mapping or signal conversion"),
                       "hematocrit": hematocrit_entry(settings)}
    else:
        acquisition = resolve_acquisition(inputs.metadata or {}, inputs.provenance, settings)
        acquisition["input"] = (None, "signal series (SPGR), converted to concentration")
    if settings.aif_source == "measured" and inputs.aif_mask is None:
        raise InputError("AIF source 'measured' needs an arterial ROI (aif_mask)")
    if settings.aif_source == "table" and inputs.aif_table is None:
        raise InputError("AIF source 'table' needs an AIF table (time s, plasma concentration mM)")
    finite_signal = np.all(np.isfinite(signal_4d), axis=0)
    if from_concentration:
        if not finite_signal.any():
            raise InputError("concentration series: no voxel has a finite concentration at every frame")
        # Background of a concentration series is zero (or NaN): any finite, non-zero curve is foreground.
        foreground = finite_signal & np.any(signal_4d != 0, axis=0)
        if not foreground.any():
            raise InputError("concentration series: every voxel is zero at every frame")
        check_concentration_values(signal_4d, foreground)
    else:
        foreground = foreground_mask(signal_4d, finite_signal)
    b1 = None
    if inputs.b1_map is not None and not from_concentration:
        b1 = b1_values(inputs.b1_map, volume_shape)
    if settings.t10_per_tissue and inputs.t10_labels is None and not from_concentration:
        raise InputError("T10 per tissue needs tissue labels (a label map or segmentation)")
    # Without a mask every voxel with signal is analysed; the background is marked "no signal".
    mask_given = inputs.mask is not None
    mask = volume_mask(inputs.mask, volume_shape, "mask") if mask_given else foreground
    if not mask.any():
        raise InputError(f"{what}: no voxel holds signal")
    warnings = []
    if from_concentration:
        ignored = [name for name, value in (("VFA series", inputs.vfa), ("T1 map", inputs.t10_map),
                                            ("B1 map", inputs.b1_map), ("T10 tissue labels", inputs.t10_labels))
                   if value is not None]
        if ignored:
            warnings.append(f"{', '.join(ignored)} ignored: the input is already concentration")
    # Voxels whose concentration is needed: the analysis mask, plus arterial candidates.
    arterial, aif_mask = None, inputs.aif_mask
    if settings.aif_source == "automatic":
        needed = foreground | mask
        arterial = needed & ~mask
    elif settings.aif_source == "measured":
        aif_mask = volume_mask(aif_mask, volume_shape, "AIF ROI")
        needed = mask | aif_mask
        arterial = aif_mask
    else:
        needed = mask
    return _Region(signal_4d=signal_4d, t=t, t_rel=t - t[0], acquisition=acquisition, foreground=foreground,
                   mask=mask, mask_given=mask_given, needed=needed, arterial=arterial, aif_mask=aif_mask, b1=b1,
                   from_concentration=from_concentration, warnings=warnings)


def _baseline(settings, curves, region):
    """Pre-contrast frames from the needed voxels' signal (tissue and arterial candidates)."""
    in_mask = region.mask.ravel()[curves.needed_index]
    in_artery = None if region.arterial is None else region.arterial.ravel()[curves.needed_index]
    return baseline_frames(settings, curves.gather, region.t_rel, in_mask, in_artery)


def _t10_and_flip(inputs, settings, region):
    """(T10 of the needed voxels, T10 per row with B1 gaps as NaN, flip angle per row or scalar)."""
    acquisition = region.acquisition
    t10_voxels, t10_source = t10_of_voxels(settings, inputs.vfa, inputs.t10_map, region.needed, region.arterial,
                                           region.signal_4d.shape[1:], acquisition, region.warnings, b1=region.b1,
                                           t10_labels=inputs.t10_labels)
    acquisition["T10"] = (None, t10_source)
    flip = acquisition["flip_angle_deg"][0]
    t10_rows = np.broadcast_to(np.asarray(t10_voxels, dtype=float), (int(np.count_nonzero(region.needed)),))
    flip_rows = flip
    if region.b1 is not None:
        b1_rows = region.b1[region.needed]
        # Voxels without a B1 value get no concentration (their actual flip is unknown).
        t10_rows = np.where(np.isfinite(b1_rows), t10_rows, np.nan)
        flip_rows = flip * np.where(np.isfinite(b1_rows), b1_rows, 1.0)
        acquisition["B1"] = (None, "B1 map: actual flip angle = nominal x B1 ("
                                   + ("VFA and DCE)" if inputs.vfa is not None else "DCE)"))
    return t10_voxels, t10_rows, flip_rows


def _converters(settings, curves, region):
    """(whole-volume concentration or None, convert(rows), tissue_curves(rows)).

    The whole-volume concentration is made only to find or measure the AIF, or to write it;
    otherwise each block of voxels is converted when it is fitted (block_fit.py)."""
    if settings.aif_source in ("measured", "automatic") or settings.write_concentration:
        t_size = region.t.size
        conc = np.full(region.signal_4d.shape[1:] + (t_size,), np.nan, dtype=np.float32)
        conc_2d = conc.reshape(-1, t_size)                       # a view: voxel-major like the blocks
        with collecting_warnings(region.warnings):
            for start in range(0, curves.n_needed, CONCENTRATION_CHUNK):
                rows = slice(start, start + CONCENTRATION_CHUNK)
                conc_2d[curves.needed_index[rows]] = curves.convert(rows)

        def converted(rows):
            return conc_2d[curves.needed_index[rows]]
        return conc, converted, converted

    def tissue_curves(rows):
        with python_warnings.catch_warnings():
            python_warnings.simplefilter("ignore")             # reported when the block is fitted
            return curves.convert(rows)
    return None, curves.convert, tissue_curves


def _tissue_sample(tissue_curves, tissue_rows, from_concentration):
    """Up to 4096 finite tissue curves, evenly sampled: enough to time the bolus and the AIF delay."""
    sample = tissue_curves(even_sample(tissue_rows, AIF_SAMPLE_CANDIDATES))
    sample = sample[np.all(np.isfinite(sample), axis=1)]
    if sample.shape[0] == 0:                        # none in the even sample: look through every voxel
        sample = first_finite_curves(tissue_curves, tissue_rows)
    if sample.shape[0] == 0:
        raise InputError("concentration: no voxel of the mask has a finite concentration at every frame "
                         + ("" if from_concentration else
                            "(check T10, TR, flip angle, relaxivity and the baseline)"))
    return sample[np.unique(np.linspace(0, sample.shape[0] - 1, min(sample.shape[0], 4096)).astype(int))]


def foreground_mask(signal_4d, finite_signal):
    """Voxels holding tissue or blood rather than air or background noise."""
    mean = np.where(finite_signal, signal_4d.mean(axis=0), np.nan)
    if not np.isfinite(mean).any():
        raise InputError("DCE series: no voxel has finite values at every frame")
    return finite_signal & (mean > FOREGROUND_FRACTION * np.nanpercentile(mean, 99))
