"""Spectroscopy panel flows on the 7 T NIfTI-MRS example, under both Slicer tags (Testing/SlicerHarness;
the common flows are SlicerHarness.panel_flows.PanelFlows)."""
import os

from SlicerHarness.panel_flows import PanelFlows, for_each_tag

DATA = os.path.join(os.path.dirname(__file__), "..", "Data", "mrs-formats", "nifti_mrs_7T_steam", "metab.nii.gz")


class _SpectroscopyPanelFlows(PanelFlows):
    MODULE, LABEL = "SpectroscopyModule", "MRS"
    BAD_INPUT_MESSAGE = "does not exist"

    def set_inputs(self, p):
        p.inputPath, p.sequence = os.path.abspath(DATA), "STEAM"

    def make_input_bad(self, p):
        p.inputPath = "/no/such/file.nii.gz"

    def check_setup(self):
        self.assertFalse(self.widget.ui.mrsiCollapsibleButton.visible)

    def check_apply_result(self, run):
        ui = self.widget.ui
        self.assertIn("SNR", ui.statusLabel.text)
        self.assertIsNotNone(ui.resultsTableView.mrmlTableNode())
        self.assertIsNotNone(ui.spectrumPlotWidget.mrmlPlotViewNode().GetPlotChartNodeID())

    def test_b_browse_sets_the_path(self):
        self.env.file_dialog_answers.append("/data/svs.nii.gz")
        self.widget.ui.inputBrowseButton.click()
        self.assertEqual(self.widget._parameterNode.inputPath, "/data/svs.nii.gz")

    def test_z_scene_close_with_panel_shown_then_use_again(self):
        self.env.close_scene()
        self.assertEqual(self.widget._parameterNode.inputPath, "")
        self.widget.ui.sequenceComboBox.choose("PRESS")
        self.assertEqual(self.widget._parameterNode.sequence, "PRESS")


SpectroscopyPanelSlicer58, SpectroscopyPanelSlicer510 = for_each_tag(_SpectroscopyPanelFlows, "SpectroscopyPanel")
