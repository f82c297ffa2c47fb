"""Local intensity features (IBSI 1, section 3.2): the mean intensity in a 1 cm^3 sphere
(radius (3/(4 pi))^(1/3) cm = 6.2 mm) around a voxel, over the image voxels whose centres
lie in the sphere (not only ROI voxels); local peak = at the ROI voxel(s) of highest
intensity, global peak = highest over all ROI voxels."""
import numpy as np
from scipy import signal

SPHERE_RADIUS_MM = 10.0 * (3.0 / (4.0 * np.pi)) ** (1.0 / 3.0)


def sphere_kernel(spacing, radius=SPHERE_RADIUS_MM):
    half = [int(np.floor(radius / s)) for s in spacing]
    grids = np.meshgrid(*[np.arange(-h, h + 1) * s for h, s in zip(half, spacing)], indexing="ij")
    return (sum(g ** 2 for g in grids) <= radius ** 2 + 1e-9).astype(np.float64), half


def local_means(values, int_mask, spacing):
    """Local mean intensity at every ROI voxel (array aligned with values[int_mask])."""
    kernel, half = sphere_kernel(spacing)
    idx = np.nonzero(int_mask)
    lo = [max(int(i.min()) - h, 0) for i, h in zip(idx, half)]
    hi = [min(int(i.max()) + 1 + h, n) for i, h, n in zip(idx, half, values.shape)]
    sl = tuple(slice(a, b) for a, b in zip(lo, hi))
    crop = values[sl]
    # the image ends where it ends: average over the voxels that exist
    sums = signal.fftconvolve(crop, kernel, mode="same")
    counts = signal.fftconvolve(np.ones_like(crop), kernel, mode="same")
    local = sums / np.maximum(np.rint(counts), 1.0)
    return local[int_mask[sl]], crop[int_mask[sl]]


def local_intensity_features(values, int_mask, spacing):
    local, inside = local_means(values, int_mask, spacing)
    top = inside == inside.max()
    return {"loc_peak_loc": float(local[top].max()), "loc_peak_glob": float(local.max())}
