"""Voxel-to-RAS matrices from the geometry fields of spectroscopy headers.

DICOM and Siemens headers describe positions in LPS (patient: x to the left, y to the
posterior, z to the head); Slicer works in RAS, so x and y change sign.
"""
import numpy as np

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def affine_lps(row_direction, column_direction, spacing_row_mm, spacing_column_mm, thickness_mm, first_centre):
    """Voxel (i, j, k) -> LPS: i along the row direction, j along the column direction, k along
    their cross product; ``first_centre`` is the centre of voxel (0, 0, 0) in LPS mm.

    ``spacing_row_mm`` is the size of a voxel along i (the step between columns), and
    ``spacing_column_mm`` along j (the step between rows)."""
    row = _unit(row_direction)
    column = _unit(column_direction)
    normal = np.cross(row, column)
    affine = np.eye(4)
    affine[:3, 0] = row * float(spacing_row_mm)
    affine[:3, 1] = column * float(spacing_column_mm)
    affine[:3, 2] = normal * float(thickness_mm)
    affine[:3, 3] = np.asarray(first_centre, dtype=float)
    return affine


def to_ras(affine_lps_matrix):
    return LPS_TO_RAS @ np.asarray(affine_lps_matrix, dtype=float)


def _unit(vector):
    vector = np.asarray(vector, dtype=float).ravel()[:3]
    norm = np.linalg.norm(vector)
    if not norm > 0:
        raise ValueError(f"direction {vector} has zero length")
    return vector / norm


def voxel_size_mm(affine):
    """Edge lengths of one voxel (mm) along i, j, k."""
    return [float(v) for v in np.linalg.norm(np.asarray(affine)[:3, :3], axis=0)]


def rotation_from_angulations_deg(lr_deg, ap_deg, cc_deg):
    """Rotation of a Philips volume from its three angulations (degrees about the LR, AP and
    CC axes), applied as R = Rz(cc) Ry(ap) Rx(lr) in LPS. The composition order follows the
    Philips SPAR description as used by open readers; it is exact for a single angulation."""
    ax, ay, az = np.deg2rad([lr_deg, ap_deg, cc_deg])
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx
