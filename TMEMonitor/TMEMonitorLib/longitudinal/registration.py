"""Registration of a follow-up visit to baseline with SimpleITK (rigid, affine, B-spline).

Mattes mutual information (works across contrasts), initialised from the image geometry,
three resolution levels, a fixed random seed for the metric sampling (deterministic).
ITK works in LPS; the 4x4 matrices returned here are RAS. ``fixed_to_moving_ras`` maps a
point of the baseline (fixed) image to the same anatomy in the follow-up (moving) image:
it is what Slicer's transform node holds as "transform from parent" when the follow-up is
placed under it to be shown aligned on baseline.
"""
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from ..errors import InputError

LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
METHODS = ("rigid", "affine", "bspline")


def to_sitk(array, ijk_to_ras):
    image = sitk.GetImageFromArray(np.asarray(array, dtype=np.float32))
    ijk_to_lps = LPS @ np.asarray(ijk_to_ras, dtype=float)
    spacing = np.linalg.norm(ijk_to_lps[:3, :3], axis=0)
    image.SetSpacing(tuple(spacing))
    image.SetDirection(tuple((ijk_to_lps[:3, :3] / spacing).ravel()))
    image.SetOrigin(tuple(ijk_to_lps[:3, 3]))
    return image


def linear_transform_to_ras(transform):
    """4x4 RAS matrix of a SimpleITK linear transform (fixed point -> moving point)."""
    matrix_lps = np.eye(4)
    matrix_lps[:3, :3] = np.array(transform.GetMatrix()).reshape(3, 3)
    center = np.array(transform.GetCenter())
    matrix_lps[:3, 3] = np.array(transform.GetTranslation()) + center - matrix_lps[:3, :3] @ center
    return LPS @ matrix_lps @ LPS


@dataclass
class RegistrationResult:
    method: str
    transform: object                   # SimpleITK transform, fixed (LPS) -> moving (LPS)
    fixed_to_moving_ras: np.ndarray     # 4x4 for the linear part (the whole transform when not B-spline)
    similarity_before: float            # correlation of the images inside the fixed body, before
    similarity_after: float             # ... and after registration
    metric_value: float
    warning: str = ""

    def summary(self):
        text = (f"{self.method}: correlation {self.similarity_before:.3f} -> {self.similarity_after:.3f}")
        return text + (f" (warning: {self.warning})" if self.warning else "")


def _correlation(a, b, mask):
    a, b = a[mask], b[mask]
    good = np.isfinite(a) & np.isfinite(b)
    if good.sum() < 10:
        return float("nan")
    return float(np.corrcoef(a[good], b[good])[0, 1])


def register(fixed_array, fixed_ijk_to_ras, moving_array, moving_ijk_to_ras, method="rigid", seed=1,
             iterations=200):
    if method not in METHODS:
        raise InputError(f"registration method '{method}' is not one of {', '.join(METHODS)}")
    fixed = to_sitk(fixed_array, fixed_ijk_to_ras)
    moving = to_sitk(moving_array, moving_ijk_to_ras)
    initial = sitk.CenteredTransformInitializer(fixed, moving, sitk.Euler3DTransform() if method == "rigid"
                                                else sitk.AffineTransform(3),
                                                sitk.CenteredTransformInitializerFilter.GEOMETRY)
    linear = _run(fixed, moving, initial, seed, iterations, bspline=False)
    transform = linear
    if method == "bspline":
        mesh = [max(2, s // 16) for s in fixed.GetSize()]
        bspline = sitk.BSplineTransformInitializer(fixed, mesh)
        composite = sitk.CompositeTransform([linear, bspline])
        transform = _run(fixed, moving, composite, seed, iterations, bspline=True)
    body = np.asarray(fixed_array) > 0.1 * np.percentile(fixed_array, 99)
    before = resample(moving_array, moving_ijk_to_ras, np.shape(fixed_array), fixed_ijk_to_ras, None)
    after = resample(moving_array, moving_ijk_to_ras, np.shape(fixed_array), fixed_ijk_to_ras, transform)
    similarity_before = _correlation(np.asarray(fixed_array, float), before, body)
    similarity_after = _correlation(np.asarray(fixed_array, float), after, body)
    warning = ""
    if not np.isfinite(similarity_after) or similarity_after < 0.7:
        warning = "poor similarity after registration; check the visit"
    elif similarity_after + 0.01 < similarity_before:
        warning = "registration made the images less similar"
    return RegistrationResult(method=method, transform=transform,
                              fixed_to_moving_ras=linear_transform_to_ras(_linear_of(linear)),
                              similarity_before=similarity_before, similarity_after=similarity_after,
                              metric_value=float("nan"), warning=warning)


def _linear_of(transform):
    """The linear (first) part of a registration result, as its concrete transform class."""
    transform = transform.Downcast() if hasattr(transform, "Downcast") else transform
    while isinstance(transform, sitk.CompositeTransform):
        transform = transform.GetNthTransform(0).Downcast()
    return transform


def _run(fixed, moving, initial, seed, iterations, bspline):
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=32)
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(0.3, seed)
    method.SetInterpolator(sitk.sitkLinear)
    if bspline:
        method.SetOptimizerAsLBFGSB(gradientConvergenceTolerance=1e-5, numberOfIterations=60)
        method.SetShrinkFactorsPerLevel([2, 1])
        method.SetSmoothingSigmasPerLevel([1, 0])
    else:
        method.SetOptimizerAsRegularStepGradientDescent(learningRate=2.0, minStep=1e-4,
                                                        numberOfIterations=iterations, relaxationFactor=0.6)
        method.SetOptimizerScalesFromPhysicalShift()
        method.SetShrinkFactorsPerLevel([4, 2, 1])
        method.SetSmoothingSigmasPerLevel([2, 1, 0])
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    method.SetInitialTransform(initial, inPlace=False)
    result = method.Execute(fixed, moving)
    result = result.Downcast() if hasattr(result, "Downcast") else result
    if not bspline:
        result = _linear_of(result)
    return result


def resample(moving_array, moving_ijk_to_ras, reference_shape, reference_ijk_to_ras, transform,
             interpolation="linear", default=np.nan):
    """``moving_array`` on the reference grid through ``transform`` (fixed -> moving; None: identity)."""
    moving = to_sitk(moving_array, moving_ijk_to_ras)
    reference = to_sitk(np.zeros(reference_shape, np.float32), reference_ijk_to_ras)
    interpolator = sitk.sitkNearestNeighbor if interpolation == "nearest" else sitk.sitkLinear
    out = sitk.Resample(moving, reference, transform or sitk.Transform(), interpolator, float(default))
    return sitk.GetArrayFromImage(out)


def dice(a, b):
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    total = a.sum() + b.sum()
    return float(2 * np.logical_and(a, b).sum() / total) if total else float("nan")
