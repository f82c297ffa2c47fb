"""Elastography panel flows under Slicer v5.8.0 and v5.10.0's Python layer (Testing/SlicerHarness;
the common flows are SlicerHarness.panel_flows.PanelFlows)."""
import numpy as np

from SlicerHarness.flows import node_counts
from SlicerHarness.panel_flows import PanelFlows, for_each_tag


class _ElastographyPanelFlows(PanelFlows):
    MODULE, LABEL = "ElastographyModule", "Elastography"
    BAD_INPUT_MESSAGE = "choose an MRE phase series"

    @classmethod
    def make_inputs(cls):
        from TMEMonitorApp.demo import build_demo_scene
        from TMEMonitorLib import scene as tme_scene
        cls.visit = build_demo_scene(cls.env.scene, size="tiny", seed=2, n_visits=1, only=["mre"]).visits[0]
        cls.mask = tme_scene.add_label_map(cls.env.scene, cls.visit.visit.labels > 0, cls.visit.visit.ijk_to_ras,
                                           "body mask")

    def set_inputs(self, p):
        p.phaseSeries, p.mask, p.derivativeAxes, p.runKmdev = self.visit.nodes["mre_phase"], self.mask, "2d", False
        p.frequencies = p.offsets = p.directions = ""
        p.umPerRad = 0.0

    def make_input_bad(self, p):
        p.phaseSeries = None

    def check_setup(self):
        ui = self.widget.ui
        self.assertIn("Frequencies: [30.0, 40.0, 50.0, 60.0]", ui.acquisitionLabel.text)
        self.assertEqual(ui.phaseSeriesSelector.nodeTypes, ("vtkMRMLSequenceNode",))
        self.assertEqual(ui.maskSelector.nodeTypes, ("vtkMRMLLabelMapVolumeNode", "vtkMRMLSegmentationNode"))
        self.widget._parameterNode.umPerRad = 0.0
        self.assertEqual(ui.umPerRadSpinBox.text, "from the series")

    def check_apply_result(self, run):
        from TMEMonitorLib import scene as tme_scene
        self.assertIn("Done", self.widget.ui.statusLabel.text)
        maps = [self.env.scene.GetNthNodeByClass(i, "vtkMRMLScalarVolumeNode")
                for i in range(self.env.scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode"))]
        stiffness = [n for n in maps if n.GetName().endswith("mdev |G*|")]
        self.assertEqual(len(stiffness), 1)
        self.assertEqual(stiffness[0].GetAttribute("TMEMonitor.Unit"), "kPa")
        tumour = self.visit.visit.tumour_mask
        measured = np.nanmean(tme_scene.volume_to_array(stiffness[0])[tumour])
        self.assertLess(abs(measured / self.visit.visit.truth_summary["abs_G_kPa_mean"] - 1), 0.35)

    def test_e_two_offsets_are_refused_naming_what_to_fix(self):
        # Two offsets cannot give a first harmonic: refused with the flag to fix, nothing written.
        counts = node_counts(self.env.scene)
        self.widget._parameterNode.offsets = "0, 3.14159, 0, 3.14159"
        self.widget.ui.applyButton.click()
        self.assertIn("at least 3", self.env.error_dialogs()[0]["text"])
        self.assertEqual(node_counts(self.env.scene), counts)

    def test_z_scene_close_with_panel_shown_then_use_again(self):
        self.env.close_scene()
        self.assertIsNone(self.widget._parameterNode.phaseSeries)
        self.assertEqual(self.widget.ui.acquisitionLabel.text, "")
        self.widget.ui.unwrapComboBox.choose("quality")
        self.assertEqual(self.widget._parameterNode.unwrap, "quality")


ElastographyPanelSlicer58, ElastographyPanelSlicer510 = for_each_tag(_ElastographyPanelFlows, "ElastographyPanel")
