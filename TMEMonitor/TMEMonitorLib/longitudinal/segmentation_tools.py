"""Tumour masks across visits: propagation through the registration, threshold refinement,
size measurements (volume, RECIST longest diameter, RANO bidimensional product) and lesion
identity (which follow-up lesion is which baseline lesion; new lesions flagged).

Volume and longest diameter are the phantom package's measurements (one implementation
for truth and measurement): voxel count x voxel volume, and the in-slice largest distance
between voxel centres (via the convex hull).
"""
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from ..errors import InputError
from .lesion_measurements import longest_diameter_mm, volume_ml  # noqa: F401  (re-exported)
from . import itk_geometry
from .registration import RegistrationResult, resample_mask


def propagate_mask(baseline_mask, baseline_ijk_to_ras, follow_up_shape, follow_up_ijk_to_ras, registration):
    """The baseline tumour mask on the follow-up grid.

    ``registration`` is the follow-up -> baseline registration (a :class:`RegistrationResult`
    or its SimpleITK transform: baseline point -> follow-up point). A follow-up voxel belongs
    to the propagated mask when its baseline point (inverse transform; for B-spline by
    inverting the displacement field on the follow-up grid) lies inside the baseline mask.
    """
    transform = registration.transform if isinstance(registration, RegistrationResult) else registration
    inverse = None
    if transform is not None:
        inverse = itk_geometry.inverse_transform(transform, follow_up_shape, follow_up_ijk_to_ras)
    return resample_mask(baseline_mask, baseline_ijk_to_ras, follow_up_shape, follow_up_ijk_to_ras, inverse)


def propagate_labels(baseline_labels, baseline_ijk_to_ras, follow_up_shape, follow_up_ijk_to_ras, registration):
    """Baseline lesion labels (0 background, 1..n) on the follow-up grid, each label propagated as
    :func:`propagate_mask` does (the transform is inverted once); where two overlap the lower label wins."""
    transform = registration.transform if isinstance(registration, RegistrationResult) else registration
    inverse = None
    if transform is not None:
        inverse = itk_geometry.inverse_transform(transform, follow_up_shape, follow_up_ijk_to_ras)
    baseline_labels = np.asarray(baseline_labels)
    out = np.zeros(tuple(follow_up_shape), np.int32)
    for label in range(int(baseline_labels.max(initial=0)), 0, -1):
        mask = resample_mask(baseline_labels == label, baseline_ijk_to_ras, follow_up_shape, follow_up_ijk_to_ras,
                             inverse)
        out[mask] = label
    return out


def refine_by_threshold(mask, image, low=None, high=None, dilation_voxels=1):
    """Keep voxels of ``mask`` dilated by ``dilation_voxels`` (in-slice and across slices) whose
    intensity lies in [low, high] (either bound may be None); NaN voxels are dropped."""
    mask = np.asarray(mask, bool)
    image = np.asarray(image, dtype=float)
    if mask.shape != image.shape:
        raise InputError(f"refine_by_threshold: mask {mask.shape} and image {image.shape} differ in shape")
    if low is not None and high is not None and low > high:
        raise InputError(f"refine_by_threshold: low {low} is above high {high}")
    region = ndimage.binary_dilation(mask, iterations=int(dilation_voxels)) if dilation_voxels > 0 else mask.copy()
    keep = region & np.isfinite(image)
    if low is not None:
        keep &= image >= low
    if high is not None:
        keep &= image <= high
    return keep


def bidimensional_product_mm2(mask, ijk_to_ras):
    """RANO product: the longest in-slice diameter times the longest diameter perpendicular to
    it in the same slice (voxel centre to voxel centre), for the slice where the product is largest.

    The perpendicular diameter is the longest run of the mask along the perpendicular
    direction: points are binned along the major axis (bins one voxel wide) and the extent
    across the axis is taken within each bin.
    """
    mask = np.asarray(mask, bool)
    matrix = np.asarray(ijk_to_ras, dtype=float)
    bin_mm = float(np.linalg.norm(matrix[:3, :2], axis=0).min())
    best = 0.0
    for k in range(mask.shape[0]):
        j, i = np.nonzero(mask[k])
        if j.size < 2:
            continue
        points = (matrix[:3, :3] @ np.stack([i, j, np.full(i.size, k)]).astype(float)).T
        axes = _slice_axes(matrix)
        flat = points @ axes.T                                         # in-slice 2D coordinates
        a, b = _farthest_pair(flat)
        length = float(np.linalg.norm(flat[b] - flat[a]))
        direction = (flat[b] - flat[a]) / length
        along = flat @ direction
        across = flat @ np.array([-direction[1], direction[0]])
        bins = np.round((along - along.min()) / bin_mm).astype(int)
        lows = np.full(bins.max() + 1, np.inf)
        highs = np.full(bins.max() + 1, -np.inf)
        np.minimum.at(lows, bins, across)
        np.maximum.at(highs, bins, across)
        widths = highs - lows
        best = max(best, length * float(widths[np.isfinite(widths)].max()))
    return best


