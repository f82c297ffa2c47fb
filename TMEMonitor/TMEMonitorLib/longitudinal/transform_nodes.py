"""Registration transforms as Slicer transform nodes, and back to SimpleITK.

A registration transform maps a BASELINE (fixed) point to the FOLLOW-UP (moving) point of
the same anatomy; in Slicer that is a transform node's "transform from parent" (baseline is
the world). Linear results go into a ``vtkMRMLLinearTransformNode``; a deformable result
(linear stage + B-spline, ITK composite) goes into a ``vtkMRMLGridTransformNode`` holding a
``vtkOrientedGridTransform``: the displacement T(x) - x sampled at the baseline voxel centres
(RAS mm, the grid oriented like the baseline image), interpolated linearly between them as
ITK's displacement-field transform does. Slicer's transform storage writes it into the
scene bundle (.mrb) as an ITK displacement field and reads it back, so the transform
survives a save and reload; :func:`sitk_transform_from_node` turns either node back into
the SimpleITK transform used for resampling.
"""
import numpy as np
import SimpleITK as sitk
import vtk
from vtk.util import numpy_support

from ..errors import InputError
from . import itk_geometry

# Largest displacement grid stored (points); larger baseline grids are subsampled by an
# integer factor per axis (a B-spline with control points centimetres apart is smooth at that scale).
MAX_GRID_POINTS = 2_000_000


def _grid_geometry(shape, ijk_to_ras, max_points):
    """(shape, ijk_to_ras) of the grid the field is stored on: the image grid, subsampled by an
    integer step when it has more than ``max_points`` points (the grid still spans the image)."""
    shape = np.array(shape, int)
    step = 1
    while np.prod(np.ceil(shape / step)) > max_points:
        step += 1
    if step == 1:
        return tuple(shape), np.asarray(ijk_to_ras, float)
    new_shape = (shape - 1) // step + 1
    matrix = np.asarray(ijk_to_ras, float).copy()
    matrix[:3, :3] = matrix[:3, :3] * step
    return tuple(int(n) for n in new_shape), matrix


def grid_transform_from_sitk(transform, shape, ijk_to_ras, max_points=MAX_GRID_POINTS):
    """vtkOrientedGridTransform (from parent: baseline -> follow-up, RAS) of a SimpleITK transform
    sampled at the centres of the grid (``shape`` [k, j, i], ``ijk_to_ras``)."""
    import slicer
    grid_shape, grid_ijk = _grid_geometry(shape, ijk_to_ras, max_points)
    displacement = itk_geometry.displacement_field_ras(transform, grid_shape, grid_ijk).astype(np.float64)
    spacing = np.linalg.norm(grid_ijk[:3, :3], axis=0)
    image = vtk.vtkImageData()
    image.SetDimensions(grid_shape[2], grid_shape[1], grid_shape[0])
    image.SetOrigin(*grid_ijk[:3, 3])
    image.SetSpacing(*spacing)
    values = numpy_support.numpy_to_vtk(np.ascontiguousarray(displacement.reshape(-1, 3)), deep=True)
    values.SetNumberOfComponents(3)
    image.GetPointData().SetScalars(values)
    direction = vtk.vtkMatrix4x4()
    for row in range(3):
        for column in range(3):
            direction.SetElement(row, column, grid_ijk[row, column] / spacing[column])
    grid = slicer.vtkOrientedGridTransform()
    grid.SetDisplacementGridData(image)
    grid.SetGridDirectionMatrix(direction)
    grid.SetInterpolationModeToLinear()
    return grid


def add_transform_node(scene, transform, name, shape=None, ijk_to_ras=None, max_points=MAX_GRID_POINTS):
    """A transform node (from parent = baseline -> follow-up) holding a SimpleITK registration
    transform: linear node for linear transforms, grid node (on the baseline grid ``shape``,
    ``ijk_to_ras``) otherwise."""
    from ..scene import geometry
    if itk_geometry.is_linear(transform):
        node = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode", scene.GenerateUniqueName(name))
        node.SetMatrixTransformFromParent(geometry.to_vtk_matrix(itk_geometry.composite_linear_ras(transform)))
        return node
    if shape is None or ijk_to_ras is None:
        raise InputError(f"transform '{name}': a deformable transform needs the baseline grid to be stored on")
    grid = grid_transform_from_sitk(transform, shape, ijk_to_ras, max_points)
    node = scene.AddNewNodeByClass("vtkMRMLGridTransformNode", scene.GenerateUniqueName(name))
    node.SetAndObserveTransformFromParent(grid)
    return node


def _grid_of(node):
    """The vtkOrientedGridTransform in a node's from-parent transform (None if there is none)."""
    import slicer
    transform = node.GetTransformFromParent()
    if isinstance(transform, slicer.vtkOrientedGridTransform):
        return transform
    if hasattr(transform, "GetNumberOfConcatenatedTransforms"):
        for index in range(transform.GetNumberOfConcatenatedTransforms()):
            inner = transform.GetConcatenatedTransform(index)
            if isinstance(inner, slicer.vtkOrientedGridTransform):
                return inner
    return None


def sitk_transform_from_node(node):
    """SimpleITK transform (baseline LPS point -> follow-up LPS point) of a linear or grid transform node."""
    if node.IsLinear():
        matrix = vtk.vtkMatrix4x4()
        node.GetMatrixTransformFromParent(matrix)
        from ..scene import geometry
        return itk_geometry.ras_to_linear(geometry.from_vtk_matrix(matrix))
    grid = _grid_of(node)
    if grid is None:
        raise InputError(f"transform '{node.GetName()}' is neither linear nor a displacement grid")
    image = grid.GetDisplacementGrid()
    dims = image.GetDimensions()
    field = numpy_support.vtk_to_numpy(image.GetPointData().GetScalars()).astype(np.float64)
    field = field.reshape(dims[2], dims[1], dims[0], 3) * grid.GetDisplacementScale() + grid.GetDisplacementShift()
    direction = np.array([[grid.GetGridDirectionMatrix().GetElement(r, c) for c in range(3)] for r in range(3)])
    ijk_to_ras = np.eye(4)
    ijk_to_ras[:3, :3] = direction * np.array(image.GetSpacing())[None, :]
    ijk_to_ras[:3, 3] = image.GetOrigin()
    lps = field * np.array([-1.0, -1.0, 1.0])                      # RAS -> LPS components
    displacement = sitk.GetImageFromArray(lps, isVector=True)
    reference = itk_geometry.reference_image((dims[2], dims[1], dims[0]), ijk_to_ras)
    displacement.CopyInformation(reference)
    return sitk.DisplacementFieldTransform(sitk.Cast(displacement, sitk.sitkVectorFloat64))


def map_point_ras(node, point_ras):
    """Where a baseline RAS point lands at follow-up through the node (Slicer's own evaluation)."""
    return np.array(node.GetTransformFromParent().TransformPoint([float(v) for v in point_ras]))
