"""The spectroscopy analysis on objects and arrays: read -> check -> process -> basis -> fit -> quantify.

No MRML here: ``logic.py`` turns an :class:`SVSAnalysis` / :class:`MRSIAnalysis` into nodes, the
command line writes files. Everything is read, checked and fitted before anything is written,
so bad input leaves a scene untouched.

Layout of ``mrs.fid`` (NIfTI-MRS order, spectral axis last): ``(spatial..., extra..., n_points)``
where the extra axes are those named by ``mrs.dim_tags`` (coils, transients, edits, ...). A
single voxel has no (or only singleton) spatial axes; an MRSI grid has them in (i, j[, k]) order,
matching the voxel->RAS ``mrs.affine``.
"""
import os
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from . import quantification
from .settings import PROCESSING_LABELS, SpectroscopySettings

AMPLITUDE_UNIT = "a.u."
RATIO_UNIT = ""
# Gyromagnetic ratio of 1H / 2 pi, 42.577 MHz/T (CODATA 2018), to show field strengths.
PROTON_MHZ_PER_T = 42.577478
# Basis/data field tolerance, as the basis resampler (basis.resample.FIELD_RTOL).
FIELD_RTOL = 0.01
# Components summed for the spectrum plot (pools overlap at clinical fields) and shown alone.
PLOT_POOLS = ("tNAA", "tCr", "tCho", "Glx")
PLOT_SINGLE = ("Lac", "Ins", "Cit", "Ala")
FITTED = (fit_status.OK, fit_status.HIT_BOUND)


