"""TMEMonitor dashboard, Cohort section, under both Slicer tags (Testing/SlicerHarness): a cohort's
results (made here by the cohort's serial path on a tiny 2-patient cohort, once for both tags) load
into table nodes and the panel (tables, plots, patients) without computing anything; a patient's
scene opens through slicer.util.loadScene; a folder that is not a cohort output is a clear error."""
import importlib.util
import os
import shutil
import tempfile
import unittest

from SlicerHarness import TAGS, SlicerEnvironment
from SlicerHarness.flows import check_bindings_both_ways, node_counts

_CACHE = {}
NEEDS = importlib.util.find_spec("pyarrow") is not None       # the run writes cohort.parquet ([cohort] extra)


def setUpModule():
    if not NEEDS:
        return
    from TMEMonitorApp.cohort import runner
    from TMEMonitorApp.cohort.synthetic import write_demo_cohort
    root = tempfile.mkdtemp(prefix="tme-cohort-widget-")
    manifest = write_demo_cohort(os.path.join(root, "demo"), 2, 2, seed=4, n_visits=2)
    settings = os.path.join(root, "settings.json")
    with open(settings, "w") as stream:
        stream.write('{"dwi": {"fit_ivim": false}, "registration": {"method": "none"}}')
    out = os.path.join(root, "results")
    outcome = runner.run_cohort(manifest, out, settings_path=settings, serial=True, log=lambda *a, **k: None)
    _CACHE.update(root=root, out=out, exit_code=outcome.exit_code)


def tearDownModule():
    if "root" in _CACHE:
        shutil.rmtree(_CACHE["root"], ignore_errors=True)


class _CohortFlows:
    TAG = None

    @classmethod
    def setUpClass(cls):
        cls.env = SlicerEnvironment(cls.TAG).__enter__()
        cls.widget = cls.env.create_widget("TMEMonitor")
        cls.out = _CACHE["out"]

    @classmethod
    def tearDownClass(cls):
        cls.env.__exit__(None, None, None)

    def setUp(self):
        self.env.dialogs.clear()

    def test_a_setup_and_bindings(self):
        ui = self.widget.ui
        self.assertEqual(_CACHE["exit_code"], 0)
        self.assertTrue(ui.cohortCollapsibleButton.collapsed)
        self.assertEqual(ui.cohortPatientsTable.rowCount, 0)
        self.assertEqual(ui.cohortPlotComboBox.count, 0)
        self.assertIsNone(ui.cohortTableView.mrmlTableNode())
        check_bindings_both_ways(self, self.widget, self.env)

    def test_b_not_a_cohort_folder_clear_error(self):
        ui, p = self.widget.ui, self.widget._parameterNode
        before = node_counts(self.env.scene)
        for folder, expected in (("", "no folder given"), (os.path.join(self.out, "nope"), "no such folder"),
                                 (os.path.join(self.out, "figures"), "not a cohort output folder")):
            self.env.dialogs.clear()
            p.cohortDirectory = folder
            ui.cohortLoadButton.click()
            errors = self.env.error_dialogs()
            self.assertEqual(len(errors), 1, folder)
            self.assertIn(expected, errors[0]["text"])
            self.assertNotIn("Traceback", errors[0].get("detailedText") or "")
        # a CSV that is not the runner's: named, not a traceback
        bad = tempfile.mkdtemp(prefix="tme-cohort-bad-")
        try:
            for name in ("cohort.csv", "status.csv"):
                with open(os.path.join(bad, name), "w") as stream:
                    stream.write("a,b\n1,2\n")
            self.env.dialogs.clear()
            p.cohortDirectory = bad
            ui.cohortLoadButton.click()
            self.assertIn("has no column(s)", self.env.error_dialogs()[0]["text"])
        finally:
            shutil.rmtree(bad, ignore_errors=True)
        self.assertEqual(node_counts(self.env.scene), before)
        # nothing loaded yet: the buttons say what to do
        self.env.dialogs.clear()
        ui.cohortOpenPatientButton.click()
        self.assertIn("load a cohort's results first", self.env.error_dialogs()[0]["text"])

    def test_c_load_tables_plots_patients_open_scene(self):
        ui, p = self.widget.ui, self.widget._parameterNode
        self.env.file_dialog_answers.append(self.out)
        ui.cohortBrowseButton.click()
        self.assertEqual(p.cohortDirectory, self.out)
        ui.cohortLoadButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn("2 patients (2 done)", ui.cohortSummaryLabel.text)
        # tables: the long table, then status and responses through the picker, as table nodes
        from TMEMonitorApp.cohort import load_cohort_results
        from TMEMonitorLib.scene import table_to_columns
        expected = load_cohort_results(self.out)
        node = ui.cohortTableView.mrmlTableNode()
        self.assertIsNotNone(node)
        columns = table_to_columns(node)
        self.assertEqual(columns["patient"], expected["table"]["patient"])
        self.assertEqual(columns["biomarker"], expected["table"]["biomarker"])
        self.assertIn("ADC", columns["biomarker"])
        self.assertEqual(node.GetColumnUnitLabel("change_from_baseline_percent"), "%")
        ui.cohortTableComboBox.choose("patient status")
        self.assertEqual(table_to_columns(ui.cohortTableView.mrmlTableNode())["patient"], ["P001", "P002"])
        ui.cohortTableComboBox.choose("response calls")
        responses = table_to_columns(ui.cohortTableView.mrmlTableNode())
        self.assertIn("RECIST 1.1", responses["criterion"])
        # loading again refills the same three nodes (no duplicates)
        tables = node_counts(self.env.scene).get("vtkMRMLTableNode", 0)
        ui.cohortLoadButton.click()
        self.assertEqual(node_counts(self.env.scene).get("vtkMRMLTableNode", 0), tables)
        # plots: each PNG of figures/, shown as a pixmap
        self.assertEqual(ui.cohortPlotComboBox.count, len(expected["plots"]))
        self.assertGreaterEqual(ui.cohortPlotComboBox.count, 3)
        pixmap = ui.cohortPlotLabel.pixmap
        self.assertIsNotNone(pixmap)
        self.assertFalse(pixmap.isNull())
        self.assertLessEqual(pixmap.width(), 480)
        first = ui.cohortPlotLabel.toolTip
        ui.cohortPlotComboBox.currentIndex = ui.cohortPlotComboBox.count - 1
        self.assertNotEqual(ui.cohortPlotLabel.toolTip, first)
        self.assertTrue(ui.cohortPlotLabel.toolTip.endswith(".png"))
        # report
        ui.cohortReportButton.click()
        self.assertEqual(self.env.opened_urls[-1], "file://" + os.path.join(self.out, "report.html"))
        # patients: no selection is a clear error; the selected patient's .mrb opens into the scene
        self.assertEqual(ui.cohortPatientsTable.rowCount, 2)
        self.assertEqual(ui.cohortPatientsTable.item(1, 2).text(), "done")
        self.env.dialogs.clear()
        ui.cohortOpenPatientButton.click()
        self.assertIn("select a patient of the cohort first", self.env.error_dialogs()[0]["text"])
        self.env.dialogs.clear()
        self.assertEqual(ui.patientComboBox.count, 0)
        ui.cohortPatientsTable.selectRow(1)
        ui.cohortOpenPatientButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        scene_file = expected["patients"]["P002"]["scene"]
        self.assertEqual(self.env.loaded_files[-1]["fileType"], "SceneFile")
        self.assertEqual(self.env.loaded_files[-1]["properties"]["fileName"], scene_file)
        self.assertEqual(ui.patientComboBox.currentText, "P002")
        self.assertEqual(ui.visitsTable.rowCount, 2)
        self.assertIn("P002", ui.statusLabel.text)
        # console users reach the same through the logic
        logic = self.widget.logic
        with self.assertRaises(Exception) as caught:
            logic.openCohortPatientScene(self.out, "P999")
        self.assertIn("not in the cohort", str(caught.exception))
        # scene close: the cohort tables went with it, the section is emptied
        self.env.close_scene()
        self.assertIsNone(ui.cohortTableView.mrmlTableNode())
        self.assertEqual(ui.cohortPatientsTable.rowCount, 0)
        self.assertIsNone(ui.cohortPlotLabel.pixmap)

    def test_d_failed_patient_has_no_scene(self):
        from TMEMonitorApp.cohort import load_cohort_results
        results = load_cohort_results(self.out)
        results["patients"]["P001"] = dict(results["patients"]["P001"], scene=None, state="failed")
        results["status"]["error"][0] = "DCE series unreadable"
        with self.assertRaises(Exception) as caught:
            self.widget.logic.openCohortPatientScene(results, "P001")
        self.assertIn("has no scene", str(caught.exception))
        self.assertIn("DCE series unreadable", str(caught.exception))


