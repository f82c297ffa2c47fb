"""Single-voxel spectroscopy: process, fit, quantify (sums, ratios with their uncertainty,
water-scaled mM when a water reference is given) and flag the quality of one spectrum."""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from . import quantification
from .basis_choice import basis_for, check_basis, describe_basis
from .fitting.options import FITTED, fit_options, metabolite_names
from .mrs_input import check_acquisition, dim_tags, is_mrsi, load_mrs, split_dims
from .processing_steps import apply_processing, water_for_scaling
from .settings import SpectroscopySettings


def ratio_parts(label):
    """'tCho/tCr' -> ('tCho', 'tCr'); '(tCho+tCr)/Cit' -> ('tCho+tCr', 'Cit')."""
    numerator, denominator = label.rsplit("/", 1)
    return numerator.strip("()"), denominator


def sum_crlb_percent(fit, expression):
    names = quantification.expand_terms(expression, fit.names)
    u = np.array([1.0 if n in names else 0.0 for n in fit.names])
    total = float(u @ np.array([fit.amplitudes[n] for n in fit.names]))
    if total <= 0:
        return float("inf")
    return float(100.0 * np.sqrt(max(u @ fit.covariance @ u, 0.0)) / total)


def _finite(value):
    return value is not None and np.isfinite(value)


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
        for name in metabolite_names(self.fit.names):
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


def single_spectrum(mrs, what):
    spatial, extra, n = split_dims(mrs)
    fid = np.asarray(mrs.fid)
    if fid.size != n:
        raise InputError(f"{what}: after processing the data still hold {fid.size // n} spectra "
                         f"(spatial {spatial}, {', '.join(dim_tags(mrs)) or 'unlabelled'} {extra}); "
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
    fid = single_spectrum(processed, "spectroscopy data")
    mhz, dwell = acquisition["spectrometer_mhz"][0], acquisition["dwell_s"][0]
    te = acquisition.get("te_s", (None, None))[0]
    report(progress, 0.25, "basis")
    if basis is None:
        basis = basis_for(settings, mhz, te, fid.size, dwell,
                          progress=lambda f, m="": report(progress, 0.25 + 0.15 * f, m or "basis simulation"))
    warnings = check_basis(basis, mhz, te)
    report(progress, 0.4, "linear-combination fit")
    single = SimpleNamespace(fid=fid, dwell_s=dwell, spectrometer_mhz=mhz)
    fit = fit_lcm(single, basis, ppm_range=settings.ppm_range,
                  crlb_threshold_percent=settings.crlb_threshold_percent,
                  fwhm_threshold_ppm=settings.fwhm_threshold_ppm, **fit_options(settings))
    report(progress, 0.9, "quantification")
    sums = {k: float(v) for k, v in quantification.clinical_sums(fit).items()}
    sum_crlb = {k: sum_crlb_percent(fit, k) for k in sums}
    ratios, ratio_sd, unreliable = {}, {}, []
    for label, value in quantification.clinical_ratios(fit).items():
        if _finite(value):
            ratios[label] = float(value)
            ratio_sd[label] = fit.ratio_sd(*ratio_parts(label))
            # A ratio over a denominator that is not reliably fitted is reported but flagged.
            if sum_crlb_percent(fit, ratio_parts(label)[1]) > settings.crlb_threshold_percent:
                unreliable.append(label)
    concentrations, concentration_source = {}, None
    water = water_for_scaling(settings, processed)
    if water is not None and settings.water_scaling:
        from .water_scaling import water_scaled
        try:
            concentrations, concentration_source = water_scaled(fit, sums, single_spectrum(water, "water reference"),
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
