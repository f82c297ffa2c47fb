"""Diffusion panel flows under Slicer v5.8.0 and v5.10.0's Python layer (Testing/SlicerHarness;
the common flows are SlicerHarness.panel_flows.PanelFlows)."""
from SlicerHarness.panel_flows import PanelFlows, for_each_tag


class _DiffusionPanelFlows(PanelFlows):
    MODULE, LABEL = "DiffusionModule", "Diffusion"
    BAD_INPUT_MESSAGE = "choose a DWI series"

    @classmethod
    def make_inputs(cls):
        cls.build_demo_visit(seed=2)

    def set_inputs(self, p):
        p.dwiSeries, p.mask, p.ivimMethod = self.visit.nodes["dwi"], self.mask, "segmented"

    def make_input_bad(self, p):
        p.dwiSeries = None

    def check_setup(self):
        ui = self.widget.ui
        self.assertIn("phantom", ui.bValuesLabel.text)
        self.assertEqual(ui.maskSelector.nodeTypes, ("vtkMRMLLabelMapVolumeNode", "vtkMRMLSegmentationNode"))
        self.assertEqual(ui.dwiSeriesSelector.nodeTypes[:2], ("vtkMRMLSequenceNode", "vtkMRMLDiffusionWeightedVolumeNode"))
        self.widget._parameterNode.adcBMax = 0.0
        self.assertEqual(ui.adcBMaxSpinBox.text, "highest in the series")

    def check_apply_result(self, run):
        self.assertIn("Done", self.widget.ui.statusLabel.text)

    def test_z_scene_close_with_panel_shown_then_use_again(self):
        self.env.close_scene()
        self.assertIsNone(self.widget._parameterNode.dwiSeries)
        self.widget.ui.adcMethodComboBox.choose("weighted")
        self.assertEqual(self.widget._parameterNode.adcMethod, "weighted")


DiffusionPanelSlicer58, DiffusionPanelSlicer510 = for_each_tag(_DiffusionPanelFlows, "DiffusionPanel")
