"""Repeatability coefficients and the real-change test.

A change is called real at 95 % confidence when it exceeds the repeatability coefficient
RC = 2.77 wSD (Bland & Altman 1996; QIBA terminology, Raunig et al., Stat Methods Med Res
2015, doi:10.1177/0962280214537344); for relative changes %RC = 2.77 wCV.
Defaults (user-settable):
- ADC, QIBA DWI profile (2022) claims for a 95 % confidence true change: brain 8 %,
  breast 15 % (QIBA Breast DWI), prostate and liver 27 % (QIBA DWI Profile v1.0/1.45,
  Shukla-Dave et al., JMRI 2019, doi:10.1002/jmri.26518).
- Ktrans: test-retest wCV ~ 20 % in body tumours, so %RC ~ 55 % (Galbraith et al., NMR Biomed
  2002, doi:10.1002/nbm.731; Heye et al., Radiology 2013, doi:10.1148/radiol.13122337).
- Tumour volume: %RC ~ 15 % for volumetry of solid tumours (QIBA CT volumetry profile, 2012).
"""
import numpy as np

ADC_RC_PERCENT = {"brain": 8.0, "breast": 15.0, "prostate": 27.0, "liver": 27.0}
DEFAULT_RC_PERCENT = {"Ktrans": 55.0, "ve": 40.0, "vp": 60.0, "kep": 55.0, "iAUC60": 40.0, "volume_ml": 15.0,
                      "longest_diameter_mm": 10.0, "D": None, "f": 60.0, "Dstar": 80.0, "tCho/tCr": 30.0}


def rc_percent(biomarker, organ="breast", overrides=None):
    """%RC for a biomarker (ADC-like ones from the organ table); None when unknown."""
    if overrides and biomarker in overrides:
        return overrides[biomarker]
    if biomarker in ("ADC", "D"):
        return ADC_RC_PERCENT.get(organ, 15.0)
    return DEFAULT_RC_PERCENT.get(biomarker)


def rc_from_test_retest(scan1, scan2, relative=True):
    """RC from paired test-retest values: 2.77 wSD (absolute) or 2.77 wCV x 100 (relative, %)."""
    a, b = np.asarray(scan1, float), np.asarray(scan2, float)
    if a.shape != b.shape or a.size < 2:
        raise ValueError("test-retest: need two arrays of equal length (at least 2 pairs)")
    if relative:
        means = (a + b) / 2
        wcv = np.sqrt(np.mean(((a - b) ** 2 / 2) / means ** 2))
        return float(2.77 * wcv * 100)
    wsd = np.sqrt(np.mean((a - b) ** 2 / 2))
    return float(2.77 * wsd)


def change(baseline, value):
    """(absolute change, percent change); NaN where baseline or value is missing."""
    if baseline is None or value is None or not np.isfinite(baseline) or not np.isfinite(value):
        return float("nan"), float("nan")
    absolute = value - baseline
    return float(absolute), float(100.0 * absolute / baseline) if baseline != 0 else float("nan")


def is_real_change(baseline, value, rc, relative=True):
    """True/False when the change exceeds the RC (strictly), None when it cannot be judged."""
    if rc is None:
        return None
    absolute, percent = change(baseline, value)
    measured = percent if relative else absolute
    if not np.isfinite(measured):
        return None
    return bool(abs(measured) > rc)
