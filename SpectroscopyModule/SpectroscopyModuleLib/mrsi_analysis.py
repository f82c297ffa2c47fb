"""MRSI: fit every voxel of a grid and make maps (metabolites, sums, ratios, SNR, FWHM, fit
status, a good/poor quality map) over (i, j, k) with the grid's voxel-to-RAS geometry."""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import report

from . import quantification
from .basis_choice import basis_for, check_basis, describe_basis
from .fitting.options import FITTED, fit_options, metabolite_names
from .mrs_input import check_acquisition, dim_tags, is_mrsi, load_mrs, split_dims
from .processing_steps import apply_processing
from .settings import SpectroscopySettings

AMPLITUDE_UNIT = "a.u."
RATIO_UNIT = ""
QUALITY_GOOD, QUALITY_POOR = 1, 2
QUALITY_LABELS = {QUALITY_GOOD: ("good fit", (0.20, 0.75, 0.30)),
                  QUALITY_POOR: ("poor quality (CRLB, linewidth or SNR)", (0.90, 0.30, 0.20))}


@dataclass
class MRSIAnalysis:
    grid: object                        # fitting.LCMGridResult (grid in (i, j[, k]) order)
    maps: dict                          # name -> (i, j, k) float32 (NaN where not fitted)
    units: dict                         # name -> unit
    status: np.ndarray                  # (i, j, k) uint8 fit status
    quality: np.ndarray                 # (i, j, k) uint8: 0 not fitted, 1 good, 2 poor
    mask: np.ndarray                    # (i, j, k) voxels fitted
    ijk_to_ras: np.ndarray
    acquisition: dict
    processing: list
    basis: str
    settings: SpectroscopySettings
    warnings: list = field(default_factory=list)

    @property
    def biomarkers(self):
        """Median of each metabolite / total / ratio map over the good-quality voxels (a ratio only
        where it is defined in at least half of them: a denominator that is mostly 0 says nothing)."""
        good = self.quality == QUALITY_GOOD
        out = {}
        for name, values in self.maps.items():
            if self.units.get(name) not in (AMPLITUDE_UNIT, RATIO_UNIT) or name in ("SNR",):
                continue
            selected = values[good & np.isfinite(values)]
            if selected.size and (self.units[name] == AMPLITUDE_UNIT or 2 * selected.size >= good.sum()):
                out[name] = float(np.median(selected))
        return out

    def grid_index(self, ijk):
        """(i, j, k) of the volume -> index into the fit grid (drops a padded k)."""
        ijk = tuple(int(v) for v in ijk)
        shape = self.status.shape
        if len(ijk) != 3 or any(not 0 <= v < n for v, n in zip(ijk, shape)):
            raise InputError(f"voxel {ijk} is outside the MRSI grid (i, j, k) of size {shape}")
        return ijk[:len(self.grid.grid_shape)]


def as_3d(array):
    array = np.asarray(array)
    while array.ndim < 3:
        array = array[..., None]
    return array


def mrsi_geometry(mrs, spatial_shape):
    """Voxel (i, j, k) -> RAS matrix of the grid; identity-like with a warning when unknown."""
    affine = getattr(mrs, "affine", None)
    if affine is not None:
        affine = np.asarray(affine, dtype=float)
        if affine.shape == (4, 4) and np.all(np.isfinite(affine)) and abs(np.linalg.det(affine[:3, :3])) > 0:
            return affine, []
    metadata = getattr(mrs, "metadata", None) or {}
    size = metadata.get("voxel_size_mm") or metadata.get("voxel_size") or (10.0, 10.0, 10.0)
    matrix = np.eye(4)
    matrix[:3, :3] = np.diag(np.asarray(size, dtype=float).ravel()[:3])
    return matrix, ["the MRSI header has no voxel-to-RAS geometry: maps are not aligned with anatomy"]


