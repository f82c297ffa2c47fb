"""Kinetic models and the fitting engine against analytic truth."""
import unittest

import numpy as np

from TMEMonitorLib import kinetics
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt, status
from TMEMonitorLib.kinetics.convolution import exp_conv


def parker_like_aif(t_s):
    """A smooth bolus (mM) for analytic tests: gamma-variate first pass plus a slow washout."""
    t = np.maximum(t_s - 10.0, 0.0) / 60.0
    return 6.0 * (t / 0.1) ** 2 * np.exp(-t / 0.05) + 1.2 * (1 - np.exp(-t / 0.05)) * np.exp(-0.15 * t)


UNEVEN_T = np.concatenate([np.arange(0.0, 60.0, 1.5), np.arange(60.0, 330.0, 6.0)])
TRUTH = {
    "tofts": {"Ktrans": [0.02, 0.25, 1.5], "ve": [0.05, 0.35, 0.8]},
    "extended_tofts": {"Ktrans": [0.02, 0.25, 1.5], "ve": [0.05, 0.35, 0.8], "vp": [0.005, 0.05, 0.3]},
    "patlak": {"Ktrans": [0.005, 0.05, 0.2], "vp": [0.01, 0.05, 0.3]},
    "2cxm": {"Fp": [0.2, 0.8, 2.5], "PS": [0.05, 0.2, 0.6], "ve": [0.1, 0.3, 0.5], "vp": [0.02, 0.06, 0.15]},
    "2cum": {"Fp": [0.2, 0.8, 2.5], "PS": [0.02, 0.2, 0.6], "vp": [0.02, 0.06, 0.15]},
}


class ConvolutionTest(unittest.TestCase):
    def test_constant_input_limit(self):
        t = np.linspace(0, 10, 41)
        result = exp_conv(np.ones_like(t), t, np.array([0.0, 0.7, 50.0]))
        np.testing.assert_allclose(result[0], t, rtol=1e-12)
        np.testing.assert_allclose(result[1], (1 - np.exp(-0.7 * t)) / 0.7, rtol=1e-10)
        np.testing.assert_allclose(result[2], (1 - np.exp(-50 * t)) / 50, rtol=1e-10)

    def test_linear_input_on_uneven_grid_is_exact(self):
        t = np.array([0.0, 0.1, 0.35, 0.4, 1.1, 2.0, 3.7])
        k = np.array([0.3, 4.0, 300.0])
        result = exp_conv(2.0 * t, t, k)
        exact = 2.0 * (t[None, :] / k[:, None] - (1 - np.exp(-k[:, None] * t[None, :])) / k[:, None] ** 2)
        np.testing.assert_allclose(result, exact, rtol=1e-9, atol=1e-14)

    def test_discrete_convolution_would_be_wrong_at_high_kep(self):
        # The exact recursion differs from a naive Riemann sum by > 10 % at kep = 5/min on 5 s frames.
        t = np.arange(0, 300, 5.0) / 60.0
        cp = parker_like_aif(t * 60)
        exact = exp_conv(cp, t, np.array([5.0]))[0]
        naive = np.array([np.sum(cp[:i + 1] * np.exp(-5.0 * (t[i] - t[:i + 1]))) * (t[1] - t[0]) for i in range(t.size)])
        peak = np.argmax(exact)
        self.assertGreater(abs(naive[peak] - exact[peak]) / exact[peak], 0.1)


