"""Voxel-to-RAS matrices from DICOM, ITK and NRRD geometry.

DICOM and ITK use LPS patient coordinates; Slicer uses RAS. RAS = diag(-1, -1, 1) * LPS.
"""
import numpy as np

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def ijk_to_ras_from_lps(ijk_to_lps):
    """4x4 voxel→RAS matrix from a 4x4 voxel→LPS matrix."""
    return LPS_TO_RAS @ np.asarray(ijk_to_lps, dtype=float)


def ijk_to_ras_from_axes(origin, axis_vectors, space="LPS"):
    """4x4 matrix from an origin and three axis step vectors (i, j, k; mm per voxel)."""
    matrix = np.eye(4)
    matrix[:3, :3] = np.column_stack([np.asarray(v, dtype=float) for v in axis_vectors])
    matrix[:3, 3] = np.asarray(origin, dtype=float)
    return ijk_to_ras_from_lps(matrix) if space == "LPS" else matrix


def ijk_to_ras_from_sitk(image):
    """4x4 voxel→RAS matrix of the first three axes of a SimpleITK image (ITK is LPS)."""
    dim = image.GetDimension()
    direction = np.array(image.GetDirection(), dtype=float).reshape(dim, dim)[:3, :3]
    spacing = np.array(image.GetSpacing(), dtype=float)[:3]
    origin = np.array(image.GetOrigin(), dtype=float)[:3]
    return ijk_to_ras_from_axes(origin, list((direction * spacing).T), space="LPS")


def slice_normal(image_orientation):
    """Unit normal of a DICOM ImageOrientationPatient (row cosine × column cosine)."""
    iop = np.asarray(image_orientation, dtype=float)
    normal = np.cross(iop[:3], iop[3:6])
    return normal / np.linalg.norm(normal)


def describe_orientation(ijk_to_ras):
    """Nearest anatomical axis labels of i, j, k, e.g. 'LPS' or 'RAS' (oblique shown with ~)."""
    labels = (("L", "R"), ("P", "A"), ("I", "S"))
    out = []
    for column in np.asarray(ijk_to_ras)[:3, :3].T:
        unit = column / np.linalg.norm(column)
        axis = int(np.argmax(np.abs(unit)))
        letter = labels[axis][1] if unit[axis] > 0 else labels[axis][0]
        out.append(letter if abs(unit[axis]) > 0.999 else "~" + letter)
    return " ".join(out)
