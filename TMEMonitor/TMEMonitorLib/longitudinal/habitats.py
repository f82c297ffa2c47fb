"""Tumour habitats: voxels grouped by ADC (cellularity) and Ktrans (perfusion) into
viable perfused, viable poorly perfused (hypoxic) and necrotic sub-regions.

Habitat imaging: Gatenby et al., Radiology 2013, doi:10.1148/radiol.13122697.
Two methods, both returning a label map (0 outside the tumour or undetermined):
- ``rule_based_habitats``: necrotic when ADC >= 1.8e-3 mm2/s (necrosis approaches free
  water-like diffusion; viable tumour is typically 0.7-1.4e-3 mm2/s, e.g. Padhani et al.,
  Neoplasia 2009, doi:10.1593/neo.81328); otherwise perfused when Ktrans >= 0.12 /min
  (roughly the lower quartile of enhancing tumour in DCE studies; set per tumour type).
- ``kmeans_habitats``: k-means (k = 3) on z-scored (ADC, Ktrans), fixed seed; clusters are
  named by their centroids: highest ADC -> necrotic, of the others higher Ktrans -> viable
  perfused, the remaining one -> viable poorly perfused.
"""
import numpy as np
from scipy.cluster.vq import kmeans2

from ..errors import InputError

VIABLE_PERFUSED, POORLY_PERFUSED, NECROTIC = 1, 2, 3
HABITAT_LABELS = {VIABLE_PERFUSED: ("viable perfused", (0.90, 0.20, 0.15)),
                  POORLY_PERFUSED: ("viable poorly perfused", (0.95, 0.70, 0.10)),
                  NECROTIC: ("necrotic", (0.35, 0.35, 0.80))}
HABITAT_THRESHOLDS = {"ADC_necrotic": 1.8e-3, "Ktrans_perfused": 0.12}    # mm2/s, 1/min


def _inputs(adc, ktrans, mask):
    adc, ktrans, mask = np.asarray(adc, dtype=float), np.asarray(ktrans, dtype=float), np.asarray(mask, bool)
    if not (adc.shape == ktrans.shape == mask.shape):
        raise InputError(f"habitats: ADC {adc.shape}, Ktrans {ktrans.shape} and mask {mask.shape} differ in shape")
    return adc, ktrans, mask


def rule_based_habitats(adc, ktrans, mask, thresholds=None):
    """Label map by the documented thresholds (``thresholds`` overrides HABITAT_THRESHOLDS keys).

    A voxel with ADC missing is undetermined (0); with ADC below the necrosis threshold and
    Ktrans missing it is undetermined too.
    """
    t = dict(HABITAT_THRESHOLDS)
    t.update(thresholds or {})
    adc, ktrans, mask = _inputs(adc, ktrans, mask)
    labels = np.zeros(adc.shape, np.uint8)
    known = mask & np.isfinite(adc)
    necrotic = known & (adc >= t["ADC_necrotic"])
    viable = known & ~necrotic & np.isfinite(ktrans)
    labels[viable & (ktrans >= t["Ktrans_perfused"])] = VIABLE_PERFUSED
    labels[viable & (ktrans < t["Ktrans_perfused"])] = POORLY_PERFUSED
    labels[necrotic] = NECROTIC
    return labels


def kmeans_habitats(adc, ktrans, mask, seed=0, iterations=50):
    """(label map, centroids {habitat name: (ADC mm2/s, Ktrans 1/min)}) by k-means with k = 3.

    Voxels with ADC or Ktrans missing are left undetermined (0).
    """
    adc, ktrans, mask = _inputs(adc, ktrans, mask)
    use = mask & np.isfinite(adc) & np.isfinite(ktrans)
    labels = np.zeros(adc.shape, np.uint8)
    if use.sum() < 3:
        raise InputError(f"habitats: k-means needs at least 3 tumour voxels with ADC and Ktrans, got {int(use.sum())}")
    features = np.column_stack([adc[use], ktrans[use]])
    mean, sd = features.mean(0), features.std(0)
    sd[sd == 0] = 1.0
    z = (features - mean) / sd
    # seed= (not rng=, scipy >= 1.15 only): Slicer bundles scipy 1.13; same stream on both.
    centroids_z, cluster = kmeans2(z, 3, iter=iterations, minit="++", seed=np.random.default_rng(seed))
    centroids = centroids_z * sd + mean
    order = np.argsort(-centroids[:, 0])                           # highest ADC first
    necrotic = order[0]
    rest = order[1:][np.argsort(-centroids[order[1:], 1])]          # then by Ktrans, highest first
    name_of_cluster = {necrotic: NECROTIC, rest[0]: VIABLE_PERFUSED, rest[1]: POORLY_PERFUSED}
    mapping = np.array([name_of_cluster[c] for c in range(3)], np.uint8)
    labels[use] = mapping[cluster]
    named = {HABITAT_LABELS[name_of_cluster[c]][0]: (float(centroids[c, 0]), float(centroids[c, 1]))
             for c in range(3)}
    return labels, named


def habitat_volumes_ml(labels, voxel_ml):
    """Volume (mL) of each habitat from a label map and the voxel volume in mL."""
    labels = np.asarray(labels)
    return {name: float(np.count_nonzero(labels == value) * voxel_ml) for value, (name, _) in HABITAT_LABELS.items()}


# Name of the first version, kept for existing callers.
habitats = rule_based_habitats
