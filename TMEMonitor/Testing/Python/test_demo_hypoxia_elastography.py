"""The hypoxia and elastography techniques in the app: discovered from their module folders, synthesised
into the demo patient, analysed per visit (hypoxia reading the same visit's DCE maps by their biomarker
tag), followed over the visits against the phantom's truth, written into the report, and their
``tme-monitor`` commands present. Tiny responder patient: R2*, the hypoxic fraction and |G*| fall."""
import json
import os
import shutil
import tempfile
import unittest

from TMEMonitorApp import dashboard, techniques
from TMEMonitorApp.demo import build_demo_scene
from TMEMonitorLib import scene as tme_scene


class HypoxiaElastographyInTheDemoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="tme-demo-hypoxia-mre-")
        cls.scene = tme_scene.create_scene()
        cls.build = build_demo_scene(cls.scene, size="tiny", seed=0, n_visits=3, out_dir=cls.folder,
                                     only=["dce", "hypoxia", "mre"])
        cls.results = [dashboard.run_visit_analyses(cls.scene, v.item) for v in cls.build.visits]
        truth = {v.name: v.visit.truth_summary for v in cls.build.visits}
        cls.response = dashboard.compute_response(cls.scene, cls.build.patient_item, truth=truth)
        cls.html = dashboard.write_report(cls.scene, cls.build.patient_item, cls.folder, response=cls.response)
        with open(os.path.join(cls.folder, "report.json")) as handle:
            cls.report = json.load(handle)

    @classmethod
    def tearDownClass(cls):
        tme_scene.release_scene(cls.scene)
        shutil.rmtree(cls.folder, ignore_errors=True)

    def entry(self, visit_index, name):
        return self.report["visits"][visit_index]["biomarkers"][name]

    def test_discovered_with_roles_and_commands(self):
        names = [t.name for t in techniques.techniques()]
        self.assertIn("hypoxia", names)
        self.assertIn("mre", names)
        roles = dashboard.series_roles()
        self.assertEqual(roles["multi_echo_gre"], "echo_time")
        self.assertEqual(roles["oe_dynamic"], "time")
        self.assertEqual(roles["mre_phase"], "frame")
        from TMEMonitorApp.cli.main import build_parser
        parser = build_parser()
        existing = os.path.abspath(__file__)        # path options must name existing files (checked at parse time)
        self.assertEqual(parser.parse_args(["hypoxia", "--out", "x", "--gre", existing]).command, "hypoxia")
        self.assertEqual(parser.parse_args(["mre", existing, "--out", "x"]).command, "mre")

    def test_each_visit_holds_the_acquisitions_and_is_analysed(self):
        visit = self.build.visits[0]
        for role in ("multi_echo_gre", "oe_dynamic", "mre_phase", "mre_magnitude"):
            self.assertIn(role, visit.nodes)
        oe = visit.nodes["oe_dynamic"]
        self.assertEqual(float(oe.GetAttribute("TMEMonitor.GasOn_s")), 60.0)
        self.assertEqual(json.loads(visit.nodes["mre_phase"].GetAttribute("TMEMonitor.MREFrequencies")),
                         [30.0, 40.0, 50.0, 60.0])
        for result in self.results:
            self.assertEqual(list(result), ["dce", "hypoxia", "mre"])
            self.assertEqual(set(result["hypoxia"].map_nodes), {"R2star", "T2star", "dR1", "hypoxic_fraction"})
            self.assertEqual(set(result["mre"].map_nodes), {"abs_G", "phi", "wave_speed"})
            # The hypoxia technique used the visit's DCE maps (found by tag, no DCE import).
            self.assertTrue(any("DCE Ktrans" in note for note in result["hypoxia"].notes))
            self.assertTrue(any("DCE T10" in note for note in result["hypoxia"].notes))

    def test_r2star_and_hypoxic_fraction_recovered(self):
        for index in range(3):
            r2star = self.entry(index, "R2star")
            self.assertEqual(r2star["unit"], "1/s")
            self.assertAlmostEqual(r2star["measured"], r2star["truth"], delta=0.03 * r2star["truth"])
            t2star = self.entry(index, "T2star")
            self.assertAlmostEqual(t2star["measured"], t2star["truth"], delta=0.03 * t2star["truth"])
            hypoxic = self.entry(index, "hypoxic_fraction")
            self.assertAlmostEqual(hypoxic["measured"], hypoxic["truth"], delta=0.05)
            delta_r1 = self.entry(index, "dR1")
            self.assertAlmostEqual(delta_r1["measured"], delta_r1["truth"], delta=0.005)

    def test_stiffness_recovered_within_the_coarse_grid_limit(self):
        # 6 mm voxels, 4 slices, a tumour about one wavelength across: MDEV is within 35 % here.
        for index in range(3):
            stiffness = self.entry(index, "abs_G")
            self.assertEqual(stiffness["unit"], "kPa")
            self.assertLess(abs(stiffness["measured"] / stiffness["truth"] - 1), 0.35)
        maps = dashboard.visit_biomarker_maps(self.scene, self.build.visits[0].item)
        self.assertEqual(maps["abs_G"].GetAttribute("TMEMonitor.internal_unit"), "Pa")

    def test_responder_changes_in_the_true_direction(self):
        for name in ("R2star", "hypoxic_fraction", "abs_G"):
            last = self.entry(2, name)
            self.assertLess(last["truth_change_from_baseline_percent"], 0, name)
            self.assertLess(last["change_from_baseline_percent"], 0, name)
        self.assertGreater(self.entry(2, "T2star")["change_from_baseline_percent"], 0)

    def test_report_and_biomarker_table_hold_the_new_biomarkers(self):
        html = open(self.html).read()
        columns = tme_scene.table_to_columns(self.response.table_node)
        from TMEMonitorLib import quantities
        for name in ("R2star", "T2star", "hypoxic_fraction", "dR1", "abs_G", "phi", "wave_speed"):
            self.assertIn(name, columns)
            # the report names a registered biomarker by its quantity (T2star -> "T2*", wave_speed -> ...)
            self.assertTrue(name in html or f"<td>{quantities.lookup(name).quantity}</td>" in html, name)
        self.assertEqual(self.entry(2, "abs_G")["rc_percent"], 30.0)
        self.assertEqual(self.entry(2, "hypoxic_fraction")["rc_percent"], 72.0)
        self.assertIsNone(self.entry(2, "dR1")["rc_percent"])
        self.assertTrue(os.path.isfile(os.path.join(self.folder, "figures", "baseline_abs_G.png")))
        self.assertIn("R2star", self.report["prm"])


if __name__ == "__main__":
    unittest.main()
