"""Voxel geometry: 4x4 IJK-to-RAS matrices between numpy and MRML nodes.

Arrays are indexed [k, j, i] (slices, rows, columns) as ``slicer.util.arrayFromVolume``
returns them; the 4x4 matrix maps (i, j, k, 1) to RAS millimetres.
"""
import numpy as np
import vtk


def to_vtk_matrix(matrix):
    out = vtk.vtkMatrix4x4()
    matrix = np.asarray(matrix, dtype=float)
    for row in range(4):
        for col in range(4):
            out.SetElement(row, col, matrix[row, col])
    return out


def from_vtk_matrix(vtk_matrix):
    return np.array([[vtk_matrix.GetElement(r, c) for c in range(4)] for r in range(4)])


def node_ijk_to_ras(volume_node):
    matrix = vtk.vtkMatrix4x4()
    volume_node.GetIJKToRASMatrix(matrix)
    return from_vtk_matrix(matrix)


def set_node_ijk_to_ras(volume_node, ijk_to_ras):
    volume_node.SetIJKToRASMatrix(to_vtk_matrix(ijk_to_ras))


def spacing_mm(ijk_to_ras):
    """Voxel size along i, j, k (mm)."""
    return np.linalg.norm(np.asarray(ijk_to_ras)[:3, :3], axis=0)


def voxel_volume_ml(ijk_to_ras):
    return abs(np.linalg.det(np.asarray(ijk_to_ras)[:3, :3])) / 1000.0


def make_ijk_to_ras(spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0), directions=None):
    """Matrix from spacing (i, j, k in mm), origin (RAS mm) and unit column directions."""
    directions = np.eye(3) if directions is None else np.asarray(directions, dtype=float)
    matrix = np.eye(4)
    matrix[:3, :3] = directions * np.asarray(spacing, dtype=float)[None, :]
    matrix[:3, 3] = origin
    return matrix


def same_geometry(shape_a, ijk_to_ras_a, shape_b, ijk_to_ras_b, tolerance_mm=1e-3):
    """True when two volumes sample the same grid (same shape and matrix within tolerance)."""
    return tuple(shape_a) == tuple(shape_b) and np.allclose(ijk_to_ras_a, ijk_to_ras_b, atol=tolerance_mm)
