"""Registration of a follow-up visit (moving) to baseline (fixed) with SimpleITK.

Methods: ``rigid`` (Euler3D), ``affine`` (12 parameters), ``bspline`` (a rigid stage, then a
B-spline free-form deformation on top of it). All use Mattes mutual information by default
(robust to the contrast differing between visits; Mattes et al., IEEE TMI 2003,
doi:10.1109/TMI.2002.803111; ``metric="correlation"`` when the contrast is the same at every
visit), run coarse to fine (shrink 4/2/1, smoothing 2/1/0 voxels) with optimizer scales from
physical shifts, and start from the image centres (``CenteredTransformInitializer`` GEOMETRY
mode) or, with ``initializer="moments"``, from the centres of mass (computed in numpy, so
that it stays deterministic).

``affine`` starts from the centres of mass, runs a rigid stage, then the 12 parameters. Both
stages sample the metric only in the fixed image's foreground (above 5 % of its maximum,
dilated 3 voxels), so that empty background does not flatten it; the rigid stage samples half
of it, the affine stage all of it (up to 250 000 voxels: a noise-free metric lets the 12
parameters settle), with a finer joint histogram (``affine_histogram_bins``, 128). On smooth
images a coarse histogram leaves Mattes MI nearly flat along scale and its optimum drifts by
several percent (32 bins: a 5 % scale came out as -5 %).

Deterministic: metric sampling is RANDOM with a fixed seed (or every voxel) and the thread
count can be pinned (``threads``) because the metric's reduction order depends on it.

Conventions (points in RAS mm):
- ``result.transform`` (SimpleITK, LPS) maps a FIXED (baseline) point to the MOVING
  (follow-up) point of the same anatomy: what resampling the follow-up onto baseline needs.
- ``result.fixed_to_moving_ras`` is its 4x4 (linear part for B-spline): Slicer's
  "transform FROM parent".
- ``result.matrix_to_parent_ras`` = inverse = moving -> fixed: set it with
  ``vtkMRMLLinearTransformNode.SetMatrixTransformToParent`` and put the follow-up volume
  under that node; the follow-up is then shown aligned on baseline.
- ``result.displacement_ras`` (B-spline only): T(x) - x at every baseline voxel centre,
  float32 (slices, rows, columns, 3) with (R, A, S) components in mm: a grid transform's
  "from parent" displacement, composed with the linear stage.
"""
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from ..errors import InputError
from ..progress import report
from . import itk_geometry
from .itk_geometry import downcast, to_sitk
from .registration_quality import RegistrationQuality, assess, dice  # noqa: F401  (dice: used by callers)

METHODS = ("rigid", "affine", "bspline")
INTERPOLATORS = {"linear": sitk.sitkLinear, "nearest": sitk.sitkNearestNeighbor, "bspline": sitk.sitkBSpline}


@dataclass
class RegistrationResult:
    method: str
    transform: object                    # SimpleITK transform, fixed (LPS) -> moving (LPS), whole
    fixed_to_moving_ras: np.ndarray      # 4x4 RAS, linear part (Slicer: transform FROM parent)
    matrix_to_parent_ras: np.ndarray     # 4x4 RAS, moving -> fixed (Slicer: transform TO parent)
    displacement_ras: object             # B-spline: (k, j, i, 3) RAS mm on the fixed grid; else None
    quality: RegistrationQuality
    metric_value: float                  # final Mattes MI value (negative: lower is better)
    stop_condition: str

    @property
    def warning(self):
        return "; ".join(self.quality.warnings)

    @property
    def similarity_before(self):
        return self.quality.correlation_before

    @property
    def similarity_after(self):
        return self.quality.correlation_after

    def summary(self):
        q = self.quality
        text = (f"{self.method}: NMI {q.nmi_before:.3f} -> {q.nmi_after:.3f}, correlation "
                f"{q.correlation_before:.3f} -> {q.correlation_after:.3f}")
        if np.isfinite(q.dice):
            text += f", tumour Dice {q.dice:.2f}"
        return text + (f" (warning: {self.warning})" if self.warning else "")

    def as_dict(self):
        return {"method": self.method, "fixed_to_moving_ras": self.fixed_to_moving_ras.tolist(),
                "matrix_to_parent_ras": self.matrix_to_parent_ras.tolist(), "metric_value": self.metric_value,
                "stop_condition": self.stop_condition, "quality": self.quality.as_dict()}