@unittest.skipUnless(NEEDS, "the cohort run writes Parquet: needs the [cohort] extra (pyarrow)")
class DashboardCohortSlicer58(_CohortFlows, unittest.TestCase):
    TAG = TAGS[0]


@unittest.skipUnless(NEEDS, "the cohort run writes Parquet: needs the [cohort] extra (pyarrow)")
class DashboardCohortSlicer510(_CohortFlows, unittest.TestCase):
    TAG = TAGS[1]


class CohortStandInsTest(unittest.TestCase):
    """The stand-ins this section added stay strict (qpixmap.h, qlabel.h, qSlicerCoreIOManager.h)."""

    def test_strict(self):
        with SlicerEnvironment(TAGS[1]) as env:
            qt, slicer_module = env.qt, __import__("slicer")
            root = tempfile.mkdtemp(prefix="tme-standins-")
            try:
                text = os.path.join(root, "plot.png")
                with open(text, "w") as stream:
                    stream.write("not a PNG")
                self.assertTrue(qt.QPixmap(text).isNull())                  # unreadable: a null pixmap, as Qt
                self.assertTrue(qt.QPixmap(text).scaledToWidth(100).isNull())
                label = qt.QLabel()
                with self.assertRaises(TypeError):
                    label.setPixmap(text)                                   # setPixmap takes a QPixmap
                with self.assertRaises(AttributeError):
                    qt.QPixmap(text).toImage()                              # not declared here
                with self.assertRaises(RuntimeError):                       # loadScene of a missing file fails
                    slicer_module.util.loadScene(os.path.join(root, "missing.mrb"))
                self.assertEqual(env.loaded_files[-1]["fileType"], "SceneFile")
            finally:
                shutil.rmtree(root, ignore_errors=True)