def _slice_axes(matrix):
    """Orthonormal in-slice axes (rows) from the i and j columns of the IJK-to-RAS matrix."""
    u = matrix[:3, 0] / np.linalg.norm(matrix[:3, 0])
    v = matrix[:3, 1] - (matrix[:3, 1] @ u) * u
    return np.stack([u, v / np.linalg.norm(v)])


def _farthest_pair(points):
    candidates = np.arange(points.shape[0])
    if points.shape[0] > 3:
        try:
            candidates = ConvexHull(points).vertices
        except QhullError:                                             # collinear points
            pass
    hull = points[candidates]
    distances = ((hull[:, None, :] - hull[None, :, :]) ** 2).sum(-1)
    a, b = np.unravel_index(np.argmax(distances), distances.shape)
    return candidates[a], candidates[b]


@dataclass
class LesionMatch:
    baseline_label: int        # 0: no baseline lesion (a new lesion)
    follow_up_label: int       # 0: not found at follow-up (disappeared)
    overlap_voxels: int
    centroid_distance_mm: float
    status: str                # "matched", "new" or "disappeared"


def label_lesions(mask, min_voxels=1):
    """Connected components (26-connectivity) of a mask, small ones (< ``min_voxels``) removed,
    relabelled 1..n."""
    labels, n = ndimage.label(np.asarray(mask, bool), structure=np.ones((3, 3, 3), bool))
    if n == 0:
        return labels, 0
    sizes = np.bincount(labels.ravel())
    keep = np.flatnonzero(sizes >= min_voxels)
    keep = keep[keep > 0]
    relabel = np.zeros(n + 1, labels.dtype)
    relabel[keep] = np.arange(1, keep.size + 1)
    return relabel[labels], int(keep.size)


def _centroids_ras(labels, n, ijk_to_ras):
    if n == 0:
        return np.zeros((0, 3))
    kji = np.array(ndimage.center_of_mass(np.ones(labels.shape), labels, np.arange(1, n + 1))).reshape(n, 3)
    ijk1 = np.column_stack([kji[:, 2], kji[:, 1], kji[:, 0], np.ones(n)])
    return (ijk1 @ np.asarray(ijk_to_ras, dtype=float).T)[:, :3]


def match_lesions(baseline_labels, follow_up_labels, ijk_to_ras, max_centroid_distance_mm=15.0):
    """Identity of lesions across two visits on the SAME grid (baseline lesions propagated).

    Label maps (0 background, 1..n lesions; a bool mask is split into connected components).
    Pairs are taken greedily by overlap (largest first), then lesions left without a partner
    are paired by centroid distance up to ``max_centroid_distance_mm``. A follow-up lesion
    without partner is "new" (RECIST: unequivocal new lesion -> PD), a baseline lesion
    without partner "disappeared".
    """
    baseline_labels, follow_up_labels = np.asarray(baseline_labels), np.asarray(follow_up_labels)
    if baseline_labels.shape != follow_up_labels.shape:
        raise InputError(f"match_lesions: baseline {baseline_labels.shape} and follow-up {follow_up_labels.shape} "
                         "grids differ; propagate the baseline lesions onto the follow-up grid first")
    if baseline_labels.dtype == bool:
        baseline_labels, _ = label_lesions(baseline_labels)
    if follow_up_labels.dtype == bool:
        follow_up_labels, _ = label_lesions(follow_up_labels)
    nb, nf = int(baseline_labels.max(initial=0)), int(follow_up_labels.max(initial=0))
    overlap = np.zeros((nb + 1, nf + 1), np.int64)
    np.add.at(overlap, (baseline_labels.ravel().astype(np.int64), follow_up_labels.ravel().astype(np.int64)), 1)
    cb, cf = _centroids_ras(baseline_labels, nb, ijk_to_ras), _centroids_ras(follow_up_labels, nf, ijk_to_ras)
    distance = np.linalg.norm(cb[:, None, :] - cf[None, :, :], axis=-1) if nb and nf else np.zeros((nb, nf))
    matches, used_b, used_f = [], set(), set()
    pairs = [(overlap[b, f], b, f) for b in range(1, nb + 1) for f in range(1, nf + 1) if overlap[b, f] > 0]
    for count, b, f in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if b not in used_b and f not in used_f:
            used_b.add(b), used_f.add(f)
            matches.append(LesionMatch(b, f, int(count), float(distance[b - 1, f - 1]), "matched"))
    near = [(distance[b - 1, f - 1], b, f) for b in range(1, nb + 1) for f in range(1, nf + 1)
            if b not in used_b and f not in used_f and distance[b - 1, f - 1] <= max_centroid_distance_mm]
    for d, b, f in sorted(near):
        if b not in used_b and f not in used_f:
            used_b.add(b), used_f.add(f)
            matches.append(LesionMatch(b, f, 0, float(d), "matched"))
    matches += [LesionMatch(0, f, 0, float("nan"), "new") for f in range(1, nf + 1) if f not in used_f]
    matches += [LesionMatch(b, 0, 0, float("nan"), "disappeared") for b in range(1, nb + 1) if b not in used_b]
    return matches
