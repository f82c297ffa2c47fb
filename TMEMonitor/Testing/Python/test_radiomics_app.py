"""Radiomics on the monitoring data (TMEMonitorApp.radiomics) and ``tme-monitor radiomics`` on the tiny demo."""
import csv
import json
import math
import os
import shutil
import tempfile
import unittest

import numpy as np
import SimpleITK as sitk

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import Cancelled
from TMEMonitorLib.radiomics import read_long_csv
from TMEMonitorApp import dashboard, demo
from TMEMonitorApp import radiomics as app_radiomics
from TMEMonitorApp.cli.main import run_captured

FAST_SETTINGS = {"families": ["statistics", "intensity_histogram", "glcm"],
                 "discretisation": {"method": "fbn", "bins": 16}}
MAPS = ["anatomy", "ADC", "Ktrans"]


def _close(a, b):
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _node_count(scene):
    return scene.GetNumberOfNodes()


class RadiomicsOnTheDemoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tme-radiomics-app-")
        cls.scene = tme_scene.create_scene()
        build = demo.build_demo_scene(cls.scene, size="tiny", seed=3, out_dir=cls.tmp)
        cls.patient = build.patient_item
        for visit in build.visits:
            dashboard.run_visit_analyses(cls.scene, visit.item)
        cls.registration = dashboard.register_visits(cls.scene, cls.patient)
        dashboard.compute_response(cls.scene, cls.patient, registration=cls.registration)
        cls.settings_path = os.path.join(cls.tmp, "settings.json")
        with open(cls.settings_path, "w") as handle:
            json.dump(FAST_SETTINGS, handle)
        settings = app_radiomics.load_settings(cls.settings_path)
        cls.result = app_radiomics.compute_patient_radiomics(cls.scene, cls.patient, settings, images=MAPS,
                                                             registration=cls.registration)
        app_radiomics.write_result_nodes(cls.scene, cls.result)
        cls.visits = [v.name for v in dashboard.list_visits(cls.scene, cls.patient)]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_features_per_visit_region_and_image(self):
        result = self.result
        regions = ["tumour", "viable perfused", "viable poorly perfused", "necrotic"]
        self.assertEqual(result.regions, regions)
        self.assertEqual(result.images, MAPS)
        self.assertEqual(result.settings["families"], FAST_SETTINGS["families"])
        for visit in self.visits:
            for region in regions:
                for image in MAPS:
                    rows = [r for r in result.rows if (r["visit"], r["region"], r["image"]) == (visit, region, image)]
                    self.assertTrue(rows, (visit, region, image))
        # follow-ups are in the baseline frame (registered); the tumour mean ADC on it is the biomarker's range
        self.assertIn("registered", result.frames[self.visits[1]])
        for visit in self.visits:
            mean_adc = result.value(visit, "tumour", "ADC", "stat_mean")
            self.assertTrue(0.3e-3 < mean_adc < 3e-3, mean_adc)
        unit = next(r["unit"] for r in result.rows if r["image"] == "ADC" and r["feature"] == "stat_mean")
        self.assertEqual(unit, "mm2/s")

    def test_table_node_per_visit_under_the_visit(self):
        tables = app_radiomics.visit_table_nodes(self.scene, self.patient)
        self.assertEqual(sorted(tables), sorted(self.visits))
        for visit, node in tables.items():
            columns = tme_scene.table_to_columns(node)
            self.assertEqual(list(columns)[:5], ["region", "image", "feature", "value", "unit"])
            expected = [r for r in self.result.rows if r["visit"] == visit]
            self.assertEqual(len(columns["value"]), len(expected))
            self.assertTrue(all(_close(a, r["value"]) for a, r in zip(columns["value"], expected)))
            self.assertTrue(node.GetAttribute(app_radiomics.nodes.RADIOMICS_SETTINGS))

    def test_deltas_equal_recomputed_differences(self):
        baseline = self.result.baseline
        self.assertEqual(len(self.result.deltas), len(self.result.rows) * (len(self.visits) - 1) // len(self.visits))
        for delta in self.result.deltas[::37]:
            v0 = self.result.value(baseline, delta["region"], delta["image"], delta["feature"])
            v1 = self.result.value(delta["visit"], delta["region"], delta["image"], delta["feature"])
            self.assertTrue(_close(delta["delta_absolute"], v1 - v0))
            relative = 100.0 * (v1 - v0) / abs(v0) if v0 not in (0.0,) and math.isfinite(v0) else float("nan")
            self.assertTrue(_close(delta["delta_relative_percent"], relative), delta)

    def test_repeatability_only_where_known(self):
        by_key = {(d["visit"], d["region"], d["image"], d["feature"]): d for d in self.result.deltas}
        last = self.visits[-1]
        adc = by_key[(last, "tumour", "ADC", "stat_mean")]
        self.assertEqual(adc["rc_percent"], 15.0)                 # QIBA breast ADC
        self.assertIn(adc["real_change"], ("real increase", "real decrease", "within RC"))
        other = by_key[(last, "tumour", "ADC", "ih_entropy")]
        self.assertTrue(math.isnan(other["rc_percent"]))
        self.assertEqual(other["real_change"], "")
        self.assertIn("no test-retest", other["repeatability_note"])
        habitat = by_key[(last, "necrotic", "ADC", "stat_mean")]
        self.assertTrue(math.isnan(habitat["rc_percent"]))

    def test_csv_round_trip(self):
        out = os.path.join(self.tmp, "csv")
        paths = app_radiomics.write_result(out, self.result)
        rows = read_long_csv(paths["features"])
        self.assertEqual(len(rows), len(self.result.rows))
        for read, original in zip(rows, self.result.rows):
            self.assertEqual((read["visit"], read["region"], read["image"], read["feature"]),
                             (original["visit"], original["region"], original["image"], original["feature"]))
            self.assertTrue(_close(read["value"], original["value"]))
        with open(paths["settings"]) as handle:
            written = json.load(handle)
        self.assertEqual(written["settings_hash"], self.result.settings_hash)
        with open(paths["deltas"], newline="") as handle:
            self.assertEqual(len(list(csv.DictReader(handle))), len(self.result.deltas))

    def test_chart_and_feature_picker(self):
        self.assertIsNotNone(self.result.chart)
        self.assertEqual(self.result.chart.GetNumberOfPlotSeriesNodes(), len(MAPS))
        self.assertIn("ih_entropy", app_radiomics.feature_names(self.scene, self.patient))
        before = _node_count(self.scene)
        chart = app_radiomics.delta_chart(self.scene, self.patient, ["ih_entropy"])
        self.assertEqual(chart.GetNumberOfPlotSeriesNodes(), len(MAPS))
        self.assertEqual(_node_count(self.scene), before)          # the earlier chart was replaced
        with self.assertRaises(InputError):
            app_radiomics.delta_chart(self.scene, self.patient, ["no_such_feature"])

    def test_report_gets_a_radiomics_section(self):
        out = os.path.join(self.tmp, "report")
        dashboard.write_report(self.scene, self.patient, out)
        with open(os.path.join(out, "report.json")) as handle:
            data = json.load(handle)
        section = data["radiomics"]
        self.assertEqual(section["settings_hash"], self.result.settings_hash)
        features = {r["feature"] for r in section["rows"]}
        self.assertTrue({"stat_mean", "ih_entropy"} <= features)
        self.assertEqual({r["visit"] for r in section["rows"]}, set(self.visits[1:]))
        self.assertIn("Radiomics (tumour", open(os.path.join(out, "report.html")).read())

    def test_errors_leave_the_scene_unchanged(self):
        before = _node_count(self.scene)
        with self.assertRaises(InputError):
            app_radiomics.compute_patient_radiomics(self.scene, self.patient, FAST_SETTINGS, images=["nonsense"])
        with self.assertRaises(InputError):
            app_radiomics.compute_patient_radiomics(self.scene, self.patient, FAST_SETTINGS, regions=["liver"])
        with self.assertRaises(InputError):
            app_radiomics.load_settings(preset="ibsi1_config_z")

        def cancel(fraction, message=""):
            if fraction > 0.3:
                raise Cancelled("test")
        with self.assertRaises(Cancelled):
            app_radiomics.compute_patient_radiomics(self.scene, self.patient, FAST_SETTINGS, images=["ADC"],
                                                    progress=cancel)
        self.assertEqual(_node_count(self.scene), before)

    def test_cli_on_a_saved_scene(self):
        path = tme_scene.save_scene(self.scene, os.path.join(self.tmp, "patient.mrb"))
        out = os.path.join(self.tmp, "cli-scene")
        code, printed, errors = run_captured(["radiomics", path, "--out", out, "--settings", self.settings_path,
                                              "--maps", "ADC", "--regions", "tumour"])
        self.assertEqual(code, 0, errors)
        for name in ("features.csv", "deltas.csv", "settings.json", "summary.txt"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        rows = read_long_csv(os.path.join(out, "features.csv"))
        self.assertEqual({r["visit"] for r in rows}, set(self.visits))
        value = next(r["value"] for r in rows if (r["visit"], r["feature"]) == (self.visits[-1], "stat_mean"))
        # the saved scene keeps the registration: the same numbers as in the session
        self.assertTrue(_close(value, self.result.value(self.visits[-1], "tumour", "ADC", "stat_mean")) or
                        abs(value / self.result.value(self.visits[-1], "tumour", "ADC", "stat_mean") - 1) < 1e-5)
        self.assertIn("Radiomics of Synthetic patient", printed)


class RadiomicsCommandOnFilesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tme-radiomics-cli-")
        rng = np.random.default_rng(0)
        values = rng.normal(100.0, 10.0, (12, 20, 20)).astype(np.float32)
        labels = np.zeros((12, 20, 20), np.uint8)
        labels[3:9, 5:15, 5:15] = 1
        labels[4:8, 7:12, 7:12] = 2
        image = sitk.GetImageFromArray(values)
        image.SetSpacing((1.5, 1.5, 1.5))
        mask = sitk.GetImageFromArray(labels)
        mask.CopyInformation(image)
        cls.image = os.path.join(cls.tmp, "image.nrrd")
        cls.mask = os.path.join(cls.tmp, "mask.nrrd")
        sitk.WriteImage(image, cls.image)
        sitk.WriteImage(mask, cls.mask)
        other = sitk.GetImageFromArray(labels[:, :10])
        other.SetSpacing((1.5, 1.5, 1.5))
        cls.other_mask = os.path.join(cls.tmp, "other.nrrd")
        sitk.WriteImage(other, cls.other_mask)
        cls.settings = os.path.join(cls.tmp, "settings.json")
        with open(cls.settings, "w") as handle:
            json.dump({"families": ["statistics", "morphology"], "discretisation": {"method": "fbn", "bins": 8}}, handle)
        cls.values, cls.labels = values, labels

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_features_csv_settings_and_summary(self):
        out = os.path.join(self.tmp, "out")
        code, printed, errors = run_captured(["radiomics", self.image, "--mask", self.mask, "--out", out,
                                              "--settings", self.settings, "--label", "1", "2"])
        self.assertEqual(code, 0, errors)
        rows = read_long_csv(os.path.join(out, "features.csv"))
        self.assertEqual({r["region"] for r in rows}, {"label 1", "label 2"})
        mean = next(r["value"] for r in rows if r["region"] == "label 2" and r["feature"] == "stat_mean")
        self.assertAlmostEqual(mean, float(self.values[self.labels == 2].mean()), places=3)
        volume = next(r["value"] for r in rows if r["region"] == "label 1" and r["feature"] == "morph_vol_approx")
        self.assertAlmostEqual(volume, float((self.labels == 1).sum()) * 1.5 ** 3, places=6)
        with open(os.path.join(out, "settings.json")) as handle:
            self.assertEqual(json.load(handle)["settings"]["discretisation"]["bins"], 8)
        self.assertIn("label 1: morph_volume", open(os.path.join(out, "summary.txt")).read())

    def _fails(self, argv, *words):
        out = os.path.join(self.tmp, "never")
        code, _, errors = run_captured(["radiomics"] + argv + ["--out", out])
        self.assertEqual(code, 2, errors)
        for word in words:
            self.assertIn(word, errors)
        self.assertFalse(os.path.exists(out), "nothing is written on bad input")

    def test_errors_name_the_flag(self):
        self._fails([os.path.join(self.tmp, "missing.nrrd"), "--mask", self.mask], "IMAGE", "not found")
        self._fails([self.image, "--mask", os.path.join(self.tmp, "missing.nrrd")], "--mask", "not found")
        self._fails([self.image, "--mask", self.other_mask], "--mask", "does not match")
        self._fails([self.image, "--mask", self.mask, "--preset", "ibsi1_config_z"], "--preset", "unknown")
        self._fails([self.image, "--mask", self.mask, "--label", "7"], "--label 7", "labels present: 1, 2")
        self._fails([self.image], "--mask is required")
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as handle:
            handle.write("{not json")
        self._fails([self.image, "--mask", self.mask, "--settings", bad], "--settings", "not valid JSON")
        with open(bad, "w") as handle:
            json.dump({"discretisation": {"method": "fbn", "bins": -3}}, handle)
        self._fails([self.image, "--mask", self.mask, "--settings", bad], "--settings", "bins")
        with open(bad, "w") as handle:
            json.dump({"bin_count": 3}, handle)
        self._fails([self.image, "--mask", self.mask, "--settings", bad], "--settings", "unknown key")


if __name__ == "__main__":
    unittest.main()
