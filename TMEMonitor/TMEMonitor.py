"""TMEMonitor: the common library module of TME Monitor and its longitudinal dashboard.

Thin Slicer classes only: all computation lives in ``TMEMonitorLib`` (Qt-free, tested
headless). The widget reads and writes a parameter node (saved with the scene) and calls
the Logic, which calls ``TMEMonitorLib.dashboard`` with ``slicer.mrmlScene``.
"""
import os

import qt
import slicer
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.util import VTKObservationMixin

from TMEMonitorLib import dashboard, demo
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import CancelFlag, Cancelled


class TMEMonitor(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "TME Monitor"
        self.parent.categories = ["Quantification"]
        self.parent.dependencies = ["Sequences", "SubjectHierarchy"]
        self.parent.contributors = ["The TME Monitor contributors"]
        self.parent.helpText = (
            "Longitudinal monitoring of the tumour microenvironment: visits registered to baseline, "
            "the tumour followed, biomarker change judged against repeatability, voxel-wise response "
            "maps, response categories (RECIST 1.1, volumetric, RANO 2.0) and a report. "
            "See the module README for details.")
        self.parent.acknowledgementText = (
            "Validated against the OSIPI DCE-DSC-MRI CodeCollection and TF2.4 IVIM test data (Apache-2.0).")


@parameterNodeWrapper
class TMEMonitorParameterNode:
    demoSize: str = "small"
    registrationMethod: str = "rigid"
    responseBiomarker: str = "ADC"
    reportDirectory: str = ""
    organ: str = "breast"
    seriesRole: str = "anatomy"


class TMEMonitorWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._cancel = None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/TMEMonitor.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = TMEMonitorLogic()

        self.ui.createDemoButton.connect("clicked(bool)", self.onCreateDemo)
        self.ui.patientComboBox.connect("currentIndexChanged(int)", self.onPatientChanged)
        self.ui.addVisitButton.connect("clicked(bool)", self.onAddVisit)
        self.ui.runVisitButton.connect("clicked(bool)", self.onRunVisit)
        self.ui.addSeriesFileButton.connect("clicked(bool)", lambda: self.onAddSeries(folder=False))
        self.ui.addSeriesDicomButton.connect("clicked(bool)", lambda: self.onAddSeries(folder=True))
        self.ui.registerButton.connect("clicked(bool)", self.onRegister)
        self.ui.responseButton.connect("clicked(bool)", self.onResponse)
        self.ui.reportButton.connect("clicked(bool)", self.onReport)
        self.ui.cancelButton.connect("clicked(bool)", self.onCancel)

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.initializeParameterNode()
        self.refreshPatients()

    def cleanup(self):
        self.removeObservers()

    def enter(self):
        self.initializeParameterNode()
        self.refreshPatients()

    def onSceneStartClose(self, caller, event):
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event):
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self):
        self.setParameterNode(self.logic.getParameterNode())

    def setParameterNode(self, parameterNode):
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
        self._parameterNode = parameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)

    # --- helpers -------------------------------------------------------------------------
    def _run(self, label, function):
        """Run ``function(progress)`` with the progress bar and Cancel button; errors shown, scene untouched."""
        self._cancel = CancelFlag(lambda fraction, message="": self._showProgress(label, fraction, message))
        self.ui.cancelButton.enabled = True
        try:
            with slicer.util.tryWithErrorDisplay(f"{label} failed.", waitCursor=True):
                return function(self._cancel)
        except Cancelled:
            self.ui.statusLabel.text = f"{label}: cancelled"
        finally:
            self.ui.cancelButton.enabled = False
            self._cancel = None

    def _showProgress(self, label, fraction, message):
        self.ui.progressBar.value = int(100 * fraction)
        self.ui.statusLabel.text = f"{label}: {message}"
        slicer.app.processEvents()

    def _selectedPatient(self):
        return self.ui.patientComboBox.currentData

    def _selectedVisit(self):
        row = self.ui.visitsTable.currentRow()
        if row < 0:
            return None
        return self.ui.visitsTable.item(row, 0).data(qt.Qt.UserRole)

    # --- patients and visits -------------------------------------------------------------
    def refreshPatients(self):
        self.ui.patientComboBox.clear()
        for item, name in dashboard.list_patients(slicer.mrmlScene):
            self.ui.patientComboBox.addItem(name, item)
        self.onPatientChanged()

    def onPatientChanged(self, index=None):
        self.ui.visitsTable.setRowCount(0)
        patient = self._selectedPatient()
        if patient is None:
            return
        visits = dashboard.list_visits(slicer.mrmlScene, patient)
        self.ui.visitsTable.setRowCount(len(visits))
        for row, visit in enumerate(visits):
            for column, text in enumerate([visit.name, visit.date.isoformat(), "" if visit.day is None else str(visit.day)]):
                cell = qt.QTableWidgetItem(text)
                if column == 0:
                    cell.setData(qt.Qt.UserRole, visit.item)
                self.ui.visitsTable.setItem(row, column, cell)

    def onCreateDemo(self):
        self._run("Synthetic patient", lambda progress: demo.build_demo_scene(
            slicer.mrmlScene, size=self._parameterNode.demoSize, progress=progress))
        self.refreshPatients()

    def onAddVisit(self):
        patient = self._selectedPatient()
        if patient is None:
            slicer.util.errorDisplay("Select or create a patient first.")
            return
        date = self.ui.visitDateEdit.date
        with slicer.util.tryWithErrorDisplay("Could not add the visit."):
            dashboard.add_visit(slicer.mrmlScene, patient, self.ui.visitNameLineEdit.text,
                                f"{date.year():04d}-{date.month():02d}-{date.day():02d}")
        self.onPatientChanged()

    def onAddSeries(self, folder=False):
        """Read a file or DICOM folder into the selected visit (dashboard.add_series_to_visit)."""
        visit = self._selectedVisit()
        if visit is None:
            slicer.util.errorDisplay("Select a visit first.")
            return
        role = self._parameterNode.seriesRole
        if folder:
            path = qt.QFileDialog.getExistingDirectory(slicer.util.mainWindow(), f"DICOM folder ({role})")
        else:
            path = qt.QFileDialog.getOpenFileName(slicer.util.mainWindow(), f"Image file ({role})", "",
                                                  "Images (*.nii *.nii.gz *.nrrd *.nhdr);;All files (*)")
        if not path:
            return
        options = {}
        if role == "vfa":
            text = qt.QInputDialog.getText(slicer.util.mainWindow(), "Flip angles",
                                           "Flip angles (deg), comma separated:")
            if not text:
                return
            options["flip_angles_deg"] = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
        with slicer.util.tryWithErrorDisplay(f"Could not add '{path}' as {role}.", waitCursor=True):
            node = self.logic.addSeriesToVisit(visit, path, role, **options)
            self.ui.statusLabel.text = f"Added '{node.GetName()}' ({role})"

    def onRunVisit(self):
        visit = self._selectedVisit()
        if visit is None:
            slicer.util.errorDisplay("Select a visit first.")
            return
        self._run("Analyses", lambda progress: dashboard.run_visit_analyses(slicer.mrmlScene, visit, progress=progress))

    def onRegister(self):
        patient = self._selectedPatient()
        result = self._run("Registration", lambda progress: dashboard.register_visits(
            slicer.mrmlScene, patient, method=self._parameterNode.registrationMethod, progress=progress))
        if result:
            self.ui.registrationQualityLabel.text = result.summary()

    def onResponse(self):
        patient = self._selectedPatient()
        result = self._run("Response", lambda progress: dashboard.compute_response(
            slicer.mrmlScene, patient, organ=self._parameterNode.organ,
            response_biomarker=self._parameterNode.responseBiomarker, progress=progress))
        if result:
            self.ui.responseLabel.text = result.summary()
            self.ui.tableView.setMRMLTableNode(result.table_node)
            if result.chart_nodes:
                self.ui.plotWidget.mrmlPlotViewNode().SetPlotChartNodeID(result.chart_nodes[0].GetID())

    def onReport(self):
        patient = self._selectedPatient()
        directory = self._parameterNode.reportDirectory or os.path.join(slicer.app.temporaryPath, "TMEMonitorReport")
        path = self._run("Report", lambda progress: dashboard.write_report(slicer.mrmlScene, patient, directory,
                                                                             progress=progress))
        if path:
            qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(path))

    def onCancel(self):
        if self._cancel is not None:
            self._cancel.cancel()


