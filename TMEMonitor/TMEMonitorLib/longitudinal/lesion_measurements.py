"""Clinical size measurements of a lesion mask: volume (mL) and the RECIST 1.1 longest in-plane
diameter (mm) (Eisenhauer et al., Eur J Cancer 2009, doi:10.1016/j.ejca.2008.10.026). Used by the
lesion follow-up, the dashboard and the phantom's truth summary."""
import numpy as np
from scipy.spatial import ConvexHull, QhullError


def volume_ml(mask, ijk_to_ras):
    return float(np.count_nonzero(mask) * abs(np.linalg.det(np.asarray(ijk_to_ras)[:3, :3])) / 1000.0)


def longest_diameter_mm(mask, ijk_to_ras):
    """Largest distance between voxel centres of the mask within one slice (k), in mm.

    RECIST 1.1 measures the longest diameter in the axial plane; here the plane is the
    acquisition slice. The farthest pair lies on the convex hull, which keeps this fast.
    """
    mask = np.asarray(mask, bool)
    matrix = np.asarray(ijk_to_ras, dtype=float)
    best = 0.0
    for k in range(mask.shape[0]):
        j, i = np.nonzero(mask[k])
        if j.size < 2:
            continue
        points = (matrix[:3, :3] @ np.stack([i, j, np.full(i.size, k)]).astype(float)).T
        in_plane = points[:, :2] if np.ptp(points[:, 2]) < 1e-6 else points
        try:
            hull = in_plane[ConvexHull(in_plane[:, :2] if in_plane.shape[1] == 2 else in_plane).vertices] \
                if j.size > 3 else in_plane
        except QhullError:                       # collinear points
            hull = in_plane
        differences = hull[:, None, :] - hull[None, :, :]
        best = max(best, float(np.sqrt((differences ** 2).sum(-1)).max()))
    return best
