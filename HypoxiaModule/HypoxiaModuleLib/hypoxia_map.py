"""Perfused-Oxy-R ("hypoxic") map: perfused tissue that does not oxygen-enhance.

O'Connor JPB, Boult JKR, Jamin Y, et al. Oxygen-enhanced MRI accurately identifies, quantifies,
and maps tumor hypoxia in preclinical cancer models. Cancer Res 2016;76:787-795,
doi:10.1158/0008-5472.CAN-15-2062: voxels that enhance on DCE-MRI (perfused) but show no
significant Delta R1 with oxygen ("Oxy-R", refractory) are hypoxic; non-enhancing voxels
(necrosis, no delivery) are not called hypoxic, they are a class of their own.

Repeatability of the perfused-Oxy-R fraction: measured in NSCLC patients by Salem et al.,
Clin Cancer Res 2019;25:3818-3829, doi:10.1158/1078-0432.CCR-18-3932 (the values are in that
paper; they were not available to check when this was written, so none is coded here). For
Delta R2* (carbogen BOLD) and the tumour-averaged Delta R1 no repeatability value is coded either:
a change over visits is reported as a plain difference, without a repeatability threshold.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

NOT_ANALYSED, NON_PERFUSED, PERFUSED_OXY_ENHANCING, PERFUSED_OXY_REFRACTORY = 0, 1, 2, 3
CLASS_NAMES = {NOT_ANALYSED: "not analysed", NON_PERFUSED: "non-perfused (not called)",
               PERFUSED_OXY_ENHANCING: "perfused, oxygen-enhancing (normoxic)",
               PERFUSED_OXY_REFRACTORY: "perfused Oxy-R (hypoxic)"}
# label colours (r, g, b) 0..1 for the class label map
CLASS_COLOURS = {NON_PERFUSED: (0.45, 0.45, 0.45), PERFUSED_OXY_ENHANCING: (0.2, 0.6, 1.0),
                 PERFUSED_OXY_REFRACTORY: (0.9, 0.15, 0.1)}


def enhancing_from_map(enhancement, threshold):
    """Boolean map: ``enhancement`` (any DCE measure: relative enhancement, IAUC, Ktrans...) > threshold."""
    values = np.asarray(enhancement, dtype=float)
    if threshold is None or not np.isfinite(float(threshold)):
        raise InputError("enhancement threshold: give the value above which a voxel counts as enhancing "
                         "(--enhancement-threshold, in the units of the enhancement map)")
    return np.isfinite(values) & (values > float(threshold))


def classify(enhancing, oxy_enhancing, analysed):
    """Class label map (uint8) from three boolean maps of one grid."""
    enhancing = np.asarray(enhancing, bool)
    oxy = np.asarray(oxy_enhancing, bool)
    analysed = np.asarray(analysed, bool)
    if not enhancing.shape == oxy.shape == analysed.shape:
        raise InputError(f"hypoxia map: the enhancement map {enhancing.shape} and the Delta R1 map {oxy.shape} "
                         "are on different grids; resample the DCE map onto the OE-MRI grid")
    labels = np.full(enhancing.shape, NOT_ANALYSED, np.uint8)
    labels[analysed & ~enhancing] = NON_PERFUSED
    labels[analysed & enhancing & oxy] = PERFUSED_OXY_ENHANCING
    labels[analysed & enhancing & ~oxy] = PERFUSED_OXY_REFRACTORY
    return labels


def class_fractions(labels, region):
    """Fractions (0..1) of a region's analysed voxels: hypoxic (perfused Oxy-R) of the region, of the
    perfused part, non-perfused and oxy-enhancing; NaN where the denominator is empty."""
    labels = np.asarray(labels)
    region = np.asarray(region, bool)
    analysed = region & (labels != NOT_ANALYSED)
    n = int(analysed.sum())
    hypoxic = int(np.count_nonzero(analysed & (labels == PERFUSED_OXY_REFRACTORY)))
    perfused = int(np.count_nonzero(analysed & ((labels == PERFUSED_OXY_REFRACTORY) | (labels == PERFUSED_OXY_ENHANCING))))
    nan = float("nan")
    return {"hypoxic_fraction": hypoxic / n if n else nan,
            "hypoxic_fraction_of_perfused": hypoxic / perfused if perfused else nan,
            "non_perfused_fraction": (n - perfused) / n if n else nan,
            "oxy_enhancing_fraction": (perfused - hypoxic) / n if n else nan,
            "n_analysed": n}
