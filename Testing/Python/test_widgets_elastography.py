"""Elastography panel flows under Slicer v5.8.0 and v5.10.0's Python layer (Testing/SlicerHarness)."""
import unittest

import numpy as np

from SlicerHarness import TAGS, SlicerEnvironment
from SlicerHarness.flows import RunObserver, check_bindings_both_ways, node_counts


class _ElastographyPanelFlows:
    TAG = None

    @classmethod
    def setUpClass(cls):
        from TMEMonitorApp.demo import build_demo_scene
        from TMEMonitorLib import scene as tme_scene
        cls.env = SlicerEnvironment(cls.TAG).__enter__()
        cls.visit = build_demo_scene(cls.env.scene, size="tiny", seed=2, n_visits=1, only=["mre"]).visits[0]
        cls.mask = tme_scene.add_label_map(cls.env.scene, cls.visit.visit.labels > 0, cls.visit.visit.ijk_to_ras,
                                           "body mask")
        cls.widget = cls.env.create_widget("ElastographyModule")

    @classmethod
    def tearDownClass(cls):
        cls.env.__exit__(None, None, None)

    def setUp(self):
        self.env.dialogs.clear()
        p = self.widget._parameterNode
        p.phaseSeries, p.mask, p.derivativeAxes, p.runKmdev = self.visit.nodes["mre_phase"], self.mask, "2d", False
        p.frequencies = p.offsets = p.directions = ""
        p.umPerRad = 0.0

    def apply(self, **observer):
        with RunObserver(self.env, self.widget, [self.widget.ui.applyButton], **observer) as run:
            self.widget.ui.applyButton.click()
        return run

    def test_a_setup_and_bindings_both_ways(self):
        ui = self.widget.ui
        self.assertIn("Frequencies: [30.0, 40.0, 50.0, 60.0]", ui.acquisitionLabel.text)
        self.assertEqual(ui.phaseSeriesSelector.nodeTypes, ("vtkMRMLSequenceNode",))
        self.assertEqual(ui.maskSelector.nodeTypes, ("vtkMRMLLabelMapVolumeNode", "vtkMRMLSegmentationNode"))
        self.widget._parameterNode.umPerRad = 0.0
        self.assertEqual(ui.umPerRadSpinBox.text, "from the series")
        check_bindings_both_ways(self, self.widget, self.env)

    def test_c_apply_gives_stiffness_then_apply_again_replaces_outputs(self):
        from TMEMonitorLib import scene as tme_scene
        run = self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn("Done", self.widget.ui.statusLabel.text)
        self.assertTrue(all(not any(b) for b in run.buttons_enabled))
        maps = [self.env.scene.GetNthNodeByClass(i, "vtkMRMLScalarVolumeNode")
                for i in range(self.env.scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode"))]
        stiffness = [n for n in maps if n.GetName().endswith("mdev |G*|")]
        self.assertEqual(len(stiffness), 1)
        self.assertEqual(stiffness[0].GetAttribute("TMEMonitor.Unit"), "kPa")
        tumour = self.visit.visit.tumour_mask
        measured = np.nanmean(tme_scene.volume_to_array(stiffness[0])[tumour])
        self.assertLess(abs(measured / self.visit.visit.truth_summary["abs_G_kPa_mean"] - 1), 0.35)
        print(f"[{self.TAG}] Elastography apply: {run.calls} progress updates, longest gap {run.longest_gap_s:.2f} s")
        counts = node_counts(self.env.scene)
        self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertEqual(node_counts(self.env.scene), counts, "second Apply piled up nodes")

    def test_d_cancel_mid_run(self):
        counts = node_counts(self.env.scene)
        self.apply(cancel_at=2)
        self.assertEqual(self.env.dialogs, [])
        self.assertIn("cancelled", self.widget.ui.statusLabel.text)
        self.assertEqual(node_counts(self.env.scene), counts)

    def test_e_bad_input_shows_clear_error(self):
        counts = node_counts(self.env.scene)
        self.widget._parameterNode.phaseSeries = None
        self.widget.ui.applyButton.click()
        self.assertIn("choose an MRE phase series", self.env.error_dialogs()[0]["text"])
        self.env.dialogs.clear()
        # Two offsets cannot give a first harmonic: refused with the flag to fix, nothing written.
        p = self.widget._parameterNode
        p.phaseSeries = self.visit.nodes["mre_phase"]
        p.offsets = "0, 3.14159, 0, 3.14159"
        self.widget.ui.applyButton.click()
        self.assertIn("at least 3", self.env.error_dialogs()[0]["text"])
        self.assertEqual(node_counts(self.env.scene), counts)

    def test_z_scene_close_with_panel_shown_then_use_again(self):
        self.env.close_scene()
        self.assertIsNone(self.widget._parameterNode.phaseSeries)
        self.assertEqual(self.widget.ui.acquisitionLabel.text, "")
        self.widget.ui.unwrapComboBox.choose("quality")
        self.assertEqual(self.widget._parameterNode.unwrap, "quality")


class ElastographyPanelSlicer58(_ElastographyPanelFlows, unittest.TestCase):
    TAG = TAGS[0]


class ElastographyPanelSlicer510(_ElastographyPanelFlows, unittest.TestCase):
    TAG = TAGS[1]
