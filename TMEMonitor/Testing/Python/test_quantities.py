"""The quantity registry: complete for every map the project writes, consistent units and display."""
import unittest

import numpy as np

from TMEMonitorLib import kinetics, quantities
from TMEMonitorLib.longitudinal import response_maps


class RegistryCompletenessTest(unittest.TestCase):
    def assert_registered(self, names, what):
        missing = [n for n in names if not quantities.is_registered(n)]
        self.assertEqual(missing, [], f"{what} maps missing from TMEMonitorLib/quantities.py")

    def test_dce_maps(self):
        from DCEModuleLib.block_fit import SEMI_QUANTITATIVE_MAPS
        from DCEModuleLib.quantity_names import PARAMETER_DISPLAY
        names = set(PARAMETER_DISPLAY) | set(SEMI_QUANTITATIVE_MAPS)
        for model in kinetics.MODELS.values():
            names |= set(model["parameters"]) | set(model["derived"])
        names |= {f"se_{n}" for n in names}
        self.assert_registered(sorted(names), "DCE")

    def test_diffusion_maps(self):
        from DiffusionModuleLib.pipeline import MAP_DISPLAY
        names = set(MAP_DISPLAY) | {f"se_{n}" for n in MAP_DISPLAY}
        names |= {f"{p}_{m}" for p in ("rmse", "r2", "excluded") for m in ("adc", "ivim", "kurtosis")}
        self.assert_registered(sorted(names), "diffusion")

    def test_mrs_maps(self):
        from SpectroscopyModuleLib.basis.spin_systems import METABOLITES
        from SpectroscopyModuleLib.quantification import CLINICAL_RATIOS
        names = [label for label, _, _ in CLINICAL_RATIOS] + ["SNR", "FWHM", "MRS quality"]
        names += [n for n in METABOLITES if n != "water"] + ["tNAA", "tCr", "tCho", "Glx", "tCho (mM)"]
        self.assert_registered(names, "MRS")
        for n in METABOLITES:
            if n != "water":
                self.assertEqual(quantities.unit_of(n), "a.u.", n)

    def test_label_maps(self):
        for name in ("fit status", "habitats", "PRM", "curve type", "MRS quality", "tissue labels"):
            self.assertEqual(quantities.lookup(name).kind, quantities.LABEL, name)
        self.assertTrue(quantities.is_registered("change in ADC (%)"))
        self.assertTrue(response_maps.PRM_LABELS and response_maps.HABITAT_LABELS)

    def test_status_codes_come_from_the_status_module(self):
        from TMEMonitorLib.fitting import status
        text = quantities.REGISTRY["fit status"].description
        for code, name in status.NAMES.items():
            self.assertIn(f"{code} {name}", text)


class RegistryConsistencyTest(unittest.TestCase):
    def test_every_unit_has_a_ucum_code(self):
        for entry in quantities.REGISTRY.values():
            self.assertIn(entry.unit, quantities.UNITS, entry.name)

    def test_display_ranges_are_ordered_and_symmetric_where_asked(self):
        for entry in quantities.REGISTRY.values():
            if entry.display_range is None:
                continue
            low, high = entry.display_range
            self.assertLess(low, high, entry.name)
            if entry.symmetric:
                self.assertAlmostEqual(low, -high, msg=entry.name)

    def test_display_forms(self):
        adc = quantities.lookup("ADC")
        self.assertEqual(adc.label, "ADC (10⁻³ mm²/s)")
        self.assertAlmostEqual(adc.display_value(1.2e-3), 1.2)
        np.testing.assert_allclose(adc.display_limits, (0.0, 3.0))
        self.assertEqual(quantities.lookup("Ktrans").label, "Ktrans (1/min)")
        self.assertEqual(quantities.lookup("ve").label, "ve")
        self.assertEqual(quantities.lookup("f").display_unit, "%")

    def test_patterns(self):
        se = quantities.lookup("se_Ktrans")
        self.assertEqual((se.quantity, se.unit, se.colormap), ("standard error of Ktrans", "1/min", "magma"))
        self.assertEqual(quantities.display_triple("rmse_ivim"), ("RMSE (ivim)", "a.u.", "magma"))
        self.assertEqual(quantities.lookup("tCho (mM)").unit, "mM")
        change = quantities.lookup("change in Ktrans (%)")
        self.assertTrue(change.symmetric)
        self.assertEqual(change.unit, "%")
        unknown = quantities.lookup("something new")
        self.assertEqual((unknown.quantity, unknown.unit), ("something new", ""))
        self.assertFalse(quantities.is_registered("something new"))

    def test_technique_tables_are_views_of_the_registry(self):
        from DCEModuleLib.quantity_names import PARAMETER_DISPLAY
        from DiffusionModuleLib.pipeline import MAP_DISPLAY
        for table in (PARAMETER_DISPLAY, MAP_DISPLAY):
            for name, triple in table.items():
                self.assertEqual(triple, quantities.display_triple(name), name)
        self.assertEqual(kinetics.UNITS["Ktrans"], quantities.unit_of("Ktrans"))
        with self.assertRaises(KeyError):
            quantities.ucum("furlongs")


