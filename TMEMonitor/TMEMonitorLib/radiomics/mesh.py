"""Triangle mesh of a binary ROI by marching cubes at iso-level 0.5 (IBSI 1, section 3.1:
morphology uses a mesh of the morphological mask). VTK (bundled with Slicer and slicer-core)
is imported here, when a mesh is needed."""
import numpy as np


def mask_mesh(mask, spacing):
    """(vertices (n, 3) in mm as (x, y, z), faces (m, 3) int) of the surface of ``mask``
    (z, y, x) padded by one empty voxel, with consistently oriented triangles."""
    from vtkmodules.util import numpy_support
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkFiltersCore import vtkMarchingCubes

    padded = np.pad(mask.astype(np.float32), 1, mode="constant")
    nz, ny, nx = padded.shape
    image = vtkImageData()
    image.SetDimensions(nx, ny, nz)
    sz, sy, sx = spacing
    image.SetSpacing(sx, sy, sz)
    image.SetOrigin(-sx, -sy, -sz)                  # undo the padding offset
    scalars = numpy_support.numpy_to_vtk(padded.ravel(order="C"), deep=True)
    image.GetPointData().SetScalars(scalars)
    mc = vtkMarchingCubes()
    mc.SetInputData(image)
    mc.SetValue(0, 0.5)
    mc.ComputeNormalsOff()
    mc.ComputeGradientsOff()
    mc.ComputeScalarsOff()
    mc.Update()
    poly = mc.GetOutput()
    points = numpy_support.vtk_to_numpy(poly.GetPoints().GetData()).astype(np.float64)
    polys = poly.GetPolys()
    if hasattr(polys, "GetConnectivityArray"):          # VTK >= 9.0 (Slicer 5.8 and later)
        cells = numpy_support.vtk_to_numpy(polys.GetConnectivityArray()).reshape(-1, 3)
    else:
        cells = numpy_support.vtk_to_numpy(polys.GetData()).reshape(-1, 4)[:, 1:]
    return points, cells.astype(np.int64)


def mesh_volume_area(vertices, faces):
    """Enclosed volume (divergence theorem over signed tetrahedra) and surface area."""
    a, b, c = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    volume = abs(np.sum(np.einsum("ij,ij->i", a, np.cross(b, c)))) / 6.0
    area = np.sum(np.linalg.norm(np.cross(b - a, c - a), axis=1)) / 2.0
    return float(volume), float(area)
