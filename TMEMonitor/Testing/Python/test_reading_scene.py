"""The demo's saved scene opens ready to read, with maps comparable across visits (issue 13).

The demo runs once on a tiny synthetic responder; the tests read its .mrb back and check each
display setting, and render every visit's Ktrans and ADC map with the display settings stored in
the scene (window/level + colour table -> RGB, numpy) to find the response a reader should see:
the week-6 viable rim darker than baseline in Ktrans (perfusion falls) and brighter in ADC
(cellularity falls)."""
import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import slicer

from TMEMonitorLib import quantities
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.phantom.labels import LABELS
from TMEMonitorLib.scene import attribute_names, hierarchy, render, views
from TMEMonitorLib.scene.legends import legend_of
from TMEMonitorApp import dashboard
from TMEMonitorApp.demo import run_demo

RIM, NECROTIC = LABELS["viable_rim"], LABELS["necrotic"]


class DemoReadingSceneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="tme-reading-scene-")
        cls.outcome = run_demo(cls.out, size="tiny", seed=2, log=lambda *a: None)
        with open(cls.outcome.report_json) as handle:
            cls.report = json.load(handle)
        cls.scene = tme_scene.load_scene(cls.outcome.scene_path)
        cls.patient = hierarchy.find_item(cls.scene, "Synthetic patient")
        cls.visits = dashboard.list_visits(cls.scene, cls.patient)

    @classmethod
    def tearDownClass(cls):
        tme_scene.release_scene(cls.scene)
        shutil.rmtree(cls.out, ignore_errors=True)

    def _map(self, visit, name):
        return dashboard.visit_biomarker_maps(self.scene, visit.item)[name]

    def _labels(self, visit):
        return tme_scene.volume_to_array(dashboard.visit_nodes_by_role(self.scene, visit.item)["labels"])

    def _rim_lightness(self, node, labels):
        """Mean CIE L* of the visible viable-rim voxels of a map drawn with its stored display settings."""
        rgba = render.render_rgba(node)
        rim = (labels == RIM) & (rgba[..., 3] > 0)
        self.assertGreater(int(rim.sum()), 10, f"{node.GetName()}: too few visible rim voxels")
        return float(render.lightness(rgba[..., :3])[rim].mean())

    def _rim_lightness_change(self, name):
        """(baseline, week 6) rim lightness of a biomarker map."""
        first, last = self.visits[0], self.visits[-1]
        return [self._rim_lightness(self._map(v, name), self._labels(v)) for v in (first, last)]

    # ---------------------------------------------------------------- windows
    def test_one_window_per_quantity_across_visits_stated_in_the_legend(self):
        for name in ("Ktrans", "ADC"):
            windows = set()
            for visit in self.visits:
                display = self._map(visit, name).GetDisplayNode()
                windows.add((round(display.GetWindowLevelMin(), 9), round(display.GetWindowLevelMax(), 9)))
                node = self._map(visit, name)
                self.assertEqual(node.GetAttribute(attribute_names.WINDOW_SOURCE), "registry")
                self.assertIn("same at every visit", node.GetAttribute(attribute_names.WINDOW_NOTE))
            self.assertEqual(windows, {tuple(round(v, 9) for v in quantities.lookup(name).display_range)}, name)
        # the truth maps of the phantom share the measured maps' window
        truth = [n for n in hierarchy.children_nodes(self.scene, self.visits[-1].item)
                 if n.GetAttribute(attribute_names.MAP_NAME) == "Ktrans" and "truth" in n.GetName()]
        self.assertEqual(len(truth), 1)
        self.assertAlmostEqual(truth[0].GetDisplayNode().GetWindowLevelMax(), quantities.lookup("Ktrans").display_range[1])

    # A lightness difference (CIE L*) of about 1 is just noticeable; 2 is asked for.
    VISIBLE_L = 2.0

    def test_response_is_visible_with_the_stored_display_settings(self):
        ktrans, adc = self._rim_lightness_change("Ktrans"), self._rim_lightness_change("ADC")
        print(f"rim L* baseline -> week 6: Ktrans {ktrans[0]:.1f} -> {ktrans[1]:.1f}, ADC {adc[0]:.1f} -> {adc[1]:.1f}")
        self.assertLess(ktrans[1], ktrans[0] - self.VISIBLE_L, f"Ktrans rim L* baseline {ktrans[0]:.1f}, week 6 {ktrans[1]:.1f}")
        self.assertGreater(adc[1], adc[0] + self.VISIBLE_L, f"ADC rim L* baseline {adc[0]:.1f}, week 6 {adc[1]:.1f}")

    def test_per_visit_windows_would_hide_the_ktrans_fall(self):
        # The check above can fail: with each visit windowed on its own 2nd-98th percentile (as
        # before issue 13) the week-6 rim is not darker than baseline.
        from TMEMonitorLib.scene.maps import robust_window, set_window
        nodes = [self._map(v, "Ktrans") for v in self.visits]
        saved = [(n.GetDisplayNode().GetWindowLevelMin(), n.GetDisplayNode().GetWindowLevelMax(),
                  n.GetAttribute(attribute_names.WINDOW_SOURCE)) for n in nodes]
        try:
            for node, visit in zip(nodes, self.visits):
                set_window(node, *robust_window(tme_scene.volume_to_array(node), self._labels(visit) > 0), "this map")
            ktrans = self._rim_lightness_change("Ktrans")
        finally:
            for node, (lower, upper, source) in zip(nodes, saved):
                set_window(node, lower, upper, source)
        print(f"per-visit windows: Ktrans rim L* {ktrans[0]:.1f} -> {ktrans[1]:.1f}")
        self.assertGreater(ktrans[1], ktrans[0] - self.VISIBLE_L, f"per-visit windows: L* {ktrans}")

    def test_adc_window_does_not_saturate_the_necrotic_core(self):
        checked = 0
        for visit in self.visits:
            node = self._map(visit, "ADC")
            values = tme_scene.volume_to_array(node)[self._labels(visit) == NECROTIC]
            values = values[np.isfinite(values)]
            if values.size < 5:                 # the tiny phantom's core grows under treatment
                continue
            checked += 1
            upper = node.GetDisplayNode().GetWindowLevelMax()
            self.assertLess(float(np.median(values)), 0.9 * upper, visit.name)
            self.assertLess(float(np.mean(values >= upper)), 0.05, visit.name)
        self.assertGreaterEqual(checked, 1)

    # ---------------------------------------------------------------- views
    def test_layout_shows_the_latest_key_map_over_its_anatomy_and_the_change_chart(self):
        latest = self.visits[-1]
        layout = views.layout_node(self.scene)
        self.assertIsNotNone(layout)
        self.assertEqual(layout.GetViewArrangement(), slicer.vtkMRMLLayoutNode.SlicerLayoutFourUpPlotView)
        anatomy = dashboard.anatomy_node(self.scene, latest.item)
        ktrans = self._map(latest, "Ktrans")
        for name in views.SLICE_VIEWS:
            composite = self.scene.GetSingletonNode(name, "vtkMRMLSliceCompositeNode")
            self.assertIsNotNone(composite, name)
            self.assertEqual(composite.GetBackgroundVolumeID(), anatomy.GetID())
            self.assertEqual(composite.GetForegroundVolumeID(), ktrans.GetID())
            self.assertAlmostEqual(composite.GetForegroundOpacity(), 0.6)
            self.assertIsNotNone(self.scene.GetSingletonNode(name, "vtkMRMLSliceNode"), name)
        chart = self.scene.GetNodeByID(views.plot_view_node(self.scene).GetPlotChartNodeID())
        self.assertEqual(chart.GetAttribute(attribute_names.RESPONSE_CHART), "change")
        legend = legend_of(ktrans)
        self.assertIsNotNone(legend)
        self.assertTrue(legend.GetVisibility())
        self.assertEqual(legend.GetTitleText(), "Ktrans (1/min)\nsame window at every visit")
        # the slice views are centred on the shown map (inside its extent)
        red = self.scene.GetSingletonNode("Red", "vtkMRMLSliceNode")
        centre = np.array([red.GetSliceToRAS().GetElement(r, 3) for r in range(3)])
        bounds = [0.0] * 6
        ktrans.GetRASBounds(bounds)
        for axis in range(3):
            self.assertTrue(bounds[2 * axis] - 1 <= centre[axis] <= bounds[2 * axis + 1] + 1, (centre, bounds))

    def test_segmentations_are_outlines_and_only_the_visit_on_screen_is_shown(self):
        latest_tumour = dashboard.visit_nodes_by_role(self.scene, self.visits[-1].item)["tumour"]
        count = self.scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode")
        self.assertGreaterEqual(count, 3)
        for index in range(count):
            node = self.scene.GetNthNodeByClass(index, "vtkMRMLSegmentationNode")
            display = node.GetDisplayNode()
            self.assertFalse(display.GetVisibility2DFill(), node.GetName())
            self.assertTrue(display.GetVisibility2DOutline(), node.GetName())
            self.assertEqual(bool(display.GetVisibility()), node is latest_tumour, node.GetName())

    def test_mrs_voxel_boxes_are_locked_without_handles(self):
        count = self.scene.GetNumberOfNodesByClass("vtkMRMLMarkupsROINode")
        self.assertGreaterEqual(count, 3)
        for index in range(count):
            node = self.scene.GetNthNodeByClass(index, "vtkMRMLMarkupsROINode")
            self.assertTrue(node.GetLocked(), node.GetName())
            self.assertFalse(node.GetDisplayNode().GetHandlesInteractive(), node.GetName())

    def test_follow_up_visits_sit_under_their_registration_transforms(self):
        baseline = self.visits[0]
        for node in hierarchy.children_nodes(self.scene, baseline.item):
            if node.IsA("vtkMRMLTransformableNode"):
                self.assertIsNone(node.GetTransformNodeID(), node.GetName())
        for visit in self.visits[1:]:
            transform = dashboard.visit_transform_nodes(self.scene, visit.item)[-1]
            for role in ("anatomy", "labels", "tumour"):
                node = dashboard.visit_nodes_by_role(self.scene, visit.item)[role]
                self.assertEqual(node.GetTransformNodeID(), transform.GetID(), f"{visit.name} {role}")
            self.assertEqual(self._map(visit, "Ktrans").GetTransformNodeID(), transform.GetID())

    def test_subject_hierarchy_is_collapsed_except_the_visit_on_screen(self):
        sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(self.scene)
        self.assertTrue(sh.GetItemExpanded(self.patient))
        self.assertTrue(sh.GetItemExpanded(self.visits[-1].item))
        for visit in self.visits[:-1]:
            self.assertFalse(sh.GetItemExpanded(visit.item), visit.name)
        folders = [item for item in _children(sh, self.visits[-1].item) if sh.GetItemLevel(item) == "Folder"]
        self.assertTrue(folders)
        for item in folders:
            self.assertFalse(sh.GetItemExpanded(item), sh.GetItemName(item))

    def test_reloaded_scene_measures_the_same_with_nodes_under_transforms(self):
        # Tumour masks and map values are read on each visit's own grid, whatever transform a node
        # sits under for display: the saved scene gives report.json's values again.
        response = dashboard.compute_response(self.scene, self.patient, organ="breast", present=False)
        for saved, again in zip(self.report["visits"], response.data["visits"]):
            for name in ("volume_ml", "Ktrans", "ADC"):
                self.assertAlmostEqual(again["biomarkers"][name]["measured"], saved["biomarkers"][name]["measured"],
                                       delta=1e-6 * abs(saved["biomarkers"][name]["measured"]), msg=f"{saved['name']} {name}")


