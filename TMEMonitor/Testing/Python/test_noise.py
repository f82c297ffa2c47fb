import unittest

import numpy as np

from TMEMonitorLib.noise import add_rician_noise


class RicianNoiseTest(unittest.TestCase):
    def test_rayleigh_mean_at_zero_signal(self):
        sigma = 2.0
        noisy = add_rician_noise(np.zeros(200000), sigma, np.random.default_rng(1))
        # Rayleigh mean sigma sqrt(pi / 2)
        np.testing.assert_allclose(noisy.mean(), sigma * np.sqrt(np.pi / 2), rtol=0.01)

    def test_high_snr_bias_is_sigma_squared_over_twice_the_signal(self):
        sigma, signal = 1.0, 20.0
        noisy = add_rician_noise(np.full(400000, signal), sigma, np.random.default_rng(2))
        np.testing.assert_allclose(noisy.mean() - signal, sigma ** 2 / (2 * signal), atol=0.01)

    def test_draw_order_real_then_imaginary(self):
        signal = np.linspace(0, 10, 7)
        rng = np.random.default_rng(3)
        expected = np.sqrt((signal + rng.normal(0, 0.5, 7)) ** 2 + rng.normal(0, 0.5, 7) ** 2)
        np.testing.assert_array_equal(add_rician_noise(signal, 0.5, np.random.default_rng(3)), expected)

    def test_zero_sigma_leaves_the_signal(self):
        signal = np.arange(5.0)
        np.testing.assert_array_equal(add_rician_noise(signal, 0.0, np.random.default_rng(0)), signal)


if __name__ == "__main__":
    unittest.main()