class RegisterTest(unittest.TestCase):
    """Techniques add their own entries (quantities.register) instead of keeping display tables."""

    def tearDown(self):
        quantities.REGISTRY.pop("test_quantity_x", None)
        quantities.PHYSICAL_LIMITS.pop("test_quantity_x", None)

    def test_registered_entry_is_looked_up_with_its_limits(self):
        item = quantities.entry("test_quantity_x", "test X", "1/s", colormap="inferno", value_range=(0.0, 5.0))
        quantities.register(item, physical_limits={"test_quantity_x": (0.0, None)})
        quantities.register(item)                                  # the same again: no-op
        self.assertTrue(quantities.is_registered("test_quantity_x"))
        self.assertEqual(quantities.lookup("test_quantity_x").label, "test X (1/s)")
        self.assertEqual(quantities.physical_limits("test_quantity_x"), (0.0, None))
        self.assertEqual(quantities.lookup("se_test_quantity_x").display_range, (0.0, 2.5))

    def test_a_second_meaning_for_a_name_is_refused(self):
        quantities.register(quantities.entry("test_quantity_x", "test X", "1/s"))
        with self.assertRaises(ValueError):
            quantities.register(quantities.entry("test_quantity_x", "something else", "s"))
        with self.assertRaises(ValueError):
            quantities.register(quantities.entry("Ktrans", "not Ktrans", "1/s"))
        with self.assertRaises(KeyError):
            quantities.entry("test_quantity_y", "y", "furlongs")
        self.assertEqual(quantities.lookup("test_quantity_x").quantity, "test X")


class QuantityMapNodeTest(unittest.TestCase):
    def test_map_node_carries_the_registry_entry(self):
        from TMEMonitorLib import scene as tme_scene
        scene = tme_scene.create_scene()
        values = np.linspace(0.5e-3, 2.5e-3, 24, dtype=np.float32).reshape(2, 3, 4)
        node = tme_scene.add_quantity_map(scene, values, np.eye(4), "visit ADC", "ADC")
        self.assertEqual(node.GetVoxelValueUnits().GetCodeValue(), "mm2/s")
        self.assertEqual(node.GetVoxelValueQuantity().GetCodeValue(), "ADC")
        self.assertEqual(node.GetAttribute("TMEMonitor.DisplayUnit"), "10⁻³ mm²/s")
        self.assertEqual(float(node.GetAttribute("TMEMonitor.DisplayScale")), 1000.0)
        status = tme_scene.add_status_map(scene, np.zeros((2, 3, 4), np.uint8), np.eye(4), "status")
        self.assertEqual(status.GetAttribute("TMEMonitor.StatusCodes"),
                         "0 ok; 1 failed; 2 hit bound; 3 masked; 4 no signal; 5 explains nothing; 6 implausible value")
