"""Kinetic models, their exact convolution and Jacobians, and the voxel-wise fit, against
analytic truth and brute-force numerical integration."""
import threading
import unittest

import numpy as np
from scipy.integrate import trapezoid

from TMEMonitorLib import kinetics
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status
from TMEMonitorLib.kinetics import voxelwise_fit
from TMEMonitorLib.kinetics.convolution import exp_conv, shift, shift_derivative
from TMEMonitorLib.kinetics.registry import MODULES


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


    def test_against_brute_force_integral_on_uneven_grid(self):
        # Reference: trapezoid rule for the convolution integral of the piecewise-linear input
        # on a 0.01 s grid that contains every sample time (error ~ (k h)^2 / 12 < 1e-6).
        t_s = UNEVEN_T
        cp = parker_like_aif(t_s)
        kep = np.array([0.0, 0.05, 0.5, 2.0, 5.0, 30.0])          # 1/min; 5/min breaks naive sums
        reference = np.zeros((kep.size, t_s.size))
        for i, t_i in enumerate(t_s[1:], start=1):
            u = np.linspace(0.0, t_i, int(round(t_i / 0.01)) + 1)
            integrand = np.interp(u, t_s, cp)[None, :] * np.exp(-kep[:, None] * (t_i - u)[None, :] / 60.0)
            reference[:, i] = trapezoid(integrand, u, axis=1) / 60.0
        # Few voxels run the blocked closed form, many the frame-by-frame recursion: both exact.
        for repeats in (1, 60):
            with self.subTest(voxels=kep.size * repeats):
                result = exp_conv(cp, t_s / 60.0, np.tile(kep, repeats))[:kep.size]
                np.testing.assert_allclose(result, reference, rtol=2e-5, atol=1e-7)

    def test_derivative_with_respect_to_rate(self):
        t = UNEVEN_T / 60.0
        cp = parker_like_aif(UNEVEN_T)
        k = np.array([0.0, 1e-3, 0.3, 5.0, 200.0, 2e4])
        for repeats in (1, 60):
            kk = np.tile(k, repeats)
            with self.subTest(voxels=kk.size):
                value, derivative = exp_conv(cp, t, kk, derivative=True)
                np.testing.assert_allclose(value, exp_conv(cp, t, kk), rtol=1e-12, atol=1e-15)
                h = 1e-5 * np.maximum(kk, 1e-2)
                numeric = (exp_conv(cp, t, kk + h) - exp_conv(cp, t, np.maximum(kk - h, 0))) / \
                    (kk + h - np.maximum(kk - h, 0))[:, None]
                scale = np.abs(derivative).max(axis=1, keepdims=True)
                np.testing.assert_allclose(derivative / scale, numeric / scale, atol=1e-6)

    def test_per_voxel_input_equals_shared_input(self):
        t = UNEVEN_T / 60.0
        cp = parker_like_aif(UNEVEN_T)
        k = np.array([0.1, 1.0, 8.0])
        np.testing.assert_allclose(exp_conv(np.tile(cp, (3, 1)), t, k), exp_conv(cp, t, k), rtol=1e-13, atol=1e-15)

    def test_shift_and_its_derivative(self):
        t = UNEVEN_T
        cp = parker_like_aif(t)
        delays = np.array([0.0, 3.3, 12.7])
        shifted = shift(cp, t, delays)
        for row, d in enumerate(delays):
            np.testing.assert_allclose(shifted[row], np.interp(t - d, t, cp, left=0.0), atol=1e-14)
        h = 1e-4
        numeric = (shift(cp, t, delays + h) - shift(cp, t, delays - h)) / (2 * h)
        # Away from the kinks (sample points) the central difference is exact for a piecewise-linear curve.
        np.testing.assert_allclose(shift_derivative(cp, t, delays)[1:], numeric[1:], atol=1e-6)


