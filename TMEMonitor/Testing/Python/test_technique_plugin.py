"""Adding a technique is adding a module folder: a toy technique package (``ToyR2starModuleLib``,
written to a temporary folder on ``sys.path``) is discovered, synthesised into the demo patient,
analysed by ``run_visit_analyses``, followed by the response and written into the report, and its
command joins ``tme-monitor`` — no line of the app changes."""
import importlib
import json
import os
import shutil
import sys
import tempfile
import textwrap
import unittest
from unittest import mock

import numpy as np

from TMEMonitorApp import dashboard, techniques
from TMEMonitorApp.demo import build_demo_scene
from TMEMonitorLib import scene as tme_scene

# A two-echo R2* technique: S(TE) = M0 exp(-TE R2*), R2* = ln(S1 / S2) / (TE2 - TE1) (exact without noise).
TOY_TECHNIQUE = textwrap.dedent('''
    import numpy as np

    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.scene import hierarchy
    from TMEMonitorLib.techniques import (SERIES, Biomarker, FigureStyle, InputRole, SyntheticSeries, Technique,
                                          visit_name)

    ECHO_TIMES_S = (0.005, 0.020)


    class ToyResult:
        def __init__(self, map_nodes):
            self.map_nodes = map_nodes


    def analyse_visit(scene, visit_item, nodes, settings=None, progress=None):
        series = tme_scene.series_from_node(nodes["multi_echo"], expected_axis="time")
        s1, s2 = series.array[0].astype(float), series.array[1].astype(float)
        te = series.axis_values
        with np.errstate(divide="ignore", invalid="ignore"):
            r2star = np.where((s1 > 0) & (s2 > 0), np.log(s1 / s2) / (te[1] - te[0]), 0.0)
        node = tme_scene.add_parameter_map(scene, r2star.astype(np.float32), series.ijk_to_ras,
                                           f"{visit_name(scene, visit_item)} R2*", "R2*", "1/s", "magma")
        hierarchy.place(scene, node, visit_item)
        return ToyResult({"R2star": node})


    def synthesize(visit, context):
        m0 = np.where(visit.labels > 0, visit.truth["M0"], 0.0)
        echoes = np.stack([m0 * np.exp(-te * visit.truth["R2star"]) for te in ECHO_TIMES_S]).astype(np.float32)
        return [SyntheticSeries("multi_echo", "multi-echo", echoes, np.array(ECHO_TIMES_S), "time",
                                "synthetic acquisition (toy echo times)")]


    def add_parser(subparsers):
        parser = subparsers.add_parser("toy-r2star", help="toy R2* from two echoes")
        parser.set_defaults(func=lambda args: 0)


    TECHNIQUE = Technique(
        name="toy_r2star", title="R2* (toy)", order=40,
        inputs=(InputRole("multi_echo", "two-echo gradient-echo series indexed by echo time (s)", SERIES, "time"),),
        analyse_visit=analyse_visit,
        biomarkers=(Biomarker("R2star", "R2*", "1/s", truth_key="R2star_mean", rc_percent=25.0, charted=True,
                              responding_direction=-1, prm_threshold=5.0,
                              figure=FigureStyle("magma", "R2* (1/s)", 1.0, (0.0, 60.0))),),
        synthesize=synthesize,
        add_parser=add_parser,
    )
''')


class ToyTechniquePluginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="tme-toy-technique-")
        package = os.path.join(cls.folder, "ToyR2starModuleLib")
        os.makedirs(package)
        open(os.path.join(package, "__init__.py"), "w").close()
        with open(os.path.join(package, "technique.py"), "w") as handle:
            handle.write(TOY_TECHNIQUE)
        sys.path.insert(0, cls.folder)
        importlib.invalidate_caches()
        # A fresh registry (discovery runs again and finds the new folder); the other techniques
        # are hidden so that the demo patient is quick to analyse.
        cls.registry = techniques.Registry()
        cls.patch = mock.patch.object(techniques, "REGISTRY", cls.registry)
        cls.patch.start()
        for other in [t.name for t in cls.registry.techniques() if t.name != "toy_r2star"]:
            cls.registry.unregister(other)
        cls.scene = tme_scene.create_scene()
        cls.out = os.path.join(cls.folder, "out")
        cls.build = build_demo_scene(cls.scene, size="tiny", seed=3, n_visits=2, out_dir=cls.out)
        cls.results = [dashboard.run_visit_analyses(cls.scene, v.item) for v in cls.build.visits]
        truth = {v.name: v.visit.truth_summary for v in cls.build.visits}
        cls.response = dashboard.compute_response(cls.scene, cls.build.patient_item, truth=truth)
        cls.html = dashboard.write_report(cls.scene, cls.build.patient_item, cls.out, response=cls.response)
        with open(os.path.join(cls.out, "report.json")) as handle:
            cls.report = json.load(handle)

    @classmethod
    def tearDownClass(cls):
        cls.patch.stop()
        sys.path.remove(cls.folder)
        for name in [m for m in sys.modules if m.startswith("ToyR2starModuleLib")]:
            del sys.modules[name]
        tme_scene.release_scene(cls.scene)
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_the_module_folder_is_discovered(self):
        self.assertEqual([t.name for t in techniques.techniques()], ["toy_r2star"])
        self.assertEqual(dashboard.series_roles(), {"multi_echo": "time"})

    def test_demo_visit_holds_its_synthetic_acquisition_and_is_analysed(self):
        visit = self.build.visits[0]
        self.assertIn("multi_echo", visit.nodes)
        self.assertEqual(visit.nodes["multi_echo"].GetAttribute(dashboard.ROLE), "multi_echo")
        self.assertEqual(list(self.results[0]), ["toy_r2star"])
        maps = dashboard.visit_biomarker_maps(self.scene, visit.item)
        self.assertIn("R2star", maps)
        # Noise-free echoes: the map is the phantom's R2* exactly inside the body.
        body = visit.visit.labels > 0
        np.testing.assert_allclose(tme_scene.volume_to_array(maps["R2star"])[body], visit.visit.truth["R2star"][body],
                                   rtol=1e-4)

    def test_report_holds_the_biomarker_with_truth_change_and_flag(self):
        last = self.report["visits"][-1]["biomarkers"]["R2star"]
        self.assertEqual(last["unit"], "1/s")
        self.assertAlmostEqual(last["measured"], last["truth"], delta=1e-3 * abs(last["truth"]))
        self.assertAlmostEqual(last["change_from_baseline_percent"], last["truth_change_from_baseline_percent"],
                               delta=0.1)
        self.assertEqual(last["rc_percent"], 20.0)            # the repeatability table's R2* entry wins
        self.assertIn(last["real_change"], (-1, 0, 1))
        html = open(self.html).read()
        self.assertIn("R2star", html)
        self.assertIn("figures/baseline_R2star.png", html)
        self.assertTrue(os.path.isfile(os.path.join(self.out, "figures", "baseline_R2star.png")))
        self.assertIn("R2star", self.report["prm"])
        columns = tme_scene.table_to_columns(self.response.table_node)
        self.assertIn("R2star", columns)

    def test_command_line_lists_the_technique_command(self):
        from TMEMonitorApp.cli.main import build_parser
        self.assertEqual(build_parser().parse_args(["toy-r2star"]).func(None), 0)

    def test_a_visit_without_its_inputs_is_refused_before_anything_is_written(self):
        from TMEMonitorLib.errors import InputError
        item = dashboard.add_visit(self.scene, self.build.patient_item, "empty", "2026-06-01")
        before = self.scene.GetNumberOfNodes()
        with self.assertRaisesRegex(InputError, "multi_echo"):
            dashboard.run_visit_analyses(self.scene, item)
        self.assertEqual(self.scene.GetNumberOfNodes(), before)
        with self.assertRaisesRegex(InputError, "unknown technique"):
            dashboard.run_visit_analyses(self.scene, self.build.visits[0].item, settings={"nope": object()})


if __name__ == "__main__":
    unittest.main()
