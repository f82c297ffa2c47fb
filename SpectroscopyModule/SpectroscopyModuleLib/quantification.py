"""Clinical MRS quantification: metabolite sums and ratios, water-scaled concentrations,
SNR, linewidth and quality flags.

Works on fitted amplitudes (a dict name -> value or map), on an ``LCMResult`` /
``LCMGridResult`` (anything with ``amplitudes``), and on MRSData-like spectra.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

# Pools that are reported together because their resonances overlap at clinical fields.
TOTALS = {
    "tNAA": ("NAA", "NAAG"),
    "tCr": ("Cr", "PCr"),
    "tCho": ("GPC", "PCh", "Cho"),
    "Glx": ("Glu", "Gln"),
}
POLYAMINE_NAMES = ("PA", "Spm", "Polyamines")   # prostate spermine/polyamines at ~3.1 ppm

# Ratios used clinically: brain tumours (tCho/tCr, tCho/tNAA, tNAA/tCr, Lac/tCr), prostate
# ((Cho+Cr)/Cit; Kurhanewicz J et al., Radiology 1996;198:795, doi:10.1148/radiology.198.3.8628874),
# breast (tCho alone, see clinical_sums).
CLINICAL_RATIOS = (
    ("tCho/tCr", "tCho", "tCr"),
    ("tCho/tNAA", "tCho", "tNAA"),
    ("tNAA/tCr", "tNAA", "tCr"),
    ("Lac/tCr", "Lac", "tCr"),
    ("Ins/tCr", "Ins", "tCr"),
    ("Glx/tCr", "Glx", "tCr"),
)

# Water concentration of pure water at 37 C, 55.51 mol/L (Gasparovic C et al., Magn Reson Med
# 2006;55:1219-1226, doi:10.1002/mrm.20901), in mM.
WATER_CONCENTRATION_MM = 55510.0
# Relative water content (mol water per volume relative to pure water): Ernst T, Kreis R,
# Ross BD, J Magn Reson B 1993;102:1-8, doi:10.1006/jmrb.1993.1055 (as used by Gasparovic 2006).
WATER_CONTENT = {"gm": 0.78, "wm": 0.65, "csf": 0.97}
# Water T1/T2 (s) at 3 T: GM/WM from Wansapura JP et al., J Magn Reson Imaging 1999;9:531-538,
# doi:10.1002/(SICI)1522-2586(199904)9:4<531::AID-JMRI4>3.0.CO;2-L; CSF approximately
# T1 4.16 s, T2 0.50 s (Lu H et al., J Magn Reson Imaging 2005;22:13-22, doi:10.1002/jmri.20356).
# Field dependent: pass your own for other fields.
WATER_RELAXATION_3T = {"gm": (1.331, 0.110), "wm": (0.832, 0.0796), "csf": (4.16, 0.50)}
# Metabolite T1/T2 (s) at 3 T, approximate white-matter values: Traeber F et al., J Magn Reson
# Imaging 2004;19:537-545, doi:10.1002/jmri.20053. Others get DEFAULT_METABOLITE_RELAXATION.
METABOLITE_RELAXATION_3T = {"NAA": (1.47, 0.247), "NAAG": (1.47, 0.247), "Cr": (1.46, 0.162),
                            "PCr": (1.46, 0.162), "GPC": (1.30, 0.222), "PCh": (1.30, 0.222),
                            "Cho": (1.30, 0.222)}
DEFAULT_METABOLITE_RELAXATION = (1.4, 0.2)   # generic, for metabolites without a measured value


def _amplitudes(source):
    return source.amplitudes if hasattr(source, "amplitudes") else source


def expand_terms(expression, available):
    """'NAA+NAAG' or 'tCho' -> list of metabolite names present in ``available``."""
    names = []
    for term in str(expression).split("+"):
        term = term.strip()
        if not term:
            raise InputError(f"empty term in '{expression}'")
        if term in available:
            names.append(term)
        elif term in TOTALS and any(m in available for m in TOTALS[term]):
            names.extend(m for m in TOTALS[term] if m in available)
        elif term == "PA" and any(m in available for m in POLYAMINE_NAMES):
            names.extend(m for m in POLYAMINE_NAMES if m in available)
        else:
            raise InputError(f"'{term}' (in '{expression}') is not among the fitted metabolites: "
                             f"{', '.join(available)}")
    return names


def sum_amplitudes(source, expression):
    amps = _amplitudes(source)
    names = expand_terms(expression, list(amps))
    return sum(np.asarray(amps[n], float) for n in names)


def ratio(source, numerator, denominator):
    """Ratio of summed amplitudes, e.g. ratio(result, "NAA+NAAG", "Cr+PCr"); NaN where the
    denominator is 0."""
    num = np.asarray(sum_amplitudes(source, numerator), float)
    den = np.asarray(sum_amplitudes(source, denominator), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


def clinical_sums(source):
    """tNAA, tCr, tCho (breast: tCho is the marker) and Glx, where their parts were fitted."""
    amps = _amplitudes(source)
    return {name: sum_amplitudes(amps, name) for name, parts in TOTALS.items()
            if any(p in amps for p in parts)}


def clinical_ratios(source):
    """The standard ratios that the fitted metabolites allow (see CLINICAL_RATIOS), plus the
    prostate ratio (tCho + tCr [+ polyamines]) / Cit when citrate was fitted."""
    amps = _amplitudes(source)
    out = {}
    for label, num, den in CLINICAL_RATIOS:
        try:
            out[label] = ratio(amps, num, den)
        except InputError:
            continue
    if "Cit" in amps:
        parts = [p for p in ("tCho", "tCr") if any(m in amps for m in TOTALS[p])]
        if any(m in amps for m in POLYAMINE_NAMES):
            parts.append("PA")
        if parts:
            out["(" + "+".join(parts) + ")/Cit"] = ratio(amps, "+".join(parts), "Cit")
    return out


def relaxation_attenuation(te_s, tr_s, t1_s, t2_s):
    """Fraction of signal left after T2 decay over TE and T1 saturation at TR (90 deg excitation)."""
    return np.exp(-te_s / t2_s) * (1.0 - np.exp(-tr_s / t1_s))


def _check_fractions(fractions):
    try:
        f = {k: float(fractions[k]) for k in ("gm", "wm", "csf")}
    except (KeyError, TypeError):
        raise InputError("fractions must be a dict with 'gm', 'wm' and 'csf' volume fractions "
                         f"(got {fractions!r})") from None
    if any(v < 0 or v > 1 for v in f.values()) or sum(f.values()) > 1.0 + 1e-6:
        raise InputError(f"tissue fractions must lie in 0..1 and sum to at most 1 (got {f})")
    if f["csf"] >= 1.0:
        raise InputError("CSF fraction is 1: the voxel holds no tissue to quantify")
    return f


def water_scaled_concentrations(source, water_amplitude, te_s, tr_s, fractions,
                                metabolite_relaxation=None, water_relaxation=None,
                                water_content=None, water_concentration_mm=WATER_CONCENTRATION_MM,
                                metabolite_protons=None, water_protons=2.0):
    """Tissue concentrations (mM) referenced to the unsuppressed water signal.

    Gasparovic et al. 2006 (doi:10.1002/mrm.20901), eq. 5:
        [M] = S_M / S_W * (n_W / n_M) * [W] * sum_i f_i c_i R_W,i / ((1 - f_CSF) R_M)
    with f_i the GM/WM/CSF volume fractions, c_i the relative water content, R =
    exp(-TE/T2) (1 - exp(-TR/T1)). Amplitudes from a basis fit already count protons (a
    basis spectrum is per molecule), so n_W / n_M = 1 unless ``metabolite_protons`` (dict
    name -> number of protons behind a raw peak area) is given; then n_W = ``water_protons``.
    """
    amps = _amplitudes(source)
    f = _check_fractions(fractions)
    water_relaxation = WATER_RELAXATION_3T if water_relaxation is None else water_relaxation
    water_content = WATER_CONTENT if water_content is None else water_content
    relax = dict(METABOLITE_RELAXATION_3T)
    relax.update(metabolite_relaxation or {})
    water_amplitude = np.asarray(water_amplitude, float)
    if np.any(water_amplitude <= 0):
        raise InputError("water_amplitude must be positive")
    if te_s < 0 or te_s > 2 or tr_s <= 0 or tr_s > 100:
        raise InputError(f"TE {te_s} s / TR {tr_s} s are implausible (seconds expected)")
    water_term = sum(f[k] * water_content[k] * relaxation_attenuation(te_s, tr_s, *water_relaxation[k])
                     for k in ("gm", "wm", "csf"))
    out = {}
    for name, amp in amps.items():
        t1, t2 = relax.get(name, DEFAULT_METABOLITE_RELAXATION)
        protons = 1.0
        if metabolite_protons is not None:
            if name not in metabolite_protons:
                continue
            protons = water_protons / float(metabolite_protons[name])
        out[name] = (np.asarray(amp, float) / water_amplitude * protons * water_concentration_mm
                     * water_term / ((1.0 - f["csf"]) * relaxation_attenuation(te_s, tr_s, t1, t2)))
        if np.ndim(out[name]) == 0:
            out[name] = float(out[name])
    return out


def _spectrum_of(mrs, zero_fill=1):
    fid = np.squeeze(np.asarray(mrs.fid))
    if fid.ndim != 1:
        raise InputError(f"need a single spectrum, got fid shape {np.shape(mrs.fid)}")
    n = fid.size * int(zero_fill)
    spec = np.fft.fftshift(np.fft.fft(fid, n))
    ppm = getattr(mrs, "ppm_reference", 4.65) - np.fft.fftshift(np.fft.fftfreq(n, mrs.dwell_s)) / mrs.spectrometer_mhz
    return spec, ppm


def _noise_sd(spec, ppm, region):
    from .fitting.noise import spectral_noise_sd
    return float(spectral_noise_sd(spec[None], ppm, region)[0])


def spectral_snr(mrs, peak_range=(1.8, 3.4), noise_region=(-2.0, 0.0)):
    """Peak height over noise SD: the tallest peak (magnitude, so phase-independent) in
    ``peak_range`` (default: the NAA/Cr/Cho region, i.e. NAA or the largest metabolite)
    divided by the SD of the real part of the noise in ``noise_region``."""
    spec, ppm = _spectrum_of(mrs)
    sel = (ppm >= min(peak_range)) & (ppm <= max(peak_range))
    if not sel.any():
        raise InputError(f"peak_range {peak_range} lies outside the spectral window")
    return float(np.abs(spec[sel]).max() / _noise_sd(spec, ppm, noise_region))


def linewidth_fwhm(mrs, peak_ppm=3.027, window_ppm=0.1, zero_fill=8):
    """FWHM of the absorption-mode peak nearest ``peak_ppm`` (default creatine CH3).

    The spectrum is zero-filled, phased at the peak maximum, and the half-maximum crossings
    are found by linear interpolation. Returns dict(fwhm_hz, fwhm_ppm, peak_ppm)."""
    spec, ppm = _spectrum_of(mrs, zero_fill)
    sel = np.flatnonzero(np.abs(ppm - peak_ppm) <= window_ppm)
    if sel.size < 3:
        raise InputError(f"no spectral points within {window_ppm} ppm of {peak_ppm} ppm")
    k = sel[np.argmax(np.abs(spec[sel]))]
    real = (spec * np.exp(-1j * np.angle(spec[k]))).real
    half = real[k] / 2.0
    left = k
    while left > 0 and real[left] > half:
        left -= 1
    right = k
    while right < real.size - 1 and real[right] > half:
        right += 1

    def crossing(i, j):
        return ppm[i] + (half - real[i]) * (ppm[j] - ppm[i]) / (real[j] - real[i])
    width_ppm = abs(crossing(left, left + 1) - crossing(right, right - 1))
    return {"fwhm_ppm": float(width_ppm), "fwhm_hz": float(width_ppm * mrs.spectrometer_mhz),
            "peak_ppm": float(ppm[k])}


def water_residual_ratio(spectrum, ppm, water_range=(4.4, 4.9), metabolite_range=(1.8, 3.4)):
    """Residual water peak height over the tallest metabolite peak (magnitudes)."""
    spectrum = np.asarray(spectrum)
    w = (ppm >= water_range[0]) & (ppm <= water_range[1])
    m = (ppm >= metabolite_range[0]) & (ppm <= metabolite_range[1])
    if not w.any() or not m.any():
        return float("nan")
    return float(np.abs(spectrum[..., w]).max() / max(np.abs(spectrum[..., m]).max(), 1e-300))


def quality_flags(result, crlb_threshold_percent=20.0, fwhm_threshold_ppm=0.1,
                  water_ratio_max=10.0, metabolites=None):
    """Quality checks of one fit: dict with 'crlb_high' (names over the CRLB threshold among
    ``metabolites``, default all fitted metabolites with a non-zero amplitude and no MM/lipid),
    'fwhm_high', 'poor_water_suppression', 'not_detected' and a list of messages 'flags'."""
    from .basis.macromolecules import is_macromolecule
    names = metabolites if metabolites is not None else \
        [n for n in result.amplitudes if not is_macromolecule(n)]
    crlb_high = [n for n in names if result.amplitudes.get(n, 0) > 0
                 and result.crlb_percent.get(n, np.inf) > crlb_threshold_percent]
    not_detected = [n for n in names if not result.amplitudes.get(n, 0) > 0]
    fwhm_high = bool(result.fwhm_ppm > fwhm_threshold_ppm)
    ratio_w = float("nan")
    full = getattr(result, "full_spectrum", None)
    if full is not None:
        ratio_w = water_residual_ratio(full, result.ppm_full)
    poor_water = bool(np.isfinite(ratio_w) and ratio_w > water_ratio_max)
    flags = []
    if crlb_high:
        flags.append(f"CRLB > {crlb_threshold_percent:g} %: {', '.join(crlb_high)}")
    if fwhm_high:
        flags.append(f"linewidth {result.fwhm_ppm:.3f} ppm > {fwhm_threshold_ppm:g} ppm")
    if poor_water:
        flags.append(f"poor water suppression (residual water {ratio_w:.1f} x tallest metabolite)")
    return {"crlb_high": crlb_high, "not_detected": not_detected, "fwhm_high": fwhm_high,
            "water_residual_ratio": ratio_w, "poor_water_suppression": poor_water, "flags": flags}
