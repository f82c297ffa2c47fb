"""Inversions on analytic waves of known complex modulus: |G*| within 5 %, phi within 2 degrees
in the homogeneous interior at SNR 20; compressional wave at 10x with curl / band-pass."""
import unittest

import numpy as np

from ElastographyModuleLib import inversion, synthesis
from TMEMonitorLib.fitting import status as fit_status

G_TRUE = 3000.0 * np.exp(1j * 0.3)          # Pa, phi = 0.3 rad
H = 1.5e-3
SHAPE = (20, 40, 40)
CORE = (slice(5, -5), slice(8, -8), slice(8, -8))
FREQUENCIES = (40.0, 60.0, 80.0, 100.0)


def waves_for(kind, components, frequencies=FREQUENCIES, snr=20.0, compressional=None):
    out = {}
    for i, f in enumerate(frequencies):
        wave = synthesis.shear_wave(kind, SHAPE, H, f, G_TRUE, components=components, centre_vox=(9.5, 18.3, 21.1))
        if compressional:
            wave = synthesis.add_compressional_wave(wave, H, f, compressional)
        if snr:
            wave, _ = synthesis.add_noise(wave, snr * (compressional or 1.0), seed=i)
        out[f] = wave
    return out


class AnalyticInversionTest(unittest.TestCase):
    def assert_modulus(self, maps, where):
        g = np.nanmedian(maps["abs_G"][CORE])
        phi = np.nanmedian(maps["phi"][CORE])
        self.assertLess(abs(g / abs(G_TRUE) - 1), 0.05, f"{where}: |G*| {g:.0f} Pa")
        self.assertLess(abs(np.degrees(phi - 0.3)), 2.0, f"{where}: phi {np.degrees(phi):.2f} deg")
        self.assertGreater(np.mean(maps["status"][CORE] == fit_status.OK), 0.9, where)

    def test_every_shape_components_and_frequencies(self):
        for kind in synthesis.SHAPES:
            for components in (1, 3):
                waves = waves_for(kind, components)
                self.assert_modulus(inversion.mdev(waves, H), f"MDEV {kind} {components}c")
                self.assert_modulus(inversion.mdev({60.0: waves[60.0]}, H), f"MDEV 1 f {kind} {components}c")
                self.assert_modulus(inversion.helmholtz(waves[80.0], H, 80.0), f"Helmholtz {kind} {components}c")

    def test_storage_loss_and_speed_consistent(self):
        maps = inversion.mdev(waves_for("plane", 3, snr=None), H)
        np.testing.assert_allclose(np.nanmedian(maps["G_storage"][CORE]), G_TRUE.real, rtol=1e-3)
        np.testing.assert_allclose(np.nanmedian(maps["G_loss"][CORE]), G_TRUE.imag, rtol=1e-2)
        speed = np.sqrt(abs(G_TRUE) / 1000.0) / np.cos(0.15)
        np.testing.assert_allclose(np.nanmedian(maps["wave_speed"][CORE]), speed, rtol=1e-3)

    def test_compressional_wave_removed(self):
        for kind in ("plane", "spherical", "damped_spherical"):
            for components, method in ((1, "bandpass"), (3, "curl")):
                waves = waves_for(kind, components, compressional=10.0)
                off = inversion.mdev(waves, H)
                self.assertGreater(abs(np.nanmedian(off["abs_G"][CORE]) / abs(G_TRUE) - 1), 0.5)
                for maps in (inversion.mdev(waves, H, compression=method),
                             inversion.helmholtz(waves[80.0], H, 80.0, compression=method)):
                    g = np.nanmedian(maps["abs_G"][CORE])
                    self.assertLess(abs(g / abs(G_TRUE) - 1), 0.05, f"{kind} {method}: {g:.0f} Pa")

    def test_kmdev_speed(self):
        speed = np.sqrt(abs(G_TRUE) / 1000.0) / np.cos(0.15)
        for kind in ("plane", "damped_spherical"):
            for components in (1, 3):
                waves = {f: synthesis.add_noise(synthesis.shear_wave(kind, (8, 48, 48), H, f, G_TRUE,
                                                                     components=components,
                                                                     direction=(0, 0.6, 0.8)), 20, seed=int(f))[0]
                         for f in FREQUENCIES}
                maps = inversion.kmdev(waves, H)
                core = (slice(None), slice(8, -8), slice(8, -8))
                self.assertLess(abs(np.nanmedian(maps["wave_speed"][core]) / speed - 1), 0.05, kind)

    def test_kmdev_penetration_rate(self):
        # a = omega / k'' = sqrt(|G*| / rho) / sin(phi / 2) for a damped plane wave
        for phi in (0.3, 0.6):
            g = 3000.0 * np.exp(1j * phi)
            truth = np.sqrt(3000.0 / 1000.0) / np.sin(phi / 2)
            for components in (1, 3):
                waves = {f: synthesis.add_noise(synthesis.shear_wave("plane", (8, 48, 48), H, f, g, components=components,
                                                                     direction=(0, 0.6, 0.8)), 20, seed=int(f))[0]
                         for f in FREQUENCIES}
                rate = inversion.kmdev(waves, H)["penetration_rate"][:, 8:-8, 8:-8]
                self.assertLess(abs(np.nanmedian(rate) / truth - 1), 0.08, f"phi {phi}, {components} component(s)")

    def test_weak_wave_flagged_not_mapped(self):
        wave = synthesis.shear_wave("plane", SHAPE, H, 60.0, G_TRUE, components=1)
        wave[:, :, :, :20] *= 1e-3                     # left half: wave far below the noise
        wave, sigma = synthesis.add_noise(wave, 20.0)
        mask = np.ones(SHAPE, bool)
        mask[0] = False
        maps = inversion.helmholtz(wave, H, 60.0, mask=mask, noise_sigma=sigma)
        weak = maps["status"][1:, :, :15]
        # Pure noise exceeds 3x its RMS amplitude in exp(-9) of voxels (Rayleigh tail).
        self.assertGreater(np.mean(weak == fit_status.NO_SIGNAL), 0.995)
        flagged = np.isin(maps["status"], (fit_status.NO_SIGNAL, fit_status.FAILED, fit_status.MASKED))
        self.assertTrue(np.isnan(maps["abs_G"][flagged]).all())
        self.assertTrue(np.isfinite(maps["abs_G"][~flagged]).all())
        self.assertTrue(np.all(maps["status"][0] == fit_status.MASKED))
        self.assertTrue(np.isnan(maps["abs_G"][0]).all())

    def test_noise_estimate(self):
        wave, sigma = synthesis.add_noise(synthesis.shear_wave("spherical", SHAPE, H, 60.0, G_TRUE), 20.0)
        maps = inversion.mdev({60.0: wave}, H)
        self.assertAlmostEqual(maps["noise_sigma"][60.0] / sigma, 1.0, delta=0.1)

    def test_bad_arguments(self):
        wave = synthesis.shear_wave("plane", SHAPE, H, 60.0, G_TRUE)
        with self.assertRaises(ValueError):
            inversion.helmholtz(np.real(wave), H, 60.0)
        with self.assertRaises(ValueError):
            inversion.helmholtz(wave, H, 0.0)
        with self.assertRaises(ValueError):
            inversion.helmholtz(wave, -1.0, 60.0)
        with self.assertRaises(ValueError):
            inversion.mdev({}, H)
        with self.assertRaises(ValueError):
            inversion.helmholtz(wave[:1], H, 60.0, compression="curl")
        with self.assertRaises(ValueError):
            inversion.helmholtz(wave, H, 60.0, mask=np.ones((2, 2, 2), bool))


if __name__ == "__main__":
    unittest.main()
