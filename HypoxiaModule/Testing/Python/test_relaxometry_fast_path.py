"""The echo-major fast path of fit_r2star (loglinear.py): float32 logarithm with a float64 fallback,
samples after the echo run that are NaN/inf, chunking and threads that do not change any value, and the
quality measures against a direct computation."""
import unittest

import numpy as np

from HypoxiaModuleLib import loglinear, synthesis
from HypoxiaModuleLib.relaxometry import fit_r2star
from TMEMonitorLib.fitting import status as st

TE = 0.002 + 0.003 * np.arange(12)


class FastPathTest(unittest.TestCase):
    def test_float32_logarithm_beyond_its_range_falls_back_to_float64(self):
        # exp(-2900 x 0.035) ~ 1e-44: below float32's range; the fit is redone in float64 for these voxels
        r2s = np.array([2900.0, 2500.0, 40.0])
        fit = fit_r2star(synthesis.multi_echo(r2s, 1000.0, TE), TE, "loglinear", noise_sigma=None,
                         r2star_bounds_per_s=(0.0, 5000.0))
        np.testing.assert_allclose(fit["R2star"], r2s, rtol=1e-6)
        self.assertTrue(np.all(fit["status"] == st.OK))

    def test_nan_and_inf_after_the_echo_run(self):
        signal = synthesis.multi_echo(np.full(3, 50.0), 1000.0, TE)
        signal[0, 5:] = np.nan
        signal[1, 7] = np.inf
        signal[2, 4:] = 0.0
        for method in ("loglinear", "nonlinear", "arlo"):
            fit = fit_r2star(signal, TE, method, noise_sigma=None)
            np.testing.assert_array_equal(fit["n_echoes_used"], [5, 7, 4])
            np.testing.assert_allclose(fit["R2star"], 50.0, rtol=1e-6 if method != "arlo" else 1e-2)
            self.assertTrue(np.all(fit["status"] == st.OK), method)
            self.assertTrue(np.all(np.isfinite(fit["rmse"])), method)

    def test_chunks_and_threads_change_nothing(self):
        rng = np.random.default_rng(9)
        r2s = rng.uniform(10.0, 300.0, 5000)
        signal = synthesis.multi_echo(r2s, 1000.0, TE, noise_sigma=10.0, rng=rng)
        mask = rng.random(5000) > 0.2
        for method in ("loglinear", "nonlinear", "arlo"):
            reference = fit_r2star(signal, TE, method, noise_sigma=10.0, mask=mask, threads=1, chunk_size=100000)
            for threads, chunk in ((2, 333), (1, 1024)):
                other = fit_r2star(signal, TE, method, noise_sigma=10.0, mask=mask, threads=threads, chunk_size=chunk)
                for name in ("R2star", "S0", "r2", "rmse", "n_echoes_used", "status"):
                    np.testing.assert_allclose(other[name], reference[name], rtol=1e-9, atol=0,
                                               err_msg=f"{method} {name}")

    def test_quality_against_direct_computation(self):
        rng = np.random.default_rng(10)
        signal = synthesis.multi_echo(rng.uniform(20.0, 200.0, 400), 1000.0, TE, noise_sigma=20.0, rng=rng)
        fit = fit_r2star(signal, TE, "loglinear", noise_sigma=20.0)
        for row in range(0, 400, 37):
            k = fit["n_echoes_used"][row]
            y = signal[row, :k]
            fitted = fit["S0"][row] * np.exp(-fit["R2star"][row] * TE[:k])
            sse = np.sum((y - fitted) ** 2)
            self.assertAlmostEqual(fit["rmse"][row], np.sqrt(sse / k), delta=1e-9 * np.sqrt(sse / k))
            self.assertAlmostEqual(fit["r2"][row], 1 - sse / np.sum((y - y.mean()) ** 2), places=10)

    def test_uniform_step(self):
        self.assertAlmostEqual(loglinear.uniform_step(TE), 0.003, places=15)
        self.assertIsNone(loglinear.uniform_step(np.array([0.002, 0.004, 0.007])))
        # the decay by recurrence equals the direct exponential
        rate = np.array([0.0, 35.0, 1900.0])
        np.testing.assert_allclose(loglinear.decay_matrix(TE, rate, 0.003), np.exp(-np.outer(TE, rate)), rtol=1e-13)


if __name__ == "__main__":
    unittest.main()
