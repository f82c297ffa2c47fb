"""Parts of the Bayesian IVIM fit that its speed rests on: the written-out 3x3 Cholesky factor,
the coarse centring grid before the fine one, the prior learnt from a sample of voxels and the
missing weights path of the quadrature."""
import unittest

import numpy as np

from DiffusionModuleLib import ivim, ivim_bayesian, models
from DiffusionModuleLib.signal_models import ivim_signal
from TMEMonitorLib.noise import add_rician_noise

B = np.array([0, 10, 20, 30, 50, 80, 100, 200, 400, 700, 1000], dtype=float)


def population(n, seed, snr=50.0):
    rng = np.random.default_rng(seed)
    truth = {"D": rng.uniform(0.6e-3, 2.0e-3, n), "f": rng.uniform(0.03, 0.3, n), "Dstar": rng.uniform(0.02, 0.08, n)}
    return truth, add_rician_noise(ivim_signal(1.0, truth["D"], truth["f"], truth["Dstar"], B), 1.0 / snr, rng)


class CholeskyTest(unittest.TestCase):
    def test_equals_lapack_and_falls_back(self):
        rng = np.random.default_rng(0)
        a = rng.normal(size=(50, 3, 3))
        covariance = a @ np.swapaxes(a, 1, 2) + 0.1 * np.eye(3)
        covariance[3] = -np.eye(3)                        # not positive definite
        covariance[4] = np.nan
        fallback = np.diag([1.0, 2.0, 3.0])
        factor = ivim_bayesian._safe_cholesky(covariance, fallback)
        good = np.ones(50, bool)
        good[[3, 4]] = False
        np.testing.assert_allclose(factor[good], np.linalg.cholesky(covariance[good] + 1e-10 * np.eye(3)),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(factor[~good], np.broadcast_to(np.linalg.cholesky(fallback), (2, 3, 3)), rtol=1e-9)


class QuadratureAccuracyTest(unittest.TestCase):
    def test_coarse_then_fine_grid_matches_a_converged_reference(self):
        # The posterior means and SDs of the default grids (a coarse centring grid, then the fine
        # one) against a reference whose grid is refined until it no longer moves: 9 nodes per
        # axis, re-centred 4 times. Figures on 20,000 voxels are in the module's docstring.
        _, signal = population(400, seed=4)
        fitted = models.fit_ivim(signal, B)
        from unittest import mock
        with mock.patch.multiple(ivim_bayesian, CENTRING_NODES=9, NODES_PER_AXIS=9, PASSES=4):
            reference = models.fit_ivim(signal, B)
        for name in ("f", "D", "Dstar"):
            sd = reference[f"se_{name}"]
            error = np.abs(fitted[name] - reference[name]) / sd
            self.assertLess(np.median(error), 0.03, name)
            self.assertLess(np.percentile(error, 99), 0.2, name)
            ratio = fitted[f"se_{name}"] / sd
            self.assertTrue(0.93 < np.median(ratio) < 1.03, (name, np.median(ratio)))


class SampledPriorTest(unittest.TestCase):
    def test_prior_from_a_sample_matches_the_prior_from_every_voxel(self):
        _, signal = population(3 * ivim.PRIOR_SAMPLE, seed=1)
        values = signal / signal[:, :1]
        lower = np.array([ivim.DEFAULT_BOUNDS[k][0] for k in ivim.PARAMETERS])
        upper = np.array([ivim.DEFAULT_BOUNDS[k][1] for k in ivim.PARAMETERS])
        start = ivim.segmented(B, values, np.ones_like(values), 200.0, ivim.DEFAULT_BOUNDS)
        from TMEMonitorLib.fitting import levenberg_marquardt
        fit = levenberg_marquardt.fit(lambda p: ivim.model(p, B), np.clip(start, lower, upper), values, lower, upper,
                                      jacobian=lambda p: ivim.jacobian(p, B), max_iter=100)
        every = ivim_bayesian.population_prior_of(fit["params"], fit["status"], lower, upper)
        sample = slice(None, None, 3)
        sampled = ivim_bayesian.population_prior_of(fit["params"][sample], fit["status"][sample], lower, upper)
        spread = np.sqrt(np.diag(every[1]))
        self.assertTrue(np.all(np.abs(sampled[0] - every[0]) < 0.1 * spread))
        np.testing.assert_allclose(sampled[1], every[1], atol=0.1 * spread.max() ** 2)

    def test_large_volume_is_as_accurate_as_a_small_one(self):
        # Above PRIOR_SAMPLE voxels the mode search starts from segmented fits; the population
        # bias and SD stay those of a volume small enough to be fully fitted first.
        n = ivim.PRIOR_SAMPLE + 2000
        truth, signal = population(n, seed=2)
        large = models.fit_ivim(signal, B)
        small = {k: np.concatenate([models.fit_ivim(signal[i:i + 1500], B)[k] for i in range(0, n, 1500)])
                 for k in ("D", "f", "Dstar", "status")}
        self.assertEqual(np.count_nonzero(large["status"] != 0), 0)
        for name in ("D", "f", "Dstar"):
            error_large = large[name] - truth[name]
            error_small = small[name] - truth[name]
            scale = np.std(error_small)
            self.assertLess(abs(np.mean(error_large) - np.mean(error_small)), 0.05 * scale, name)
            self.assertLess(abs(np.std(error_large) / scale - 1.0), 0.03, name)

    def test_weights_path_equals_the_unweighted_path(self):
        _, signal = population(300, seed=3)
        v = signal / signal[:, :1]
        lower = np.array([ivim.DEFAULT_BOUNDS[k][0] for k in ivim.PARAMETERS])
        upper = np.array([ivim.DEFAULT_BOUNDS[k][1] for k in ivim.PARAMETERS])
        start = np.clip(ivim.segmented(B, v, np.ones_like(v), 200.0, ivim.DEFAULT_BOUNDS), lower, upper)
        centre = ivim_bayesian.to_latent(start[:, 1:], lower[1:], upper[1:])
        cov = np.broadcast_to(0.1 * np.eye(3), (300, 3, 3))
        prior_mean, prior_cov = np.zeros(3), 4.0 * np.eye(3)
        whitening = np.linalg.cholesky(np.linalg.inv(prior_cov)).T
        nodes, weights = ivim_bayesian._hermite_rule(5)
        plain = ivim_bayesian._quadrature(B, v, None, centre, cov, prior_cov, lower, upper, prior_mean, whitening,
                                          None, nodes, weights)
        ones = ivim_bayesian._quadrature(B, v, np.ones_like(v), centre, cov, prior_cov, lower, upper, prior_mean,
                                         whitening, None, nodes, weights)
        for a, b in zip(plain, ones):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


if __name__ == "__main__":
    unittest.main()