# ----------------------------------------------------------------------------- input
def load_mrs(source, settings=None):
    """An MRSData from a path (any format ``io.read_mrs`` knows) or an MRSData-like object.

    ``settings.dwell_s`` / ``settings.spectrometer_mhz``, when set, replace or fill the header's
    values (recorded in ``metadata['overrides']``)."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise InputError(f"spectroscopy file '{path}' does not exist")
        from . import io as mrs_io
        overrides = {name: getattr(settings, name, None) for name in ("dwell_s", "spectrometer_mhz")}
        return mrs_io.read_mrs(path, **{k: float(v) for k, v in overrides.items() if v is not None})
    if source is None or not hasattr(source, "fid"):
        raise InputError(f"spectroscopy input must be a file path or an MRSData (got {type(source).__name__})")
    return source


def _tags(mrs):
    return [t for t in (getattr(mrs, "dim_tags", None) or []) if t]


def split_dims(mrs):
    """(spatial shape, extra shape, n_points) of ``mrs.fid``."""
    shape = np.shape(mrs.fid)
    n_extra = len(_tags(mrs))
    if len(shape) < 1 + n_extra:
        raise InputError(f"spectroscopy data: fid shape {shape} has fewer axes than its dimension tags {_tags(mrs)}")
    n_spatial = len(shape) - 1 - n_extra
    return tuple(shape[:n_spatial]), tuple(shape[n_spatial:-1]), shape[-1]


def is_mrsi(mrs):
    spatial, _, _ = split_dims(mrs)
    return int(np.prod(spatial)) > 1


def check_acquisition(mrs, settings, what="spectroscopy data"):
    """Acquisition values the analysis uses, {name: (value, where it came from)}; refuses bad headers."""
    fid = np.asarray(mrs.fid)
    if fid.ndim < 1 or fid.shape[-1] < 16:
        raise InputError(f"{what}: fid shape {fid.shape} has fewer than 16 spectral points")
    if not np.iscomplexobj(fid):
        raise InputError(f"{what}: the FID is real-valued; a complex (quadrature) FID is needed")
    if not np.all(np.isfinite(fid)):
        raise InputError(f"{what}: the FID holds NaN or infinite values")
    metadata = getattr(mrs, "metadata", None) or {}
    dwell = getattr(mrs, "dwell_s", None)
    if dwell is None or not np.isfinite(dwell):
        raise MetadataError(f"{what}: the dwell time (spectral width) is missing from the header")
    if not 0 < dwell <= 0.01:
        raise MetadataError(f"{what}: dwell time {dwell:g} s is implausible (expected 1e-5..1e-2 s; is it in ms?)")
    mhz = getattr(mrs, "spectrometer_mhz", None)
    if mhz is None or not np.isfinite(mhz):
        raise MetadataError(f"{what}: the spectrometer (transmitter) frequency is missing from the header")
    if not 1.0 <= mhz <= 1500.0:
        raise MetadataError(f"{what}: spectrometer frequency {mhz:g} MHz is implausible (expected MHz)")
    nucleus = getattr(mrs, "nucleus", None) or "1H"
    if str(nucleus).upper() != "1H":
        raise InputError(f"{what}: nucleus {nucleus}; only proton (1H) spectra can be fitted")
    header = metadata.get("source_format") or metadata.get("format") or "file header"
    acquisition = {"spectrometer_mhz": (float(mhz), header), "dwell_s": (float(dwell), header),
                   "n_points": (int(fid.shape[-1]), "data"),
                   "field_T": (float(mhz) / PROTON_MHZ_PER_T, "from the spectrometer frequency")}
    te = getattr(mrs, "te_s", None)
    if settings.te_s is not None:
        acquisition["te_s"] = (float(settings.te_s), "user setting")
    elif te is not None and np.isfinite(te):
        if not 0.0 <= te <= 2.0:
            raise MetadataError(f"{what}: TE {te:g} s in the header is implausible (is it in ms?)")
        acquisition["te_s"] = (float(te), header)
    elif settings.basis_source == "simulate":
        raise MetadataError(f"{what}: the echo time is missing from the header; give TE to simulate a basis")
    tr = getattr(mrs, "tr_s", None)
    if tr is not None and np.isfinite(tr):
        acquisition["tr_s"] = (float(tr), header)
    return acquisition


# ----------------------------------------------------------------------------- basis
@lru_cache(maxsize=16)
def _simulated_basis(spectrometer_mhz, te_s, sequence, metabolites, n_points, dwell_s):
    from .basis import simulate_basis
    return simulate_basis(spectrometer_mhz, te_s, sequence, None if metabolites is None else list(metabolites),
                          n_points, dwell_s)


@lru_cache(maxsize=8)
def _basis_from_file(path, modified_ns):
    from .basis import read_basis
    return read_basis(path)


def basis_for(settings, spectrometer_mhz, te_s, n_points, dwell_s):
    """The basis to fit with: simulated for this acquisition, or read from ``settings.basis_path``.

    Both are cached (simulated per field/TE/sequence/metabolites/sampling; a file until it
    changes), so a cohort or an MRSI grid pays for them once."""
    if settings.basis_source == "simulate":
        metabolites = None if settings.metabolites is None else tuple(settings.metabolites)
        return _simulated_basis(round(float(spectrometer_mhz), 6), round(float(te_s), 9), str(settings.sequence),
                                metabolites, int(n_points), round(float(dwell_s), 12))
    path = os.path.abspath(os.fspath(settings.basis_path))
    if not os.path.exists(path):
        raise InputError(f"basis '{path}' does not exist")
    basis = _basis_from_file(path, os.stat(path).st_mtime_ns)
    if settings.metabolites is not None:
        missing = [m for m in settings.metabolites if m not in basis]
        if missing:
            raise InputError(f"basis '{path}' lacks {', '.join(missing)} (it holds {', '.join(basis.names)})")
        basis = basis.subset(list(settings.metabolites))
    return basis


def check_basis(basis, spectrometer_mhz, te_s=None):
    """Refuse a basis made at another field; return warnings (another TE)."""
    if abs(basis.spectrometer_mhz - spectrometer_mhz) > FIELD_RTOL * spectrometer_mhz:
        raise InputError(
            f"basis: made for {basis.spectrometer_mhz:.3f} MHz ({basis.spectrometer_mhz / PROTON_MHZ_PER_T:.2f} T) "
            f"but the data were acquired at {spectrometer_mhz:.3f} MHz ({spectrometer_mhz / PROTON_MHZ_PER_T:.2f} T); "
            "J-coupling patterns differ between fields: use or simulate a basis for this field")
    warnings = []
    if te_s is not None and basis.te_s is not None and not np.isclose(basis.te_s, te_s, atol=5e-4):
        warnings.append(f"basis TE {basis.te_s * 1e3:.1f} ms differs from the data TE {te_s * 1e3:.1f} ms")
    return warnings


def describe_basis(basis):
    meta = basis.metadata
    source = meta.get("source") or meta.get("path") or "file"
    te = f"TE {basis.te_s * 1e3:.1f} ms" if basis.te_s is not None else "TE unknown"
    return (f"{source}; {len(basis)} spectra at {basis.spectrometer_mhz:.3f} MHz, {te}, "
            f"{basis.sequence or 'sequence unknown'}")


def clear_basis_cache():
    _simulated_basis.cache_clear()
    _basis_from_file.cache_clear()


# ----------------------------------------------------------------------------- processing
def apply_processing(mrs, settings, progress=None):
    """Run the chosen processing steps in order; returns (processed mrs, log [(step, outcome)])."""
    log = []
    steps = settings.processing or ()
    for index, step in enumerate(steps):
        report(progress, index / max(len(steps), 1), PROCESSING_LABELS[step])
        mrs, outcome = _run_step(step, mrs, settings)
        log.append((step, outcome))
    return mrs, log


# The function of ``SpectroscopyModuleLib.processing`` behind each step.
PROCESSING_FUNCTIONS = {
    "coil_combine": "coil_combine", "ecc": "ecc", "align": "align", "reject_outliers": "reject_outliers",
    "average": "average",
    "water_removal": "hlsvd_water_removal", "reference": "reference", "phase": "phase",
    "apodise": "apodise", "zero_fill": "zero_fill",
}
# NIfTI-MRS dimension tags (Clarke WT et al., Magn Reson Med 2022;88:2358, doi:10.1002/mrm.29418).
COIL_TAG = "DIM_COIL"
TRANSIENT_TAGS = ("DIM_DYN", "DIM_MEAS", "DIM_AVG")


def _processing_function(step):
    from . import processing
    return getattr(processing, PROCESSING_FUNCTIONS[step])


def _has_tag(mrs, tags):
    spatial, extra, _ = split_dims(mrs)
    present = [t for t in _tags(mrs) if t in tags]
    return bool(present) and any(extra[_tags(mrs).index(t)] > 1 for t in present)


def _water_reference(settings, mrs=None):
    """The unsuppressed water reference (the settings' file, else one stored with the data),
    coil-combined and averaged like the data."""
    if settings.water_reference_path:
        water = load_mrs(settings.water_reference_path)
    else:
        water = getattr(mrs, "water_reference", None)
    for step in ("coil_combine", "average"):
        if _has_tag(water, (COIL_TAG,) if step == "coil_combine" else TRANSIENT_TAGS):
            water = _processing_function(step)(water)
    return water


def _water_for_scaling(settings, mrs):
    """The processed (combined, averaged) water reference for water scaling, or None."""
    if not settings.water_reference_path and getattr(mrs, "water_reference", None) is None:
        return None
    return _water_reference(settings, mrs)


def _run_step(step, mrs, settings):
    """Apply one step when it applies to these data; returns (mrs, what happened)."""
    if step == "coil_combine" and not _has_tag(mrs, (COIL_TAG,)):
        return mrs, "skipped: no coil dimension"
    if step in ("align", "reject_outliers", "average") and not _has_tag(mrs, TRANSIENT_TAGS):
        return mrs, "skipped: no transients to " + {"align": "align", "reject_outliers": "check",
                                                    "average": "average"}[step]
    if step == "ecc" and not settings.water_reference_path and getattr(mrs, "water_reference", None) is None:
        return mrs, "skipped: no water reference given"
    if step == "apodise" and not settings.line_broadening_hz:
        return mrs, "skipped: line broadening is 0 Hz"
    if step == "zero_fill" and int(settings.zero_fill_factor) <= 1:
        return mrs, "skipped: zero-fill factor 1"
    function = _processing_function(step)
    if step == "ecc":
        out = function(mrs, _water_reference(settings, mrs))
    elif step == "apodise":
        out = function(mrs, float(settings.line_broadening_hz))
    elif step == "zero_fill":
        out = function(mrs, int(settings.zero_fill_factor))
    elif step == "reference":
        # Optional refinement: spectra without a recognisable peak keep their frequency (the fit
        # still searches its own shift) rather than stopping the analysis.
        try:
            out = function(mrs)
        except InputError as error:
            return mrs, f"skipped: {error}"
    else:
        out = function(mrs)
    if not hasattr(out, "fid"):
        raise InputError(f"processing step '{step}' did not return spectroscopy data")
    return out, "applied"


# ----------------------------------------------------------------------------- fitting helpers
def fit_options(settings):
    return {"baseline": None if settings.baseline in (None, "none") else settings.baseline}


def _metabolite_names(names):
    from .basis.macromolecules import is_macromolecule
    return [n for n in names if not is_macromolecule(n)]


def _ratio_parts(label):
    """'tCho/tCr' -> ('tCho', 'tCr'); '(tCho+tCr)/Cit' -> ('tCho+tCr', 'Cit')."""
    numerator, denominator = label.rsplit("/", 1)
    return numerator.strip("()"), denominator


def _sum_crlb_percent(fit, expression):
    names = quantification.expand_terms(expression, fit.names)
    u = np.array([1.0 if n in names else 0.0 for n in fit.names])
    total = float(u @ np.array([fit.amplitudes[n] for n in fit.names]))
    if total <= 0:
        return float("inf")
    return float(100.0 * np.sqrt(max(u @ fit.covariance @ u, 0.0)) / total)


def _finite(value):
    return value is not None and np.isfinite(value)


# ----------------------------------------------------------------------------- single voxel
@dataclass
class SVSAnalysis:
    mrs: object                         # processed MRSData (one spectrum)
    fit: object                         # fitting.LCMResult
    sums: dict                          # tNAA, tCr, tCho, Glx (a.u.)
    sum_crlb_percent: dict
    ratios: dict                        # clinical ratios (finite only)
    ratio_sd: dict
    quality: dict                       # flags and checks (see quality_summary)
    acquisition: dict                   # name -> (value, where it came from)
    processing: list                    # [(step, outcome)]
    basis: str                          # description of the basis used
    settings: SpectroscopySettings
    geometry: dict = None               # centre_ras, size_mm, directions (voxel box) when known
    warnings: list = field(default_factory=list)
    concentrations_mM: dict = field(default_factory=dict)   # water-scaled, when a water reference was given
    concentration_source: str = None

    @property
    def biomarkers(self):
        """Plain {metabolite / total / ratio: value} for the longitudinal dashboard (ratios over an
        unreliably fitted denominator are left out)."""
        out = {}
        for name in _metabolite_names(self.fit.names):
            out[name] = float(self.fit.amplitudes[name])
        out.update({k: float(v) for k, v in self.sums.items()})
        skip = set(self.quality.get("unreliable_ratios", ()))
        out.update({k: float(v) for k, v in self.ratios.items() if k not in skip})
        out.update({f"{k} (mM)": float(v) for k, v in self.concentrations_mM.items()})
        return {k: v for k, v in out.items() if np.isfinite(v)}


def quality_summary(fit, settings):
    """The fit's own flags (CRLB, linewidth, water) plus SNR and fit status."""
    quality = dict(fit.quality)
    flags = list(quality.get("flags", []))
    quality["snr_low"] = bool(not fit.snr >= settings.min_snr)
    if quality["snr_low"]:
        flags.append(f"SNR {fit.snr:.1f} < {settings.min_snr:g}")
    if fit.status not in FITTED:
        flags.append(f"fit status: {fit.status_name}")
    elif fit.status == fit_status.HIT_BOUND:
        flags.append("a nonlinear fit parameter sits on its bound (shift, linewidth or phase)")
    quality["flags"] = flags
    quality["ok"] = not flags
    return quality


def voxel_geometry(mrs):
    """Centre (RAS mm), size (mm) and unit direction columns of a single voxel, or None."""
    affine = getattr(mrs, "affine", None)
    if affine is None:
        return None
    affine = np.asarray(affine, dtype=float)
    if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
        return None
    columns = affine[:3, :3]
    norms = np.linalg.norm(columns, axis=0)
    if np.any(norms <= 0):
        return None
    metadata = getattr(mrs, "metadata", None) or {}
    size = metadata.get("voxel_size_mm") or metadata.get("voxel_size")
    size = np.asarray(size, dtype=float).ravel()[:3] if size is not None else norms
    if size.size != 3 or np.any(~np.isfinite(size)) or np.any(size <= 0):
        size = norms
    spatial, _, _ = split_dims(mrs)
    # Centre of the voxel grid: index (n-1)/2 along each spatial axis (0 for a single voxel).
    centre_index = np.zeros(3)
    for axis, n in enumerate(spatial[:3]):
        centre_index[axis] = (n - 1) / 2.0
    centre = affine[:3, :3] @ centre_index + affine[:3, 3]
    return {"centre_ras": centre, "size_mm": size, "directions": columns / norms}


def _single_spectrum(mrs, what):
    spatial, extra, n = split_dims(mrs)
    fid = np.asarray(mrs.fid)
    if fid.size != n:
        raise InputError(f"{what}: after processing the data still hold {fid.size // n} spectra "
                         f"(spatial {spatial}, {', '.join(_tags(mrs)) or 'unlabelled'} {extra}); "
                         "choose coil combination / averaging, or analyse it as MRSI")
    return fid.reshape(n)


def analyse_svs(mrs, settings=None, basis=None, progress=None):
    """Analyse one single-voxel spectrum (MRSData or path); returns an :class:`SVSAnalysis`."""
    from types import SimpleNamespace

    from .fitting import fit_lcm
    settings = (settings or SpectroscopySettings()).validated()
    mrs = load_mrs(mrs, settings)
    if is_mrsi(mrs):
        raise InputError(f"spectroscopy data: {split_dims(mrs)[0]} voxels; use the MRSI analysis (run_mrsi)")
    acquisition = check_acquisition(mrs, settings)
    geometry = voxel_geometry(mrs)
    report(progress, 0.02, "processing")
    processed, log = apply_processing(mrs, settings, lambda f, m="": report(progress, 0.02 + 0.2 * f, m))
    acquisition = {**acquisition, **{k: v for k, v in check_acquisition(processed, settings).items()
                                     if k in ("n_points", "dwell_s")}}
    fid = _single_spectrum(processed, "spectroscopy data")
    mhz, dwell = acquisition["spectrometer_mhz"][0], acquisition["dwell_s"][0]
    te = acquisition.get("te_s", (None, None))[0]
    report(progress, 0.25, "basis")
    if basis is None:
        basis = basis_for(settings, mhz, te, fid.size, dwell)
    warnings = check_basis(basis, mhz, te)
    report(progress, 0.4, "linear-combination fit")
    single = SimpleNamespace(fid=fid, dwell_s=dwell, spectrometer_mhz=mhz)
    fit = fit_lcm(single, basis, ppm_range=settings.ppm_range,
                  crlb_threshold_percent=settings.crlb_threshold_percent,
                  fwhm_threshold_ppm=settings.fwhm_threshold_ppm, **fit_options(settings))
    report(progress, 0.9, "quantification")
    sums = {k: float(v) for k, v in quantification.clinical_sums(fit).items()}
    sum_crlb = {k: _sum_crlb_percent(fit, k) for k in sums}
    ratios, ratio_sd, unreliable = {}, {}, []
    for label, value in quantification.clinical_ratios(fit).items():
        if _finite(value):
            ratios[label] = float(value)
            ratio_sd[label] = fit.ratio_sd(*_ratio_parts(label))
            # A ratio over a denominator that is not reliably fitted is reported but flagged.
            if _sum_crlb_percent(fit, _ratio_parts(label)[1]) > settings.crlb_threshold_percent:
                unreliable.append(label)
    concentrations, concentration_source = {}, None
    water = _water_for_scaling(settings, processed)
    if water is not None and settings.water_scaling:
        from .water_scaling import water_scaled
        try:
            concentrations, concentration_source = water_scaled(fit, sums, _single_spectrum(water, "water reference"),
                                                                acquisition, settings)
        except InputError as error:
            warnings.append(f"no water-scaled concentrations: {error}")
        if settings.basis_source == "file" and concentrations:
            warnings.append("water-scaled mM assume the basis file is normalised per molecule (as simulated bases are)")
    quality = quality_summary(fit, settings)
    quality["unreliable_ratios"] = unreliable
    if unreliable:
        quality["flags"].append(f"denominator CRLB > {settings.crlb_threshold_percent:g} %: {', '.join(unreliable)}")
        quality["ok"] = False
    report(progress, 1.0, "done")
    return SVSAnalysis(mrs=processed, fit=fit, sums=sums, sum_crlb_percent=sum_crlb, ratios=ratios,
                       ratio_sd=ratio_sd, quality=quality, acquisition=acquisition,
                       processing=log, basis=describe_basis(basis), settings=settings, geometry=geometry,
                       warnings=warnings, concentrations_mM=concentrations,
                       concentration_source=concentration_source)


# ----------------------------------------------------------------------------- MRSI
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


QUALITY_GOOD, QUALITY_POOR = 1, 2
QUALITY_LABELS = {QUALITY_GOOD: ("good fit", (0.20, 0.75, 0.30)),
                  QUALITY_POOR: ("poor quality (CRLB, linewidth or SNR)", (0.90, 0.30, 0.20))}


def _as_3d(array):
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
        if _as_3d(mask).shape != _as_3d(np.zeros(spatial)).shape:
            raise InputError(f"MRSI mask: shape {mask.shape} does not match the grid {spatial}")
        mask = mask.reshape(spatial)
        if not mask.any():
            raise InputError("MRSI mask: no voxel selected")
    report(progress, 0.02, "processing")
    processed, log = apply_processing(mrs, settings, lambda f, m="": report(progress, 0.02 + 0.1 * f, m))
    p_spatial, extra, n_points = split_dims(processed)
    if int(np.prod(extra)) > 1:
        raise InputError(f"MRSI data: {int(np.prod(extra))} spectra per voxel remain after processing "
                         f"({', '.join(_tags(processed))}); choose coil combination and averaging")
    fids = np.asarray(processed.fid).reshape(tuple(p_spatial) + (n_points,))
    mhz, dwell = acquisition["spectrometer_mhz"][0], float(processed.dwell_s)
    te = acquisition.get("te_s", (None, None))[0]
    report(progress, 0.13, "basis")
    if basis is None:
        basis = basis_for(settings, mhz, te, n_points, dwell)
    warnings += check_basis(basis, mhz, te)
    grid = fit_lcm_grid(fids, basis, ppm_range=settings.ppm_range, dwell_s=dwell, spectrometer_mhz=mhz, mask=mask,
                        crlb_threshold_percent=settings.crlb_threshold_percent,
                        fwhm_threshold_ppm=settings.fwhm_threshold_ppm,
                        progress=lambda f, m="": report(progress, 0.15 + 0.8 * f, m), **fit_options(settings))
    report(progress, 0.96, "maps")
    status = _as_3d(grid.status).astype(np.uint8)
    fitted = np.isin(status, FITTED)
    maps, units = {}, {}

    def put(name, values, unit):
        values = _as_3d(np.asarray(values, dtype=np.float32)).copy()
        values[~fitted] = np.nan
        maps[name], units[name] = values, unit
    for name in _metabolite_names(grid.names):
        put(name, grid.amplitudes[name], AMPLITUDE_UNIT)
    for name, values in quantification.clinical_sums(grid).items():
        put(name, values, AMPLITUDE_UNIT)
    for name, values in quantification.clinical_ratios(grid).items():
        if np.any(np.isfinite(values)):
            put(name, values, RATIO_UNIT)
    put("SNR", grid.snr, "")
    put("FWHM", grid.fwhm_ppm, "ppm")
    good = _as_3d(grid.quality_mask()) & fitted & (_as_3d(grid.snr) >= settings.min_snr)
    quality = np.zeros(status.shape, np.uint8)
    quality[fitted] = QUALITY_POOR
    quality[good] = QUALITY_GOOD
    report(progress, 1.0, "done")
    return MRSIAnalysis(grid=grid, maps=maps, units=units, status=status, quality=quality,
                        mask=_as_3d(mask) if mask is not None else np.ones(status.shape, bool),
                        ijk_to_ras=ijk_to_ras, acquisition=acquisition, processing=log,
                        basis=describe_basis(basis), settings=settings, warnings=warnings)


def voxel_analysis(mrsi, ijk):
    """The full single-voxel fit (spectra, components) of one MRSI voxel (i, j, k)."""
    index = mrsi.grid_index(ijk)
    try:
        return mrsi.grid.voxel(index)
    except IndexError as error:
        raise InputError(str(error)) from None
