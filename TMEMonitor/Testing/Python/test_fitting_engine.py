"""The shared fitting engine (batched bounded Levenberg-Marquardt, linear least squares,
quality measures, model selection) on problems with analytic answers."""
import unittest

import numpy as np
from scipy import stats

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt, linear, model_selection, quality, status
from TMEMonitorLib.progress import CancelFlag, Cancelled

T = np.linspace(0, 5, 30)


def decay(p, t=T):
    return p[:, :1] * np.exp(-p[:, 1:2] * t[None, :])


def decay_jacobian(p, t=T):
    e = np.exp(-p[:, 1:2] * t[None, :])
    return np.stack([e, -p[:, :1] * t[None, :] * e], axis=-1)


class LevenbergMarquardtTest(unittest.TestCase):
    def test_exponential_decay_recovered_with_and_without_jacobian(self):
        truth = np.array([[2.0, 0.5], [1.0, 3.0], [0.3, 0.05]])
        for jac in (None, decay_jacobian):
            with self.subTest(jacobian="analytic" if jac else "finite differences"):
                result = levenberg_marquardt.fit(decay, np.ones((3, 2)), decay(truth), [0, 0], [10, 10], jacobian=jac)
                np.testing.assert_allclose(result["params"], truth, rtol=1e-7)
                np.testing.assert_array_equal(result["status"], status.OK)
                np.testing.assert_allclose(result["rmse"], 0.0, atol=1e-9)
                np.testing.assert_allclose(result["r2"], 1.0, atol=1e-12)

    def test_bound_hit_is_flagged_and_respected(self):
        truth = np.array([[0.5, 6.0], [1.0, 1.0]])
        result = levenberg_marquardt.fit(decay, np.ones((2, 2)), decay(truth), [0, 0], [10, 5.0],
                                         jacobian=decay_jacobian)
        self.assertEqual(result["status"][0], status.HIT_BOUND)
        self.assertEqual(result["params"][0, 1], 5.0)
        self.assertEqual(result["status"][1], status.OK)
        np.testing.assert_array_equal((result["params"] <= [10, 5.0]) & (result["params"] >= 0), True)

    def test_non_finite_rows_are_no_signal_and_others_unaffected(self):
        truth = np.array([[2.0, 0.5], [1.0, 3.0], [1.5, 1.0]])
        y = decay(truth)
        y[1, 4] = np.nan
        y[2, 0] = np.inf
        result = levenberg_marquardt.fit(decay, np.ones((3, 2)), y, [0, 0], [10, 10])
        self.assertEqual(list(result["status"]), [status.OK, status.NO_SIGNAL, status.NO_SIGNAL])
        np.testing.assert_array_equal(result["params"][1:], np.nan)
        np.testing.assert_allclose(result["params"][0], truth[0], rtol=1e-7)

    def test_keep_model_returns_the_model_and_jacobian_at_the_solution(self):
        rng = np.random.default_rng(5)
        truth = np.column_stack([rng.uniform(0.5, 2, 20), rng.uniform(0.2, 3, 20)])
        y = decay(truth) + rng.normal(0, 0.01, (20, T.size))
        y[3, 2] = np.nan                                     # a row that is not fitted
        result = levenberg_marquardt.fit(decay, np.ones((20, 2)), y, [0, 0], [10, 10], chunk_size=6,
                                         evaluate=lambda p: (decay(p), decay_jacobian(p)), keep_model=True)
        fitted = np.flatnonzero(np.isfinite(result["params"][:, 0]))
        self.assertEqual(fitted.size, 19)
        np.testing.assert_allclose(result["model"][fitted], decay(result["params"][fitted]), rtol=1e-12)
        np.testing.assert_allclose(result["jacobian"][fitted], decay_jacobian(result["params"][fitted]), rtol=1e-12)
        self.assertTrue(np.all(np.isnan(result["model"][3])) and np.all(np.isnan(result["jacobian"][3])))
        with self.assertRaises(InputError):
            levenberg_marquardt.fit(decay, np.ones((20, 2)), y, [0, 0], [10, 10], keep_model=True)

    def test_chunks_give_the_same_answer(self):
        rng = np.random.default_rng(3)
        truth = np.column_stack([rng.uniform(0.5, 2, 50), rng.uniform(0.2, 3, 50)])
        y = decay(truth) + rng.normal(0, 0.01, (50, T.size))
        whole = levenberg_marquardt.fit(decay, np.ones((50, 2)), y, [0, 0], [10, 10])
        chunked = levenberg_marquardt.fit(decay, np.ones((50, 2)), y, [0, 0], [10, 10], chunk_size=7)
        np.testing.assert_array_equal(whole["status"], chunked["status"])
        np.testing.assert_allclose(whole["params"], chunked["params"], rtol=1e-8)
        np.testing.assert_allclose(whole["se"], chunked["se"], rtol=1e-6)

    def test_args_are_sliced_with_the_rows(self):
        # Per-row time scales passed through args must follow their rows into chunks.
        scale = np.array([1.0, 2.0, 0.5, 3.0])
        truth = np.array([[1.0, 0.7], [2.0, 0.3], [0.5, 1.1], [1.2, 0.2]])

        def model(p, s):
            return p[:, :1] * np.exp(-p[:, 1:2] * T[None, :] * s[:, None])
        y = model(truth, scale)
        result = levenberg_marquardt.fit(model, np.ones((4, 2)), y, [0, 0], [10, 10], args=(scale,), chunk_size=3)
        np.testing.assert_allclose(result["params"], truth, rtol=1e-7)

    def test_finite_difference_matches_analytic_jacobian(self):
        p = np.array([[1.5, 0.8], [0.2, 4.0]])
        numeric = levenberg_marquardt.finite_difference_jacobian(decay, p, (), np.array([0, 0]), np.array([9, 9]))
        np.testing.assert_allclose(numeric, decay_jacobian(p), atol=2e-7)

    def test_weights_ignore_an_outlier(self):
        truth = np.array([[2.0, 0.5]])
        y = decay(truth)
        y[0, 10] += 5.0
        weights = np.ones(T.size)
        weights[10] = 0.0
        result = levenberg_marquardt.fit(decay, np.ones((1, 2)), y, [0, 0], [10, 10], weights=weights)
        np.testing.assert_allclose(result["params"], truth, rtol=1e-7)

    def test_standard_errors_match_linear_theory(self):
        # For a model linear in its parameters, se = sigma_hat sqrt(diag((X^T X)^-1)) exactly.
        rng = np.random.default_rng(7)
        x = np.column_stack([np.ones_like(T), T])
        y = (x @ np.array([1.0, -0.3]))[None] + rng.normal(0, 0.05, (1, T.size))
        result = levenberg_marquardt.fit(lambda p: p @ x.T, np.zeros((1, 2)), y, [-10, -10], [10, 10])
        beta, rss = np.linalg.lstsq(x, y[0], rcond=None)[:2]
        expected = np.sqrt(np.diag(np.linalg.inv(x.T @ x)) * rss[0] / (T.size - 2))
        np.testing.assert_allclose(result["params"][0], beta, rtol=1e-6)
        np.testing.assert_allclose(result["se"][0], expected, rtol=1e-5)

    def test_unidentifiable_parameter_gives_nan_standard_error(self):
        # y = a * b * t: only the product is determined.
        result = levenberg_marquardt.fit(lambda p: (p[:, :1] * p[:, 1:2]) * T[None], np.ones((1, 2)),
                                         2.0 * T[None], [0, 0], [10, 10])
        self.assertAlmostEqual(result["params"][0, 0] * result["params"][0, 1], 2.0, places=6)
        np.testing.assert_array_equal(result["se"][0], np.nan)

    def test_too_few_iterations_is_failed_with_finite_estimate(self):
        result = levenberg_marquardt.fit(decay, np.array([[5.0, 8.0]]), decay(np.array([[1.0, 0.1]])), [0, 0], [10, 10],
                                         max_iter=1)
        self.assertEqual(result["status"][0], status.FAILED)
        np.testing.assert_array_equal(np.isfinite(result["params"]), True)

    def test_progress_is_reported_and_can_cancel(self):
        seen = []
        levenberg_marquardt.fit(decay, np.ones((20, 2)), decay(np.full((20, 2), 1.0)), [0, 0], [10, 10], chunk_size=5,
                                progress=lambda f, m="": seen.append(f))
        self.assertEqual(seen[-1], 1.0)
        self.assertTrue(all(b >= a for a, b in zip(seen, seen[1:])))
        flag = CancelFlag()
        flag.cancel()
        with self.assertRaises(Cancelled):
            levenberg_marquardt.fit(decay, np.ones((4, 2)), decay(np.ones((4, 2))), [0, 0], [10, 10], progress=flag)

    def test_bad_shapes_are_refused(self):
        with self.assertRaises(InputError):
            levenberg_marquardt.fit(decay, np.ones((3, 2)), np.ones((4, T.size)), [0, 0], [1, 1])
        with self.assertRaises(InputError):
            levenberg_marquardt.fit(decay, np.ones((3, 2)), np.ones((3, T.size)), [0, 0], [1, 1],
                                    weights=-np.ones(T.size))


