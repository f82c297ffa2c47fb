"""Spectroscopy panel flows on the 7 T NIfTI-MRS example, under both Slicer tags (Testing/SlicerHarness)."""
import os
import unittest

from SlicerHarness import TAGS, SlicerEnvironment
from SlicerHarness.flows import RunObserver, check_bindings_both_ways, node_counts

DATA = os.path.join(os.path.dirname(__file__), "..", "Data", "mrs-formats", "nifti_mrs_7T_steam", "metab.nii.gz")


class _SpectroscopyPanelFlows:
    TAG = None

    @classmethod
    def setUpClass(cls):
        cls.env = SlicerEnvironment(cls.TAG).__enter__()
        cls.widget = cls.env.create_widget("SpectroscopyModule")

    @classmethod
    def tearDownClass(cls):
        cls.env.__exit__(None, None, None)

    def setUp(self):
        self.env.dialogs.clear()
        p = self.widget._parameterNode
        p.inputPath, p.sequence = os.path.abspath(DATA), "STEAM"

    def apply(self, **observer):
        ui = self.widget.ui
        with RunObserver(self.env, self.widget, [ui.applyButton], **observer) as run:
            ui.applyButton.click()
        return run

    def test_a_setup_and_bindings_both_ways(self):
        self.assertFalse(self.widget.ui.mrsiCollapsibleButton.visible)
        check_bindings_both_ways(self, self.widget, self.env)

    def test_b_browse_sets_the_path(self):
        self.env.file_dialog_answers.append("/data/svs.nii.gz")
        self.widget.ui.inputBrowseButton.click()
        self.assertEqual(self.widget._parameterNode.inputPath, "/data/svs.nii.gz")

    def test_c_apply_then_apply_again_replaces_outputs(self):
        run = self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn("SNR", self.widget.ui.statusLabel.text)
        self.assertIsNotNone(self.widget.ui.resultsTableView.mrmlTableNode())
        self.assertIsNotNone(self.widget.ui.spectrumPlotWidget.mrmlPlotViewNode().GetPlotChartNodeID())
        self.assertTrue(all(not any(b) for b in run.buttons_enabled))
        print(f"[{self.TAG}] MRS apply: {run.calls} progress updates, longest gap {run.longest_gap_s:.2f} s")
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
        self.widget._parameterNode.inputPath = "/no/such/file.nii.gz"
        self.widget.ui.applyButton.click()
        self.assertIn("does not exist", self.env.error_dialogs()[0]["text"])

    def test_z_scene_close_with_panel_shown_then_use_again(self):
        self.env.close_scene()
        self.assertEqual(self.widget._parameterNode.inputPath, "")
        self.widget.ui.sequenceComboBox.choose("PRESS")
        self.assertEqual(self.widget._parameterNode.sequence, "PRESS")


class SpectroscopyPanelSlicer58(_SpectroscopyPanelFlows, unittest.TestCase):
    TAG = TAGS[0]


class SpectroscopyPanelSlicer510(_SpectroscopyPanelFlows, unittest.TestCase):
    TAG = TAGS[1]
