"""analyse_dwi on arrays: exact recovery on noise-free volumes, b-ranges reported, direction
averaging, computed high-b images, clipping and Rician correction, and every refused input."""
import unittest

import numpy as np

from DiffusionModuleLib.pipeline import analyse_dwi, estimate_background_sigma
from DiffusionModuleLib.settings import DiffusionSettings
from DiffusionModuleLib.signal_models import ivim_signal, kurtosis_signal
from TMEMonitorLib.noise import add_rician_noise
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as fit_status

B_IVIM = np.array([0, 10, 20, 50, 100, 200, 400, 600, 800, 1000], dtype=float)
B_RICIAN = np.array([0, 500, 1000, 1500, 2000, 2500, 3000], dtype=float)
B_KURTOSIS = np.array([0, 250, 500, 1000, 1500, 2000, 2500], dtype=float)
SHAPE = (2, 5, 6)


def volume(values):
    return np.moveaxis(np.asarray(values, dtype=float), -1, 0)


def ivim_volume():
    """Noise-free IVIM volume with D, f, D* varying across voxels (truth returned)."""
    rng = np.random.default_rng(4)
    truth = {"S0": rng.uniform(800, 1200, SHAPE), "D": rng.uniform(0.6e-3, 2.0e-3, SHAPE),
             "f": rng.uniform(0.05, 0.25, SHAPE), "Dstar": rng.uniform(0.02, 0.06, SHAPE)}
    signal = ivim_signal(truth["S0"], truth["D"], truth["f"], truth["Dstar"], B_IVIM)
    return volume(signal), truth


def loglinear_adc(signal_4d, b):
    """Reference ADC: least-squares slope of ln S against b for every voxel."""
    y = np.log(signal_4d.reshape(b.size, -1))
    slope = np.polyfit(b, y, 1)[0]
    return -slope.reshape(signal_4d.shape[1:])


