"""Synthetic MR spectra and MRSI grids with known concentrations (digital reference objects), and
the single-voxel tumour spectrum of a phantom visit (the demo patient's MRS, ``visit_spectrum``).

Spectra are sums of basis FIDs (default: this package's simulated basis, cached) scaled by
concentration (mM), broadened (Lorentzian + optional Gaussian), shifted and phased, plus
optional macromolecules and complex white Gaussian noise. SNR is defined as in
``quantification.spectral_snr``: tallest peak (magnitude, 0.2-4.2 ppm) of the noiseless
spectrum over the SD of the real part of the spectral noise.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .basis.macromolecules import macromolecule_fid
from .basis.simulate import simulate_basis
from .basis.spin_systems import WATER_PPM
from .io.mrs_data import MRSData

# Illustrative concentrations (mM); typical adult brain values in the ranges tabulated by
# Govindaraju et al. 2000 (doi:10.1002/1099-1492(200005)13:3<129::AID-NBM619>3.0.CO;2-V).
NORMAL_BRAIN_MM = {"NAA": 10.0, "NAAG": 1.5, "Cr": 4.5, "PCr": 4.0, "GPC": 1.0, "PCh": 0.6,
                   "Ins": 6.0, "Glu": 9.0, "Gln": 3.0, "Tau": 1.5, "GSH": 2.0, "GABA": 1.0,
                   "Asp": 1.5, "Lac": 0.5, "sIns": 0.3}
# Illustrative high-grade tumour pattern: choline up, NAA down, lactate present.
TUMOUR_MM = {"NAA": 2.0, "NAAG": 0.3, "Cr": 3.0, "PCr": 1.5, "GPC": 2.0, "PCh": 2.5, "Ins": 4.0,
             "Glu": 4.0, "Gln": 4.0, "Tau": 1.0, "GSH": 2.0, "Lac": 5.0, "Ala": 1.0}


# Synthetic data use the readers' container, so they go through every step a scanner file does.
SyntheticMRS = MRSData


def _broadening(t, linewidth_hz, gaussian_linewidth_hz, shift_hz, phase0_deg):
    lw = np.asarray(linewidth_hz, float)[..., None]
    lg = np.asarray(gaussian_linewidth_hz, float)[..., None]
    return (np.exp(-np.pi * lw * t - (np.pi * lg * t) ** 2 / (4 * np.log(2)))
            * np.exp(-2j * np.pi * np.asarray(shift_hz, float)[..., None] * t)
            * np.exp(1j * np.deg2rad(np.asarray(phase0_deg, float))[..., None]))


def _basis_for(names, spectrometer_mhz, te_s, sequence, n_points, dwell_s, basis):
    if basis is None:
        return simulate_basis(spectrometer_mhz, te_s, sequence, names, n_points, dwell_s)
    missing = [n for n in names if n not in basis]
    if missing:
        raise InputError(f"basis lacks {', '.join(missing)} needed for the synthetic spectrum")
    if basis.n_points != n_points or not np.isclose(basis.dwell_s, dwell_s):
        raise InputError(f"basis sampling ({basis.n_points} x {basis.dwell_s} s) differs from the "
                         f"requested {n_points} x {dwell_s} s")
    return basis


def _noise_sd_for(clean_fids, dwell_s, mhz, snr):
    """Spectral noise SD giving ``snr`` for the tallest peak (0.2-4.2 ppm) of each FID."""
    n = clean_fids.shape[-1]
    ppm = WATER_PPM - np.fft.fftshift(np.fft.fftfreq(n, dwell_s)) / mhz
    sel = (ppm >= 0.2) & (ppm <= 4.2)
    spec = np.fft.fftshift(np.fft.fft(clean_fids, axis=-1), axes=-1)
    return np.abs(spec[..., sel]).max(axis=-1) / snr


def synthesize_spectrum(concentrations, spectrometer_mhz=123.2, te_s=0.030, sequence="PRESS",
                        n_points=1024, dwell_s=1 / 2000, linewidth_hz=5.0, snr=30.0, rng=None,
                        basis=None, gaussian_linewidth_hz=0.0, shift_hz=0.0, phase0_deg=0.0,
                        macromolecules=None, water_residual=0.0, tr_s=2.0):
    """One synthetic single-voxel spectrum (a :class:`SyntheticMRS`).

    concentrations: metabolite -> mM (basis units: a singlet of N protons contributes N per mM).
    snr: target SNR (None or inf: noiseless). rng: numpy Generator or seed.
    macromolecules: optional {MM/lipid name -> amplitude} (LCModel-style Gaussian components).
    water_residual: amplitude (in molecule units of a 2-proton singlet) of residual water."""
    if not concentrations:
        raise InputError("concentrations is empty")
    bad = {k: v for k, v in concentrations.items() if not np.isfinite(v) or v < 0}
    if bad:
        raise InputError(f"concentrations must be finite and >= 0 mM (got {bad})")
    if snr is not None and np.isfinite(snr) and snr <= 0:
        raise InputError(f"snr must be positive (got {snr})")
    names = list(concentrations)
    b = _basis_for(names, spectrometer_mhz, te_s, sequence, n_points, dwell_s, basis)
    t = np.arange(n_points) * dwell_s
    clean = sum(float(concentrations[n]) * b[n] for n in names)
    for name, amp in (macromolecules or {}).items():
        clean = clean + float(amp) * macromolecule_fid(name, spectrometer_mhz, n_points, dwell_s)
    if water_residual:
        clean = clean + float(water_residual) * 2.0 * np.exp(0j * t)
    clean = clean * _broadening(t, linewidth_hz, gaussian_linewidth_hz, shift_hz, phase0_deg)
    rng = np.random.default_rng(rng)
    noise_sd = 0.0
    fid = clean.copy()
    if snr is not None and np.isfinite(snr):
        noise_sd = float(_noise_sd_for(clean, dwell_s, spectrometer_mhz, snr))
        sigma_t = noise_sd / np.sqrt(n_points)     # spectral noise = time noise x sqrt(N)
        fid = fid + sigma_t * (rng.standard_normal(n_points) + 1j * rng.standard_normal(n_points))
    metadata = {"synthetic": True, "concentrations_mM": dict(concentrations), "snr_target": snr,
                "noise_sd_spectrum": noise_sd, "linewidth_hz": linewidth_hz,
                "gaussian_linewidth_hz": gaussian_linewidth_hz, "shift_hz": shift_hz,
                "phase0_deg": phase0_deg, "sequence": b.sequence, "clean_fid": clean}
    return SyntheticMRS(fid, float(dwell_s), float(spectrometer_mhz), "1H", float(te_s), float(tr_s),
                        None, metadata)


def synthesize_mrsi(concentration_maps, spectrometer_mhz=123.2, te_s=0.030, sequence="PRESS",
                    n_points=1024, dwell_s=1 / 2000, linewidth_hz=5.0, snr=30.0, rng=None, basis=None,
                    gaussian_linewidth_hz=0.0, shift_hz=0.0, phase0_deg=0.0, affine=None, tr_s=2.0):
    """Synthetic MRSI grid: concentration_maps {name -> (ny, nx[, nz]) mM}; linewidth, shift and
    phase may be scalars or maps. The noise SD is the same in every voxel, chosen so that the
    median voxel's tallest peak has SNR ``snr``. Returns a :class:`SyntheticMRS` with fid
    (ny, nx[, nz], n_points)."""
    if not concentration_maps:
        raise InputError("concentration_maps is empty")
    names = list(concentration_maps)
    maps = [np.asarray(concentration_maps[n], float) for n in names]
    shape = maps[0].shape
    if any(m.shape != shape for m in maps):
        raise InputError(f"concentration maps differ in shape: {[m.shape for m in maps]}")
    if any(np.any(~np.isfinite(m) | (m < 0)) for m in maps):
        raise InputError("concentration maps must be finite and >= 0 mM")
    b = _basis_for(names, spectrometer_mhz, te_s, sequence, n_points, dwell_s, basis)
    t = np.arange(n_points) * dwell_s
    conc = np.stack(maps, axis=-1)                                    # (..., M)
    clean = np.einsum("...m,mn->...n", conc, b.as_array(names))
    clean = clean * _broadening(t, np.broadcast_to(linewidth_hz, shape),
                                np.broadcast_to(gaussian_linewidth_hz, shape),
                                np.broadcast_to(shift_hz, shape), np.broadcast_to(phase0_deg, shape))
    rng = np.random.default_rng(rng)
    fid = clean.copy()
    noise_sd = 0.0
    if snr is not None and np.isfinite(snr):
        noise_sd = float(np.median(_noise_sd_for(clean, dwell_s, spectrometer_mhz, snr)))
        sigma_t = noise_sd / np.sqrt(n_points)
        fid = fid + sigma_t * (rng.standard_normal(fid.shape) + 1j * rng.standard_normal(fid.shape))
    metadata = {"synthetic": True, "concentration_maps_mM": {n: m for n, m in zip(names, maps)},
                "snr_target": snr, "noise_sd_spectrum": noise_sd, "sequence": b.sequence}
    return SyntheticMRS(fid, float(dwell_s), float(spectrometer_mhz), "1H", float(te_s), float(tr_s),
                        affine, metadata)


# ---------------------------------------------------------------------------------------------
# The single-voxel tumour spectrum of a phantom visit (the demo's synthetic patient)
# ---------------------------------------------------------------------------------------------
# Keys of the phantom truth that may hold per-region metabolite concentrations (mM), and the
# region names taken as "the tumour", in order of preference.
TRUTH_KEYS = ("metabolites_mM", "metabolites", "mrs_concentrations_mM", "mrs")
TUMOUR_REGIONS = ("tumour", "viable rim", "viable_rim", "tumor", "rim")
# Demo acquisition: 3 T (123.2 MHz), PRESS TE 30 ms, 2 kHz, 1024 points, 15 mm voxel.
DEMO_ACQUISITION = {"spectrometer_mhz": 123.2, "te_s": 0.030, "sequence": "PRESS", "n_points": 1024,
                    "dwell_s": 1 / 2000, "tr_s": 2.0}
DEMO_VOXEL_MM = 15.0


def tumour_concentrations(truth, region=None):
    """{metabolite: mM} of the tumour from the phantom's truth (a per-region table or a flat one)."""
    table = next((truth[k] for k in TRUTH_KEYS if k in truth), None)
    if not isinstance(table, dict) or not table:
        raise InputError(f"visit truth has no metabolite concentrations (looked for {', '.join(TRUTH_KEYS)}; "
                         f"it holds {', '.join(map(str, truth))})")
    if all(np.isscalar(v) for v in table.values()):
        return {str(k): float(v) for k, v in table.items()}
    regions = [region] if region else [r for r in TUMOUR_REGIONS if r in table]
    if not regions or regions[0] not in table:
        raise InputError(f"visit truth: no metabolite concentrations for region "
                         f"{region or ' / '.join(TUMOUR_REGIONS)}; regions: {', '.join(map(str, table))}")
    return {str(k): float(v) for k, v in table[regions[0]].items()}


