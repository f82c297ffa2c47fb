"""Inversion-recovery (RD-NLS with polarity restoration) and Look-Locker T1 fits: exact recovery
on noise-free data, Monte-Carlo bias/SD against truth, and refusal of bad input."""
import unittest

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st
from TMEMonitorLib.relaxometry.inversion_recovery import fit_inversion_recovery, inversion_recovery_signal
from TMEMonitorLib.relaxometry.look_locker import fit_look_locker, look_locker_signal

TI = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2])          # s


class InversionRecoveryExact(unittest.TestCase):
    def test_magnitude_noise_free_exact(self):
        t1 = np.array([0.15, 0.3, 0.8, 1.2, 1.5, 2.5, 4.0])
        a = np.array([100.0, 200.0, 50.0, 1000.0, 80.0, 3.0, 500.0])
        eff = np.array([1.9, 2.0, 1.6, 1.95, 2.0, 1.8, 1.99])
        s = inversion_recovery_signal(a, -eff * a, t1, TI)
        fit = fit_inversion_recovery(s, TI)
        np.testing.assert_array_equal(fit["status"], st.OK)
        np.testing.assert_allclose(fit["T1"], t1, rtol=1e-6)
        np.testing.assert_allclose(fit["a"], a, rtol=1e-6)
        np.testing.assert_allclose(fit["inversion_efficiency"], eff, rtol=1e-6)
        np.testing.assert_allclose(fit["R1"], 1.0 / t1, rtol=1e-6)
        self.assertTrue(np.all(fit["r2"] > 1 - 1e-10))
        # the null lies between the restored-polarity samples: TI[k-1] < T1 ln(eff) <= TI[k]
        null = t1 * np.log(eff)
        k = fit["null_index"]
        self.assertTrue(np.all((k == 0) | (TI[np.maximum(k - 1, 0)] < null)))
        self.assertTrue(np.all((k == TI.size) | (TI[np.minimum(k, TI.size - 1)] >= null - 1e-9)))

    def test_complex_and_signed_exact(self):
        t1 = np.array([0.4, 1.1, 2.0])
        a = np.array([10.0, 20.0, 30.0])
        signed = inversion_recovery_signal(a, -2 * a, t1, TI, magnitude=False)
        phase = np.exp(1j * np.array([0.3, -2.0, 3.0]))[:, None]
        for data, kwargs in ((signed, {"signed": True}), (signed * phase, {})):
            fit = fit_inversion_recovery(data, TI, **kwargs)
            np.testing.assert_allclose(fit["T1"], t1, rtol=1e-6)
            np.testing.assert_allclose(fit["b"], -2 * a, rtol=1e-6)

    def test_shapes_mask_and_status(self):
        s = inversion_recovery_signal(np.full((2, 3), 50.0), np.full((2, 3), -100.0), np.full((2, 3), 1.0), TI)
        s[0, 0] = 0.0                     # no signal
        s[0, 1] = 50.0                    # flat: no recovery
        mask = np.ones((2, 3), bool)
        mask[1, 2] = False
        fit = fit_inversion_recovery(s, TI, mask=mask)
        self.assertEqual(fit["T1"].shape, (2, 3))
        self.assertEqual(fit["status"][0, 0], st.NO_SIGNAL)
        self.assertIn(fit["status"][0, 1], (st.NOT_EXPLAINED, st.HIT_BOUND))
        self.assertEqual(fit["status"][1, 2], st.MASKED)
        self.assertTrue(np.isnan(fit["T1"][1, 2]))
        np.testing.assert_allclose(fit["T1"][1, :2], 1.0, rtol=1e-6)

    def test_t1_beyond_bounds_is_flagged(self):
        s = inversion_recovery_signal(100.0, -200.0, 0.5, TI)
        fit = fit_inversion_recovery(s[None], TI, t1_bounds_s=(0.8, 5.0))
        self.assertEqual(fit["status"][0], st.HIT_BOUND)
        self.assertAlmostEqual(fit["T1"][0], 0.8, places=5)


class InversionRecoveryMonteCarlo(unittest.TestCase):
    def test_bias_and_sd_against_truth(self):
        rng = np.random.default_rng(7)
        n = 4000
        for t1 in (0.5, 1.0, 2.0):
            clean = inversion_recovery_signal(np.full(n, 100.0), np.full(n, -200.0), np.full(n, t1), TI,
                                              magnitude=False)
            # SNR 50 on a: complex Gaussian noise, magnitude images (Rician)
            noisy = np.abs(clean + rng.normal(0, 2.0, clean.shape) + 1j * rng.normal(0, 2.0, clean.shape))
            fit = fit_inversion_recovery(noisy, TI)
            ok = fit["status"] == st.OK
            self.assertGreater(ok.mean(), 0.99)
            values = fit["T1"][ok]
            self.assertLess(abs(np.mean(values) / t1 - 1), 0.02, f"bias at T1 {t1}")
            self.assertLess(np.std(values) / t1, 0.08, f"SD at T1 {t1}")


class LookLockerExact(unittest.TestCase):
    def test_noise_free_exact(self):
        t1 = np.array([0.3, 0.9, 1.4, 2.2])
        t1_star = t1 * np.array([0.6, 0.7, 0.5, 0.8])
        a = np.array([100.0, 40.0, 300.0, 7.0])
        b_over_a = 1.0 + t1 / t1_star            # from T1 = T1* (B/A - 1)
        times = np.array([0.1, 0.18, 0.3, 0.5, 0.9, 1.3, 2.0, 2.8, 3.6])
        s = look_locker_signal(a, b_over_a * a, t1_star, times)
        fit = fit_look_locker(s, times)
        np.testing.assert_array_equal(fit["status"], st.OK)
        np.testing.assert_allclose(fit["T1star"], t1_star, rtol=1e-6)
        np.testing.assert_allclose(fit["T1"], t1, rtol=1e-6)
        np.testing.assert_allclose(fit["B_over_A"], b_over_a, rtol=1e-6)

    def test_no_apparent_inversion_is_not_explained(self):
        times = np.array([0.1, 0.3, 0.6, 1.0, 2.0])
        s = look_locker_signal(100.0, 80.0, 0.5, times)        # B < A: a saturation recovery
        fit = fit_look_locker(s[None], times)
        self.assertEqual(fit["status"][0], st.NOT_EXPLAINED)
        self.assertTrue(np.isnan(fit["T1"][0]))


class BadInput(unittest.TestCase):
    def test_refused(self):
        s = np.ones((4, 5))
        cases = [(np.ones((4, 2)), [0.1, 0.5], "at least 3"),
                 (s, [0.1, 0.5, 0.3, 1.0, 2.0], "not sorted"),
                 (s, [0.1, 0.5, 0.5, 1.0, 2.0], "duplicate"),
                 (s, [0.1, 0.5, 1.0, 2.0], "4 value"),
                 (s, [100, 200, 400, 800, 1600], "ms"),
                 (s, [0.1, np.nan, 1.0, 2.0, 3.0], "finite"),
                 (-s, [0.1, 0.5, 1.0, 2.0, 3.0], "negative")]
        for data, ti, words in cases:
            for fit in (fit_inversion_recovery, fit_look_locker):
                with self.assertRaises(InputError) as caught:
                    fit(data, ti)
                self.assertIn(words, str(caught.exception))
        with self.assertRaises(InputError):
            fit_inversion_recovery(s, [0.1, 0.5, 1.0, 2.0, 3.0], mask=np.ones(5, bool))


if __name__ == "__main__":
    unittest.main()