class PipelineRecoveryTest(unittest.TestCase):
    def test_noise_free_ivim_and_adc_recovered(self):
        signal, truth = ivim_volume()
        mask = np.ones(SHAPE, bool)
        mask[0, 0, :] = False
        analysis = analyse_dwi(signal, B_IVIM, DiffusionSettings(ivim_method="full", high_b_values=()), mask=mask)
        np.testing.assert_allclose(analysis.maps["D"][mask], truth["D"][mask], rtol=2e-3)
        np.testing.assert_allclose(analysis.maps["f"][mask], truth["f"][mask], atol=2e-3)
        np.testing.assert_allclose(analysis.maps["Dstar"][mask], truth["Dstar"][mask], rtol=0.02)
        np.testing.assert_allclose(analysis.maps["ADC"][mask], loglinear_adc(signal, B_IVIM)[mask], rtol=1e-5)
        np.testing.assert_array_equal(analysis.maps["ADC"][~mask], np.nan)
        np.testing.assert_array_equal(analysis.maps["D"][~mask], np.nan)
        self.assertEqual(analysis.maps["ADC"].dtype, np.float32)
        self.assertEqual(analysis.maps["ADC"].shape, SHAPE)
        for model in ("adc", "ivim"):
            np.testing.assert_array_equal(analysis.status[model][~mask], fit_status.MASKED)
            np.testing.assert_array_equal(analysis.status[model][mask], fit_status.OK, err_msg=str(model))
        # S0 of the first model is "S0"; the IVIM one keeps its suffix.
        self.assertIn("S0", analysis.maps)
        self.assertIn("S0_IVIM", analysis.maps)
        self.assertEqual(analysis.map_models["D"], "ivim")
        self.assertEqual(analysis.b_ranges["adc"], (0.0, 1000.0))
        self.assertTrue(any("default: every b" in note for note in analysis.notes))

    def test_adc_b_range_and_computed_high_b_exact(self):
        rng = np.random.default_rng(1)
        adc = rng.uniform(0.5e-3, 2.5e-3, SHAPE)
        s0 = rng.uniform(500, 1500, SHAPE)
        signal = volume(s0[..., None] * np.exp(-B_IVIM * adc[..., None]))
        settings = DiffusionSettings(fit_ivim=False, adc_b_min=100, adc_b_max=800, high_b_values=(1400.0, 2000.0))
        analysis = analyse_dwi(signal, B_IVIM, settings)
        self.assertEqual(analysis.b_ranges["adc"], (100.0, 800.0))
        np.testing.assert_allclose(analysis.maps["ADC"], adc, rtol=1e-5)
        np.testing.assert_allclose(analysis.high_b[1400.0], s0 * np.exp(-1400 * adc), rtol=1e-4)
        np.testing.assert_allclose(analysis.high_b[2000.0], s0 * np.exp(-2000 * adc), rtol=1e-4)
        self.assertEqual(analysis.high_b_model, "adc")
        self.assertTrue(any("extrapolated beyond" in note for note in analysis.notes))

    def test_computed_high_b_from_ivim(self):
        signal, truth = ivim_volume()
        analysis = analyse_dwi(signal, B_IVIM, DiffusionSettings(ivim_method="full"))
        self.assertEqual(analysis.high_b_model, "ivim")
        expected = ivim_signal(truth["S0"], truth["D"], truth["f"], truth["Dstar"], [1400.0])[..., 0]
        np.testing.assert_allclose(analysis.high_b[1400.0], expected, rtol=0.01)

    def test_directions_averaged_to_the_trace(self):
        # Three directions per b > 0 with different diffusivities: the geometric mean decays with
        # the mean diffusivity (the trace / 3), exactly.
        rng = np.random.default_rng(2)
        diffusivities = rng.uniform(0.5e-3, 2.0e-3, SHAPE + (3,))
        b_unique = np.array([0.0, 500.0, 1000.0])
        frames, b_frames = [], []
        for b in b_unique:
            for direction in range(3 if b > 0 else 1):
                frames.append(1000.0 * np.exp(-b * diffusivities[..., direction]))
                b_frames.append(b)
        signal = np.stack(frames)
        analysis = analyse_dwi(signal, b_frames, DiffusionSettings(fit_ivim=False, high_b_values=()))
        self.assertTrue(analysis.directions_averaged)
        np.testing.assert_array_equal(analysis.b_values, b_unique)
        np.testing.assert_array_equal(analysis.b_values_frames, b_frames)
        np.testing.assert_allclose(analysis.maps["ADC"], diffusivities.mean(axis=-1), rtol=1e-5)
        self.assertTrue(any("geometric mean" in note for note in analysis.notes))

    def test_kurtosis_recovered_and_used_for_high_b(self):
        rng = np.random.default_rng(3)
        d, k = rng.uniform(0.8e-3, 1.6e-3, SHAPE), rng.uniform(0.4, 1.2, SHAPE)
        signal = volume(kurtosis_signal(np.full(SHAPE, 1000.0), d, k, B_KURTOSIS))
        settings = DiffusionSettings(fit_adc=False, fit_ivim=False, fit_kurtosis=True)
        analysis = analyse_dwi(signal, B_KURTOSIS, settings)
        np.testing.assert_allclose(analysis.maps["K"], k, rtol=1e-3)
        np.testing.assert_allclose(analysis.maps["D_kurtosis"], d, rtol=1e-3)
        self.assertEqual(analysis.high_b_model, "kurtosis")
        expected = kurtosis_signal(np.full(SHAPE, 1000.0), d, k, [1400.0])[..., 0]
        np.testing.assert_allclose(analysis.high_b[1400.0], expected, rtol=1e-3)

    def test_clipped_samples_excluded_and_counted(self):
        rng = np.random.default_rng(5)
        adc = rng.uniform(0.8e-3, 1.5e-3, SHAPE)
        clean = volume(5000.0 * np.exp(-B_IVIM * adc[..., None]))
        saturated = np.minimum(clean, 4095.0)                 # a 12-bit scanner clips the bright frames
        n_clipped = int(np.count_nonzero(saturated >= 4095.0))
        self.assertGreater(n_clipped, 0)
        settings = DiffusionSettings(fit_ivim=False, clip_value=4095.0, high_b_values=())
        analysis = analyse_dwi(saturated, B_IVIM, settings)
        np.testing.assert_allclose(analysis.maps["ADC"], adc, rtol=1e-5)
        self.assertEqual(analysis.excluded["adc"], n_clipped)
        self.assertEqual(int(np.nansum(analysis.maps["excluded_ADC"])), n_clipped)
        biased = analyse_dwi(saturated, B_IVIM, DiffusionSettings(fit_ivim=False, high_b_values=()))
        self.assertGreater(np.max(np.abs(biased.maps["ADC"] / adc - 1)), 0.01)

    def test_progress_reaches_one_monotonically(self):
        signal, _ = ivim_volume()
        seen = []
        analyse_dwi(signal, B_IVIM, DiffusionSettings(ivim_method="segmented"), progress=lambda f, m="": seen.append(f))
        self.assertEqual(seen[-1], 1.0)
        self.assertTrue(all(b >= a - 1e-12 for a, b in zip(seen, seen[1:])))


