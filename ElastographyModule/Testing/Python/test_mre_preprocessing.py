"""Unwrapping exactness, first harmonic, phase scaling and acquisition errors."""
import unittest

import numpy as np

from ElastographyModuleLib import acquisition, displacement, harmonic, synthesis, unwrap
from TMEMonitorLib.errors import InputError, MetadataError

OFFSETS = 2 * np.pi * np.arange(8) / 8


def wrapped_field(wraps, shape=(10, 36, 36)):
    """Phase over 8 offsets whose motion part spans ``wraps`` x 2 pi (peak to peak) per half
    wavelength, plus a smooth static background."""
    wave = synthesis.shear_wave("damped_spherical", shape, 1.5e-3, 60.0, 3000.0 * np.exp(0.2j), components=1)[0]
    true = np.real(wave[None] * np.exp(1j * OFFSETS)[:, None, None, None]) / np.abs(wave).max() * wraps * np.pi
    true = true + 0.8 * np.sin(np.linspace(0, 3, shape[2]))
    return true, unwrap.wrap(true)


class UnwrapTest(unittest.TestCase):
    def assert_exact(self, unwrapped, true):
        difference = unwrapped - true
        constant = 2 * np.pi * np.round(np.mean(difference) / (2 * np.pi))
        np.testing.assert_allclose(difference - constant, 0.0, atol=1e-9)

    def test_laplacian_exact_up_to_three_wraps(self):
        for wraps in (1.5, 2, 3):
            true, wrapped = wrapped_field(wraps)
            self.assertGreater(np.abs(wrapped - true).max(), np.pi)          # wraps present
            per_frame = unwrap.align_frames(np.stack([unwrap.unwrap_laplacian(f) for f in wrapped]))
            self.assert_exact(per_frame, true)
            quality = unwrap.align_frames(np.stack([unwrap.unwrap_quality_guided(f) for f in wrapped[:, :4]]))
            self.assert_exact(quality, true[:, :4])

    def test_spatiotemporal_exact_while_offset_steps_below_pi(self):
        true, wrapped = wrapped_field(1)
        self.assert_exact(unwrap.unwrap_laplacian(wrapped, periodic_axes=(0,)), true)
        self.assert_exact(unwrap.unwrap_laplacian(wrapped, periodic_axes=(0,), estimator="sincos"), true)

    def test_first_harmonic_matches_dft(self):
        rng = np.random.default_rng(1)
        u = rng.normal(size=(5, 6)) + 1j * rng.normal(size=(5, 6))
        samples = np.real(u[None] * np.exp(1j * OFFSETS)[:, None, None]) + 0.3
        wave, sigma = harmonic.first_harmonic(samples, OFFSETS)
        np.testing.assert_allclose(wave, u, atol=1e-12)
        np.testing.assert_allclose(wave, 2 / 8 * np.sum(samples * np.exp(-1j * OFFSETS)[:, None, None], axis=0))
        self.assertLess(sigma, 1e-10)
        with self.assertRaises(InputError):
            harmonic.first_harmonic(samples[:2], OFFSETS[:2])

    def test_encoding_efficiency(self):
        gamma = displacement.GAMMA_H_RAD_PER_S_T
        matched = displacement.encoding_efficiency(30.0, 60.0, 2, 60.0)
        self.assertAlmostEqual(matched / (gamma * 0.03 * 2 / 60.0 / 2), 1.0, places=4)
        square = displacement.encoding_efficiency(30.0, 60.0, 2, 60.0, "square")
        self.assertAlmostEqual(square / (2 * gamma * 0.03 * 2 / 60.0 / np.pi), 1.0, places=3)
        scale, source = displacement.phase_scaling(um_per_rad=2.0)
        self.assertAlmostEqual(scale, 5e5)
        self.assertIn("2 um/rad", source)

    def test_acquisition_errors(self):
        with self.assertRaisesRegex(MetadataError, "frequency"):
            acquisition.build_acquisition(8, (1e-3,) * 3, None, 8)
        with self.assertRaisesRegex(InputError, "at least 3"):
            acquisition.build_acquisition(2, (1e-3,) * 3, [60], [0.0, np.pi])
        with self.assertRaisesRegex(InputError, "inconsistent"):
            acquisition.build_acquisition(20, (1e-3,) * 3, [60], 4, directions_ijk=[[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        with self.assertRaisesRegex(InputError, "directions"):
            acquisition.build_acquisition(8, (1e-3,) * 3, [60], 4, directions_ijk=[[1, 0, 0], [0, 1, 0]])
        layout = acquisition.build_acquisition(24, (1e-3,) * 3, [60, 80], 4, directions_ijk=[[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        self.assertEqual(layout.frames(1, 2), slice(20, 24))
        np.testing.assert_allclose(layout.directions[0], [0, 0, 1])       # i -> column axis


if __name__ == "__main__":
    unittest.main()
