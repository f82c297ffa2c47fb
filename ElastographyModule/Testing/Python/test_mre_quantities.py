"""Every map the MRE inversions return is in the project's quantity registry, with its unit,
display form, a default window shared by visits and physical limits; the smoothing width follows
the wavelength."""
import unittest

import numpy as np

from ElastographyModuleLib import derivatives, inversion, quantity_names, synthesis
from ElastographyModuleLib.pipeline import MAP_DISPLAY
from TMEMonitorLib import quantities

# Keys of an inversion's result that are not maps (diagnostics) or are the status label map.
NOT_MAPS = {"status", "noise_sigma", "compression", "smoothing_sigma_vox", "dominant_wavelength_m"}


class MREQuantityRegistryTest(unittest.TestCase):
    def inversion_maps(self):
        waves = {f: synthesis.shear_wave("plane", (6, 24, 24), 2e-3, f, 3000.0 * np.exp(0.3j), components=1)
                 for f in (60.0, 80.0)}
        results = {"mdev": inversion.mdev(waves, 2e-3), "helmholtz": inversion.helmholtz(waves[60.0], 2e-3, 60.0),
                   "kmdev": inversion.kmdev(waves, 2e-3)}
        return {name for maps in results.values() for name, value in maps.items()
                if name not in NOT_MAPS and isinstance(value, np.ndarray)}

    def test_every_inversion_map_is_registered_with_limits(self):
        names = self.inversion_maps()
        self.assertTrue({"abs_G", "phi", "G_storage", "G_loss", "wave_speed", "amplitude", "confidence",
                         "rho_c2"} <= names, names)
        for name in names:
            self.assertIn(name, quantity_names.REGISTRY_NAME, name)
            registry_name = quantity_names.REGISTRY_NAME[name]
            self.assertTrue(quantities.is_registered(registry_name), registry_name)
            self.assertIsNotNone(quantities.physical_limits(registry_name), registry_name)
            self.assertIn(name, MAP_DISPLAY, name)

    def test_display_forms(self):
        g = quantities.lookup("abs_G")
        self.assertEqual((g.unit, g.display_unit, g.display_scale), ("Pa", "kPa", 1e-3))
        self.assertEqual(g.display_limits, (0.0, 10.0))                     # kPa, every visit
        self.assertEqual(quantities.lookup("wave_amplitude").unit, "m")
        self.assertEqual(quantities.lookup("phi").unit, "rad")
        self.assertEqual(quantities.lookup("wave_speed").unit, "m/s")
        self.assertEqual(MAP_DISPLAY["abs_G"][2:4], ("kPa", 1e-3))
        self.assertEqual(MAP_DISPLAY["amplitude"][2:4], ("um", 1e6))
        for unit in ("Pa", "m/s", "m", "rad"):
            self.assertIn(unit, quantities.UNITS)

    def test_registering_again_is_a_no_op_and_a_second_meaning_is_refused(self):
        quantities.register(*quantity_names.ENTRIES, physical_limits=quantity_names.PHYSICAL_LIMITS)
        with self.assertRaises(ValueError):
            quantities.register(quantities.entry("abs_G", "something else", "Pa"))


class WavelengthScaledSmoothingTest(unittest.TestCase):
    def test_dominant_wavelength_of_a_plane_wave(self):
        h, f, g = 2e-3, 60.0, 3000.0
        wave = synthesis.shear_wave("plane", (8, 48, 48), h, f, g, components=1, direction=(0.0, 0.6, 0.8))
        wavelength = np.sqrt(g / 1000.0) / f
        found = derivatives.dominant_wavelength_m(wave, h, axes=(1, 2))
        self.assertLess(abs(found / wavelength - 1), 0.1, f"{found * 1e3:.1f} mm vs {wavelength * 1e3:.1f} mm")

    def test_width_capped_on_coarse_grids_only(self):
        fine = synthesis.shear_wave("plane", (6, 40, 40), 1.5e-3, 60.0, 3000.0, components=1)   # ~20 voxels/wavelength
        coarse = synthesis.shear_wave("plane", (6, 40, 40), 6e-3, 60.0, 3000.0, components=1)  # ~5 voxels/wavelength
        self.assertEqual(derivatives.wavelength_scaled_sigma(fine, 1.5e-3, 1.5, 0.1, (1, 2))[0][1:], (1.5, 1.5))
        capped = derivatives.wavelength_scaled_sigma(coarse, 6e-3, 1.5, 0.1, (1, 2))[0]
        self.assertLess(max(capped), 0.7)
        self.assertEqual(derivatives.wavelength_scaled_sigma(coarse, 6e-3, 1.5, 0.0, (1, 2))[0], (1.5, 1.5, 1.5))


if __name__ == "__main__":
    unittest.main()