class ModelRecoveryTest(unittest.TestCase):
    def test_noise_free_recovery_to_0_1_percent(self):
        cp = parker_like_aif(UNEVEN_T)
        for model, truth in TRUTH.items():
            with self.subTest(model=model):
                params = {k: np.array(v) for k, v in truth.items()}
                ct = kinetics.concentration(model, UNEVEN_T, cp, **params)
                result = kinetics.fit(model, ct, UNEVEN_T, cp)
                for name, values in params.items():
                    np.testing.assert_allclose(result[name], values, rtol=1e-3, err_msg=f"{model} {name}")
                self.assertTrue(np.all(result["status"] == status.OK))

    def test_delay_recovery(self):
        cp = parker_like_aif(UNEVEN_T)
        params = {k: np.array(v) for k, v in TRUTH["extended_tofts"].items()}
        delays = np.array([2.0, 4.5, 9.0])
        ct = kinetics.concentration("extended_tofts", UNEVEN_T, cp, delay_s=delays, **params)
        result = kinetics.fit("extended_tofts", ct, UNEVEN_T, cp, fit_delay=True)
        np.testing.assert_allclose(result["delay_s"], delays, atol=0.05)
        np.testing.assert_allclose(result["Ktrans"], params["Ktrans"], rtol=1e-2)

    def test_mask_and_nan_rows_are_flagged(self):
        cp = parker_like_aif(UNEVEN_T)
        ct = kinetics.concentration("tofts", UNEVEN_T, cp, Ktrans=np.full(3, 0.2), ve=np.full(3, 0.3))
        ct[1, 5] = np.nan
        result = kinetics.fit("tofts", ct, UNEVEN_T, cp, mask=np.array([True, True, False]))
        self.assertEqual(list(result["status"]), [status.OK, status.NO_SIGNAL, status.MASKED])
        self.assertTrue(np.isnan(result["Ktrans"][1]) and np.isnan(result["Ktrans"][2]))

    def test_bad_aif_length_is_refused(self):
        with self.assertRaises(InputError):
            kinetics.fit("tofts", np.zeros((2, 10)), np.arange(10.0), np.zeros(8))
        with self.assertRaises(InputError):
            kinetics.fit("nonsense", np.zeros((2, 10)), np.arange(10.0), np.zeros(10))

    def test_model_selection_prefers_the_true_model(self):
        cp = parker_like_aif(UNEVEN_T)
        rng = np.random.default_rng(0)
        patlak = kinetics.concentration("patlak", UNEVEN_T, cp, Ktrans=np.full(20, 0.05), vp=np.full(20, 0.05))
        tofts = kinetics.concentration("tofts", UNEVEN_T, cp, Ktrans=np.full(20, 0.5), ve=np.full(20, 0.2))
        ct = np.concatenate([patlak, tofts]) + rng.normal(0, 0.005, (40, UNEVEN_T.size))
        choice, _, _ = kinetics.select_model(ct, UNEVEN_T, cp, models=("patlak", "tofts", "extended_tofts"))
        self.assertGreater(np.mean(choice[:20] != 1), 0.8)     # not Tofts for Patlak data
        self.assertGreater(np.mean(choice[20:] == 1), 0.8)     # Tofts chosen for Tofts data


class EngineTest(unittest.TestCase):
    @staticmethod
    def decay(p, t=np.linspace(0, 5, 30)):
        return p[:, :1] * np.exp(-p[:, 1:2] * t[None, :])

    def test_exponential_and_bounds(self):
        truth = np.array([[2.0, 0.5], [1.0, 3.0], [0.5, 6.0]])
        y = self.decay(truth)
        result = levenberg_marquardt.fit(self.decay, np.ones((3, 2)), y, [0, 0], [10, 5.0])
        np.testing.assert_allclose(result["params"][:2], truth[:2], rtol=1e-6)
        self.assertEqual(result["status"][2], status.HIT_BOUND)
        self.assertAlmostEqual(result["params"][2, 1], 5.0)

    def test_chunks_give_the_same_answer(self):
        rng = np.random.default_rng(3)
        truth = np.column_stack([rng.uniform(0.5, 2, 50), rng.uniform(0.2, 3, 50)])
        y = self.decay(truth) + rng.normal(0, 0.01, (50, 30))
        whole = levenberg_marquardt.fit(self.decay, np.ones((50, 2)), y, [0, 0], [10, 10])
        chunked = levenberg_marquardt.fit(self.decay, np.ones((50, 2)), y, [0, 0], [10, 10], chunk_size=7)
        np.testing.assert_allclose(whole["params"], chunked["params"], rtol=1e-8)
        self.assertTrue(np.all(np.isfinite(whole["se"])))

    def test_finite_difference_matches_analytic_jacobian(self):
        p = np.array([[1.5, 0.8]])
        t = np.linspace(0, 5, 30)
        numeric = levenberg_marquardt.finite_difference_jacobian(self.decay, p, (), np.array([0, 0]), np.array([9, 9]))
        analytic = np.stack([np.exp(-0.8 * t), -1.5 * t * np.exp(-0.8 * t)], axis=-1)[None]
        np.testing.assert_allclose(numeric, analytic, atol=1e-6)


if __name__ == "__main__":
    unittest.main()