def _children(sh, item):
    import vtk
    ids = vtk.vtkIdList()
    sh.GetItemChildren(item, ids, False)
    return [ids.GetId(i) for i in range(ids.GetNumberOfIds())]


class SharedWindowTest(unittest.TestCase):
    """apply_shared_windows on a small scene: registry ranges, and the patient's pooled window."""

    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.patient = hierarchy.add_patient(self.scene, "P")
        rng = np.random.default_rng(0)
        self.values = {}
        for index, (name, date) in enumerate((("baseline", "2026-01-01"), ("week 6", "2026-02-12"))):
            item = hierarchy.add_visit(self.scene, self.patient, name, date, day=index * 42)
            s0 = rng.uniform(100.0 * (1 + index), 300.0 * (1 + index), (2, 8, 8)).astype(np.float32)
            s0[0, 0, :] = 0.0                    # background zeros are left out of the pooled window
            ktrans = rng.uniform(0.0, 0.3 / (1 + index), (2, 8, 8)).astype(np.float32)
            for map_name, values in (("S0", s0), ("Ktrans", ktrans)):
                node = tme_scene.add_quantity_map(self.scene, values, np.eye(4), f"{name} {map_name}", map_name)
                hierarchy.place(self.scene, node, item)
                self.values.setdefault(map_name, []).append(values)
                self.values.setdefault(map_name + " nodes", []).append(node)

    def tearDown(self):
        tme_scene.release_scene(self.scene)

    def test_per_map_window_before_and_one_window_after(self):
        nodes = self.values["S0 nodes"]
        self.assertEqual(nodes[0].GetAttribute(attribute_names.WINDOW_SOURCE), "this map")
        self.assertNotAlmostEqual(nodes[0].GetDisplayNode().GetWindowLevelMax(), nodes[1].GetDisplayNode().GetWindowLevelMax())
        applied = dashboard.apply_shared_windows(self.scene, self.patient)
        pooled = np.concatenate([v[v != 0] for v in self.values["S0"]])
        expected = np.percentile(pooled, [2, 98])
        self.assertEqual(applied["S0"][2], "patient")
        for node in nodes:
            self.assertAlmostEqual(node.GetDisplayNode().GetWindowLevelMin(), expected[0], places=3)
            self.assertAlmostEqual(node.GetDisplayNode().GetWindowLevelMax(), expected[1], places=3)
            self.assertEqual(node.GetAttribute(attribute_names.WINDOW_SOURCE), "patient")
        self.assertEqual(applied["Ktrans"], (0.0, 0.4, "registry"))

    def test_patient_mode_pools_every_quantity(self):
        applied = dashboard.apply_shared_windows(self.scene, self.patient, window_mode="patient")
        pooled = np.concatenate([v[v != 0] for v in self.values["Ktrans"]])
        self.assertAlmostEqual(applied["Ktrans"][1], float(np.percentile(pooled, 98)), places=6)
        maxima = {round(n.GetDisplayNode().GetWindowLevelMax(), 9) for n in self.values["Ktrans nodes"]}
        self.assertEqual(len(maxima), 1)

    def test_unknown_mode_is_refused(self):
        from TMEMonitorLib.errors import InputError
        with self.assertRaises(InputError):
            dashboard.apply_shared_windows(self.scene, self.patient, window_mode="per visit")


