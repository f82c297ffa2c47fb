"""The MRSI voxel grid in the scene: an outline model over the anatomy, and RAS point -> voxel.

The outline is one rectangle per grid plane (i, j and k boundaries at half-integer indices), so
that each slice view cuts it into the grid lines of the voxels it passes through; the picked
point is mapped to the voxel whose box contains it (voxel centres at integer i, j, k).
"""
import numpy as np
import vtk

from TMEMonitorLib.errors import InputError

GRID_COLOR = (1.0, 0.85, 0.2)


def grid_planes(shape, ijk_to_ras):
    """Corners (n_planes, 4, 3) in RAS of the rectangles bounding every voxel layer of a grid of
    ``shape`` (i, j, k)."""
    ni, nj, nk = (list(shape) + [1, 1, 1])[:3]
    lo = -0.5
    hi = (ni - 0.5, nj - 0.5, nk - 0.5)
    rectangles = []
    for axis, count in enumerate((ni, nj, nk)):
        other = [a for a in range(3) if a != axis]
        for position in np.arange(count + 1) - 0.5:
            corners = []
            for u, v in ((lo, lo), (hi[other[0]], lo), (hi[other[0]], hi[other[1]]), (lo, hi[other[1]])):
                point = np.zeros(3)
                point[axis], point[other[0]], point[other[1]] = position, u, v
                corners.append(point)
            rectangles.append(corners)
    ijk = np.asarray(rectangles)                                   # (n, 4, 3)
    matrix = np.asarray(ijk_to_ras, dtype=float)
    return ijk @ matrix[:3, :3].T + matrix[:3, 3]


def add_grid_outline(scene, shape, ijk_to_ras, name):
    """A model node outlining the grid voxels, shown as lines in the slice views."""
    rectangles = grid_planes(shape, ijk_to_ras)
    points = vtk.vtkPoints()
    cells = vtk.vtkCellArray()
    for rectangle in rectangles:
        ids = [points.InsertNextPoint(*corner) for corner in rectangle]
        cells.InsertNextCell(4, ids)
    poly = vtk.vtkPolyData()
    poly.SetPoints(points)
    poly.SetPolys(cells)
    model = scene.AddNewNodeByClass("vtkMRMLModelNode", name)
    model.SetAndObservePolyData(poly)
    model.CreateDefaultDisplayNodes()
    display = model.GetDisplayNode()
    display.SetColor(*GRID_COLOR)
    display.SetOpacity(0.15)
    display.SetVisibility2D(True)         # slice views: the planes cut into grid lines
    display.SetVisibility3D(False)
    display.SetSliceIntersectionThickness(1)
    model.SetAttribute("TMEMonitor.Role", "mrsi_grid")
    model.SetAttribute("TMEMonitor.GridShape", " ".join(str(int(v)) for v in shape))
    return model


def voxel_at_ras(shape, ijk_to_ras, ras):
    """(i, j, k) of the grid voxel containing the RAS point; InputError outside the grid."""
    matrix = np.asarray(ijk_to_ras, dtype=float)
    ijk = np.linalg.solve(matrix[:3, :3], np.asarray(ras, dtype=float)[:3] - matrix[:3, 3])
    index = np.floor(ijk + 0.5).astype(int)
    full = (list(shape) + [1, 1, 1])[:3]
    if np.any(index < 0) or np.any(index >= np.asarray(full)):
        raise InputError(f"point RAS ({', '.join(f'{v:.1f}' for v in ras[:3])}) mm is outside the MRSI grid "
                         f"(voxel {tuple(int(v) for v in index)} of {tuple(full)})")
    return tuple(int(v) for v in index)
