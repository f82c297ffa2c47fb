"""Every map the hyperpolarized analysis writes is in the project's quantity registry, with its unit."""
import unittest

import numpy as np

from TMEMonitorLib import quantities


class HyperpolarizedRegistryTest(unittest.TestCase):
    def test_every_written_map_is_registered(self):
        from HyperpolarizedModuleLib import quantity_names
        from HyperpolarizedModuleLib.pipeline import analyse_hyperpolarized
        from HyperpolarizedModuleLib.settings import HyperpolarizedSettings
        from HyperpolarizedModuleLib.synthesis import phantom_grid
        names = set(quantity_names.HP_MAPS)
        for model in ("inputless", "boxcar"):
            data = phantom_grid(shape=(1, 4, 4), snr=80, n_frames=16)
            analysis = analyse_hyperpolarized({"pyruvate": data.pyruvate, "lactate": data.lactate},
                                              HyperpolarizedSettings(model=model, flip_pyruvate_deg=20.0,
                                                                     flip_lactate_deg=30.0, tr_s=3.0))
            names |= set(analysis.maps)
        missing = sorted(n for n in names if not quantities.is_registered(n))
        self.assertEqual(missing, [], "hyperpolarized maps missing from the quantity registry")

    def test_units_ranges_and_limits(self):
        from HyperpolarizedModuleLib import quantity_names  # noqa: F401  (registers)
        kpl = quantities.lookup("kPL")
        self.assertEqual((kpl.unit, kpl.display_range), ("1/s", (0.0, 0.1)))
        self.assertEqual(quantities.physical_limits("kPL"), (0.0, None))
        self.assertEqual(quantities.lookup("se_kPL").unit, "1/s")
        self.assertEqual(quantities.lookup("AUC_ratio").unit, "")
        self.assertEqual(quantities.lookup("lactate_TTP").unit, "s")
        self.assertEqual(quantities.ucum("a.u./s")[0], "[arb'U]/s")
        # the generic entries are reused, not redefined: "r2" and "SNR" keep their one meaning
        self.assertEqual(quantities.lookup("r2").quantity, "R2")
        self.assertEqual(quantities.lookup("SNR").quantity, "SNR")

    def test_a_second_meaning_for_a_name_is_refused(self):
        from HyperpolarizedModuleLib import quantity_names
        with self.assertRaises(ValueError):
            quantities.register(quantities.entry("kPL", "something else", "1/min"))
        quantities.register(*quantity_names.HP_ENTRIES)           # the same again: a no-op
        self.assertTrue(np.isfinite(quantities.lookup("kPL").display_range[1]))


if __name__ == "__main__":
    unittest.main()
