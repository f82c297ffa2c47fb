"""Voxel-wise response: parametric response map (PRM / functional diffusion map) and habitats.

PRM: voxels of the baseline tumour classified as increased, decreased or unchanged
between baseline and follow-up (registered) maps against a threshold (Galban et al., Nat Med
2009, doi:10.1038/nm.1919; Moffat et al., PNAS 2005, doi:10.1073/pnas.0501532102, used
ADC +-0.55e-3 mm2/s in brain).
Habitats: rule-based on ADC and Ktrans (viable perfused, viable poorly perfused/hypoxic,
necrotic), following the habitat imaging idea of Gatenby et al., Radiology 2013
(doi:10.1148/radiol.13122697); thresholds stated below and user-settable.
"""
import numpy as np

PRM_LABELS = {1: ("increased", (0.85, 0.15, 0.15)), 2: ("decreased", (0.15, 0.35, 0.90)),
              3: ("unchanged", (0.20, 0.75, 0.25))}
HABITAT_LABELS = {1: ("viable perfused", (0.90, 0.20, 0.15)), 2: ("viable poorly perfused", (0.95, 0.70, 0.10)),
                  3: ("necrotic", (0.35, 0.35, 0.80))}
# Habitat rules: necrotic when ADC >= 1.8e-3 mm2/s; otherwise perfused when Ktrans >= 0.12 /min.
HABITAT_THRESHOLDS = {"ADC_necrotic": 1.8e-3, "Ktrans_perfused": 0.12}


def parametric_response_map(baseline, follow_up, mask, threshold):
    """(label map uint8, fractions dict, (baseline values, follow-up values) for a scatter plot)."""
    baseline = np.asarray(baseline, float)
    follow_up = np.asarray(follow_up, float)
    mask = np.asarray(mask, bool) & np.isfinite(baseline) & np.isfinite(follow_up)
    difference = follow_up - baseline
    labels = np.zeros(baseline.shape, np.uint8)
    labels[mask & (difference > threshold)] = 1
    labels[mask & (difference < -threshold)] = 2
    labels[mask & (np.abs(difference) <= threshold)] = 3
    n = mask.sum()
    fractions = {name: (float(np.count_nonzero(labels == value) / n) if n else float("nan"))
                 for value, (name, _) in PRM_LABELS.items()}
    return labels, fractions, (baseline[mask], follow_up[mask])


def threshold_from_normal_tissue(baseline, follow_up, normal_mask, confidence=0.95):
    """Half-width of the central ``confidence`` interval of voxel differences in normal tissue."""
    d = (np.asarray(follow_up, float) - np.asarray(baseline, float))[np.asarray(normal_mask, bool)]
    d = d[np.isfinite(d)]
    if d.size < 10:
        raise ValueError("normal tissue: too few voxels to derive a PRM threshold")
    low, high = np.percentile(d, [50 * (1 - confidence), 100 - 50 * (1 - confidence)])
    return float((high - low) / 2)


def habitats(adc, ktrans, mask, thresholds=None):
    """Habitat label map (1 viable perfused, 2 viable poorly perfused, 3 necrotic, 0 outside/undetermined)."""
    t = dict(HABITAT_THRESHOLDS)
    t.update(thresholds or {})
    adc, ktrans = np.asarray(adc, float), np.asarray(ktrans, float)
    mask = np.asarray(mask, bool)
    labels = np.zeros(adc.shape, np.uint8)
    known = mask & np.isfinite(adc)
    necrotic = known & (adc >= t["ADC_necrotic"])
    viable = known & ~necrotic & np.isfinite(ktrans)
    labels[viable & (ktrans >= t["Ktrans_perfused"])] = 1
    labels[viable & (ktrans < t["Ktrans_perfused"])] = 2
    labels[necrotic] = 3
    return labels


def habitat_volumes_ml(labels, voxel_ml):
    return {name: float(np.count_nonzero(labels == value) * voxel_ml) for value, (name, _) in HABITAT_LABELS.items()}