class LinearAndQualityTest(unittest.TestCase):
    def test_batched_linear_fit_matches_lstsq(self):
        rng = np.random.default_rng(1)
        design = np.column_stack([np.ones_like(T), T, T ** 2])
        y = rng.normal(size=(5, T.size))
        y[3] = np.nan
        result = linear.fit_linear(design, y)
        for row in (0, 1, 2, 4):
            expected = np.linalg.lstsq(design, y[row], rcond=None)[0]
            np.testing.assert_allclose(result["params"][row], expected, rtol=1e-9, atol=1e-12)
            fitted = design @ expected
            self.assertAlmostEqual(result["rmse"][row], np.sqrt(np.mean((fitted - y[row]) ** 2)))
        self.assertEqual(result["status"][3], status.NO_SIGNAL)
        self.assertEqual(result["status"][0], status.OK)

    def test_singular_design_is_failed(self):
        design = np.column_stack([T, 2 * T])
        result = linear.fit_linear(design, np.ones((2, T.size)))
        np.testing.assert_array_equal(result["status"], status.FAILED)
        np.testing.assert_array_equal(result["params"], np.nan)

    def test_quality_measures(self):
        y = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]])
        fitted = np.array([[1.0, 2.0, 3.0, 5.0], [2.0, 2.0, 2.0, 2.0]])
        np.testing.assert_allclose(quality.rmse(fitted - y), [0.5, 0.0])
        self.assertAlmostEqual(quality.r2(y, fitted)[0], 1 - 1.0 / 5.0)
        self.assertTrue(np.isnan(quality.r2(y, fitted)[1]))