class JacobianTest(unittest.TestCase):
    PARAMS = {"tofts": [[0.2, 0.3], [1.5, 0.1]], "extended_tofts": [[0.2, 0.3, 0.05], [1.5, 0.1, 0.2]],
              "patlak": [[0.1, 0.05], [0.01, 0.3]], "2cum": [[0.5, 0.1, 0.05], [2.0, 0.5, 0.2]],
              "2cxm": [[0.5, 0.1, 0.3, 0.05], [2.0, 0.5, 0.2, 0.1], [0.05, 0.02, 0.4, 0.01]]}

    @staticmethod
    def _central(forward, p):
        numeric = np.empty(forward(p).shape + (p.shape[1],))
        for j in range(p.shape[1]):
            h = 1e-6 * np.maximum(np.abs(p[:, j]), 1e-3)
            up, down = p.copy(), p.copy()
            up[:, j] += h
            down[:, j] -= h
            numeric[..., j] = (forward(up) - forward(down)) / (2 * h[:, None])
        return numeric

    def test_analytic_jacobians_equal_finite_differences(self):
        t = UNEVEN_T
        t_min = (t - t[0]) / 60.0
        cp = parker_like_aif(t)
        for model, values in self.PARAMS.items():
            module = MODULES[model]
            for fit_delay in (False, True):
                with self.subTest(model=model, delay=fit_delay):
                    p = np.array(values, float)
                    if fit_delay:
                        p = np.column_stack([p, np.linspace(2.2, 7.7, p.shape[0])])   # between samples
                    forward, jacobian, evaluate = voxelwise_fit._model_functions(module, t, t_min, cp, fit_delay)
                    analytic = jacobian(p)
                    numeric = self._central(forward, p)
                    scale = np.abs(numeric).max(axis=1, keepdims=True)
                    np.testing.assert_allclose(analytic / scale, numeric / scale, atol=1e-6)
                    if evaluate is not None:     # the one-pass form gives the same model and Jacobian
                        value, both = evaluate(p)
                        np.testing.assert_allclose(value, forward(p), rtol=1e-12, atol=1e-15)
                        np.testing.assert_allclose(both, analytic, rtol=1e-12, atol=1e-15)


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
                np.testing.assert_array_equal(result["status"], status.OK)

    def test_delay_recovery(self):
        cp = parker_like_aif(UNEVEN_T)
        cases = (("extended_tofts", np.array([2.0, 4.5, 9.0]), ("Ktrans",)),
                 ("2cum", np.array([1.5, 6.0, 11.0]), ("Fp", "PS")))
        for model, delays, checked in cases:
            with self.subTest(model=model):
                params = {k: np.array(v) for k, v in TRUTH[model].items()}
                ct = kinetics.concentration(model, UNEVEN_T, cp, delay_s=delays, **params)
                result = kinetics.fit(model, ct, UNEVEN_T, cp, fit_delay=True)
                np.testing.assert_allclose(result["delay_s"], delays, atol=0.05)
                for name in checked:
                    np.testing.assert_allclose(result[name], params[name], rtol=1e-2, err_msg=name)

    def test_derived_parameters(self):
        cp = parker_like_aif(UNEVEN_T)
        truth = {k: np.array(v) for k, v in TRUTH["2cxm"].items()}
        ct = kinetics.concentration("2cxm", UNEVEN_T, cp, **truth)
        result = kinetics.fit("2cxm", ct, UNEVEN_T, cp)
        extraction = truth["PS"] / (truth["PS"] + truth["Fp"])
        np.testing.assert_allclose(result["E"], extraction, rtol=2e-3)
        np.testing.assert_allclose(result["Ktrans"], extraction * truth["Fp"], rtol=2e-3)
        for model, names in (("tofts", ("kep",)), ("patlak", ("PS",)), ("2cum", ("Ktrans", "E"))):
            self.assertEqual(kinetics.MODELS[model]["derived"], names)

    def test_volume_shaped_input_and_threaded_chunks(self):
        # (4, 5, 30, T) volume, fitted in chunks on two threads; progress comes back on this thread.
        cp = parker_like_aif(UNEVEN_T)
        rng = np.random.default_rng(5)
        ktrans = rng.uniform(0.05, 0.6, (4, 5, 30))
        ve = rng.uniform(0.1, 0.6, (4, 5, 30))
        ct = kinetics.concentration("tofts", UNEVEN_T, cp, Ktrans=ktrans, ve=ve)
        calls = []
        result = kinetics.fit("tofts", ct, UNEVEN_T, cp, chunk_size=100, threads=2,
                              progress=lambda f, m="": calls.append((f, threading.current_thread())))
        self.assertEqual(result["Ktrans"].shape, ktrans.shape)
        np.testing.assert_allclose(result["Ktrans"], ktrans, rtol=1e-3)
        np.testing.assert_allclose(result["ve"], ve, rtol=1e-3)
        self.assertEqual(calls[-1][0], 1.0)
        self.assertTrue(all(thread is threading.main_thread() for _, thread in calls))

    def test_bounds_override_is_applied(self):
        cp = parker_like_aif(UNEVEN_T)
        ct = kinetics.concentration("tofts", UNEVEN_T, cp, Ktrans=np.array([0.8]), ve=np.array([0.3]))
        result = kinetics.fit("tofts", ct, UNEVEN_T, cp, bounds={"Ktrans": (0.0, 0.5)})
        self.assertAlmostEqual(float(result["Ktrans"][0]), 0.5)
        self.assertEqual(result["status"][0], status.HIT_BOUND)
        with self.assertRaises(InputError):
            kinetics.fit("tofts", ct, UNEVEN_T, cp, bounds={"vp": (0, 1)})

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
        with self.assertRaises(InputError):
            kinetics.fit("tofts", np.zeros((2, 10)), np.arange(10.0)[::-1], np.zeros(10))
        with self.assertRaises(InputError):
            kinetics.fit("tofts", np.zeros((2, 10)), np.arange(10.0), np.zeros(10), mask=np.ones(3, bool))
        with self.assertRaises(InputError):
            kinetics.concentration("tofts", np.arange(10.0), np.zeros(10), Ktrans=0.1)

    def test_model_selection_prefers_the_true_model(self):
        cp = parker_like_aif(UNEVEN_T)
        rng = np.random.default_rng(0)
        patlak = kinetics.concentration("patlak", UNEVEN_T, cp, Ktrans=np.full(20, 0.05), vp=np.full(20, 0.05))
        tofts = kinetics.concentration("tofts", UNEVEN_T, cp, Ktrans=np.full(20, 0.5), ve=np.full(20, 0.2))
        ct = np.concatenate([patlak, tofts]) + rng.normal(0, 0.005, (40, UNEVEN_T.size))
        choice, _, _ = kinetics.select_model(ct, UNEVEN_T, cp, models=("patlak", "tofts", "extended_tofts"))
        self.assertGreater(np.mean(choice[:20] != 1), 0.8)     # not Tofts for Patlak data
        self.assertGreater(np.mean(choice[20:] == 1), 0.8)     # Tofts chosen for Tofts data

    def test_f_test_selection_of_nested_models(self):
        cp = parker_like_aif(UNEVEN_T)
        rng = np.random.default_rng(2)
        tofts = kinetics.concentration("tofts", UNEVEN_T, cp, Ktrans=np.full(20, 0.3), ve=np.full(20, 0.3))
        extended = kinetics.concentration("extended_tofts", UNEVEN_T, cp, Ktrans=np.full(20, 0.3),
                                          ve=np.full(20, 0.3), vp=np.full(20, 0.1))
        ct = np.concatenate([tofts, extended]) + rng.normal(0, 0.005, (40, UNEVEN_T.size))
        choice, fits, p_values = kinetics.select_model(ct, UNEVEN_T, cp, models=("tofts", "extended_tofts"),
                                                       criterion="f_test")
        self.assertGreater(np.mean(choice[:20] == 0), 0.8)       # about alpha = 5 % false upgrades
        np.testing.assert_array_equal(choice[20:], 1)
        np.testing.assert_array_less(p_values[1, 20:], 1e-6)
        with self.assertRaises(InputError):
            kinetics.select_model(ct, UNEVEN_T, cp, criterion="bic")


class MonteCarloTest(unittest.TestCase):
    def test_noisy_recovery_is_unbiased_and_standard_errors_are_honest(self):
        # Extended Tofts at SNR ~ 40 on the peak: bias well under the SD, and the SD over
        # repeats agrees with the mean standard error the fit reports (within 25 %).
        cp = parker_like_aif(UNEVEN_T)
        truth = {"Ktrans": np.array([0.1, 0.4]), "ve": np.array([0.2, 0.4]), "vp": np.array([0.05, 0.02])}
        summary = kinetics.monte_carlo("extended_tofts", truth, UNEVEN_T, cp, noise_sd_mM=0.01, n_repeats=150, seed=11)
        for name in ("Ktrans", "ve", "vp"):
            with self.subTest(parameter=name):
                stats = summary[name]
                np.testing.assert_array_less(np.abs(stats["bias"]),
                                             4 * stats["sd"] / np.sqrt(150) + 0.02 * stats["truth"])
                np.testing.assert_allclose(stats["mean_se"], stats["sd"], rtol=0.25)
        np.testing.assert_array_equal(summary["fraction_ok"], 1.0)


if __name__ == "__main__":
    unittest.main()
