"""DCE panel flows under Slicer v5.8.0 and v5.10.0's Python layer (Testing/SlicerHarness; the common
flows are SlicerHarness.panel_flows.PanelFlows)."""
from SlicerHarness.panel_flows import PanelFlows, for_each_tag


class _DCEPanelFlows(PanelFlows):
    MODULE, LABEL = "DCEModule", "DCE"
    WORK_BUTTONS = ("applyButton", "previewAifButton")
    CANCEL_AT = 3
    BAD_INPUT_MESSAGE = "choose a DCE series"

    @classmethod
    def make_inputs(cls):
        cls.build_demo_visit(seed=3)

    def set_inputs(self, p):
        p.dceSeries, p.vfaSeries, p.mask, p.model = self.visit.nodes["dce"], self.visit.nodes["vfa"], self.mask, "tofts"

    def make_input_bad(self, p):
        p.dceSeries = None

    def check_setup(self):
        ui = self.widget.ui
        self.assertEqual(ui.modelComboBox.currentText, "tofts")
        self.assertIs(ui.dceSeriesSelector.currentNode(), self.visit.nodes["dce"])
        # node selectors keep the .ui's node types (the connector sets them from the annotation)
        self.assertEqual(ui.maskSelector.nodeTypes, ("vtkMRMLLabelMapVolumeNode", "vtkMRMLSegmentationNode"))
        self.assertEqual(ui.dceSeriesSelector.nodeTypes, ("vtkMRMLSequenceNode",))

    def check_apply_result(self, run):
        self.assertIn("Done", self.widget.ui.statusLabel.text)
        ktrans = self.env.scene.GetNodesByName(f"{self.visit.nodes['dce'].GetName()} Ktrans")
        self.assertEqual(ktrans.GetNumberOfItems(), 1)

    def test_b_spin_boxes_keep_ui_ranges_and_special_text(self):
        ui = self.widget.ui
        self.widget._parameterNode.repetitionTimeMs = 0.0
        self.assertEqual((ui.repetitionTimeSpinBox.minimum, ui.repetitionTimeSpinBox.maximum), (0.0, 100.0))
        self.assertEqual(ui.repetitionTimeSpinBox.text, "from metadata")
        ui.hematocritSpinBox.type_value(-0.3)
        self.assertEqual(self.widget._parameterNode.hematocrit, 0.0)
        self.widget._parameterNode.hematocrit = 0.42

    def test_e2_preview_aif_with_bad_input_shows_clear_error(self):
        self.widget._parameterNode.dceSeries = None
        self.widget.ui.previewAifButton.click()
        self.assertIn("choose a DCE series", self.env.error_dialogs()[0]["text"])

    def test_f_preview_aif_shows_every_error(self):
        logic = self.widget.logic
        original = logic.preview_aif
        logic.preview_aif = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("planted failure"))
        try:
            self.widget.ui.previewAifButton.click()
        finally:
            logic.preview_aif = original
        self.assertIn("planted failure", self.env.error_dialogs()[0]["text"])
        self.env.dialogs.clear()
        self.widget.ui.previewAifButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn("AIF preview", self.widget.ui.statusLabel.text)

    def test_g_one_logic_for_panel_and_console(self):
        from DCEModuleLib.logic import DCELogic
        self.assertIsInstance(self.widget.logic, DCELogic)
        self.assertIs(self.widget.logic.scene, self.env.scene)
        self.assertTrue(callable(self.widget.logic.curve_plot))

    def test_z_scene_close_with_panel_shown_then_use_again(self):
        self.env.close_scene()
        p = self.widget._parameterNode
        self.assertIsNotNone(p)
        self.assertIsNone(p.dceSeries)
        self.widget.ui.modelComboBox.choose("patlak")
        self.assertEqual(self.widget._parameterNode.model, "patlak")
        self.widget.ui.applyButton.click()
        self.assertIn("choose a DCE series", self.env.error_dialogs()[0]["text"])


DCEPanelSlicer58, DCEPanelSlicer510 = for_each_tag(_DCEPanelFlows, "DCEPanel")