if __name__ == "__main__":
    unittest.main()


class ShowForReadingTest(unittest.TestCase):
    """views.show_for_reading (what a tme-monitor command's .mrb opens with), read back from the .mrb."""

    def test_single_analysis_scene_round_trip(self):
        scene = tme_scene.create_scene()
        out = tempfile.mkdtemp(prefix="tme-show-for-reading-")
        try:
            ijk = np.diag([2.0, 2.0, 3.0, 1.0])
            series = np.random.default_rng(1).uniform(50, 100, (5, 3, 8, 8)).astype(np.float32)
            dce = tme_scene.array_to_sequence(scene, series, np.arange(5.0), ijk, "DCE", axis_name="time", axis_unit="s")
            ktrans = tme_scene.add_quantity_map(scene, np.full((3, 8, 8), 0.1, np.float32), ijk, "DCE Ktrans", "Ktrans")
            chart = tme_scene.add_plot(scene, "AIF", np.arange(5.0), {"plasma": np.arange(5.0)}, "time", "c", "s", "mM")
            roi = scene.AddNewNodeByClass("vtkMRMLMarkupsROINode", "voxel")
            views.show_for_reading(scene, background=dce, foreground=ktrans, chart=chart)
            path = tme_scene.save_scene(scene, os.path.join(out, "dce.mrb"))
            loaded = tme_scene.load_scene(path)
            layout = views.layout_node(loaded)
            self.assertEqual(layout.GetViewArrangement(), slicer.vtkMRMLLayoutNode.SlicerLayoutFourUpPlotView)
            red = loaded.GetSingletonNode("Red", "vtkMRMLSliceCompositeNode")
            self.assertEqual(loaded.GetNodeByID(red.GetForegroundVolumeID()).GetName(), "DCE Ktrans")
            background = loaded.GetNodeByID(red.GetBackgroundVolumeID())
            self.assertIsNotNone(background)                 # the DCE series' proxy volume
            self.assertEqual(loaded.GetNodeByID(views.plot_view_node(loaded).GetPlotChartNodeID()).GetName(), "AIF")
            self.assertTrue(legend_of(loaded.GetFirstNodeByName("DCE Ktrans")).GetVisibility())
            self.assertTrue(loaded.GetFirstNodeByName("voxel").GetLocked())
            self.assertAlmostEqual(loaded.GetSingletonNode("Red", "vtkMRMLSliceNode").GetFieldOfView()[0], 8 * 2.0 * 1.1)
            self.assertIsNotNone(roi)
            tme_scene.release_scene(loaded)
        finally:
            tme_scene.release_scene(scene)
            shutil.rmtree(out, ignore_errors=True)