METRICS = ("mattes", "correlation")
INITIALIZERS = ("geometry", "moments")
AFFINE_FULL_SAMPLING_VOXELS = 250_000        # affine stage: all foreground voxels up to this many


def _method(seed, sampling_percentage, histogram_bins, threads, metric="mattes", mask=None):
    method = sitk.ImageRegistrationMethod()
    if metric == "correlation":
        method.SetMetricAsCorrelation()
    else:
        method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=int(histogram_bins))
    if mask is not None:
        method.SetMetricFixedMask(mask)
    if sampling_percentage >= 1.0:             # every voxel (of the mask): a smooth, noise-free metric
        method.SetMetricSamplingStrategy(method.NONE)
    else:
        method.SetMetricSamplingStrategy(method.RANDOM)
        method.SetMetricSamplingPercentage(float(sampling_percentage), int(seed))
    method.SetInterpolator(sitk.sitkLinear)
    if threads:
        method.SetNumberOfThreads(int(threads))
    return method


def _levels(image, shrink_factors, smoothing_sigmas):
    """Drop coarse levels that would leave fewer than 2 voxels along an axis."""
    smallest = min(image.GetSize())
    pairs = [(f, s) for f, s in zip(shrink_factors, smoothing_sigmas) if smallest // f >= 2] or [(1, 0)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _foreground_mask(fixed_array, fixed):
    """Metric mask: the fixed image above 5 % of its robust maximum, dilated 3 voxels; None when
    that is (nearly) the whole image or too small to register on."""
    from scipy import ndimage
    top = float(np.percentile(fixed_array, 99.9))
    if top <= 0:
        return None
    body = ndimage.binary_dilation(fixed_array > 0.05 * top, iterations=3)
    if body.mean() > 0.9 or body.sum() < 64:
        return None
    mask = sitk.GetImageFromArray(body.astype(np.uint8))
    mask.CopyInformation(fixed)
    return mask


def _centre_of_mass_lps(array, image):
    """Intensity-weighted centre (LPS mm) of the non-negative part of an image."""
    weights = np.clip(array, 0, None).astype(np.float64)
    total = weights.sum()
    if total <= 0:
        index = (np.array(array.shape[::-1]) - 1) / 2.0
    else:
        index = np.array([(weights.sum(axis=tuple(a for a in range(3) if a != axis)) * np.arange(n)).sum() / total
                          for axis, n in enumerate(array.shape)])[::-1]         # (i, j, k)
    return np.array(image.TransformContinuousIndexToPhysicalPoint(tuple(float(v) for v in index)))


def _linear_stage(fixed, moving, kind, options, start=None):
    if start is None and options["initializer"] == "moments":
        initial = sitk.Euler3DTransform() if kind == "rigid" else sitk.AffineTransform(3)
        fixed_centre, moving_centre = options["centres"]
        initial.SetCenter(tuple(float(v) for v in fixed_centre))
        initial.SetTranslation(tuple(float(v) for v in moving_centre - fixed_centre))
    elif start is None:
        initial = sitk.CenteredTransformInitializer(
            fixed, moving, sitk.Euler3DTransform() if kind == "rigid" else sitk.AffineTransform(3),
            sitk.CenteredTransformInitializerFilter.GEOMETRY)
    else:                                      # affine refinement of a rigid result, same centre
        initial = sitk.AffineTransform(3)
        initial.SetCenter(start.GetCenter())
        initial.SetMatrix(start.GetMatrix())
        initial.SetTranslation(start.GetTranslation())
    affine = kind == "affine"
    method = _method(options["seed"], options["affine_sampling"] if affine else options["sampling_percentage"],
                     options["affine_histogram_bins"] if affine else options["histogram_bins"], options["threads"],
                     options["metric"], options["mask"])
    method.SetOptimizerAsRegularStepGradientDescent(learningRate=1.0, minStep=1e-5,
                                                    numberOfIterations=int(options["iterations"]),
                                                    relaxationFactor=0.6, gradientMagnitudeTolerance=1e-6)
    method.SetOptimizerScalesFromPhysicalShift()
    shrink, sigmas = _levels(fixed, options["shrink_factors"], options["smoothing_sigmas_voxels"])
    method.SetShrinkFactorsPerLevel(shrink)
    method.SetSmoothingSigmasPerLevel(sigmas)
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    method.SetInitialTransform(initial, inPlace=False)
    result = downcast(method.Execute(fixed, moving))
    while isinstance(result, sitk.CompositeTransform) and result.GetNumberOfTransforms() == 1:
        result = downcast(result.GetNthTransform(0))
    return result, method


def _bspline_stage(fixed, moving, linear, options):
    extent_mm = np.array(fixed.GetSize()) * np.array(fixed.GetSpacing())
    mesh = [max(1, int(round(e / options["bspline_grid_spacing_mm"]))) for e in extent_mm]
    bspline = sitk.BSplineTransformInitializer(fixed, mesh, order=3)
    method = _method(options["seed"], options["sampling_percentage"], options["histogram_bins"], options["threads"])
    # Limited-memory BFGS (ITK LBFGS2, libLBFGS) proved steadier here than LBFGSB, whose line
    # search often stops early on the sampled Mattes metric.
    method.SetOptimizerAsLBFGS2(solutionAccuracy=1e-4, numberOfIterations=int(options["bspline_iterations"]),
                                hessianApproximateAccuracy=5, deltaConvergenceDistance=0,
                                deltaConvergenceTolerance=1e-5, lineSearchMaximumEvaluations=40)
    shrink, sigmas = _levels(fixed, (2, 1), (1, 0))
    method.SetShrinkFactorsPerLevel(shrink)
    method.SetSmoothingSigmasPerLevel(sigmas)
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    # The linear stage stays fixed; only the B-spline is optimised, in the baseline frame.
    method.SetMovingInitialTransform(linear)
    method.SetInitialTransform(bspline, inPlace=True)
    method.Execute(fixed, moving)
    # ITK composites apply the last added first: x -> linear(bspline(x)).
    return sitk.CompositeTransform([linear, bspline]), method


def register(fixed_array, fixed_ijk_to_ras, moving_array, moving_ijk_to_ras, method="rigid", fixed_mask=None,
             moving_mask=None, seed=1, iterations=200, bspline_iterations=50, sampling_percentage=0.25,
             histogram_bins=32, shrink_factors=(4, 2, 1), smoothing_sigmas_voxels=(2, 1, 0),
             bspline_grid_spacing_mm=50.0, threads=None, progress=None, metric="mattes", initializer="moments",
             affine_histogram_bins=128, affine_iterations=500, foreground_mask=True):
    """Register ``moving`` (follow-up) to ``fixed`` (baseline); returns a :class:`RegistrationResult`.

    Arrays are [k, j, i] with their 4x4 IJK-to-RAS matrices. NaN voxels are registered as 0.
    With both tumour masks (``fixed_mask`` on baseline, ``moving_mask`` on follow-up) the
    quality includes the Dice of the propagated follow-up mask against the baseline mask.
    """
    if method not in METHODS:
        raise InputError(f"registration method '{method}' is not one of {', '.join(METHODS)}")
    if metric not in METRICS:
        raise InputError(f"registration metric '{metric}' is not one of {', '.join(METRICS)}")
    initializer = initializer or ("moments" if method == "affine" else "geometry")
    if initializer not in INITIALIZERS:
        raise InputError(f"registration initializer '{initializer}' is not one of {', '.join(INITIALIZERS)}")
    fixed_array = np.nan_to_num(np.asarray(fixed_array, dtype=np.float32))
    moving_array = np.nan_to_num(np.asarray(moving_array, dtype=np.float32))
    fixed = to_sitk(fixed_array, fixed_ijk_to_ras, "fixed image")
    moving = to_sitk(moving_array, moving_ijk_to_ras, "moving image")
    for name, image in (("fixed image", fixed_array), ("moving image", moving_array)):
        if np.ptp(image) == 0:
            raise InputError(f"{name}: constant image, nothing to register")
    options = {"seed": seed, "iterations": iterations, "bspline_iterations": bspline_iterations,
               "sampling_percentage": sampling_percentage, "histogram_bins": histogram_bins,
               "shrink_factors": shrink_factors, "smoothing_sigmas_voxels": smoothing_sigmas_voxels,
               "bspline_grid_spacing_mm": bspline_grid_spacing_mm, "threads": threads, "metric": metric,
               "initializer": initializer, "affine_histogram_bins": affine_histogram_bins,
               "mask": _foreground_mask(fixed_array, fixed) if foreground_mask and method == "affine" else None,
               "affine_sampling": max(sampling_percentage, 0.5),
               "centres": (_centre_of_mass_lps(fixed_array, fixed), _centre_of_mass_lps(moving_array, moving))}
    if method == "affine":
        # Every foreground voxel when that is affordable: a noise-free metric lets the 12 parameters settle.
        mask = options["mask"]
        sampled = fixed_array.size if mask is None else int(sitk.GetArrayViewFromImage(mask).sum())
        if sampled <= AFFINE_FULL_SAMPLING_VOXELS:
            options["affine_sampling"] = 1.0
    report(progress, 0.0, f"{method} registration: linear stage")
    if method == "affine":                     # foreground-sampled, finer histogram (see the module notes)
        rigid_options = dict(options, histogram_bins=affine_histogram_bins,
                             sampling_percentage=max(sampling_percentage, 0.5))
    else:
        rigid_options = options
    linear, runner = _linear_stage(fixed, moving, "rigid", rigid_options)
    if method == "affine":                     # rigid first: the 12-parameter search starts near the answer
        linear, runner = _linear_stage(fixed, moving, "affine", dict(options, iterations=affine_iterations),
                                       start=linear)
    transform = linear
    displacement = None
    if method == "bspline":
        report(progress, 0.5, "B-spline stage")
        transform, runner = _bspline_stage(fixed, moving, linear, options)
        displacement = itk_geometry.displacement_field_ras(transform, fixed_array.shape, fixed_ijk_to_ras)
    report(progress, 0.9, "registration quality")
    fixed_to_moving = itk_geometry.linear_to_ras(linear)
    shape = fixed_array.shape
    before = resample_to_reference(moving_array, moving_ijk_to_ras, shape, fixed_ijk_to_ras, None)
    after = resample_to_reference(moving_array, moving_ijk_to_ras, shape, fixed_ijk_to_ras, transform)
    body = fixed_array > 0.1 * np.percentile(fixed_array, 99)
    propagated = None
    if fixed_mask is not None and moving_mask is not None:
        propagated = resample_mask(moving_mask, moving_ijk_to_ras, shape, fixed_ijk_to_ras, transform)
    quality = assess(fixed_array, before, after, body, fixed_mask, propagated)
    report(progress, 1.0, "registration done")
    return RegistrationResult(method=method, transform=transform, fixed_to_moving_ras=fixed_to_moving,
                              matrix_to_parent_ras=np.linalg.inv(fixed_to_moving), displacement_ras=displacement,
                              quality=quality, metric_value=float(runner.GetMetricValue()),
                              stop_condition=runner.GetOptimizerStopConditionDescription())


def _as_sitk_transform(transform):
    """None (identity), a RegistrationResult, a SimpleITK transform (fixed -> moving), or a 4x4 RAS
    matrix in the Slicer "to parent" sense (moving -> fixed), like ``matrix_to_parent_ras``."""
    if transform is None:
        return sitk.Transform(3, sitk.sitkIdentity)
    if isinstance(transform, RegistrationResult):
        return transform.transform
    if isinstance(transform, np.ndarray) or isinstance(transform, (list, tuple)):
        matrix = np.asarray(transform, dtype=float)
        if matrix.shape != (4, 4):
            raise InputError(f"transform: expected a 4x4 matrix, got shape {matrix.shape}")
        return itk_geometry.ras_to_linear(np.linalg.inv(matrix))
    return transform


def resample_to_reference(moving_array, moving_ijk_to_ras, reference_shape, reference_ijk_to_ras, transform=None,
                          interpolation="linear", default=np.nan):
    """``moving_array`` sampled on the reference grid through ``transform`` (see :func:`_as_sitk_transform`).

    ``interpolation``: "linear", "nearest" (labels) or "bspline". Voxels that map outside the
    moving image get ``default`` (NaN: missing, never zero).
    """
    if interpolation not in INTERPOLATORS:
        raise InputError(f"interpolation '{interpolation}' is not one of {', '.join(INTERPOLATORS)}")
    moving = to_sitk(moving_array, moving_ijk_to_ras, "moving image")
    reference = itk_geometry.reference_image(reference_shape, reference_ijk_to_ras)
    out = sitk.Resample(moving, reference, _as_sitk_transform(transform), INTERPOLATORS[interpolation],
                        float(default), sitk.sitkFloat32)
    return sitk.GetArrayFromImage(out)


def resample_mask(mask, mask_ijk_to_ras, reference_shape, reference_ijk_to_ras, transform=None):
    """A mask on the reference grid: the mask is interpolated linearly and kept where >= 0.5,
    which follows the boundary more smoothly than nearest-neighbour."""
    values = resample_to_reference(np.asarray(mask, np.float32), mask_ijk_to_ras, reference_shape,
                                   reference_ijk_to_ras, transform, "linear", default=0.0)
    return values >= 0.5


# Name kept for callers written against the first version of this module.
resample = resample_to_reference