class ModelSelectionTest(unittest.TestCase):
    def test_aicc_formula(self):
        # n ln(RSS/n) + 2k + 2k(k+1)/(n-k-1) with n = 20, k = 3, RSS = 2
        self.assertAlmostEqual(model_selection.aicc(2.0, 20, 3), 20 * np.log(0.1) + 6 + 24 / 16)

    def test_f_test_matches_scipy(self):
        p = model_selection.f_test(10.0, 6.0, 30, 2, 3)
        statistic = (4.0 / 1) / (6.0 / 27)
        self.assertAlmostEqual(float(p), stats.f.sf(statistic, 1, 27))

    def test_selection_rules(self):
        n = 40
        # voxel 0: the extra parameter barely helps; voxel 1: it helps a lot.
        rss = np.array([[1.0, 1.0], [0.99, 0.3]])        # models (2 params, 3 params) x voxels
        choice_aicc, _ = model_selection.select_by_aicc(rss, n, [2, 3])
        choice_f, p = model_selection.select_by_f_test(rss, n, [2, 3])
        np.testing.assert_array_equal(choice_aicc, [0, 1])
        np.testing.assert_array_equal(choice_f, [0, 1])
        self.assertGreater(p[1, 0], 0.05)
        self.assertLess(p[1, 1], 1e-6)
        # Among equal-size models the lower RSS starts; a failed (NaN) model is never chosen.
        rss3 = np.array([[2.0, np.nan], [1.0, 1.0], [np.nan, 0.99]])
        choice_f3, _ = model_selection.select_by_f_test(rss3, n, [2, 2, 3])
        np.testing.assert_array_equal(choice_f3, [1, 1])
        choice_a3, _ = model_selection.select_by_aicc(rss3, n, [2, 2, 3])
        np.testing.assert_array_equal(choice_a3, [1, 1])


if __name__ == "__main__":
    unittest.main()


class ResidualFitTest(unittest.TestCase):
    """fit_residuals: the same engine on a residual that is not model - data (complex data stacked
    as real and imaginary parts, as the MRSI fit uses it)."""

    def test_complex_damped_oscillation_stacked_as_real(self):
        t = np.linspace(0.0, 1.0, 200)
        truth = np.array([[3.0, 7.0], [1.5, 11.0], [6.0, 4.0]])            # decay 1/s, frequency Hz

        def signal(p):
            return np.exp((-p[:, :1] + 2j * np.pi * p[:, 1:2]) * t)

        data = signal(truth)
        rows = np.arange(truth.shape[0])

        def residual(p, index):
            r = signal(p) - data[index]
            return np.concatenate([r.real, r.imag], axis=1)

        def jacobian(p, index):
            s = signal(p)
            d = np.stack([-t * s, 2j * np.pi * t * s], axis=-1)
            return np.concatenate([d.real, d.imag], axis=1)

        start = truth * np.array([1.15, 1.02])
        for jac in (jacobian, None):
            with self.subTest(analytic=jac is not None):
                result = levenberg_marquardt.fit_residuals(residual, start, 2 * t.size, [0.0, 0.0], [20.0, 20.0],
                                                           jacobian=jac, args=(rows,), standard_errors=False)
                np.testing.assert_allclose(result["params"], truth, rtol=1e-6)
                np.testing.assert_array_equal(result["status"], status.OK)
                np.testing.assert_array_equal(result["se"], np.nan)       # not computed when not asked
                np.testing.assert_array_equal(result["r2"], np.nan)       # no data to explain
                np.testing.assert_array_less(result["rmse"], 1e-8)

    def test_shape_errors(self):
        with self.assertRaises(InputError):
            levenberg_marquardt.fit_residuals(lambda p: p, np.ones(3), 3, [0], [1])
