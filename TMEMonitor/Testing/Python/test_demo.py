"""The demo end to end on a tiny synthetic patient: files, report.json against truth, .mrb round trip, CLI."""
import contextlib
import io
import json
import os
import shutil
import tempfile
import unittest

from TMEMonitorLib import scene as tme_scene
from TMEMonitorApp.cli.main import main


class DemoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="tme-demo-")
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            cls.exit_code = main(["demo", "--out", cls.out, "--size", "tiny", "--seed", "2"])
        cls.printed = output.getvalue()
        with open(os.path.join(cls.out, "report.json")) as handle:
            cls.report = json.load(handle)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_command_succeeds_and_reports(self):
        self.assertEqual(self.exit_code, 0)
        self.assertIn("Recovered versus true", self.printed)
        for name in ("TMEMonitorDemo.mrb", "report.html", "report.json"):
            self.assertTrue(os.path.isfile(os.path.join(self.out, name)), name)
        html = open(os.path.join(self.out, "report.html")).read()
        for figure in ("figures/baseline_Ktrans.png", "figures/prm_ADC.png", "figures/change_from_baseline.png"):
            self.assertIn(figure, html)
            self.assertTrue(os.path.isfile(os.path.join(self.out, figure)))

    def test_report_json_holds_measured_truth_change_flag_and_category(self):
        visits = self.report["visits"]
        self.assertEqual(len(visits), 3)
        for visit in visits:
            for name in ("volume_ml", "ADC", "Ktrans", "tCho/tCr"):
                entry = visit["biomarkers"][name]
                self.assertIsNotNone(entry["measured"], f"{visit['name']} {name}")
                self.assertIsNotNone(entry["truth"], f"{visit['name']} {name}")
        categories = {c["criterion"] for c in self.report["response"]}
        self.assertTrue({"RECIST 1.1", "volumetric"} <= categories)
        self.assertNotIn("RANO 2.0", categories)           # a breast patient: RANO (brain) is not reported

    def test_recovered_changes_match_truth(self):
        # Stated tolerances (percentage points of change from baseline): volume and diameter are
        # measured on the drawn masks (exact); ADC within 5, Ktrans within 10, tCho/tCr within 15.
        tolerance = {"volume_ml": 0.01, "longest_diameter_mm": 0.01, "ADC": 5.0, "Ktrans": 10.0, "tCho/tCr": 15.0}
        last = self.report["visits"][-1]
        for name, allowed in tolerance.items():
            entry = last["biomarkers"][name]
            with self.subTest(biomarker=name):
                self.assertLessEqual(abs(entry["change_from_baseline_percent"] - entry["truth_change_from_baseline_percent"]),
                                     allowed)
        self.assertTrue(last["biomarkers"]["ADC"]["real_change"])
        self.assertTrue(last["biomarkers"]["Ktrans"]["real_change"])
        functional = [c for c in self.report["response"] if c["criterion"].startswith("functional")]
        self.assertEqual(functional[-1]["category"], "functional response")

    def test_scene_round_trip(self):
        scene = tme_scene.load_scene(os.path.join(self.out, "TMEMonitorDemo.mrb"))
        patient = tme_scene.hierarchy.find_item(scene, "Synthetic patient")
        visits = tme_scene.hierarchy.visits(scene, patient)
        self.assertEqual([v[1] for v in visits], ["baseline", "week 2", "week 6"])
        names = [n.GetName() for n in tme_scene.hierarchy.children_nodes(scene, visits[1][0])]
        self.assertTrue(any("Ktrans" in n for n in names))
        self.assertTrue(any("ADC" in n for n in names))
        ktrans = [n for n in tme_scene.hierarchy.children_nodes(scene, visits[1][0]) if n.GetName().endswith("DCE Ktrans")][0]
        self.assertEqual(ktrans.GetVoxelValueUnits().GetCodeValue(), "/min")


class InfoCommandTest(unittest.TestCase):
    def test_info_on_a_sequence_file(self):
        import numpy as np
        scene = tme_scene.create_scene()
        node = tme_scene.array_to_sequence(scene, np.ones((3, 2, 4, 4), np.float32), [0.0, 2.5, 7.0], np.eye(4), "dce")
        folder = tempfile.mkdtemp()
        path = tme_scene.write_node(node, os.path.join(folder, "dce.seq.nrrd"))
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            self.assertEqual(main(["info", path]), 0)
        self.assertIn("7", output.getvalue())
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(main(["info", os.path.join(folder, "missing.nii.gz")]), 2)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()


class ReportCommandTest(unittest.TestCase):
    def test_report_from_saved_scene(self):
        folder = tempfile.mkdtemp(prefix="tme-report-")
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                self.assertEqual(main(["demo", "--out", folder, "--size", "tiny", "--seed", "5"]), 0)
                out = os.path.join(folder, "again")
                self.assertEqual(main(["report", os.path.join(folder, "TMEMonitorDemo.mrb"), "--out", out,
                                       "--register", "none"]), 0)
            with open(os.path.join(out, "report.json")) as handle:
                report = json.load(handle)
            self.assertEqual(len(report["visits"]), 3)
            self.assertIsNotNone(report["visits"][2]["biomarkers"]["Ktrans"]["measured"])
            with contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(main(["report", os.path.join(folder, "missing.mrb"), "--out", out]), 2)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class PropagatedTumourTest(unittest.TestCase):
    def test_follow_up_without_segmentation_gets_the_propagated_baseline_tumour(self):
        import numpy as np
        from TMEMonitorApp import dashboard
        from TMEMonitorApp.demo import build_demo_scene
        scene = tme_scene.create_scene()
        build = build_demo_scene(scene, size="tiny", seed=4, n_visits=2)
        follow = build.visits[1]
        scene.RemoveNode(follow.nodes["tumour"])                 # no drawn tumour at the follow-up
        dashboard.register_visits(scene, build.patient_item, method="rigid")
        response = dashboard.compute_response(scene, build.patient_item)
        entry = response.figures.measurements[1]
        self.assertEqual(entry.mask_source, "baseline tumour propagated through the registration")
        # The propagated baseline tumour covers the follow-up's true (smaller) tumour mostly.
        truth = follow.visit.tumour_mask
        self.assertGreater(np.logical_and(entry.mask, truth).sum() / truth.sum(), 0.8)
