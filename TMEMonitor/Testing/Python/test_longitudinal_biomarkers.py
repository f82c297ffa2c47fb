"""The per-visit biomarker table: order, changes from baseline and previous visit, missing values."""
import datetime
import math
import unittest

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.longitudinal.biomarkers import BiomarkerTable, region_statistics


def table():
    t = BiomarkerTable()
    start = datetime.date(2026, 3, 2)
    t.add_visit("week 6", start + datetime.timedelta(days=42), 42)     # added out of order on purpose
    t.add_visit("baseline", start - datetime.timedelta(days=3), -3)
    t.add_visit("week 2", start + datetime.timedelta(days=14), 14)
    for visit, adc, ktrans in (("baseline", 1.0e-3, 0.20), ("week 2", 1.2e-3, None), ("week 6", 1.1e-3, 0.10)):
        t.set_value(visit, "ADC", adc, unit="mm2/s", truth=adc * 1.01)
        t.set_value(visit, "Ktrans", ktrans, unit="1/min")
    return t


class BiomarkerTableTest(unittest.TestCase):
    def test_order_and_changes(self):
        t = table()
        self.assertEqual(t.visit_names, ["baseline", "week 2", "week 6"])
        changes = t.change_from_baseline("ADC")
        self.assertAlmostEqual(changes[1][1], 20.0)
        self.assertAlmostEqual(changes[2][0], 0.1e-3)
        previous = t.change_from_previous("ADC")
        self.assertEqual(previous[0], (None, None))
        self.assertAlmostEqual(previous[2][1], 100 * (1.1 - 1.2) / 1.2)

    def test_missing_value_stays_missing(self):
        t = table()
        t.set_value("week 6", "ADC", float("nan"))
        self.assertIsNone(t.value("week 6", "ADC"))
        self.assertEqual(t.change_from_baseline("Ktrans")[1], (None, None))
        self.assertEqual(t.change_from_previous("Ktrans")[2], (None, None))
        self.assertEqual(t.real_change_flags("Ktrans", 55.0), [None, None, 0])      # -50 % within 55 %
        self.assertEqual(t.real_change_flags("ADC", 15.0), [None, 1, None])
        rows = t.as_rows({"ADC": 15.0, "Ktrans": 55.0})
        self.assertIsNone(rows[1]["biomarkers"]["Ktrans"]["measured"])
        self.assertEqual(rows[1]["biomarkers"]["ADC"]["real_change"], 1)
        self.assertAlmostEqual(rows[1]["biomarkers"]["ADC"]["truth_change_from_baseline_percent"], 20.0)
        self.assertEqual(t.columns()["Ktrans"], [0.2, None, 0.1])

    def test_bad_input(self):
        t = table()
        with self.assertRaises(InputError):
            t.add_visit("baseline")
        with self.assertRaises(InputError):
            t.set_value("week 99", "ADC", 1.0)
        with self.assertRaises(InputError):
            t.add_visit("x", date="2026-01-01")

    def test_region_statistics_is_the_shared_one(self):
        values = np.arange(10, dtype=float).reshape(1, 2, 5)
        values[0, 0, 0] = np.nan
        stats = region_statistics(values, np.ones_like(values, bool))
        self.assertEqual(stats["n"], 9)
        self.assertAlmostEqual(stats["mean"], 5.0)
        self.assertTrue(math.isclose(stats["median"], 5.0))


if __name__ == "__main__":
    unittest.main()
