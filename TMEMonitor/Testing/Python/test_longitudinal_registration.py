"""Registration recovers a known rigid motion of the phantom, and B-spline improves on rigid for a warp."""
import unittest

import numpy as np
from scipy import ndimage

from TMEMonitorLib.longitudinal import registration
from TMEMonitorLib.phantom import make_patient


class RegistrationTest(unittest.TestCase):
    def test_rigid_recovers_phantom_misalignment(self):
        patient = make_patient(shape=(8, 64, 64), seed=3)
        baseline, moved = patient.visits[0], patient.visits[1]
        fixed = baseline.truth["S0_dwi"] * (1 + 0.3 * (baseline.labels == 2))
        moving = moved.truth["S0_dwi"] * (1 + 0.3 * (moved.labels == 2))
        result = registration.register(fixed, baseline.ijk_to_ras, moving, moved.ijk_to_ras, method="rigid")
        # Voxel centres of the body mapped with the found and the true transform agree within 0.7 mm.
        k, j, i = np.nonzero(baseline.labels > 0)
        points = np.stack([i, j, k, np.ones_like(i)]).T @ baseline.ijk_to_ras.T
        error = np.linalg.norm((points @ result.fixed_to_moving_ras.T - points @ moved.misalignment.T)[:, :3], axis=1)
        self.assertLess(np.median(error), 0.7)
        self.assertGreater(result.similarity_after, result.similarity_before)
        self.assertEqual(result.warning, "")

    def test_bspline_improves_on_rigid_for_a_smooth_warp(self):
        patient = make_patient(shape=(8, 64, 64), seed=5, misalignment=False)
        visit = patient.visits[0]
        fixed = visit.truth["S0_dwi"] * (1 + 0.5 * (visit.labels == 2)) + 200 * (visit.labels == 5)
        y, x = np.mgrid[:64, :64]
        displacement = 2.0 * np.sin(np.pi * x / 64.0)                       # up to 2 voxels along rows
        coords = [np.broadcast_to(np.arange(8)[:, None, None], (8, 64, 64)),
                  np.broadcast_to(y + displacement, (8, 64, 64)), np.broadcast_to(x, (8, 64, 64))]
        moving = ndimage.map_coordinates(fixed, coords, order=1)
        rigid = registration.register(fixed, visit.ijk_to_ras, moving, visit.ijk_to_ras, method="rigid")
        bspline = registration.register(fixed, visit.ijk_to_ras, moving, visit.ijk_to_ras, method="bspline")
        self.assertGreater(bspline.similarity_after, rigid.similarity_after)

    def test_unknown_method(self):
        from TMEMonitorLib.errors import InputError
        with self.assertRaises(InputError):
            registration.register(np.ones((2, 4, 4)), np.eye(4), np.ones((2, 4, 4)), np.eye(4), method="magic")


if __name__ == "__main__":
    unittest.main()
