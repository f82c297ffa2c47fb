"""R2*, R2 and R2' against analytic truth: exact on noise-free data, unbiased with noise, noise floor,
field-gradient correction, statuses at the bounds and bad echo times refused."""
import unittest

import numpy as np

from HypoxiaModuleLib import field_gradient, synthesis
from HypoxiaModuleLib.relaxometry import fit_r2, fit_r2star, r2_prime
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.fitting import status as st

TE = 0.002 + 0.003 * np.arange(12)          # 2 .. 35 ms, uniform


def truth(n=2000, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(5.0, 500.0, n), rng.uniform(200.0, 2000.0, n)


class NoiseFreeTest(unittest.TestCase):
    def test_every_method_recovers_r2star(self):
        r2s, s0 = truth()
        signal = synthesis.multi_echo(r2s, s0, TE)
        for method, tol in (("loglinear", 1e-6), ("nonlinear", 1e-6), ("arlo", 5e-2)):
            with self.subTest(method=method):
                fit = fit_r2star(signal, TE, method, noise_sigma=None)
                np.testing.assert_allclose(fit["R2star"], r2s, rtol=tol)
                np.testing.assert_allclose(fit["T2star"], 1.0 / r2s, rtol=tol)
                self.assertTrue(np.all(fit["status"] == st.OK))
                self.assertTrue(np.all(fit["n_echoes_used"] == TE.size))
                if tol == 1e-6:
                    np.testing.assert_allclose(fit["S0"], s0, rtol=1e-6)
                    self.assertTrue(np.all(fit["r2"] > 1 - 1e-9))

    def test_arlo_small_spacing_is_close(self):
        r2s = np.array([20.0, 50.0])
        fit = fit_r2star(synthesis.multi_echo(r2s, 1000.0, TE), TE, "arlo", noise_sigma=None)
        np.testing.assert_allclose(fit["R2star"], r2s, rtol=2e-3)

    def test_r2_and_r2prime_exact(self):
        r2s, s0 = truth(500)
        r2 = r2s * 0.4
        te_se = 0.01 * np.arange(1, 9)
        fit_s = fit_r2star(synthesis.multi_echo(r2s, s0, TE), TE, noise_sigma=None)
        fit_2 = fit_r2(synthesis.multi_echo(r2, s0, te_se), te_se, noise_sigma=None)
        np.testing.assert_allclose(fit_2["R2"], r2, rtol=1e-6)
        prime, status = r2_prime(fit_s["R2star"], fit_2["R2"], fit_s["status"], fit_2["status"])
        np.testing.assert_allclose(prime, r2s - r2, rtol=1e-6, atol=1e-6)
        self.assertTrue(np.all(status == st.OK))
        skipped = fit_r2(synthesis.multi_echo(r2, s0, te_se), te_se, noise_sigma=None, skip_first_echo=True)
        np.testing.assert_allclose(skipped["R2"], r2, rtol=1e-6)
        self.assertTrue(np.all(skipped["n_echoes_used"] == te_se.size - 1))

    def test_shape_mask_and_leading_dims(self):
        r2s = np.full((2, 3, 4), 40.0)
        signal = synthesis.multi_echo(r2s, 500.0, TE)
        mask = np.zeros((2, 3, 4), bool)
        mask[0] = True
        fit = fit_r2star(signal, TE, mask=mask, noise_sigma=None)
        self.assertEqual(fit["R2star"].shape, (2, 3, 4))
        self.assertTrue(np.all(fit["status"][1] == st.MASKED))
        self.assertTrue(np.all(np.isnan(fit["R2star"][1])))
        np.testing.assert_allclose(fit["R2star"][0], 40.0, rtol=1e-6)


class NoiseTest(unittest.TestCase):
    def test_unbiased_at_moderate_snr(self):
        rng = np.random.default_rng(3)
        r2s = np.full(20000, 40.0)
        signal = synthesis.multi_echo(r2s, 1000.0, TE, noise_sigma=20.0, rng=rng)     # SNR 50
        for method in ("nonlinear", "loglinear", "arlo"):
            fit = fit_r2star(signal, TE, method, noise_sigma=20.0)
            self.assertLess(abs(np.nanmedian(fit["R2star"]) / 40.0 - 1.0), 0.02, method)
            self.assertLess(np.nanstd(fit["R2star"]) / 40.0, 0.1, method)

    def test_noise_floor_leaves_out_echoes_and_counts_them(self):
        rng = np.random.default_rng(4)
        r2s = np.full(5000, 150.0)                      # T2* 6.7 ms: the late echoes are at the floor (SNR 20)
        sigma = 50.0
        signal = synthesis.multi_echo(r2s, 1000.0, TE, noise_sigma=sigma, rng=rng)
        with_floor = fit_r2star(signal, TE, "loglinear", noise_sigma=sigma)
        without = fit_r2star(signal, TE, "loglinear", noise_sigma=None)
        self.assertTrue(np.all(with_floor["n_echoes_used"] < TE.size))
        self.assertTrue(np.all(without["n_echoes_used"] == TE.size))
        # floor echoes drag R2* down when they are fitted; leaving them out removes most of that bias
        self.assertLess(np.nanmedian(without["R2star"]), 0.8 * 150.0)
        self.assertLess(abs(np.nanmedian(with_floor["R2star"]) / 150.0 - 1), 0.12)

    def test_noise_estimated_from_background(self):
        rng = np.random.default_rng(5)
        r2s = np.full((20, 20), 300.0)
        s0 = np.zeros((20, 20))
        s0[5:15, 5:15] = 1000.0
        signal = synthesis.multi_echo(r2s, s0, TE, noise_sigma=10.0, rng=rng)
        fit = fit_r2star(signal, TE)
        self.assertAlmostEqual(fit["noise_sigma"], 10.0, delta=0.6)
        self.assertIn("Rayleigh", fit["noise_sigma_source"])
        self.assertTrue(np.all(fit["status"][0] == st.NO_SIGNAL))     # background: no echo above the floor


class BoundsAndGradientTest(unittest.TestCase):
    def test_hit_bound_status_and_value(self):
        signal = np.vstack([synthesis.multi_echo(np.array([3000.0]), 1000.0, TE),
                            1000.0 * np.ones((1, TE.size))])         # no decay: R2* = 0
        for method in ("loglinear", "nonlinear"):
            fit = fit_r2star(signal, TE, method, noise_sigma=None, r2star_bounds_per_s=(0.0, 1000.0))
            self.assertEqual(fit["status"][1], st.HIT_BOUND, method)
            self.assertEqual(fit["R2star"][1], 0.0)
            self.assertTrue(np.isnan(fit["T2star"][1]))

    def test_sinc_correction_removes_gradient_bias(self):
        shape = (3, 8, 8)
        field = np.zeros(shape) + 15.0 * np.arange(8)[None, None, :]      # 15 Hz per voxel along i
        spreads = field_gradient.spread_from_field_map(field)
        factors = field_gradient.sinc_factors(spreads, TE)
        r2s = np.full(shape, 30.0)
        signal = synthesis.multi_echo(r2s, 1000.0, TE, gradient_factors=factors)
        plain = fit_r2star(signal, TE, noise_sigma=None)
        corrected = fit_r2star(signal, TE, noise_sigma=None, gradient_factors=factors)
        self.assertGreater(np.nanmean(plain["R2star"]), 33.0)
        np.testing.assert_allclose(corrected["R2star"], 30.0, rtol=1e-6)

    def test_spread_from_complex_data_matches_the_field(self):
        shape = (3, 8, 8)
        field = 40.0 + 15.0 * np.arange(8)[None, None, :] + 0.0 * np.zeros(shape)
        z = synthesis.multi_echo(np.full(shape, 30.0), 1000.0, TE, field_map_hz=field, magnitude=False)
        spreads = field_gradient.spread_from_complex(z, TE)
        np.testing.assert_allclose(spreads[2], 15.0, atol=1e-9)
        np.testing.assert_allclose(spreads[0], 0.0, atol=1e-9)


class EchoTimeErrorTest(unittest.TestCase):
    def test_bad_echo_times_refused(self):
        signal = np.ones((2, 4))
        cases = {"fewer than 3": ([0.002, 0.004], np.ones((2, 2))),
                 "unsorted": ([0.002, 0.006, 0.004, 0.008], signal),
                 "duplicate": ([0.002, 0.004, 0.004, 0.008], signal),
                 "ms": ([2.0, 4.0, 6.0, 8.0], signal),
                 "count": ([0.002, 0.004, 0.006], signal)}
        for name, (te, data) in cases.items():
            with self.subTest(name), self.assertRaises(InputError):
                fit_r2star(data, te)
        with self.assertRaises(MetadataError):
            fit_r2star(signal, None)

    def test_arlo_needs_uniform_spacing(self):
        te = np.array([0.002, 0.004, 0.007, 0.011])
        with self.assertRaisesRegex(InputError, "equally spaced"):
            fit_r2star(synthesis.multi_echo(np.array([30.0]), 100.0, te), te, "arlo")

    def test_unknown_method(self):
        with self.assertRaises(InputError):
            fit_r2star(np.ones((1, 4)), TE[:4], "magic")


if __name__ == "__main__":
    unittest.main()


class NoiseFromBackgroundWithMaskTest(unittest.TestCase):
    """A tumour mask leaves body tissue outside it: that tissue is not background noise."""

    def test_sigma_from_air_not_from_tissue_outside_a_tumour_mask(self):
        from HypoxiaModuleLib.noise_floor import estimate_noise_sigma
        rng = np.random.default_rng(3)
        te = np.linspace(0.002, 0.024, 12)
        sigma = 2.0
        n_air, n_body, n_tumour = 2000, 3000, 200
        body = 1000.0 * np.exp(-te * 30.0)
        clean = np.concatenate([np.zeros((n_air, te.size)), np.tile(body, (n_body + n_tumour, 1))])
        noisy = np.abs(clean + rng.normal(0, sigma, clean.shape) + 1j * rng.normal(0, sigma, clean.shape))
        tumour = np.zeros(len(noisy), bool)
        tumour[-n_tumour:] = True
        estimate, source = estimate_noise_sigma(noisy, mask=tumour)
        self.assertAlmostEqual(estimate, sigma, delta=0.1 * sigma)
        self.assertIn("outside the mask", source)
