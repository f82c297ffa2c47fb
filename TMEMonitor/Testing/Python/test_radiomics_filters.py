"""IBSI 2 filters against analytic truth: padding on a known array, mean of a constant, LoG
of a Gaussian blob, wavelet filter coefficients and energy conservation, rotation
invariance on rotated inputs, Gabor and Simoncelli properties, and the SimpleITK wrapper."""
import itertools
import unittest

import numpy as np
import SimpleITK as sitk

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.radiomics import filter_image
from TMEMonitorLib.radiomics.filters import apply_filter
from TMEMonitorLib.radiomics.filters.padding import pad
from TMEMonitorLib.radiomics.filters.wavelet_coefficients import highpass, lowpass

SUBBANDS_3D = ["".join(s) for s in itertools.product("LH", repeat=3)]


class PaddingTest(unittest.TestCase):
    def test_modes_on_a_known_array(self):
        a = np.array([1.0, 2.0, 3.0, 4.0])
        np.testing.assert_array_equal(pad(a, 2, "constant"), [0, 0, 1, 2, 3, 4, 0, 0])
        np.testing.assert_array_equal(pad(a, 2, "nearest"), [1, 1, 1, 2, 3, 4, 4, 4])
        np.testing.assert_array_equal(pad(a, 2, "periodic"), [3, 4, 1, 2, 3, 4, 1, 2])
        np.testing.assert_array_equal(pad(a, 2, "mirror"), [2, 1, 1, 2, 3, 4, 4, 3])
        with self.assertRaises(InputError):
            pad(a, 1, "reflect101")

    def test_mean_filter_edge_values_follow_the_padding(self):
        a = np.zeros((1, 1, 4))
        a[0, 0] = [1.0, 2.0, 3.0, 4.0]
        expected = {"constant": (0 + 1 + 2) / 3, "nearest": (1 + 1 + 2) / 3,
                    "periodic": (4 + 1 + 2) / 3, "mirror": (1 + 1 + 2) / 3}
        for mode, value in expected.items():
            out = apply_filter(a, (1, 1, 1), {"filter": "mean", "support": 3, "padding": mode,
                                              "dimensions": "2D"})
            # 2D filter in the (y, x) plane: y has one row, padded by the same mode
            self.assertAlmostEqual(out[0, 0, 0], value if mode != "constant" else (0 + 1 + 2) / 9, places=12, msg=mode)


class MeanAndLoGTest(unittest.TestCase):
    def test_mean_of_a_constant_is_the_constant(self):
        a = np.full((7, 8, 9), 3.5)
        for mode in ("nearest", "periodic", "mirror"):
            out = apply_filter(a, (1, 1, 1), {"filter": "mean", "support": 5, "padding": mode})
            np.testing.assert_allclose(out, 3.5, rtol=1e-12)
        out = apply_filter(a, (1, 1, 1), {"filter": "mean", "support": 5, "padding": "constant"})
        self.assertAlmostEqual(out[3, 4, 4], 3.5)
        self.assertAlmostEqual(out[0, 0, 0], 3.5 * 27 / 125)     # 3 of 5 inside along each axis

    def test_log_of_a_gaussian_blob(self):
        # f = exp(-r^2 / 2 s^2); G_sigma * f = (s^2/t)^(3/2) exp(-r^2 / 2t), t = s^2 + sigma^2;
        # its Laplacian = (s^2/t)^(3/2) exp(-r^2/2t) (r^2/t^2 - 3/t)
        n, c, s, sigma = 41, 20, 3.0, 2.0
        z, y, x = np.meshgrid(*[np.arange(n) - c] * 3, indexing="ij")
        r2 = x ** 2 + y ** 2 + z ** 2
        out = apply_filter(np.exp(-r2 / (2 * s * s)), (1, 1, 1),
                           {"filter": "log", "sigma_mm": sigma, "padding": "constant"})
        t = s * s + sigma * sigma
        truth = (s * s / t) ** 1.5 * np.exp(-r2 / (2 * t)) * (r2 / t ** 2 - 3 / t)
        core = (slice(10, 31),) * 3
        np.testing.assert_allclose(out[core], truth[core], atol=5e-4 * abs(truth).max())   # 4-sigma truncation, sampling

    def test_log_in_mm_on_anisotropic_voxels(self):
        # the same physical blob sampled at 0.5 mm along x gives the same response (mm kernel)
        s, sigma = 3.0, 2.0
        z, y, x = np.meshgrid(np.arange(-20, 21), np.arange(-20, 21), np.arange(-40, 41) * 0.5, indexing="ij")
        r2 = x ** 2 + y ** 2 + z ** 2
        out = apply_filter(np.exp(-r2 / (2 * s * s)), (1.0, 1.0, 0.5),
                           {"filter": "log", "sigma_mm": sigma, "padding": "constant"})
        t = s * s + sigma * sigma
        self.assertAlmostEqual(out[20, 20, 40], -3 * (s * s / t) ** 1.5 / t, places=4)


