"""Semi-quantitative curve metrics on hand-built piecewise-linear curves (where the
trapezoid rule is exact) on an uneven frame grid, and bolus arrival estimation."""
import unittest

import numpy as np

from DCEModuleLib.bolus_arrival import fit_bolus_arrival
from DCEModuleLib.semiquant import CURVE_PERSISTENT, CURVE_PLATEAU, CURVE_WASHOUT, curve_metrics
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st

# uneven grid: 5 s frames for the first minute, then 10 s frames
T = np.concatenate([np.arange(0.0, 60.0, 5.0), np.arange(60.0, 300.1, 10.0)])


def piecewise(bat, t_peak, peak, late_slope):
    """0 before ``bat``, linear rise to ``peak`` at ``t_peak``, then slope ``late_slope``."""
    return np.interp(T, [0.0, bat, t_peak, 300.0], [0.0, 0.0, peak, peak + late_slope * (300.0 - t_peak)])


class CurveMetricsTest(unittest.TestCase):
    def setUp(self):
        self.curves = np.stack([
            piecewise(20.0, 50.0, 2.0, -0.002),  # washout
            piecewise(20.0, 60.0, 1.0, 0.002),  # persistent
            piecewise(20.0, 45.0, 1.5, -0.0002),  # plateau
            np.zeros(T.size),  # no enhancement
            np.full(T.size, np.nan),  # unusable
        ])

    def test_hand_computed_values(self):
        m = curve_metrics(self.curves, T, arrival_s=20.0)
        # washout curve: areas of triangle + trapezoid, by hand
        self.assertAlmostEqual(m["iAUC60"][0], 0.5 * 30 * 2.0 + 2.0 * 30 - 0.002 * 30 ** 2 / 2, places=10)
        self.assertAlmostEqual(m["iAUC90"][0], 0.5 * 30 * 2.0 + 2.0 * 60 - 0.002 * 60 ** 2 / 2, places=10)
        self.assertAlmostEqual(m["TTP_s"][0], 30.0)
        self.assertAlmostEqual(m["peak_enhancement"][0], 2.0)
        self.assertAlmostEqual(m["wash_in_slope"][0], 2.0 / 30.0)
        self.assertAlmostEqual(m["wash_out_slope"][0], -0.002, places=12)
        early, late = 2.0 - 0.002 * 90, 2.0 - 0.002 * 250  # at 20 + 120 s and at the last frame
        self.assertAlmostEqual(m["SER"][0], early / late)
        self.assertAlmostEqual(m["late_change"][0], (late - early) / early)
        # persistent curve peaks at the last frame: no wash-out slope
        self.assertAlmostEqual(m["iAUC60"][1], 0.5 * 40 * 1.0 + 1.0 * 20 + 0.002 * 20 ** 2 / 2, places=10)
        self.assertAlmostEqual(m["TTP_s"][1], 280.0)
        self.assertTrue(np.isnan(m["wash_out_slope"][1]))
        self.assertEqual(m["curve_type"].tolist(), [CURVE_WASHOUT, CURVE_PERSISTENT, CURVE_PLATEAU, 0, 0])
        self.assertEqual(m["curve_type"].dtype, np.uint8)
        self.assertEqual(m["status"].tolist(), [st.OK, st.OK, st.OK, st.NO_SIGNAL, st.NO_SIGNAL])
        for key in ("iAUC60", "TTP_s", "SER", "BAT_s"):
            self.assertTrue(np.isnan(m[key][4]), key)

    def test_configurable_times_and_threshold(self):
        m = curve_metrics(self.curves[:3], T, arrival_s=20.0, early_s=60.0, late_s=200.0, threshold=0.01)
        early, late = 2.0 - 0.002 * 30, 2.0 - 0.002 * 170
        self.assertAlmostEqual(m["SER"][0], early / late)
        # the plateau curve becomes washout under a 1 % threshold
        self.assertEqual(m["curve_type"][2], CURVE_WASHOUT)

    def test_window_beyond_acquisition_is_nan(self):
        m = curve_metrics(self.curves[:1], T, arrival_s=250.0)
        self.assertTrue(np.isnan(m["iAUC60"][0]) and np.isnan(m["iAUC90"][0]))

    def test_fitted_arrival(self):
        m = curve_metrics(self.curves, T)
        np.testing.assert_allclose(m["BAT_s"][:3], 20.0, atol=0.5)
        self.assertAlmostEqual(m["peak_enhancement"][0], 2.0)

    def test_signal_input_relative_enhancement(self):
        s0 = np.array([200.0, 1000.0, 50.0])[:, None]
        sig = s0 * (1.0 + 0.1 * self.curves[:3])
        conc = curve_metrics(self.curves[:3], T, arrival_s=20.0)
        rel = curve_metrics(sig, T, arrival_s=20.0, input_type="signal")
        np.testing.assert_allclose(rel["peak_enhancement"], 0.1 * conc["peak_enhancement"])
        np.testing.assert_allclose(rel["iAUC60"], 0.1 * conc["iAUC60"])
        np.testing.assert_allclose(rel["SER"], conc["SER"])
        np.testing.assert_array_equal(rel["curve_type"], conc["curve_type"])

    def test_shapes_mask_and_per_voxel_arrival(self):
        vol = np.stack([self.curves[:3], self.curves[:3]])  # (2, 3, T)
        shift = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]])
        shifted = np.stack([np.interp(T - s, T, c, left=0.0) for s, c in zip(shift.ravel(), vol.reshape(-1, T.size))])
        shifted = shifted.reshape(vol.shape)
        mask = np.array([[True, True, True], [True, False, True]])
        m = curve_metrics(shifted, T, arrival_s=20.0 + shift, mask=mask)
        self.assertEqual(m["iAUC60"].shape, (2, 3))
        self.assertEqual(m["status"][1, 1], st.MASKED)
        self.assertAlmostEqual(m["TTP_s"][1, 0], 30.0, places=9)
        self.assertAlmostEqual(m["iAUC60"][1, 0], m["iAUC60"][0, 0], places=9)

    def test_bad_input(self):
        for kwargs in (dict(input_type="ratio"), dict(arrival_s=400.0), dict(t_s=T[:-1]),
                       dict(mask=np.ones(4, bool)), dict(arrival_s=np.ones(3))):
            args = dict(t_s=T)
            args.update(kwargs)
            with self.subTest(**{k: str(v)[:20] for k, v in kwargs.items()}), self.assertRaises(InputError):
                curve_metrics(self.curves, **args)