class RicianTest(unittest.TestCase):
    def setUp(self):
        # A bright object in a pure-noise (Rayleigh) background, as magnitude images have.
        self.sigma = 15.0
        shape = (4, 24, 24)
        self.object = np.zeros(shape, bool)
        self.object[:, 6:18, 6:18] = True
        self.adc = 1.0e-3
        # b up to 3000 s/mm2: the last samples sit near the noise floor (SNR ~1.3), which flattens the decay.
        clean = np.where(self.object[..., None], 400.0 * np.exp(-B_RICIAN * self.adc), 0.0)
        self.signal = volume(add_rician_noise(clean, self.sigma, np.random.default_rng(7)))

    def test_background_sigma_estimate(self):
        sigma, count = estimate_background_sigma(self.signal, B_RICIAN)
        self.assertAlmostEqual(sigma / self.sigma, 1.0, delta=0.05)
        self.assertGreater(count, 1000)

    def test_correction_reduces_the_noise_floor_bias(self):
        settings = dict(fit_ivim=False, high_b_values=())
        plain = analyse_dwi(self.signal, B_RICIAN, DiffusionSettings(**settings), mask=self.object)
        corrected = analyse_dwi(self.signal, B_RICIAN, DiffusionSettings(rician_correction=True, **settings),
                                mask=self.object)
        bias_plain = abs(np.nanmedian(plain.maps["ADC"][self.object]) / self.adc - 1)
        bias_corrected = abs(np.nanmedian(corrected.maps["ADC"][self.object]) / self.adc - 1)
        self.assertGreater(bias_plain, 0.03)             # the floor flattens the decay: ADC too low
        self.assertLess(bias_corrected, bias_plain / 2)
        self.assertIn("background voxels", corrected.noise_sigma_source)
        self.assertAlmostEqual(corrected.noise_sigma / self.sigma, 1.0, delta=0.05)

    def test_sigma_source_priority(self):
        settings = DiffusionSettings(fit_ivim=False, rician_correction=True, high_b_values=())
        from_metadata = analyse_dwi(self.signal, B_RICIAN, settings, mask=self.object, noise_sigma=14.0,
                                    noise_sigma_source="node attribute")
        self.assertEqual((from_metadata.noise_sigma, from_metadata.noise_sigma_source), (14.0, "node attribute"))
        settings.noise_sigma = 16.0
        from_user = analyse_dwi(self.signal, B_RICIAN, settings, mask=self.object, noise_sigma=14.0)
        self.assertEqual((from_user.noise_sigma, from_user.noise_sigma_source), (16.0, "user setting"))

    def test_no_background_refused(self):
        filled = np.full((len(B_RICIAN), 2, 4, 4), 500.0) * np.exp(-B_RICIAN * 1e-3)[:, None, None, None]
        with self.assertRaisesRegex(InputError, "background"):
            analyse_dwi(filled, B_RICIAN, DiffusionSettings(fit_ivim=False, rician_correction=True))


class PipelineErrorTest(unittest.TestCase):
    def setUp(self):
        self.signal, _ = ivim_volume()

    def assertRefused(self, pattern, signal, b, settings=None, **kwargs):
        with self.assertRaisesRegex(InputError, pattern):
            analyse_dwi(signal, b, settings or DiffusionSettings(), **kwargs)

    def test_single_b_value(self):
        self.assertRefused("single b-value", self.signal[:3], [500.0, 500.0, 500.0])

    def test_b_values_not_matching_frames(self):
        self.assertRefused("9 values for 10", self.signal, B_IVIM[:-1])

    def test_implausible_b_values(self):
        self.assertRefused("must lie in", self.signal, B_IVIM * 1e6)
        self.assertRefused("must lie in", self.signal, -B_IVIM)

    def test_all_zero_signal(self):
        self.assertRefused("zero everywhere", np.zeros_like(self.signal), B_IVIM)

    def test_mask_geometry(self):
        self.assertRefused("does not match", self.signal, B_IVIM, mask=np.ones((2, 5, 5), bool))
        self.assertRefused("no voxel", self.signal, B_IVIM, mask=np.zeros(SHAPE, bool))

    def test_ivim_needs_low_b_reference(self):
        keep = B_IVIM >= 100
        self.assertRefused("low-b reference", self.signal[keep], B_IVIM[keep])

    def test_ivim_needs_b_values_below_threshold(self):
        keep = (B_IVIM == 0) | (B_IVIM >= 200)
        self.assertRefused("below the threshold", self.signal[keep], B_IVIM[keep])

    def test_ivim_needs_b_values_above_threshold(self):
        keep = B_IVIM <= 200
        self.assertRefused("at or above the threshold", self.signal[keep], B_IVIM[keep])

    def test_kurtosis_needs_high_b(self):
        settings = DiffusionSettings(fit_ivim=False, fit_kurtosis=True)
        self.assertRefused("kurtosis needs b-values up to at least 1500", self.signal, B_IVIM, settings)

    def test_adc_range_with_one_b_value(self):
        self.assertRefused("ADC: the b-range", self.signal, B_IVIM,
                           DiffusionSettings(fit_ivim=False, adc_b_min=900, adc_b_max=1200))

    def test_bad_settings(self):
        for settings in (DiffusionSettings(fit_adc=False, fit_ivim=False), DiffusionSettings(adc_method="magic"),
                         DiffusionSettings(ivim_b_threshold=-5), DiffusionSettings(kurtosis_b_max=1000),
                         DiffusionSettings(clip_value=0), DiffusionSettings(high_b_values=(-1.0,)),
                         DiffusionSettings(adc_b_min=800, adc_b_max=100)):
            with self.subTest(settings=settings), self.assertRaises(InputError):
                analyse_dwi(self.signal, B_IVIM, settings)


if __name__ == "__main__":
    unittest.main()