class TMEMonitorLogic(ScriptedLoadableModuleLogic):
    """Console entry points: the same functions the dashboard buttons call, on slicer.mrmlScene."""

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)

    def getParameterNode(self):
        return TMEMonitorParameterNode(super().getParameterNode())

    def buildDemoPatient(self, size="small", seed=0, progress=None):
        return demo.build_demo_scene(slicer.mrmlScene, size=size, seed=seed, progress=progress)

    def addSeriesToVisit(self, visitItem, path, role, **options):
        return dashboard.add_series_to_visit(slicer.mrmlScene, visitItem, path, role, **options)

    def registerVisits(self, patientItem, method="rigid", progress=None):
        return dashboard.register_visits(slicer.mrmlScene, patientItem, method=method, progress=progress)

    def computeResponse(self, patientItem, organ="breast", progress=None):
        return dashboard.compute_response(slicer.mrmlScene, patientItem, organ=organ, progress=progress)

    def writeReport(self, patientItem, directory, progress=None):
        return dashboard.write_report(slicer.mrmlScene, patientItem, directory, progress=progress)


class TMEMonitorTest(ScriptedLoadableModuleTest):
    """Self-test: the whole chain on a tiny synthetic patient, no download."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_demo_chain()

    def test_demo_chain(self):
        self.delayDisplay("Building a tiny synthetic patient and running every analysis")
        built = demo.build_demo_scene(slicer.mrmlScene, size="tiny", seed=1)
        patients = dashboard.list_patients(slicer.mrmlScene)
        self.assertEqual(len(patients), 1)
        visits = dashboard.list_visits(slicer.mrmlScene, patients[0][0])
        self.assertGreaterEqual(len(visits), 3)
        result = dashboard.compute_response(slicer.mrmlScene, patients[0][0])
        self.assertIsNotNone(result.table_node)
        with self.assertRaises(InputError):
            dashboard.add_visit(slicer.mrmlScene, patients[0][0], "no date", None)
        self.assertTrue(built.patient_item)
        self.delayDisplay("Test passed")