class BolusArrivalTest(unittest.TestCase):
    def test_linear_quadratic_exact(self):
        t = np.arange(0.0, 120.0, 2.0)
        bats = np.array([11.3, 20.0, 35.7, 50.1])
        curves = np.where(t[None] > bats[:, None], 0.004 * (t[None] - bats[:, None]) ** 2, 0.0)
        curves = np.minimum(curves, 3.0) + 0.5  # plateau after the rise, offset baseline
        # noise-free: exact up to the round-off of the O(1) prefix-sum cost (1 % of a frame)
        np.testing.assert_allclose(fit_bolus_arrival(curves, t), bats, atol=0.02)

    def test_noisy(self):
        rng = np.random.default_rng(7)
        t = np.arange(0.0, 180.0, 3.0)
        bats = rng.uniform(15.0, 60.0, 200)
        rise = np.clip((t[None] - bats[:, None]) / 20.0, 0, 1) ** 2
        curves = rise * (1.0 - 0.002 * np.maximum(t[None] - bats[:, None] - 20.0, 0)) + rng.normal(0, 0.02, (200, t.size))
        err = fit_bolus_arrival(curves, t) - bats
        self.assertLess(np.median(np.abs(err)), 1.5)
        self.assertLess(np.max(np.abs(err)), 9.0)  # 3 frames, worst of 200 voxels


if __name__ == "__main__":
    unittest.main()