def analyse_mrsi(mrs, settings=None, mask=None, basis=None, progress=None):
    """Fit every voxel of an MRSI grid; returns an :class:`MRSIAnalysis` with maps over (i, j, k).

    ``mask``: bool array over the spatial grid (i, j[, k]) limiting the fit."""
    from .fitting import fit_lcm_grid
    settings = (settings or SpectroscopySettings()).validated()
    mrs = load_mrs(mrs, settings)
    if not is_mrsi(mrs):
        raise InputError("spectroscopy data: a single voxel; use the single-voxel analysis (run_svs)")
    acquisition = check_acquisition(mrs, settings)
    spatial, _, _ = split_dims(mrs)
    if len(spatial) > 3:
        raise InputError(f"MRSI grid: {len(spatial)} spatial axes {spatial}; at most 3 expected")
    ijk_to_ras, warnings = mrsi_geometry(mrs, spatial)
    if mask is not None:
        mask = np.asarray(mask, bool)
        if as_3d(mask).shape != as_3d(np.zeros(spatial)).shape:
            raise InputError(f"MRSI mask: shape {mask.shape} does not match the grid {spatial}")
        mask = mask.reshape(spatial)
        if not mask.any():
            raise InputError("MRSI mask: no voxel selected")
    report(progress, 0.02, "processing")
    processed, log = apply_processing(mrs, settings, lambda f, m="": report(progress, 0.02 + 0.1 * f, m))
    p_spatial, extra, n_points = split_dims(processed)
    if int(np.prod(extra)) > 1:
        raise InputError(f"MRSI data: {int(np.prod(extra))} spectra per voxel remain after processing "
                         f"({', '.join(dim_tags(processed))}); choose coil combination and averaging")
    fids = np.asarray(processed.fid).reshape(tuple(p_spatial) + (n_points,))
    mhz, dwell = acquisition["spectrometer_mhz"][0], float(processed.dwell_s)
    te = acquisition.get("te_s", (None, None))[0]
    report(progress, 0.13, "basis")
    if basis is None:
        basis = basis_for(settings, mhz, te, n_points, dwell,
                          progress=lambda f, m="": report(progress, 0.13 + 0.07 * f, m or "basis simulation"))
    warnings += check_basis(basis, mhz, te)
    grid = fit_lcm_grid(fids, basis, ppm_range=settings.ppm_range, dwell_s=dwell, spectrometer_mhz=mhz, mask=mask,
                        crlb_threshold_percent=settings.crlb_threshold_percent,
                        fwhm_threshold_ppm=settings.fwhm_threshold_ppm,
                        progress=lambda f, m="": report(progress, 0.15 + 0.8 * f, m), **fit_options(settings))
    report(progress, 0.96, "maps")
    status = as_3d(grid.status).astype(np.uint8)
    fitted = np.isin(status, FITTED)
    maps, units = {}, {}

    def put(name, values, unit):
        values = as_3d(np.asarray(values, dtype=np.float32)).copy()
        values[~fitted] = np.nan
        maps[name], units[name] = values, unit
    for name in metabolite_names(grid.names):
        put(name, grid.amplitudes[name], AMPLITUDE_UNIT)
    for name, values in quantification.clinical_sums(grid).items():
        put(name, values, AMPLITUDE_UNIT)
    for name, values in quantification.clinical_ratios(grid).items():
        if np.any(np.isfinite(values)):
            put(name, values, RATIO_UNIT)
    put("SNR", grid.snr, "")
    put("FWHM", grid.fwhm_ppm, "ppm")
    good = as_3d(grid.quality_mask()) & fitted & (as_3d(grid.snr) >= settings.min_snr)
    quality = np.zeros(status.shape, np.uint8)
    quality[fitted] = QUALITY_POOR
    quality[good] = QUALITY_GOOD
    report(progress, 1.0, "done")
    return MRSIAnalysis(grid=grid, maps=maps, units=units, status=status, quality=quality,
                        mask=as_3d(mask) if mask is not None else np.ones(status.shape, bool),
                        ijk_to_ras=ijk_to_ras, acquisition=acquisition, processing=log,
                        basis=describe_basis(basis), settings=settings, warnings=warnings)


def voxel_analysis(mrsi, ijk):
    """The full single-voxel fit (spectra, components) of one MRSI voxel (i, j, k)."""
    index = mrsi.grid_index(ijk)
    try:
        return mrsi.grid.voxel(index)
    except IndexError as error:
        raise InputError(str(error)) from None