def tumour_voxel_affine(visit, size_mm=DEMO_VOXEL_MM):
    """Voxel-to-RAS matrix of a cubic voxel centred on the tumour mask (None without geometry)."""
    mask = getattr(visit, "tumour_mask", None)
    ijk_to_ras = getattr(visit, "ijk_to_ras", None)
    if mask is None or ijk_to_ras is None or not np.any(mask):
        return None
    k, j, i = (float(np.mean(axis)) for axis in np.nonzero(mask))     # arrays are [k, j, i]
    ijk_to_ras = np.asarray(ijk_to_ras, dtype=float)
    centre = ijk_to_ras @ np.array([i, j, k, 1.0])
    directions = ijk_to_ras[:3, :3] / np.linalg.norm(ijk_to_ras[:3, :3], axis=0)
    affine = np.eye(4)
    affine[:3, :3] = directions * size_mm
    affine[:3, 3] = centre[:3]
    return affine


def visit_spectrum(visit, rng=None, snr=40.0, linewidth_hz=6.0, region=None, **acquisition):
    """A synthetic single-voxel tumour spectrum for ``visit`` (an MRSData-like object).

    Concentrations come from the phantom's truth; the voxel sits on the tumour. ``acquisition``
    overrides DEMO_ACQUISITION (spectrometer_mhz, te_s, sequence, n_points, dwell_s, tr_s)."""
    concentrations = tumour_concentrations(getattr(visit, "truth", None) or {}, region)
    concentrations = {k: v for k, v in concentrations.items() if v > 0}
    settings = {**DEMO_ACQUISITION, **acquisition}
    mrs = synthesize_spectrum(concentrations, settings["spectrometer_mhz"], settings["te_s"], settings["sequence"],
                              settings["n_points"], settings["dwell_s"], linewidth_hz=linewidth_hz, snr=snr,
                              rng=rng, tr_s=settings["tr_s"])
    mrs.affine = tumour_voxel_affine(visit)
    mrs.metadata["voxel_size_mm"] = [DEMO_VOXEL_MM] * 3
    mrs.metadata["visit"] = getattr(visit, "name", None)
    mrs.metadata["source_format"] = "synthetic (phantom truth)"
    return mrs
