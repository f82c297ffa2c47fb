"""Voxel-wise response: the parametric response map (PRM), also called functional diffusion map.

Voxels of the baseline tumour, with baseline and (registered) follow-up values, are
classified as increased (1), decreased (2) or unchanged (3) against a threshold; 0 is
outside the tumour or missing (Moffat et al., PNAS 2005, doi:10.1073/pnas.0501532102, used
ADC +-0.55e-3 mm2/s in brain; Galban et al., Nat Med 2009, doi:10.1038/nm.1919).
The threshold is set by the user, or derived from
- normal tissue: half-width of the central 95 % interval of voxel differences in tissue
  that should not change (the PRM papers' approach), or
- voxel-wise test-retest: RC = 2.77 wSD of the voxel differences between two baseline scans.
Habitats live in ``habitats.py`` (re-exported here for existing callers).
"""
import numpy as np

from ..errors import InputError
from .habitats import HABITAT_LABELS, HABITAT_THRESHOLDS, habitat_volumes_ml, habitats  # noqa: F401
from .repeatability import RC_FACTOR

INCREASED, DECREASED, UNCHANGED = 1, 2, 3
PRM_LABELS = {INCREASED: ("increased", (0.85, 0.15, 0.15)), DECREASED: ("decreased", (0.15, 0.35, 0.90)),
              UNCHANGED: ("unchanged", (0.20, 0.75, 0.25))}


def parametric_response_map(baseline, follow_up, mask, threshold):
    """(label map uint8, fractions {class: fraction of classified voxels}, (baseline values,
    follow-up values) of the classified voxels for a scatter plot).

    A change exactly equal to ``threshold`` counts as unchanged (strict inequality, as for
    the real-change test).
    """
    baseline = np.asarray(baseline, dtype=float)
    follow_up = np.asarray(follow_up, dtype=float)
    mask = np.asarray(mask, bool)
    if not (baseline.shape == follow_up.shape == mask.shape):
        raise InputError(f"PRM: baseline {baseline.shape}, follow-up {follow_up.shape} and mask {mask.shape} "
                         "must be on the same grid (resample the follow-up onto baseline first)")
    if threshold is None or not np.isfinite(threshold) or threshold < 0:
        raise InputError(f"PRM: threshold must be a finite number >= 0, got {threshold}")
    valid = mask & np.isfinite(baseline) & np.isfinite(follow_up)
    difference = np.where(valid, follow_up - baseline, 0.0)
    labels = np.zeros(baseline.shape, np.uint8)
    labels[valid] = UNCHANGED
    labels[valid & (difference > threshold)] = INCREASED
    labels[valid & (difference < -threshold)] = DECREASED
    n = int(valid.sum())
    fractions = {name: (float(np.count_nonzero(labels == value) / n) if n else float("nan"))
                 for value, (name, _) in PRM_LABELS.items()}
    return labels, fractions, (baseline[valid], follow_up[valid])


def prm_volumes_ml(labels, voxel_ml):
    """Volume (mL) of each PRM class."""
    labels = np.asarray(labels)
    return {name: float(np.count_nonzero(labels == value) * voxel_ml) for value, (name, _) in PRM_LABELS.items()}


def threshold_from_normal_tissue(baseline, follow_up, normal_mask, confidence=0.95):
    """Half-width of the central ``confidence`` interval of voxel differences in normal tissue."""
    d = (np.asarray(follow_up, dtype=float) - np.asarray(baseline, dtype=float))[np.asarray(normal_mask, bool)]
    d = d[np.isfinite(d)]
    if d.size < 10:
        raise InputError(f"PRM normal tissue: {d.size} voxels with both values; need at least 10 to derive a threshold")
    low, high = np.percentile(d, [50 * (1 - confidence), 100 - 50 * (1 - confidence)])
    return float((high - low) / 2)


def threshold_from_test_retest(scan1, scan2, mask):
    """Voxel-wise RC = 2.77 wSD from two same-day scans (wSD^2 = mean(d^2) / 2)."""
    d = (np.asarray(scan2, dtype=float) - np.asarray(scan1, dtype=float))[np.asarray(mask, bool)]
    d = d[np.isfinite(d)]
    if d.size < 10:
        raise InputError(f"PRM test-retest: {d.size} voxels with both values; need at least 10")
    return float(RC_FACTOR * np.sqrt(np.mean(d ** 2) / 2.0))
