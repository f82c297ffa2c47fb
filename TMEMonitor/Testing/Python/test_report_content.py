"""report.html content: structured registration table (also from the old summary text), n/a where
a value does not apply, no truth column without truth, a title, human labels with units."""
import os
import re
import shutil
import tempfile
import unittest

from TMEMonitorLib.longitudinal import report


def _visit(name, day, measured, change, flag, truth=None):
    return {"name": name, "date": "2026-03-01", "day": day, "biomarkers": {
        "volume_ml": {"unit": "mL", "measured": measured, "truth": truth, "change_from_baseline_percent": change,
                      "change_from_previous_percent": change, "rc_percent": 15.0, "real_change": flag},
        "ADC": {"unit": "mm2/s", "measured": 1.2e-3, "truth": None, "change_from_baseline_percent": change,
                "change_from_previous_percent": change, "rc_percent": None, "real_change": flag}}}


class ReportContentTest(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="tme-report-content-")

    def tearDown(self):
        shutil.rmtree(self.out, ignore_errors=True)

    def _page(self, data):
        html_path, _ = report.write_report_data(self.out, data, [])
        with open(html_path, encoding="utf-8") as handle:
            return handle.read()

    def test_old_registration_text_is_parsed_into_columns(self):
        entry = report.registration_entry("rigid: NMI 1.190 -> 1.221, correlation 0.857 -> 0.916, tumour Dice 0.93 "
                                          "(warning: low overlap)")
        self.assertEqual(entry["method"], "rigid")
        q = entry["quality"]
        self.assertEqual((q["nmi_before"], q["nmi_after"], q["correlation_after"], q["dice"]),
                         (1.190, 1.221, 0.916, 0.93))
        self.assertEqual(q["warnings"], ["low overlap"])

    def test_page_of_a_real_scene(self):
        calls = [{"criterion": "RECIST 1.1", "visit": "week 2", "category": "SD", "reason": "",
                  "numbers": {"value": 40.0, "baseline": 50.0, "nadir": 50.0, "unit": "mm",
                              "change_from_baseline_percent": -20.0, "change_from_nadir_percent": -20.0,
                              "PR_threshold_percent": -30.0, "PD_threshold_percent": 20.0}},
                 {"criterion": "functional (research, not clinical)", "visit": "week 2",
                  "category": "functional response", "numbers": {"flags": {"ADC": 1}}, "reason": "ADC"}]
        data = {"patient": {"name": "P", "id": "1", "treatment_start": "20260302"}, "organ": "breast",
                "baseline": "baseline", "visits": [_visit("baseline", 0, 30.0, 0.0, None),
                                                   _visit("week 2", 14, 24.0, -20.0, -1)],
                "response": calls, "registration": {"week 2": "rigid: NMI 1.190 -> 1.221, correlation 0.857 -> 0.916"}}
        page = self._page(data)
        self.assertIn("<title>TME Monitor report: P</title>", page)
        self.assertIn("Treatment start: 2026-03-02", page)
        self.assertNotIn("treatment_start", page)
        self.assertNotIn("truth", page)                                  # no truth column for a real scene
        self.assertIn("<td>tumour volume</td>", page)
        self.assertNotIn("volume_ml", page)
        self.assertIn("<td>10⁻³ mm²/s</td>", page)
        self.assertIn("<td>1.2</td>", page)                              # ADC shown in 10⁻³ mm²/s
        self.assertIn("<td>40 mm</td>", page)                            # unit in the response value column
        self.assertIn("<td>1.190 → 1.221</td>", page)
        self.assertEqual(page.count("class='missing'"), 0)
        self.assertGreater(page.count("n/a"), 8)                         # baseline changes, functional numbers
        self.assertRegex(page, r"<li><b>week 2</b> \(day 14\): RECIST 1.1 <b>SD</b>.*beyond repeatability: "
                               r"tumour volume -20 %")

    def test_missing_measurement_is_marked_missing(self):
        data = {"baseline": "baseline", "visits": [_visit("baseline", 0, None, None, None)], "response": []}
        self.assertEqual(len(re.findall("class='missing'", self._page(data))), 1)


if __name__ == "__main__":
    unittest.main()
