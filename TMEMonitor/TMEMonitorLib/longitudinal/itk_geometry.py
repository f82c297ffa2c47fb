"""numpy arrays + 4x4 IJK-to-RAS matrices <-> SimpleITK images and transforms.

Slicer works in RAS (+x Right, +y Anterior, +z Superior); ITK works in LPS (+x Left,
+y Posterior, +z Superior). The two differ by flipping the first two axes:
``ras = F @ lps`` with ``F = diag(-1, -1, 1)`` (F is its own inverse).

- Image: array indexed [k, j, i] (slices, rows, columns, as ``slicer.util.arrayFromVolume``);
  ``sitk.GetImageFromArray`` indexes the image (i, j, k), so voxel (i, j, k) sits at
  ``ijk_to_lps @ (i, j, k, 1)`` with ``ijk_to_lps = F4 @ ijk_to_ras``. Spacing is the column
  norm of that matrix, direction its unit columns (row-major, as SimpleITK stores it).
- Transform: a SimpleITK registration transform maps a point of the FIXED image to the
  MOVING image (that is what resampling needs). Its 4x4 in RAS is ``F4 @ A_lps @ F4``.
"""
import numpy as np
import SimpleITK as sitk

from ..errors import InputError
from ..io.geometry import LPS_TO_RAS, ijk_to_ras_from_sitk

LPS_FLIP = LPS_TO_RAS      # RAS <-> LPS (own inverse); one home: io/geometry.py


def check_ijk_to_ras(ijk_to_ras, what="ijk_to_ras"):
    matrix = np.asarray(ijk_to_ras, dtype=float)
    if matrix.shape != (4, 4) or not np.isfinite(matrix).all():
        raise InputError(f"{what}: expected a finite 4x4 matrix, got shape {matrix.shape}")
    if abs(np.linalg.det(matrix[:3, :3])) < 1e-12:
        raise InputError(f"{what}: the 3x3 part is singular (zero voxel size?)")
    return matrix


def to_sitk(array, ijk_to_ras, what="image"):
    """SimpleITK float32 image of a [k, j, i] array placed by its IJK-to-RAS matrix (NaN kept)."""
    array = np.asarray(array)
    if array.ndim != 3:
        raise InputError(f"{what}: expected a 3D array (slices, rows, columns), got shape {array.shape}")
    matrix = check_ijk_to_ras(ijk_to_ras, f"{what} ijk_to_ras")
    image = sitk.GetImageFromArray(array.astype(np.float32, copy=False))
    ijk_to_lps = LPS_FLIP @ matrix
    spacing = np.linalg.norm(ijk_to_lps[:3, :3], axis=0)
    image.SetSpacing(tuple(float(s) for s in spacing))
    image.SetDirection(tuple(float(d) for d in (ijk_to_lps[:3, :3] / spacing).ravel()))
    image.SetOrigin(tuple(float(o) for o in ijk_to_lps[:3, 3]))
    return image


def reference_image(shape, ijk_to_ras):
    """An empty image that only carries a grid (for resampling onto it)."""
    return to_sitk(np.zeros(tuple(int(n) for n in shape), np.float32), ijk_to_ras, "reference")


def ijk_to_ras_of(image):
    """The 4x4 IJK-to-RAS matrix of a SimpleITK image (inverse of :func:`to_sitk`)."""
    return ijk_to_ras_from_sitk(image)


def linear_to_ras(transform):
    """4x4 RAS matrix of a SimpleITK linear transform (same direction: fixed point -> moving point).

    ITK: y = M (x - c) + c + t, so the LPS matrix is [M, t + c - M c]; RAS is F A F.
    """
    transform = downcast(transform)
    matrix = np.eye(4)
    m = np.array(transform.GetMatrix()).reshape(3, 3)
    center = np.array(transform.GetCenter())
    matrix[:3, :3] = m
    matrix[:3, 3] = np.array(transform.GetTranslation()) + center - m @ center
    return LPS_FLIP @ matrix @ LPS_FLIP


def ras_to_linear(matrix_ras):
    """SimpleITK AffineTransform of a 4x4 RAS matrix (same direction of mapping)."""
    lps = LPS_FLIP @ np.asarray(matrix_ras, dtype=float) @ LPS_FLIP
    transform = sitk.AffineTransform(3)
    transform.SetMatrix(tuple(float(v) for v in lps[:3, :3].ravel()))
    transform.SetTranslation(tuple(float(v) for v in lps[:3, 3]))
    return transform


def downcast(transform):
    return transform.Downcast() if hasattr(transform, "Downcast") else transform


def is_linear(transform):
    transform = downcast(transform)
    if isinstance(transform, sitk.CompositeTransform):
        return all(is_linear(transform.GetNthTransform(n)) for n in range(transform.GetNumberOfTransforms()))
    return hasattr(transform, "GetMatrix")


def displacement_field_ras(transform, shape, ijk_to_ras):
    """Displacement T(x) - x of a (fixed -> moving) transform at every voxel centre of a grid, in RAS mm.

    Returned as float32 (slices, rows, columns, 3) with components (R, A, S): the field that a
    Slicer grid transform holds as "transform from parent" (baseline/world -> follow-up).
    """
    reference = reference_image(shape, ijk_to_ras)
    field = sitk.TransformToDisplacementField(downcast(transform), sitk.sitkVectorFloat64, reference.GetSize(),
                                              reference.GetOrigin(), reference.GetSpacing(),
                                              reference.GetDirection())
    lps = sitk.GetArrayFromImage(field)                          # (k, j, i, 3), LPS components
    return (lps * np.array([-1.0, -1.0, 1.0])).astype(np.float32)


def inverse_transform(transform, shape, ijk_to_ras):
    """Inverse of a registration transform: exact for linear ones, by fixed-point inversion of the
    displacement field sampled on the given grid otherwise (B-spline)."""
    transform = downcast(transform)
    if is_linear(transform):
        if isinstance(transform, sitk.CompositeTransform):
            transform = ras_to_linear(composite_linear_ras(transform))
        return transform.GetInverse()
    reference = reference_image(shape, ijk_to_ras)
    field = sitk.TransformToDisplacementField(transform, sitk.sitkVectorFloat64, reference.GetSize(),
                                              reference.GetOrigin(), reference.GetSpacing(),
                                              reference.GetDirection())
    inverse = sitk.InvertDisplacementField(field, maximumNumberOfIterations=50, maxErrorToleranceThreshold=0.01,
                                           meanErrorToleranceThreshold=0.001, enforceBoundaryCondition=True)
    return sitk.DisplacementFieldTransform(inverse)


def composite_linear_ras(transform):
    """RAS 4x4 of a composite of linear transforms (ITK applies the last added first)."""
    transform = downcast(transform)
    if not isinstance(transform, sitk.CompositeTransform):
        return linear_to_ras(transform)
    total = np.eye(4)
    for n in range(transform.GetNumberOfTransforms()):
        total = total @ composite_linear_ras(transform.GetNthTransform(n))
    return total