class WaveletTest(unittest.TestCase):
    def test_filter_coefficients(self):
        # PyWavelets / Daubechies (1992) dec_lo of db2, orthonormality and vanishing moments
        np.testing.assert_allclose(lowpass("db2"), [-0.12940952255126037, 0.2241438680420134,
                                                    0.8365163037378079, 0.48296291314453416], atol=1e-12)
        moments = {"haar": 1, "db2": 2, "db3": 3, "db4": 4, "db6": 6, "coif1": 2, "coif2": 4}
        for name, n_moments in moments.items():
            h = lowpass(name)
            g = highpass(h)
            self.assertAlmostEqual(h.sum(), np.sqrt(2.0), places=10, msg=name)
            for m in range(len(h) // 2):
                self.assertAlmostEqual(np.dot(h[:len(h) - 2 * m], h[2 * m:]), 1.0 if m == 0 else 0.0,
                                       places=10, msg=name)
            for p in range(n_moments):
                self.assertAlmostEqual(np.sum(g * np.arange(len(g)) ** p), 0.0, places=6, msg=(name, p))
        with self.assertRaises(InputError):
            lowpass("sym4")

    def test_energy_conservation(self):
        rng = np.random.default_rng(1)
        f = rng.normal(size=(16, 16, 16))
        for family in ("haar", "db3", "coif1"):
            for level in (1, 2):
                # undecimated: |L|^2 + |H|^2 = 2 per axis -> total energy 2^3 ||f||^2 at level 1;
                # at level 2 the 8 subbands of the LLL approximation hold 8 ||LLL_1||^2
                bands = sum(np.sum(apply_filter(f, (1, 1, 1), {"filter": "wavelet", "family": family,
                                                               "subband": b, "level": level,
                                                               "padding": "periodic"}) ** 2)
                            for b in SUBBANDS_3D)
                ref = np.sum(f ** 2) if level == 1 else np.sum(apply_filter(
                    f, (1, 1, 1), {"filter": "wavelet", "family": family, "subband": "LLL",
                                   "padding": "periodic"}) ** 2)
                self.assertAlmostEqual(bands / ref, 8.0, places=8, msg=(family, level))
                # decimated (orthonormal DWT): Parseval
                dec = [apply_filter(f, (1, 1, 1), {"filter": "wavelet", "family": family, "subband": b,
                                                   "level": 1, "decimated": True, "padding": "periodic"})
                       for b in SUBBANDS_3D]
                self.assertEqual(dec[0].shape, (8, 8, 8))
                self.assertAlmostEqual(sum(np.sum(d ** 2) for d in dec) / np.sum(f ** 2), 1.0, places=8)

    def test_rotation_invariance_on_rotated_input(self):
        rng = np.random.default_rng(2)
        f = rng.normal(size=(12, 12, 12))
        rotated = np.rot90(f, 1, axes=(1, 2))
        settings = {"filter": "wavelet", "family": "db2", "subband": "LLH", "padding": "periodic",
                    "rotation_invariance": True}
        np.testing.assert_allclose(apply_filter(rotated, (1, 1, 1), settings),
                                   np.rot90(apply_filter(f, (1, 1, 1), settings), 1, axes=(1, 2)), atol=1e-10)
        plain = dict(settings, rotation_invariance=False)
        self.assertGreater(np.abs(apply_filter(rotated, (1, 1, 1), plain)
                                  - np.rot90(apply_filter(f, (1, 1, 1), plain), 1, axes=(1, 2))).max(), 1e-3)


class LawsGaborSimoncelliTest(unittest.TestCase):
    def test_laws_kernel_response_and_rotation_invariance(self):
        # L5 along x on a linear ramp along x: sum(L5 * ramp) = slope * sum(k * L5) ... E5 gives
        # the derivative: sum(E5[::-1] * x) = (2*1 + 1*2 ...) -> check against direct formula
        ramp = np.tile(np.arange(20.0), (9, 9, 1))
        out = apply_filter(ramp, (1, 1, 1), {"filter": "laws", "kernel": "E5L5L5", "padding": "nearest"})
        e5 = np.array([-1, -2, 0, 2, 1]) / np.sqrt(10)
        l5_sum = 16 / np.sqrt(70)
        expected_x = np.convolve(np.arange(20.0), e5, mode="same")[10]
        self.assertAlmostEqual(out[4, 4, 10], expected_x * l5_sum ** 2, places=10)
        rng = np.random.default_rng(3)
        f = rng.normal(size=(10, 10, 10))
        settings = {"filter": "laws", "kernel": "L5E5S5", "padding": "periodic",
                    "rotation_invariance": True, "pooling": "max", "energy_distance": 2}
        rot = np.rot90(f, 1, axes=(0, 2))
        np.testing.assert_allclose(apply_filter(rot, (1, 1, 1), settings),
                                   np.rot90(apply_filter(f, (1, 1, 1), settings), 1, axes=(0, 2)), atol=1e-10)

    def test_gabor_orientation_pooling_and_a_sinusoid(self):
        # a cosine along x at the kernel's wavelength: |response| = amplitude x Gaussian
        # spectrum at the matched frequency (1/2 (1 + exp(-2 (2 pi sigma / lambda)^2)))
        lam, sigma = 8.0, 4.0
        x = np.arange(64)
        f = np.tile(np.cos(2 * np.pi * x / lam), (1, 64, 1))
        out = apply_filter(f, (1, 1, 1), {"filter": "gabor", "sigma_mm": sigma, "wavelength_mm": lam,
                                          "padding": "periodic", "dimensions": "2D"})
        expected = 0.5 * (1 + np.exp(-2 * (2 * np.pi * sigma / lam) ** 2))
        self.assertAlmostEqual(out[0, 32, 32], expected, places=3)
        rng = np.random.default_rng(4)
        g = rng.normal(size=(1, 24, 24))
        settings = {"filter": "gabor", "sigma_mm": 2.0, "wavelength_mm": 4.0, "theta_step_deg": 90,
                    "padding": "periodic", "dimensions": "2D", "gamma": 0.5}
        np.testing.assert_allclose(apply_filter(np.rot90(g, 1, axes=(1, 2)), (1, 1, 1), settings),
                                   np.rot90(apply_filter(g, (1, 1, 1), settings), 1, axes=(1, 2)), atol=1e-9)

    def test_simoncelli_is_a_band_pass(self):
        f = np.full((16, 16, 16), 5.0)
        out = apply_filter(f, (1, 1, 1), {"filter": "simoncelli", "level": 1, "padding": "periodic"})
        np.testing.assert_allclose(out, 0.0, atol=1e-10)                 # no DC response
        # a cosine at the band centre (nu = nu_max / 2 -> H = cos(0) = 1) passes unchanged
        x = np.arange(32)
        g = np.tile(np.cos(2 * np.pi * 0.25 * x), (4, 4, 1))
        out = apply_filter(g, (1, 1, 1), {"filter": "simoncelli", "level": 1, "padding": "periodic"})
        np.testing.assert_allclose(out, g, atol=1e-10)
        out = apply_filter(g, (1, 1, 1), {"filter": "simoncelli", "level": 3, "padding": "periodic"})
        np.testing.assert_allclose(out, 0.0, atol=1e-10)                 # outside the level-3 band


class FilterImageTest(unittest.TestCase):
    def test_sitk_wrapper_keeps_geometry_and_returns_float32(self):
        image = sitk.GetImageFromArray(np.arange(6 * 7 * 8, dtype=np.int16).reshape(6, 7, 8))
        image.SetSpacing((0.8, 0.8, 2.0))
        image.SetOrigin((10.0, -5.0, 3.0))
        out = filter_image(image, {"filter": "mean", "support": 3, "padding": "nearest"})
        self.assertEqual(out.GetPixelID(), sitk.sitkFloat32)
        self.assertEqual(out.GetSize(), image.GetSize())
        self.assertEqual(out.GetSpacing(), image.GetSpacing())
        self.assertEqual(out.GetOrigin(), image.GetOrigin())
        dec = filter_image(image, {"filter": "wavelet", "subband": "HHH", "decimated": True})
        self.assertEqual(dec.GetSize(), (4, 4, 3))
        with self.assertRaisesRegex(InputError, "filter"):
            filter_image(image, {"filter": "sobel"})
        with self.assertRaisesRegex(InputError, "padding"):
            filter_image(image, {"filter": "mean", "padding": "zero"})


if __name__ == "__main__":
    unittest.main()
