"""Variable-projection fit of the Tofts and extended Tofts models (kinetics/tofts_projection.py)
against the bounded Levenberg-Marquardt engine it stands in for, and the shared-input
convolution recursion against the per-voxel one."""
import unittest

import numpy as np

from TMEMonitorLib import kinetics
from TMEMonitorLib.fitting import status
from TMEMonitorLib.kinetics import tofts_projection, voxelwise_fit
from TMEMonitorLib.kinetics.convolution import exp_conv
from TMEMonitorLib.kinetics.registry import MODULES

T_UNEVEN = np.concatenate([np.arange(0, 90, 2.0), np.arange(90, 300.1, 14.0)])[:60]
T_UNIFORM = np.arange(60) * 5.0


def aif(t_s):
    t = np.maximum(t_s - 10.0, 0.0) / 60.0
    return 6.0 * (t / 0.1) ** 2 * np.exp(-t / 0.05) + 1.2 * (1 - np.exp(-t / 0.05)) * np.exp(-0.15 * t)


def noisy_curves(model, t, n, seed, noise=0.01):
    rng = np.random.default_rng(seed)
    truth = {"Ktrans": rng.uniform(0.05, 0.5, n), "ve": rng.uniform(0.1, 0.6, n)}
    if model == "extended_tofts":
        truth["vp"] = rng.uniform(0.01, 0.1, n)
    cp = aif(t)
    return truth, cp, kinetics.concentration(model, t, cp, **truth) + rng.normal(0, noise, (n, t.size))


def bounded_engine(model, ct, t, cp):
    module = MODULES[model]
    return voxelwise_fit._fit_rows_bounded(module, ct, t, (t - t[0]) / 60.0, cp, module.LOWER, module.UPPER, False,
                                           (0.0, 20.0), 0.5, 100, 1e-8, voxelwise_fit.FTOL, None)


class SharedInputRecursionTest(unittest.TestCase):
    def test_shared_input_equals_per_voxel_input(self):
        for t in (T_UNEVEN, T_UNIFORM):
            cp = aif(t)
            k = np.geomspace(1e-3, 50.0, 300)           # >= 256 rates: the frame-by-frame path
            shared, d_shared = exp_conv(cp, t / 60.0, k, derivative=True)
            own, d_own = exp_conv(np.broadcast_to(cp, (k.size, t.size)).copy(), t / 60.0, k, derivative=True)
            np.testing.assert_allclose(shared, own, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(d_shared, d_own, rtol=1e-11, atol=1e-14)


class ProjectionFitTest(unittest.TestCase):
    def test_same_optimum_as_the_bounded_engine(self):
        for model in ("tofts", "extended_tofts"):
            for t in (T_UNEVEN, T_UNIFORM):
                with self.subTest(model=model, grid=t[1] - t[0]):
                    _, cp, ct = noisy_curves(model, t, 600, seed=1)
                    module = MODULES[model]
                    fast = tofts_projection.fit(ct, (t - t[0]) / 60.0, cp, module.LOWER, module.UPPER)
                    reference = bounded_engine(model, ct, t, cp)
                    used = ~fast["refit"]
                    self.assertGreater(used.mean(), 0.95)
                    # The same minimum: parameters equal to well within their standard errors, and
                    # residual sums equal to the convergence tolerance (ftol 1.49e-8 relative) of both.
                    difference = np.abs(fast["params"][used] - reference["params"][used])
                    self.assertTrue(np.all(difference <= 3e-3 * reference["se"][used] + 1e-9))
                    np.testing.assert_allclose(fast["rmse"][used] ** 2, reference["rmse"][used] ** 2, rtol=3e-8)
                    np.testing.assert_allclose(fast["se"][used], reference["se"][used], rtol=1e-3)
                    np.testing.assert_allclose(fast["r2"][used], reference["r2"][used], rtol=1e-6)
                    np.testing.assert_array_equal(fast["status"][used], status.OK)

    def test_optimum_outside_the_bounds_goes_to_the_bounded_engine(self):
        t = T_UNEVEN
        cp = aif(t)
        # vp = 0 in truth plus noise: about half the unconstrained optima have vp < 0.
        truth = {"Ktrans": np.full(200, 0.2), "ve": np.full(200, 0.3), "vp": np.zeros(200)}
        ct = kinetics.concentration("extended_tofts", t, cp, **truth) \
            + np.random.default_rng(2).normal(0, 0.01, (200, t.size))
        module = MODULES["extended_tofts"]
        fast = tofts_projection.fit(ct, (t - t[0]) / 60.0, cp, module.LOWER, module.UPPER)
        self.assertTrue(0.2 < fast["refit"].mean() < 0.8)
        result = kinetics.fit("extended_tofts", ct, t, cp)
        refit = fast["refit"]
        self.assertTrue(np.all(result["vp"] >= 0.0))
        np.testing.assert_array_equal(result["status"][refit], status.HIT_BOUND)
        np.testing.assert_array_equal(result["status"][~refit], status.OK)

    def test_noise_free_recovery_is_exact(self):
        t = T_UNIFORM
        cp = aif(t)
        truth = {"Ktrans": np.array([0.01, 0.1, 0.4, 2.0]), "ve": np.array([0.02, 0.2, 0.5, 0.9]),
                 "vp": np.array([0.002, 0.02, 0.1, 0.4])}
        ct = kinetics.concentration("extended_tofts", t, cp, **truth)
        module = MODULES["extended_tofts"]
        fast = tofts_projection.fit(ct, (t - t[0]) / 60.0, cp, module.LOWER, module.UPPER)
        self.assertFalse(fast["refit"].any())
        for index, name in enumerate(module.PARAMETERS):
            np.testing.assert_allclose(fast["params"][:, index], truth[name], rtol=1e-6, err_msg=name)

    def test_zero_input_function_is_left_to_the_bounded_engine(self):
        t = T_UNEVEN
        ct = np.random.default_rng(3).normal(0, 0.01, (300, t.size))
        module = MODULES["extended_tofts"]
        fast = tofts_projection.fit(ct, (t - t[0]) / 60.0, np.zeros(t.size), module.LOWER, module.UPPER)
        self.assertTrue(fast["refit"].all())


if __name__ == "__main__":
    unittest.main()
