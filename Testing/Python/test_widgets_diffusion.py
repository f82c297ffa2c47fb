"""Diffusion panel flows under Slicer v5.8.0 and v5.10.0's Python layer (Testing/SlicerHarness)."""
import unittest

from SlicerHarness import TAGS, SlicerEnvironment
from SlicerHarness.flows import RunObserver, check_bindings_both_ways, node_counts


class _DiffusionPanelFlows:
    TAG = None

    @classmethod
    def setUpClass(cls):
        from TMEMonitorLib import scene as tme_scene
        from TMEMonitorApp.demo import build_demo_scene
        cls.env = SlicerEnvironment(cls.TAG).__enter__()
        cls.visit = build_demo_scene(cls.env.scene, size="tiny", seed=2, n_visits=1).visits[0]
        cls.mask = tme_scene.add_label_map(cls.env.scene, cls.visit.visit.tumour_mask, cls.visit.visit.ijk_to_ras,
                                           "tumour mask")
        cls.widget = cls.env.create_widget("DiffusionModule")

    @classmethod
    def tearDownClass(cls):
        cls.env.__exit__(None, None, None)

    def setUp(self):
        self.env.dialogs.clear()
        p = self.widget._parameterNode
        p.dwiSeries, p.mask, p.ivimMethod = self.visit.nodes["dwi"], self.mask, "segmented"

    def apply(self, **observer):
        with RunObserver(self.env, self.widget, [self.widget.ui.applyButton], **observer) as run:
            self.widget.ui.applyButton.click()
        return run

    def test_a_setup_and_bindings_both_ways(self):
        ui = self.widget.ui
        self.assertIn("phantom", ui.bValuesLabel.text)
        self.assertEqual(ui.maskSelector.nodeTypes, ("vtkMRMLLabelMapVolumeNode", "vtkMRMLSegmentationNode"))
        self.assertEqual(ui.dwiSeriesSelector.nodeTypes[:2], ("vtkMRMLSequenceNode", "vtkMRMLDiffusionWeightedVolumeNode"))
        self.widget._parameterNode.adcBMax = 0.0
        self.assertEqual(ui.adcBMaxSpinBox.text, "highest in the series")
        check_bindings_both_ways(self, self.widget, self.env)

    def test_c_apply_then_apply_again_replaces_outputs(self):
        run = self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn("Done", self.widget.ui.statusLabel.text)
        self.assertTrue(all(not any(b) for b in run.buttons_enabled))
        print(f"[{self.TAG}] Diffusion apply: {run.calls} progress updates, longest gap {run.longest_gap_s:.2f} s")
        counts = node_counts(self.env.scene)
        self.apply()
        self.assertEqual(node_counts(self.env.scene), counts, "second Apply piled up nodes")

    def test_d_cancel_mid_run(self):
        counts = node_counts(self.env.scene)
        self.apply(cancel_at=2)
        self.assertEqual(self.env.dialogs, [])
        self.assertIn("cancelled", self.widget.ui.statusLabel.text)
        self.assertEqual(node_counts(self.env.scene), counts)

    def test_e_bad_input_shows_clear_error(self):
        self.widget._parameterNode.dwiSeries = None
        self.widget.ui.applyButton.click()
        self.assertIn("choose a DWI series", self.env.error_dialogs()[0]["text"])

    def test_z_scene_close_with_panel_shown_then_use_again(self):
        self.env.close_scene()
        self.assertIsNone(self.widget._parameterNode.dwiSeries)
        self.widget.ui.adcMethodComboBox.choose("weighted")
        self.assertEqual(self.widget._parameterNode.adcMethod, "weighted")


class DiffusionPanelSlicer58(_DiffusionPanelFlows, unittest.TestCase):
    TAG = TAGS[0]


class DiffusionPanelSlicer510(_DiffusionPanelFlows, unittest.TestCase):
    TAG = TAGS[1]
