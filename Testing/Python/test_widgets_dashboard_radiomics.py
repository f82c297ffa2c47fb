"""TMEMonitor dashboard, Radiomics section, under both Slicer tags (Testing/SlicerHarness)."""
import json
import os
import shutil
import tempfile
import unittest

from SlicerHarness import TAGS, SlicerEnvironment
from SlicerHarness.flows import RunObserver, check_bindings_both_ways, node_counts

FAST_SETTINGS = {"families": ["statistics", "intensity_histogram"], "discretisation": {"method": "fbn", "bins": 16}}


class _RadiomicsFlows:
    TAG = None

    @classmethod
    def setUpClass(cls):
        cls.env = SlicerEnvironment(cls.TAG).__enter__()
        cls.env.load_module("DCEModule")
        cls.env.load_module("DiffusionModule")
        cls.widget = cls.env.create_widget("TMEMonitor")
        cls.tmp = tempfile.mkdtemp(prefix="tme-radiomics-widget-")
        cls.settings = os.path.join(cls.tmp, "radiomics.json")
        with open(cls.settings, "w") as handle:
            json.dump(FAST_SETTINGS, handle)

    @classmethod
    def tearDownClass(cls):
        cls.env.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.env.dialogs.clear()

    def test_a_setup_and_bindings(self):
        ui = self.widget.ui
        self.assertTrue(ui.radiomicsCollapsibleButton.collapsed)
        self.assertEqual(ui.radiomicsFeatureComboBox.count, 0)
        self.assertIn(ui.radiomicsComputeButton, self.widget.workButtons())
        check_bindings_both_ways(self, self.widget, self.env)

    def test_b_compute_plot_cancel(self):
        ui, p = self.widget.ui, self.widget._parameterNode
        p.demoSize = "tiny"
        ui.createDemoButton.click()
        logic = self.widget.logic
        patient = ui.patientComboBox.currentData
        for row in range(ui.visitsTable.rowCount):
            ui.visitsTable.selectRow(row)
            ui.runVisitButton.click()
        ui.responseButton.click()                      # habitats
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn("ADC", ui.radiomicsAvailableLabel.text)
        # Cancel mid-run: no dialog, nothing added
        p.radiomicsSettingsFile = self.settings
        p.radiomicsMaps = "ADC, Ktrans"
        before = node_counts(self.env.scene)
        with RunObserver(self.env, self.widget, self.widget.workButtons(), cancel_at=2):
            ui.radiomicsComputeButton.click()
        self.assertEqual(self.env.dialogs, [])
        self.assertIn("cancelled", ui.statusLabel.text)
        self.assertEqual(node_counts(self.env.scene), before)
        # Compute: a table per visit, the delta table in the view, the chart in the plot widget
        out = os.path.join(self.tmp, "csv")
        p.radiomicsDirectory = out
        with RunObserver(self.env, self.widget, self.widget.workButtons()) as run:
            ui.radiomicsComputeButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertTrue(all(not any(b) for b in run.buttons_enabled))
        self.assertTrue(all(run.cancel_enabled))
        from TMEMonitorApp import radiomics
        tables = radiomics.visit_table_nodes(self.env.scene, patient)
        self.assertEqual(len(tables), len(logic.listVisits(patient)))
        self.assertIsNotNone(ui.radiomicsTableView.mrmlTableNode())
        view = ui.radiomicsPlotWidget.mrmlPlotViewNode()
        self.assertIsNotNone(view)
        first_chart = view.GetPlotChartNodeID()
        self.assertTrue(first_chart)
        self.assertTrue(os.path.isfile(os.path.join(out, "features.csv")))
        # feature picker: every feature of the delta table; choosing one re-plots
        self.assertGreater(ui.radiomicsFeatureComboBox.count, 10)
        self.assertEqual(ui.radiomicsFeatureComboBox.currentText, "stat_mean")
        ui.radiomicsFeatureComboBox.choose("ih_entropy")
        self.assertEqual(self.env.error_dialogs(), [])
        chart = self.env.scene.GetNodeByID(view.GetPlotChartNodeID())
        self.assertIn("ih_entropy", chart.GetName())
        self.assertEqual(chart.GetNumberOfPlotSeriesNodes(), 2)

    def test_c_bad_settings_file_error_dialog(self):
        p = self.widget._parameterNode
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as handle:
            json.dump({"discretisation": {"method": "fbn", "bins": 0}}, handle)
        p.radiomicsSettingsFile = bad
        before = node_counts(self.env.scene)
        self.widget.ui.radiomicsComputeButton.click()
        errors = self.env.error_dialogs()
        self.assertEqual(len(errors), 1)
        self.assertIn("bad.json", errors[0]["text"])
        self.assertIn("bins", errors[0]["text"])
        self.assertEqual(node_counts(self.env.scene), before)
        p.radiomicsSettingsFile = ""

    def test_d_no_patient_clear_error(self):
        self.env.close_scene()
        self.widget.ui.radiomicsComputeButton.click()
        self.assertIn("select or create a patient first", self.env.error_dialogs()[0]["text"])


class DashboardRadiomicsSlicer58(_RadiomicsFlows, unittest.TestCase):
    TAG = TAGS[0]


class DashboardRadiomicsSlicer510(_RadiomicsFlows, unittest.TestCase):
    TAG = TAGS[1]
