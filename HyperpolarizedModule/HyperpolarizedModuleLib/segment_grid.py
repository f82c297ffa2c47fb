"""Segments drawn on the anatomy, taken to the coarse 13C grid for statistics.

Each 13C voxel is sampled at sub x sub x sub points; a point belongs to the segment when the
anatomy voxel it falls in (nearest) does. The 13C voxel counts for the segment when at least half
its points do (coverage >= 0.5). The 13C maps themselves are never resampled."""
import numpy as np

from TMEMonitorLib.errors import InputError

SUBSAMPLES = 4
MIN_COVERAGE = 0.5


def coverage(mask, mask_ijk_to_ras, shape, ijk_to_ras, sub=SUBSAMPLES):
    """Fraction (0..1) of each voxel of the (shape, ijk_to_ras) grid covered by ``mask`` (k, j, i)."""
    mask = np.asarray(mask, bool)
    offsets = (np.arange(sub) + 0.5) / sub - 0.5
    oi, oj, ok = np.meshgrid(offsets, offsets, offsets, indexing="ij")
    sub_points = np.stack([oi.ravel(), oj.ravel(), ok.ravel()], axis=1)           # (s, 3) in i, j, k
    k, j, i = np.indices(shape)
    centres = np.stack([i.ravel(), j.ravel(), k.ravel()], axis=1).astype(float)   # (n, 3)
    points = (centres[:, None, :] + sub_points[None]).reshape(-1, 3)
    ras = points @ np.asarray(ijk_to_ras)[:3, :3].T + np.asarray(ijk_to_ras)[:3, 3]
    to_mask = np.linalg.inv(np.asarray(mask_ijk_to_ras, dtype=float))
    ijk = np.rint(ras @ to_mask[:3, :3].T + to_mask[:3, 3]).astype(int)
    inside = np.all((ijk >= 0) & (ijk < np.array(mask.shape[::-1])), axis=1)
    hit = np.zeros(ijk.shape[0], bool)
    hit[inside] = mask[ijk[inside, 2], ijk[inside, 1], ijk[inside, 0]]
    return hit.reshape(-1, sub_points.shape[0]).mean(axis=1).reshape(shape)


def on_grid(mask, mask_ijk_to_ras, shape, ijk_to_ras, name="segment"):
    """The segment as a bool mask on the 13C grid (coverage >= 0.5); InputError if it misses the grid."""
    result = coverage(mask, mask_ijk_to_ras, shape, ijk_to_ras) >= MIN_COVERAGE
    if not result.any():
        raise InputError(f"{name}: covers no 13C voxel by half or more (does it overlap the 13C slab?)")
    return result
