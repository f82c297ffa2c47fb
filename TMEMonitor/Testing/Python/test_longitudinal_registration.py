"""Registration to baseline: known rigid motion recovered (0.5 mm / 0.5 deg), B-spline beats
rigid on a smooth warp, conventions of the returned matrices, determinism, quality warnings."""
import unittest

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.longitudinal import registration

SHAPE = (12, 48, 48)
SPACING = np.array([1.5, 1.5, 3.0])
IJK_TO_RAS = np.diag([*SPACING, 1.0])
IJK_TO_RAS[:3, 3] = -0.5 * (np.array(SHAPE[::-1]) - 1) * SPACING
# Ellipsoids (centre R, A, S; semi-axes; amplitude), soft-edged; asymmetric so rotation is defined.
BLOBS = [(0, 0, 0, 28, 20, 30, 1.0), (10, -5, 0, 8, 6, 10, 1.0), (-12, 8, 3, 5, 7, 6, -0.6), (6, 11, -4, 4, 3, 5, 0.8)]


def rigid_ras(angle_deg, translation_mm):
    a = np.deg2rad(angle_deg)
    matrix = np.eye(4)
    matrix[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    matrix[:3, 3] = translation_mm
    return matrix


def voxel_ras():
    k, j, i = np.meshgrid(*[np.arange(n, dtype=float) for n in SHAPE], indexing="ij")
    return (np.stack([i, j, k, np.ones_like(i)], -1) @ IJK_TO_RAS.T)[..., :3]


def scene(points):
    """Image of the blob scene at body-frame points (..., 3)."""
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    image = np.zeros(points.shape[:-1])
    for cx, cy, cz, sx, sy, sz, amplitude in BLOBS:
        r2 = ((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2 + ((z - cz) / sz) ** 2
        image += amplitude * np.exp(-4.0 * np.maximum(r2 - 1.0, 0.0))
    return image.astype(np.float32)


def moved_image(fixed_to_moving):
    """Follow-up image whose anatomy at fixed_to_moving(x) is the baseline anatomy at x."""
    ras = voxel_ras()
    body = np.concatenate([ras, np.ones(SHAPE + (1,))], -1) @ np.linalg.inv(fixed_to_moving).T
    return scene(body[..., :3])


class RigidTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.truth = rigid_ras(2.0, [3.0, -1.5, 1.0])          # 2 deg about S, 3.5 mm shift
        cls.fixed = scene(voxel_ras())
        cls.moving = moved_image(cls.truth)
        cls.result = registration.register(cls.fixed, IJK_TO_RAS, cls.moving, IJK_TO_RAS, method="rigid", threads=1)

    def test_recovers_rotation_and_translation(self):
        found = self.result.fixed_to_moving_ras
        rotation = found[:3, :3].T @ self.truth[:3, :3]
        angle_error = np.degrees(np.arccos(np.clip((np.trace(rotation) - 1) / 2, -1, 1)))
        self.assertLess(angle_error, 0.5)
        ras = voxel_ras()[self.fixed > 0.3]
        points = np.column_stack([ras, np.ones(len(ras))])
        error = np.linalg.norm((points @ found.T - points @ self.truth.T)[:, :3], axis=1)
        self.assertLess(error.max(), 0.5)
        self.assertEqual(self.result.warning, "")
        self.assertGreater(self.result.quality.nmi_after, self.result.quality.nmi_before)

    def test_to_parent_matrix_moves_moving_onto_fixed(self):
        np.testing.assert_allclose(self.result.matrix_to_parent_ras @ self.result.fixed_to_moving_ras, np.eye(4),
                                   atol=1e-9)
        # A follow-up point p is shown at matrix_to_parent @ p: the true baseline point.
        p = np.array([10.0, -5.0, 0.0, 1.0])
        np.testing.assert_allclose(self.result.matrix_to_parent_ras @ p, np.linalg.inv(self.truth) @ p, atol=0.5)
        # Resampling with the 4x4 ("to parent" convention) equals resampling with the ITK transform.
        by_matrix = registration.resample_to_reference(self.moving, IJK_TO_RAS, SHAPE, IJK_TO_RAS,
                                                       self.result.matrix_to_parent_ras)
        by_transform = registration.resample_to_reference(self.moving, IJK_TO_RAS, SHAPE, IJK_TO_RAS, self.result)
        np.testing.assert_allclose(by_matrix, by_transform, atol=1e-4, equal_nan=True)
        body = self.fixed > 0.3
        self.assertLess(np.nanmean(np.abs(by_transform - self.fixed)[body]), 0.02)

    def test_deterministic(self):
        again = registration.register(self.fixed, IJK_TO_RAS, self.moving, IJK_TO_RAS, method="rigid", threads=1)
        np.testing.assert_allclose(again.fixed_to_moving_ras, self.result.fixed_to_moving_ras, rtol=0, atol=1e-9)

    def test_dice_warning_for_masks_that_do_not_overlap(self):
        baseline_mask = np.zeros(SHAPE, bool)
        baseline_mask[4:8, 10:20, 10:20] = True
        follow_mask = np.zeros(SHAPE, bool)
        follow_mask[4:8, 30:40, 30:40] = True
        result = registration.register(self.fixed, IJK_TO_RAS, self.moving, IJK_TO_RAS, method="rigid",
                                       fixed_mask=baseline_mask, moving_mask=follow_mask, threads=1)
        self.assertLess(result.quality.dice, 0.1)
        self.assertTrue(result.quality.poor)
        self.assertIn("Dice", result.warning)


class DeformableTest(unittest.TestCase):
    def test_bspline_reduces_the_error_of_rigid_on_a_smooth_warp(self):
        def warp(p):                                           # smooth in-plane displacement, up to 3 mm
            return np.stack([3.0 * np.sin(np.pi * (p[..., 1] + 36) / 72.0),
                             2.0 * np.cos(np.pi * (p[..., 0] + 36) / 72.0), 0 * p[..., 0]], -1)
        ras = voxel_ras()
        fixed, moving = scene(ras), scene(ras - warp(ras))   # follow-up point y shows baseline y - warp(y)
        body = fixed > 0.3
        errors = {}
        for method in ("rigid", "bspline"):
            result = registration.register(fixed, IJK_TO_RAS, moving, IJK_TO_RAS, method=method, threads=1)
            if method == "rigid":
                displacement = (np.concatenate([ras, np.ones(SHAPE + (1,))], -1)
                                @ result.fixed_to_moving_ras.T)[..., :3] - ras
            else:
                displacement = result.displacement_ras
                self.assertEqual(displacement.shape, SHAPE + (3,))
            y = ras + displacement                             # where baseline x is found at follow-up
            errors[method] = float(np.median(np.linalg.norm(y - warp(y) - ras, axis=-1)[body]))
        self.assertLess(errors["bspline"], 0.6 * errors["rigid"])
        self.assertLess(errors["bspline"], 1.0)


class PhantomTest(unittest.TestCase):
    def test_rigid_recovers_phantom_misalignment(self):
        from TMEMonitorLib.phantom import make_patient
        patient = make_patient(shape=(8, 64, 64), seed=3)
        baseline, moved = patient.visits[0], patient.visits[1]
        fixed = baseline.truth["S0_dwi"] * (1 + 0.3 * (baseline.labels == 2))
        moving = moved.truth["S0_dwi"] * (1 + 0.3 * (moved.labels == 2))
        result = registration.register(fixed, baseline.ijk_to_ras, moving, moved.ijk_to_ras, method="rigid",
                                       fixed_mask=baseline.tumour_mask, moving_mask=moved.tumour_mask, threads=1)
        k, j, i = np.nonzero(baseline.labels > 0)
        points = np.stack([i, j, k, np.ones_like(i)]).T @ baseline.ijk_to_ras.T
        error = np.linalg.norm((points @ result.fixed_to_moving_ras.T - points @ moved.misalignment.T)[:, :3], axis=1)
        self.assertLess(np.median(error), 0.7)
        self.assertGreater(result.quality.dice, 0.7)


class QualityTest(unittest.TestCase):
    def test_similarity_measures_and_warnings(self):
        from TMEMonitorLib.longitudinal import registration_quality as rq
        image = scene(voxel_ras())
        self.assertAlmostEqual(rq.normalised_mutual_information(image, image), 2.0, places=6)
        self.assertAlmostEqual(rq.normalised_mutual_information(image, 3 * image + 1), 2.0, places=6)
        self.assertAlmostEqual(rq.correlation(image, -image), -1.0)
        shifted = np.roll(image, 6, axis=2)
        good = rq.assess(image, shifted, image)
        self.assertEqual(good.warnings, [])
        worse = rq.assess(image, image, shifted)          # registration moved an aligned image away
        self.assertTrue(any("did not improve" in w for w in worse.warnings))
        self.assertEqual(rq.dice(np.ones(4, bool), np.r_[True, True, False, False]), 2 * 2 / 6)
        self.assertTrue(np.isnan(rq.dice(np.zeros(3, bool), np.zeros(3, bool))))


class InputTest(unittest.TestCase):
    def test_bad_inputs(self):
        with self.assertRaises(InputError):
            registration.register(np.ones((2, 4, 4)), np.eye(4), np.ones((2, 4, 4)), np.eye(4), method="magic")
        with self.assertRaises(InputError):
            registration.register(np.ones((4, 8, 8)), np.eye(4), np.ones((4, 8, 8)), np.eye(4))   # constant
        with self.assertRaises(InputError):
            registration.resample_to_reference(np.ones((2, 4, 4)), np.eye(3), (2, 4, 4), np.eye(4))
        with self.assertRaises(InputError):
            registration.resample_to_reference(np.ones((2, 4, 4)), np.eye(4), (2, 4, 4), np.eye(4),
                                               interpolation="cubic")


if __name__ == "__main__":
    unittest.main()
