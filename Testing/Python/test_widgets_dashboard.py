"""TMEMonitor dashboard flows under both Slicer tags (Testing/SlicerHarness)."""
import unittest

from SlicerHarness import TAGS, SlicerEnvironment
from SlicerHarness.flows import RunObserver, check_bindings_both_ways


class _DashboardFlows:
    TAG = None

    @classmethod
    def setUpClass(cls):
        cls.env = SlicerEnvironment(cls.TAG).__enter__()
        cls.env.load_module("DCEModule")
        cls.env.load_module("DiffusionModule")
        cls.widget = cls.env.create_widget("TMEMonitor")

    @classmethod
    def tearDownClass(cls):
        cls.env.__exit__(None, None, None)

    def setUp(self):
        self.env.dialogs.clear()

    def test_a_setup_and_bindings(self):
        self.assertEqual(self.widget.ui.patientComboBox.count, 0)
        check_bindings_both_ways(self, self.widget, self.env)

    def test_b_demo_visit_run_response_close(self):
        ui, p = self.widget.ui, self.widget._parameterNode
        p.demoSize = "tiny"
        buttons = self.widget.workButtons()
        with RunObserver(self.env, self.widget, buttons) as run:
            ui.createDemoButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertTrue(all(not any(b) for b in run.buttons_enabled))
        self.assertEqual(ui.patientComboBox.count, 1)
        self.assertGreaterEqual(ui.visitsTable.rowCount, 3)
        # visit runs use the DCE and Diffusion panels' saved settings
        import DCEModule
        DCEModule.DCEModuleLogic().getParameterNode().model = "patlak"
        ui.visitsTable.selectRow(0)
        ui.runVisitButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertEqual(self.env.scene.GetNodesByName("").GetNumberOfItems() >= 0, True)
        names = [self.env.scene.GetNthNode(i).GetName() for i in range(self.env.scene.GetNumberOfNodes())]
        self.assertTrue(any("Ktrans" in n for n in names))
        self.assertFalse(any(n.endswith(" ve") and "DCE" in n for n in names), "Patlak has no ve: settings ignored")
        ui.responseButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIsNotNone(ui.tableView.mrmlTableNode())
        self.assertIsNotNone(ui.plotWidget.mrmlPlotViewNode())
        # cancel mid-run: no dialog
        with RunObserver(self.env, self.widget, buttons, cancel_at=1):
            ui.registerButton.click()
        self.assertEqual(self.env.dialogs, [])
        self.assertIn("cancelled", ui.statusLabel.text)
        # scene close: stale patients go away; an import brings them back
        self.env.close_scene()
        self.assertEqual(ui.patientComboBox.count, 0)
        self.assertEqual(ui.visitsTable.rowCount, 0)
        scene = self.env.scene
        scene.StartState(scene.ImportState)
        self.widget.logic.buildDemoPatient(size="tiny", seed=1)
        scene.EndState(scene.ImportState)
        self.assertEqual(ui.patientComboBox.count, 1)

    def test_c_bad_input_clear_error(self):
        self.env.close_scene()
        self.widget.ui.runVisitButton.click()
        self.assertIn("select a visit first", self.env.error_dialogs()[0]["text"])


class DashboardSlicer58(_DashboardFlows, unittest.TestCase):
    TAG = TAGS[0]


class DashboardSlicer510(_DashboardFlows, unittest.TestCase):
    TAG = TAGS[1]
