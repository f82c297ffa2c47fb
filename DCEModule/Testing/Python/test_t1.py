"""VFA T1 mapping against analytic (noise-free SPGR) truth."""
import unittest

import numpy as np

from DCEModuleLib import t1
from DCEModuleLib.signal import spgr_signal
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st

FA = np.array([2.0, 5.0, 10.0, 15.0, 20.0, 30.0])
TR = 0.005


def make_signal(t1_s, s0, fa=FA, b1=1.0):
    t1_s, s0, b1 = (np.asarray(v, dtype=float)[..., None] for v in (t1_s, s0, b1))
    return spgr_signal(s0, 1.0 / t1_s, TR, fa * b1)


class VFANoiseFreeTest(unittest.TestCase):
    def setUp(self):
        self.t1_true = np.array([[0.25, 0.8, 1.2], [1.6, 2.5, 4.0]])
        self.s0_true = np.array([[1e3, 5e3, 2e4], [800.0, 1e5, 3e3]])
        self.signal = make_signal(self.t1_true, self.s0_true)

    def test_methods_recover_truth(self):
        tolerance = {"nonlinear": 1e-6, "linear": 1e-9, "two_point": 1e-9}
        for method, rtol in tolerance.items():
            with self.subTest(method=method):
                res = t1.fit_vfa(self.signal, FA, TR, method=method)
                self.assertEqual(res["T1"].shape, (2, 3))
                np.testing.assert_allclose(res["T1"], self.t1_true, rtol=rtol)
                np.testing.assert_allclose(res["R1"], 1 / self.t1_true, rtol=rtol)
                np.testing.assert_allclose(res["S0"], self.s0_true, rtol=10 * rtol)
                np.testing.assert_array_equal(res["status"], st.OK)
                self.assertEqual(res["status"].dtype, np.uint8)
                np.testing.assert_array_less(1 - 1e-9, res["r2"])
                np.testing.assert_array_less(res["rmse"], 1e-5 * self.s0_true)

    def test_b1_map(self):
        b1 = np.array([[0.8, 1.0, 1.2], [0.9, 1.1, 1.3]])
        signal = make_signal(self.t1_true, self.s0_true, b1=b1)
        for method in t1.METHODS:
            with self.subTest(method=method):
                corrected = t1.fit_vfa(signal, FA, TR, method=method, b1_map=b1)
                np.testing.assert_allclose(corrected["T1"], self.t1_true, rtol=1e-6)
        uncorrected = t1.fit_vfa(signal, FA, TR)
        # ignoring B1 scales the apparent T1 by about b1^2 (small-angle DESPOT1 limit)
        self.assertLess(uncorrected["T1"][0, 0], 0.8 * self.t1_true[0, 0])
        self.assertGreater(uncorrected["T1"][1, 2], 1.4 * self.t1_true[1, 2])

    def test_two_point_uses_chosen_angles(self):
        # corrupt the middle angles: two_point on (first, last) must not see them
        signal = self.signal.copy()
        signal[..., 1:-1] *= 1.5
        res = t1.fit_vfa(signal, FA, TR, method="two_point")
        np.testing.assert_allclose(res["T1"], self.t1_true, rtol=1e-9)
        res = t1.fit_vfa(self.signal, FA, TR, method="two_point", two_point_indices=(1, 3))
        np.testing.assert_allclose(res["T1"], self.t1_true, rtol=1e-9)

    def test_noisy_fit_close(self):
        rng = np.random.default_rng(3)
        truth = np.full(400, 1.2)
        signal = make_signal(truth, 1e4) + rng.normal(0, 5.0, (400, FA.size))
        res = t1.fit_vfa(signal, FA, TR)
        self.assertLess(abs(np.median(res["T1"]) - 1.2), 0.02)
        np.testing.assert_array_equal(res["status"], st.OK)


class VFAStatusTest(unittest.TestCase):
    def test_no_signal_mask_and_bounds(self):
        signal = make_signal(np.array([1.0, 1.0, 1.0, 30.0, 0.005, 1.0]), 1e3)
        signal[0] = 0.0  # no signal
        signal[1, 2] = np.nan  # corrupt frame
        signal[2] = -signal[2]  # negative magnitude
        mask = np.array([True, True, True, True, True, False])
        res = t1.fit_vfa(signal, FA, TR, mask=mask)
        self.assertEqual(res["status"].tolist(),
                         [st.NO_SIGNAL, st.NO_SIGNAL, st.NO_SIGNAL, st.HIT_BOUND, st.HIT_BOUND, st.MASKED])
        np.testing.assert_array_equal(res["T1"][[0, 1, 2, 5]], np.nan)
        # out-of-range T1 is flagged, the value kept at the bound
        self.assertAlmostEqual(float(res["T1"][3]), t1.DEFAULT_T1_BOUNDS_S[1], places=3)
        self.assertAlmostEqual(float(res["T1"][4]), t1.DEFAULT_T1_BOUNDS_S[0], places=5)
        for method in ("linear", "two_point"):
            with self.subTest(method=method):
                res = t1.fit_vfa(signal, FA, TR, method=method, mask=mask)
                self.assertEqual(res["status"][3], st.HIT_BOUND)
                self.assertAlmostEqual(float(res["T1"][3]), 30.0, delta=0.01)

    def test_linear_impossible_slope_fails(self):
        # signal rising with flip angle beyond what any T1 gives -> slope >= 1
        signal = np.array([[10.0, 50.0, 200.0, 600.0, 1500.0, 5000.0]])
        res = t1.fit_vfa(signal, FA, TR, method="linear")
        self.assertEqual(res["status"][0], st.FAILED)
        self.assertTrue(np.isnan(res["T1"][0]))

    def test_bad_input(self):
        signal = make_signal(np.array([1.0]), 1e3)
        bad_calls = [
            dict(method="magic"),
            dict(flip_angles_deg=FA[:3]),
            dict(flip_angles_deg=np.full(FA.size, 10.0)),
            dict(flip_angles_deg=np.append(FA[:-1], 200.0)),
            dict(tr_s=5.0),
            dict(tr_s=-0.005),
            dict(t1_bounds_s=(2.0, 1.0)),
            dict(method="two_point", two_point_indices=(0, 0)),
            dict(b1_map=np.ones(3)),
            dict(mask=np.ones((2, 2), bool)),
        ]
        for extra in bad_calls:
            kwargs = dict(flip_angles_deg=FA, tr_s=TR)
            kwargs.update(extra)
            with self.subTest(**{k: str(v) for k, v in extra.items()}), self.assertRaises(InputError):
                t1.fit_vfa(signal, **kwargs)


if __name__ == "__main__":
    unittest.main()
