"""Region statistics against hand-computed values."""
import unittest

import numpy as np

from TMEMonitorLib.statistics import region_statistics, statistics_table
from TMEMonitorLib.fitting import status


class RegionStatisticsTest(unittest.TestCase):
    def test_hand_computed(self):
        values = np.array([[1.0, 2.0, 3.0, 4.0, np.nan, 100.0]])
        mask = np.array([[True, True, True, True, True, False]])
        stats = region_statistics(values, mask, voxel_ml=0.5)
        self.assertEqual(stats["n"], 4)
        self.assertAlmostEqual(stats["mean"], 2.5)
        self.assertAlmostEqual(stats["median"], 2.5)
        self.assertAlmostEqual(stats["SD"], np.std([1, 2, 3, 4], ddof=1))
        self.assertAlmostEqual(stats["p25"], 1.75)
        self.assertAlmostEqual(stats["skewness"], 0.0)
        self.assertAlmostEqual(stats["kurtosis"], -1.36)      # uniform 4-point set: 1.64 - 3
        self.assertAlmostEqual(stats["entropy"], 2.0)         # four equally filled bins
        self.assertAlmostEqual(stats["volume_ml"], 2.5)
        self.assertAlmostEqual(stats["fraction_missing"], 0.2)

    def test_all_missing_is_nan_not_zero(self):
        stats = region_statistics(np.full((2, 2), np.nan), np.ones((2, 2), bool))
        self.assertEqual(stats["n"], 0)
        self.assertTrue(np.isnan(stats["mean"]))
        self.assertEqual(stats["fraction_missing"], 1.0)

    def test_table_rows_and_failed_fraction(self):
        maps = {"ADC": np.arange(8.0).reshape(2, 2, 2), "se_ADC": np.ones((2, 2, 2))}
        masks = {"tumour": np.ones((2, 2, 2), bool)}
        fit = np.zeros((2, 2, 2), np.uint8)
        fit[0, 0, 0] = status.FAILED
        columns, units = statistics_table(maps, masks, np.eye(4), {"ADC": "mm2/s"}, status=fit)
        self.assertEqual(columns["parameter"], ["ADC"])
        self.assertAlmostEqual(columns["fraction failed"][0], 1 / 8)
        self.assertEqual(columns["unit"], ["mm2/s"])
        self.assertEqual(units["volume_ml"], "mL")

    def test_units_default_to_the_quantity_registry(self):
        maps = {"Ktrans": np.full((2, 2, 2), 0.1), "ve": np.full((2, 2, 2), 0.3)}
        columns, _ = statistics_table(maps, {"tumour": np.ones((2, 2, 2), bool)}, np.eye(4))
        self.assertEqual(columns["unit"], ["1/min", ""])


if __name__ == "__main__":
    unittest.main()
