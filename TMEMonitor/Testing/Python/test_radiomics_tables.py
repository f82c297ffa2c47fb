"""Delta radiomics, long-format CSV with settings JSON, and the batch rows for the CLI."""
import json
import math
import os
import tempfile
import unittest

import numpy as np
import SimpleITK as sitk

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.radiomics import (delta_features, delta_rows, read_long_csv,
                                     run_radiomics_for_images, write_long_csv)


def image_of(array, spacing=(2.0, 2.0, 2.0)):
    image = sitk.GetImageFromArray(np.asarray(array, dtype=np.float64))
    image.SetSpacing(spacing)
    return image


class DeltaTest(unittest.TestCase):
    def test_absolute_and_relative_change_from_baseline(self):
        visits = {"V0": {"stat_mean": 2.0, "morph_volume": 100.0, "ih_min_grad": 0.0},
                  "V1": {"stat_mean": 3.0, "morph_volume": 80.0, "ih_min_grad": 1.0},
                  "V2": {"stat_mean": 1.0, "morph_volume": 50.0}}
        out = delta_features(visits)
        self.assertEqual(set(out), {"V1", "V2"})
        self.assertEqual(out["V1"]["stat_mean"], {"absolute": 1.0, "relative": 0.5})
        self.assertAlmostEqual(out["V2"]["morph_volume"]["relative"], -0.5)
        self.assertTrue(math.isnan(out["V1"]["ih_min_grad"]["relative"]))     # baseline 0
        self.assertTrue(math.isnan(out["V2"]["ih_min_grad"]["absolute"]))     # missing at V2
        out = delta_features(visits, baseline="V1")
        self.assertAlmostEqual(out["V0"]["stat_mean"]["absolute"], -1.0)
        with self.assertRaises(InputError):
            delta_features(visits, baseline="V9")


class BatchAndCsvTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.anatomy = image_of(rng.normal(100, 10, (8, 10, 10)))
        self.adc = image_of(rng.normal(1.2e-3, 1e-4, (8, 10, 10)))
        tumour = np.zeros((8, 10, 10), np.uint8)
        tumour[2:6, 3:8, 3:8] = 1
        self.masks = {"tumour": image_of(tumour), "empty": image_of(np.zeros((8, 10, 10)))}
        self.settings = {"discretisation": {"method": "fbn", "bins": 16},
                         "families": ["statistics", "glcm", "morphology"]}

    def test_rows_with_a_failing_region_flagged(self):
        rows = run_radiomics_for_images({"T1": self.anatomy, "ADC": self.adc}, self.masks, self.settings,
                                        patient="P1", visit="V0")
        good = [r for r in rows if r["region"] == "tumour" and r["image"] == "ADC"]
        bad = [r for r in rows if r["region"] == "empty"]
        self.assertTrue(any(r["feature"] == "stat_mean" and abs(r["value"] - 1.2e-3) < 1e-4 for r in good))
        self.assertTrue(bad and all(math.isnan(r["value"]) for r in bad))
        self.assertIn("empty", bad[0]["flag"])
        self.assertEqual({r["settings_hash"] for r in rows}.__len__(), 1)
        self.assertEqual([r["unit"] for r in good if r["feature"] == "morph_volume"], ["mm3"])

    def test_csv_round_trip_with_settings_json_and_deltas(self):
        rows = []
        for visit, scale in (("V0", 1.0), ("V1", 1.1)):
            image = image_of(sitk.GetArrayFromImage(self.anatomy) * scale)
            rows += run_radiomics_for_images({"T1": image}, {"tumour": self.masks["tumour"]}, self.settings,
                                             patient="P1", visit=visit)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "features.csv")
            from TMEMonitorLib.radiomics import resolve_settings, settings_hash
            full = resolve_settings(self.settings)
            written = write_long_csv(rows, path, settings=full)
            self.assertEqual(written[1], os.path.join(folder, "features.settings.json"))
            with open(written[1]) as handle:
                saved = json.load(handle)
            self.assertEqual(saved["settings_hash"], settings_hash(full))
            self.assertEqual(saved["settings"]["discretisation"]["bins"], 16)
            back = read_long_csv(path)
            self.assertEqual(len(back), len(rows))
            self.assertEqual(set(back[0]), {"patient", "visit", "region", "image", "feature", "value",
                                            "unit", "settings_hash", "flag"})
            deltas = delta_rows(back)
            mean = [d for d in deltas if d["feature"] == "stat_mean"][0]
            self.assertEqual(mean["visit"], "V1")
            self.assertAlmostEqual(mean["delta_relative"], 0.1, places=9)   # intensities x 1.1
            volume = [d for d in deltas if d["feature"] == "morph_volume"][0]
            self.assertEqual(volume["delta_absolute"], 0.0)
            with self.assertRaisesRegex(InputError, "does not exist"):
                write_long_csv(rows, os.path.join(folder, "missing", "f.csv"))


if __name__ == "__main__":
    unittest.main()
