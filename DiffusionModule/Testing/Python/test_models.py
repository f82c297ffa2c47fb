"""Diffusion models against analytic truth: exact noise-free recovery, errors, exclusions, Monte Carlo."""
import unittest

import numpy as np

from DiffusionModuleLib import models
from DiffusionModuleLib.synthesis import add_rician_noise, ivim_signal, kurtosis_signal
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status

B = np.array([0, 10, 20, 50, 100, 200, 400, 600, 800, 1000], dtype=float)


class AdcTest(unittest.TestCase):
    def test_noise_free_exact_all_methods(self):
        adc = np.array([[0.5e-3, 1.0e-3], [2.0e-3, 3.0e-3]])
        signal = 800.0 * np.exp(-B * adc[..., None])
        for method in ("loglinear", "weighted", "nonlinear"):
            with self.subTest(method=method):
                result = models.fit_adc(signal, B, method=method)
                np.testing.assert_allclose(result["ADC"], adc, rtol=1e-6)
                np.testing.assert_allclose(result["S0"], 800.0, rtol=1e-6)
                self.assertTrue(np.all(result["status"] == status.OK))

    def test_b_range_and_exclusions(self):
        signal = 4095.0 * np.exp(-B * 1e-3)[None] * 1.5
        result = models.fit_adc(signal, B, clip_value=4095, b_min=0)
        self.assertGreater(result["n_excluded"][0], 0)
        np.testing.assert_allclose(result["ADC"], 1e-3, rtol=1e-6)
        ranged = models.fit_adc(np.exp(-B * 1e-3)[None], B, b_min=200, b_max=800)
        self.assertEqual(ranged["b_range"], (200.0, 800.0))

    def test_errors(self):
        with self.assertRaises(InputError):
            models.fit_adc(np.ones((2, 3)), [0, 0, 0])          # a single b-value
        with self.assertRaises(InputError):
            models.fit_adc(np.ones((2, 3)), [0, 500])            # count mismatch
        with self.assertRaises(InputError):
            models.fit_adc(np.zeros((2, 3)), [0, 500, 1000])     # all zero
        with self.assertRaises(InputError):
            models.fit_ivim(np.ones((2, 3)), [400, 600, 1000, 1200][:3])

    def test_masked_and_no_signal_flagged(self):
        signal = np.stack([np.exp(-B * 1e-3), np.zeros_like(B), np.exp(-B * 1e-3)])
        result = models.fit_adc(signal, B, mask=np.array([True, True, False]))
        self.assertEqual(list(result["status"]), [status.OK, status.NO_SIGNAL, status.MASKED])
        self.assertTrue(np.isnan(result["ADC"][2]))

    def test_direction_averaging_geometric_mean(self):
        b = np.array([0, 1000, 1000, 1000])
        signal = np.array([[100.0, 30.0, 40.0, 50.0]])
        averaged, unique = models.average_directions(signal, b)
        np.testing.assert_allclose(unique, [0, 1000])
        np.testing.assert_allclose(averaged[0, 1], (30.0 * 40.0 * 50.0) ** (1 / 3))


class IvimTest(unittest.TestCase):
    def test_noise_free_recovery_full_and_bayesian(self):
        d = np.array([0.8e-3, 1.2e-3, 2.0e-3])
        f = np.array([0.05, 0.15, 0.3])
        dstar = np.array([0.02, 0.05, 0.1])
        b = np.array([0, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 600, 800, 1000], float)
        signal = ivim_signal(1000.0, d, f, dstar, b)
        for method in ("full", "bayesian"):
            with self.subTest(method=method):
                result = models.fit_ivim(signal, b, method=method)
                np.testing.assert_allclose(result["D"], d, rtol=1e-3)
                np.testing.assert_allclose(result["f"], f, atol=1e-3)
                np.testing.assert_allclose(result["Dstar"], dstar, rtol=1e-2)

    def test_segmented_is_exact_when_perfusion_has_decayed(self):
        d, f, dstar = 1.0e-3, 0.1, 0.2          # exp(-200 * 0.2) ~ 4e-18: no perfusion above the threshold
        b = np.array([0, 5, 10, 20, 40, 80, 200, 400, 600, 800], float)
        result = models.fit_ivim(ivim_signal(500.0, d, f, dstar, b)[None], b, method="segmented")
        np.testing.assert_allclose(result["D"], d, rtol=1e-9)
        np.testing.assert_allclose(result["f"], f, atol=1e-9)

    def test_monte_carlo_bias_small_at_snr_100(self):
        rng = np.random.default_rng(7)
        b = np.array([0, 10, 20, 50, 100, 200, 400, 600, 800, 1000], float)
        clean = ivim_signal(1.0, np.full(400, 1.0e-3), np.full(400, 0.1), np.full(400, 0.04), b)
        noisy = add_rician_noise(clean, 0.01, rng)
        result = models.fit_ivim(noisy, b, method="full")
        self.assertLess(abs(np.median(result["D"]) - 1.0e-3) / 1.0e-3, 0.05)
        self.assertLess(abs(np.median(result["f"]) - 0.1), 0.02)


class KurtosisTest(unittest.TestCase):
    def test_noise_free_exact(self):
        b = np.array([0, 250, 500, 1000, 1500, 2000, 2500], float)
        d = np.array([0.8e-3, 1.5e-3])
        k = np.array([1.2, 0.6])
        result = models.fit_kurtosis(kurtosis_signal(300.0, d, k, b), b)
        np.testing.assert_allclose(result["D"], d, rtol=1e-5)
        np.testing.assert_allclose(result["K"], k, rtol=1e-4)

    def test_needs_high_b(self):
        with self.assertRaises(InputError):
            models.fit_kurtosis(np.ones((1, 4)), [0, 100, 300, 600])

    def test_predict_high_b(self):
        predicted = models.predict_signal("adc", [1400.0], S0=np.array([100.0]), ADC=np.array([1e-3]))
        np.testing.assert_allclose(predicted[0, 0], 100 * np.exp(-1.4))


def monte_carlo_table(snrs=(20, 50, 100), n=2000, seed=0):
    """Bias and SD of full IVIM and log-linear ADC at several SNRs (printed by the benchmark)."""
    rng = np.random.default_rng(seed)
    b = np.array([0, 10, 20, 50, 100, 200, 400, 600, 800, 1000], float)
    rows = []
    for snr in snrs:
        clean = ivim_signal(1.0, np.full(n, 1.0e-3), np.full(n, 0.1), np.full(n, 0.04), b)
        noisy = add_rician_noise(clean, 1.0 / snr, rng)
        ivim = models.fit_ivim(noisy, b, method="full")
        adc = models.fit_adc(noisy, b, b_min=200)
        rows.append((snr, np.nanmean(ivim["D"]) / 1e-3 - 1, np.nanstd(ivim["D"]) / 1e-3, np.nanmean(ivim["f"]) - 0.1,
                     np.nanstd(ivim["f"]), np.nanmean(adc["ADC"]) / 1e-3 - 1))
    return rows


if __name__ == "__main__":
    unittest.main()
