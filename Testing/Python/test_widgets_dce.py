"""DCE panel flows under Slicer v5.8.0 and v5.10.0's Python layer (Testing/SlicerHarness)."""
import unittest

from SlicerHarness import TAGS, SlicerEnvironment
from SlicerHarness.flows import RunObserver, check_bindings_both_ways, node_counts


class _DCEPanelFlows:
    TAG = None

    @classmethod
    def setUpClass(cls):
        from TMEMonitorLib import scene as tme_scene
        from TMEMonitorApp.demo import build_demo_scene
        cls.env = SlicerEnvironment(cls.TAG).__enter__()
        build = build_demo_scene(cls.env.scene, size="tiny", seed=3, n_visits=1)
        cls.visit = build.visits[0]
        cls.mask = tme_scene.add_label_map(cls.env.scene, cls.visit.visit.tumour_mask, cls.visit.visit.ijk_to_ras,
                                           "tumour mask")
        cls.widget = cls.env.create_widget("DCEModule")

    @classmethod
    def tearDownClass(cls):
        cls.env.__exit__(None, None, None)

    def setUp(self):
        self.env.dialogs.clear()
        p = self.widget._parameterNode
        p.dceSeries, p.vfaSeries, p.mask, p.model = self.visit.nodes["dce"], self.visit.nodes["vfa"], self.mask, "tofts"

    def apply(self, **observer):
        ui = self.widget.ui
        with RunObserver(self.env, self.widget, [ui.applyButton, ui.previewAifButton], **observer) as run:
            ui.applyButton.click()
        return run

    def test_a_setup_and_bindings_both_ways(self):
        ui = self.widget.ui
        self.assertEqual(ui.modelComboBox.currentText, "tofts")
        self.assertIs(ui.dceSeriesSelector.currentNode(), self.visit.nodes["dce"])
        # node selectors keep the .ui's node types (the connector sets them from the annotation)
        self.assertEqual(ui.maskSelector.nodeTypes, ("vtkMRMLLabelMapVolumeNode", "vtkMRMLSegmentationNode"))
        self.assertEqual(ui.dceSeriesSelector.nodeTypes, ("vtkMRMLSequenceNode",))
        check_bindings_both_ways(self, self.widget, self.env)

    def test_b_spin_boxes_keep_ui_ranges_and_special_text(self):
        ui = self.widget.ui
        self.widget._parameterNode.repetitionTimeMs = 0.0
        self.assertEqual((ui.repetitionTimeSpinBox.minimum, ui.repetitionTimeSpinBox.maximum), (0.0, 100.0))
        self.assertEqual(ui.repetitionTimeSpinBox.text, "from metadata")
        ui.hematocritSpinBox.type_value(-0.3)
        self.assertEqual(self.widget._parameterNode.hematocrit, 0.0)
        self.widget._parameterNode.hematocrit = 0.42

    def test_c_apply_then_apply_again_replaces_outputs(self):
        run = self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn("Done", self.widget.ui.statusLabel.text)
        ktrans = self.env.scene.GetNodesByName(f"{self.visit.nodes['dce'].GetName()} Ktrans")
        self.assertEqual(ktrans.GetNumberOfItems(), 1)
        self.assertTrue(all(not any(b) for b in run.buttons_enabled), "work buttons enabled while running")
        self.assertTrue(all(run.cancel_enabled))
        self.assertTrue(self.widget.ui.applyButton.enabled)
        self.assertFalse(self.widget.ui.cancelButton.enabled)
        print(f"[{self.TAG}] DCE apply: {run.calls} progress updates, longest gap {run.longest_gap_s:.2f} s")
        counts = node_counts(self.env.scene)
        self.apply()
        self.assertEqual(node_counts(self.env.scene), counts, "second Apply piled up nodes")

    def test_d_cancel_mid_run_no_dialog_nothing_written(self):
        counts = node_counts(self.env.scene)
        run = self.apply(cancel_at=3)
        self.assertGreaterEqual(run.calls, 3)
        self.assertEqual(self.env.dialogs, [])
        self.assertIn("cancelled", self.widget.ui.statusLabel.text)
        self.assertEqual(node_counts(self.env.scene), counts)
        self.assertTrue(self.widget.ui.applyButton.enabled)

    def test_e_bad_input_shows_clear_error(self):
        self.widget._parameterNode.dceSeries = None
        self.widget.ui.applyButton.click()
        dialogs = self.env.error_dialogs()
        self.assertEqual(len(dialogs), 1)
        self.assertIn("choose a DCE series", dialogs[0]["text"])
        self.env.dialogs.clear()
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


class DCEPanelSlicer58(_DCEPanelFlows, unittest.TestCase):
    TAG = TAGS[0]


class DCEPanelSlicer510(_DCEPanelFlows, unittest.TestCase):
    TAG = TAGS[1]
