"""report.json is strict JSON with every number (missing -> null) and report.html links only
files that exist (or embeds them)."""
import datetime
import json
import os
import re
import tempfile
import unittest

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.longitudinal import figures, habitats, report, response_criteria, response_maps
from TMEMonitorLib.longitudinal.biomarkers import BiomarkerTable


def _no_nan(constant):
    raise ValueError(f"non-strict JSON constant {constant}")


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.out = os.path.join(self.tmp.name, "report")

    def inputs(self, image_dir):
        os.makedirs(image_dir, exist_ok=True)
        table = BiomarkerTable()
        start = datetime.date(2026, 3, 2)
        for name, day, diameter, adc in (("baseline", -3, 60.0, 1.0e-3), ("week 2", 14, 55.0, 1.25e-3),
                                         ("week 6", 42, 40.0, None)):
            table.add_visit(name, start + datetime.timedelta(days=day), day)
            table.set_value(name, "longest_diameter_mm", diameter, unit="mm", truth=diameter)
            table.set_value(name, "ADC", adc, unit="mm2/s", truth=1.0e-3)
        calls = response_criteria.recist(table.visit_names, table.series("longest_diameter_mm"), table.days())
        calls += response_criteria.functional(table.visit_names, [{"ADC": f} for f in table.real_change_flags("ADC", 15)])
        anatomy = np.random.default_rng(0).random((20, 20))
        values = np.full((20, 20), np.nan)
        values[5:15, 5:15] = 1.1e-3
        labels = np.zeros((20, 20), np.uint8)
        labels[5:15, 5:10], labels[5:15, 10:15] = 1, 3
        maps = [("week 2 ADC", figures.overlay_png(os.path.join(image_dir, "adc.png"), anatomy, values * 1e3,
                                                   "ADC", "10^-3 mm2/s", mask=labels > 0)),
                ("habitats", figures.labels_png(os.path.join(image_dir, "hab.png"), anatomy, labels,
                                                habitats.HABITAT_LABELS, "habitats")),
                ("PRM", figures.labels_png(os.path.join(image_dir, "prm.png"), anatomy, labels,
                                           response_maps.PRM_LABELS, "PRM"))]
        plots = [("ADC vs day", figures.lines_png(os.path.join(image_dir, "adc_days.png"), table.days(),
                                                  {"ADC": table.series("ADC")}, "ADC", "mm2/s",
                                                  truth={"ADC": [1e-3] * 3})),
                 ("PRM scatter", figures.scatter_png(os.path.join(image_dir, "scatter.png"), np.array([1.0, 1.2]),
                                                     np.array([1.5, 1.1]), 0.2, "scatter", "mm2/s"))]
        return table, calls, maps, plots

    def test_json_and_html(self):
        table, calls, maps, plots = self.inputs(os.path.join(self.out, "figures"))
        html_path, json_path = report.write_report(
            self.out, {"name": "Synthetic", "id": "TME-SYN-000"}, table, calls, plots, maps,
            prm={"ADC": {"threshold": 0.3e-3, "unit": "mm2/s", "fractions": {"increased": 0.5, "decreased": 0.0,
                                                                             "unchanged": 0.5}}},
            habitats={"baseline": {"necrotic": 1.5, "viable perfused": float("nan")}}, organ="breast",
            rc_percent={"ADC": 15.0, "longest_diameter_mm": 10.0})
        with open(json_path) as handle:
            data = json.load(handle, parse_constant=_no_nan)
        week6 = data["visits"][2]
        self.assertIsNone(week6["biomarkers"]["ADC"]["measured"])            # missing, not 0
        self.assertIsNone(week6["biomarkers"]["ADC"]["real_change"])
        self.assertEqual(week6["biomarkers"]["longest_diameter_mm"]["truth"], 40.0)
        self.assertAlmostEqual(week6["biomarkers"]["longest_diameter_mm"]["change_from_baseline_percent"],
                               100 * (40 - 60) / 60)
        self.assertEqual(week6["response"]["RECIST 1.1"], "PR")
        self.assertEqual(data["visits"][1]["biomarkers"]["ADC"]["real_change"], 1)
        self.assertEqual(data["visits"][1]["response"]["functional (research, not clinical)"], "functional response")
        self.assertIsNone(data["habitats"]["baseline"]["viable perfused"])
        self.assertEqual(data["response"][1]["numbers"]["nadir"], 55.0)
        with open(html_path, encoding="utf-8") as handle:
            page = handle.read()
        sources = re.findall(r"<img src='([^']+)'", page)
        self.assertEqual(len(sources), 5)
        for source in sources:
            self.assertFalse(os.path.isabs(source))
            self.assertTrue(os.path.isfile(os.path.join(self.out, source)), source)
        self.assertIn("missing", page)
        self.assertIn("not a clinical response criterion", page)

    def test_images_outside_the_folder_are_copied_or_embedded(self):
        table, calls, maps, plots = self.inputs(os.path.join(self.tmp.name, "elsewhere"))
        html_path, _ = report.write_report(self.out, {"name": "x"}, table, calls, plots, maps)
        with open(html_path, encoding="utf-8") as handle:
            sources = re.findall(r"<img src='([^']+)'", handle.read())
        self.assertTrue(all(s.startswith("figures/") and os.path.isfile(os.path.join(self.out, s)) for s in sources))
        embedded = os.path.join(self.tmp.name, "embedded")
        html_path, _ = report.write_report(embedded, {"name": "x"}, table, calls, plots, maps, embed_images=True)
        with open(html_path, encoding="utf-8") as handle:
            sources = re.findall(r"<img src='([^']+)'", handle.read())
        self.assertTrue(all(s.startswith("data:image/png;base64,") for s in sources))

    def test_missing_image_is_refused_before_writing(self):
        table, calls, _, _ = self.inputs(os.path.join(self.tmp.name, "img"))
        with self.assertRaises(InputError):
            report.write_report(self.out, {}, table, calls, [("gone", os.path.join(self.tmp.name, "none.png"))])
        self.assertFalse(os.path.exists(self.out))

    def test_strict(self):
        self.assertEqual(report.strict({"a": np.float32("nan"), "b": [np.int64(2), np.inf], "c": np.bool_(True),
                                        "d": datetime.date(2026, 1, 2)}),
                         {"a": None, "b": [2, None], "c": True, "d": "2026-01-02"})


if __name__ == "__main__":
    unittest.main()
