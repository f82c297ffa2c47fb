"""Repeatability coefficients (RC) and the real-change test.

A change is real at 95 % confidence when it exceeds RC = 2.77 wSD = 1.96 sqrt(2) wSD
(Bland & Altman, Lancet 1986, doi:10.1016/S0140-6736(86)90837-8; QIBA terminology, Raunig
et al., Stat Methods Med Res 2015, doi:10.1177/0962280214537344); relative: %RC = 2.77 wCV.

Defaults (relative %RC; every value user-settable through ``overrides``):
- ADC, QIBA DWI Biomarker Committee, ADC profile claims (Radiology 2024, PMC11537247;
  profile v1.45, Shukla-Dave et al. JMRI 2019, doi:10.1002/jmri.26518): a change of mean
  lesion ADC beyond 8 % brain, 15 % breast, 27 % prostate, 27 % liver is real.
- Ktrans: test-retest wCV about 20 % in tumours -> %RC about 55 % (QIBA DCE-MRI Profile
  v1.0, 2012; Galbraith et al., NMR Biomed 2002, doi:10.1002/nbm.731, individual-tumour
  limits of about -45 %/+83 %); ve, kep, vp from the same studies (ve is more repeatable).
- Tumour volume: about 15 % (QIBA CT tumour volumetry profile, 2012); longest diameter:
  about 10 % (order of the inter-reader RECIST variability; set per reader study).
- IVIM f and D*: poorly repeatable, wCV 20-30 % and > 40 % (order of magnitude only).
- tCho/tCr (MRS): wCV about 10 % -> about 30 % (order of magnitude; set per protocol).
"""
import numpy as np

from ..errors import InputError
from .change import change  # noqa: F401  (the one change function; missing -> None)

RC_FACTOR = 2.77                     # 1.96 * sqrt(2)
# Relative tolerance when comparing a change with the RC, so that a change exactly AT the
# threshold (1.00 -> 1.15 with RC 15 %) is not called real through floating-point noise.
EDGE_TOLERANCE = 1e-9

ADC_RC_PERCENT = {"brain": 8.0, "breast": 15.0, "prostate": 27.0, "liver": 27.0}
DEFAULT_ORGAN_RC_PERCENT = 15.0      # breast value when the organ is not in the table
DEFAULT_RC_PERCENT = {"Ktrans": 55.0, "kep": 55.0, "ve": 40.0, "vp": 60.0, "iAUC60": 40.0,
                      "volume_ml": 15.0, "longest_diameter_mm": 10.0, "recist_sum_mm": 10.0,
                      "bidimensional_product_mm2": 20.0,
                      "f": 60.0, "Dstar": 110.0, "tCho/tCr": 30.0, "R2star": 20.0}
DIFFUSIVITIES = ("ADC", "D")         # take the organ's ADC value


def rc_percent(biomarker, organ="breast", overrides=None):
    """Relative %RC of a biomarker (ADC-like ones by organ); None when unknown (no flag is set)."""
    if overrides and biomarker in overrides:
        return overrides[biomarker]
    if biomarker in DIFFUSIVITIES:
        return ADC_RC_PERCENT.get(organ, DEFAULT_ORGAN_RC_PERCENT)
    return DEFAULT_RC_PERCENT.get(biomarker)


def _pairs(scan1, scan2):
    a, b = np.asarray(scan1, dtype=float).ravel(), np.asarray(scan2, dtype=float).ravel()
    if a.shape != b.shape:
        raise InputError(f"test-retest: scan 1 has {a.size} values and scan 2 has {b.size}; they must pair up")
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 2:
        raise InputError("test-retest: need at least 2 pairs of finite values")
    return a[keep], b[keep]


def within_subject_sd(scan1, scan2):
    """wSD from pairs: sqrt(mean(d^2 / 2)), d the within-pair difference."""
    a, b = _pairs(scan1, scan2)
    return float(np.sqrt(np.mean((a - b) ** 2 / 2.0)))


def within_subject_cv(scan1, scan2):
    """wCV (fraction): root mean square of each pair's SD over its mean."""
    a, b = _pairs(scan1, scan2)
    means = (a + b) / 2.0
    if np.any(means == 0):
        raise InputError("test-retest: a pair has mean 0; the relative wCV is undefined (use relative=False)")
    return float(np.sqrt(np.mean(((a - b) ** 2 / 2.0) / means ** 2)))


def rc_from_test_retest(values_scan1, values_scan2, relative=True):
    """RC from paired test-retest values: 2.77 wCV x 100 (relative, %) or 2.77 wSD (absolute, units of the values)."""
    if relative:
        return float(RC_FACTOR * within_subject_cv(values_scan1, values_scan2) * 100.0)
    return float(RC_FACTOR * within_subject_sd(values_scan1, values_scan2))


def is_real_change(baseline, follow_up, rc, relative=True):
    """True when |change| exceeds ``rc`` (strictly; % when ``relative``), False when it does
    not, None when it cannot be judged (missing value, baseline 0, no RC)."""
    if rc is None or not np.isfinite(rc):
        return None
    absolute, percent = change(baseline, follow_up)
    measured = percent if relative else absolute
    if measured is None:
        return None
    return bool(abs(measured) - rc > EDGE_TOLERANCE * max(1.0, abs(rc)))


def real_change_direction(baseline, follow_up, rc, relative=True):
    """+1 real increase, -1 real decrease, 0 within repeatability, None unknown."""
    real = is_real_change(baseline, follow_up, rc, relative)
    if real is None:
        return None
    return 0 if not real else (1 if follow_up > baseline else -1)
