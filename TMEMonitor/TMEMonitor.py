"""TMEMonitor: the common library module of TME Monitor and its longitudinal dashboard.

Thin Slicer classes only: all computation lives in ``TMEMonitorLib`` (Qt-free, tested
headless). The widget reads and writes a parameter node (saved with the scene) and calls
the Logic, which calls ``TMEMonitorApp.dashboard`` with ``slicer.mrmlScene``.
"""
import os
from typing import Annotated

import qt
import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModule, ScriptedLoadableModuleLogic, ScriptedLoadableModuleTest
from slicer.parameterNodeWrapper import Choice, parameterNodeWrapper

from TMEMonitorApp import dashboard, demo
from TMEMonitorApp import radiomics as app_radiomics
from TMEMonitorLib.errors import InputError
from TMEMonitorWidgets import ModuleWidgetBase


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
    demoSize: Annotated[str, Choice(["tiny", "small", "default"])] = "small"
    registrationMethod: Annotated[str, Choice(["rigid", "affine", "bspline"])] = "rigid"
    responseBiomarker: Annotated[str, Choice(["ADC", "Ktrans"])] = "ADC"
    reportDirectory: str = ""
    organ: Annotated[str, Choice(["breast", "brain", "prostate", "liver"])] = "breast"
    seriesRole: Annotated[str, Choice(["anatomy", "dce", "vfa", "dwi", "tumour", "labels"])] = "anatomy"
    # Radiomics (TMEMonitorApp.radiomics)
    radiomicsPreset: Annotated[str, Choice(list(app_radiomics.PRESET_CHOICES))] = app_radiomics.DEFAULT_PRESET
    radiomicsSettingsFile: str = ""
    radiomicsTumour: bool = True
    radiomicsHabitats: bool = True
    radiomicsMaps: str = ""
    radiomicsDirectory: str = ""
    # Cohort results (TMEMonitorApp.cohort: `tme-monitor cohort run --out` folder)
    cohortDirectory: str = ""


class TMEMonitorWidget(ModuleWidgetBase):
    UI_FILE = "UI/TMEMonitor.ui"

    def createLogic(self):
        return TMEMonitorLogic()

    def workButtons(self):
        ui = self.ui
        return [ui.createDemoButton, ui.runVisitButton, ui.registerButton, ui.responseButton, ui.reportButton,
                ui.addVisitButton, ui.addSeriesFileButton, ui.addSeriesDicomButton, ui.radiomicsComputeButton]

    def connectWidgets(self):
        self.ui.createDemoButton.connect("clicked(bool)", self.onCreateDemo)
        self.ui.patientComboBox.connect("currentIndexChanged(int)", self.onPatientChanged)
        self.ui.addVisitButton.connect("clicked(bool)", self.onAddVisit)
        self.ui.runVisitButton.connect("clicked(bool)", self.onRunVisit)
        self.ui.addSeriesFileButton.connect("clicked(bool)", lambda: self.onAddSeries(folder=False))
        self.ui.addSeriesDicomButton.connect("clicked(bool)", lambda: self.onAddSeries(folder=True))
        self.ui.registerButton.connect("clicked(bool)", self.onRegister)
        self.ui.responseButton.connect("clicked(bool)", self.onResponse)
        self.ui.reportButton.connect("clicked(bool)", self.onReport)
        self.ui.radiomicsComputeButton.connect("clicked(bool)", self.onComputeRadiomics)
        self.ui.radiomicsSettingsBrowseButton.connect("clicked(bool)", self.onBrowseRadiomicsSettings)
        self.ui.radiomicsFeatureComboBox.connect("currentIndexChanged(int)", self.onRadiomicsFeatureChanged)
        self.ui.cohortBrowseButton.connect("clicked(bool)", self.onBrowseCohort)
        self.ui.cohortLoadButton.connect("clicked(bool)", self.onLoadCohort)
        self.ui.cohortTableComboBox.connect("currentIndexChanged(int)", self.onCohortTableChanged)
        self.ui.cohortPlotComboBox.connect("currentIndexChanged(int)", self.onCohortPlotChanged)
        self.ui.cohortReportButton.connect("clicked(bool)", self.onOpenCohortReport)
        self.ui.cohortOpenPatientButton.connect("clicked(bool)", self.onOpenCohortPatient)
        # A loaded or imported scene brings its own patients; a closed one takes them away.
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndImportEvent, self.onSceneImported)

    def enter(self):
        ModuleWidgetBase.enter(self)
        self.refreshPatients()

    def onSceneEndClose(self, caller, event):
        ModuleWidgetBase.onSceneEndClose(self, caller, event)
        self.ui.responseLabel.text = ""
        self.ui.registrationQualityLabel.text = ""
        self.ui.tableView.setMRMLTableNode(None)
        self.ui.radiomicsTableView.setMRMLTableNode(None)
        self._showCohort(None)                          # its table nodes went with the scene
        self.refreshPatients()

    def onSceneImported(self, caller=None, event=None):
        self.refreshPatients()

    def _selectedPatient(self):
        return self.ui.patientComboBox.currentData

    def _selectedVisit(self):
        row = self.ui.visitsTable.currentRow()
        if row < 0 or self.ui.visitsTable.item(row, 0) is None:
            return None
        return self.ui.visitsTable.item(row, 0).data(qt.Qt.UserRole)

    def _requirePatient(self):
        patient = self._selectedPatient()
        if patient is None:
            raise InputError("select or create a patient first")
        return patient

    def _requireVisit(self):
        visit = self._selectedVisit()
        if visit is None:
            raise InputError("select a visit first")
        return visit

    # --- patients and visits -------------------------------------------------------------
    def refreshPatients(self):
        previous = self._selectedPatient()
        self.ui.patientComboBox.clear()
        for item, name in self.logic.listPatients():
            self.ui.patientComboBox.addItem(name, item)
        index = self.ui.patientComboBox.findData(previous) if previous is not None else -1
        if index >= 0:
            self.ui.patientComboBox.currentIndex = index
        self.onPatientChanged()

    def onPatientChanged(self, index=None):
        self.ui.visitsTable.setRowCount(0)
        patient = self._selectedPatient()
        self._refreshRadiomics(patient)
        if patient is None:
            return
        visits = self.logic.listVisits(patient)
        self.ui.visitsTable.setRowCount(len(visits))
        for row, visit in enumerate(visits):
            for column, text in enumerate([visit.name, visit.date.isoformat(), "" if visit.day is None else str(visit.day)]):
                cell = qt.QTableWidgetItem(text)
                if column == 0:
                    cell.setData(qt.Qt.UserRole, visit.item)
                self.ui.visitsTable.setItem(row, column, cell)

    def onCreateDemo(self):
        size = self._parameterNode.demoSize
        if self.runWithProgress("Synthetic patient", lambda progress: self.logic.buildDemoPatient(
                size=size, progress=progress)) is not None:
            self.refreshPatients()

    def onAddVisit(self):
        date = self.ui.visitDateEdit.date

        def add():
            return self.logic.addVisit(self._requirePatient(), self.ui.visitNameLineEdit.text,
                                       f"{date.year():04d}-{date.month():02d}-{date.day():02d}")

        if self.runQuick("Could not add the visit", add) is not None:
            self.onPatientChanged()

    def onAddSeries(self, folder=False):
        """Read a file or DICOM folder into the selected visit (dashboard.add_series_to_visit)."""
        visit = self.runQuick("Add series", self._requireVisit)
        if visit is None:
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
            options["flip_angles_deg"] = text
        node = self.runWithProgress(f"Adding '{path}' as {role}",
                                    lambda progress: self.logic.addSeriesToVisit(visit, path, role, **options))
        if node is not None:
            self.ui.statusLabel.text = f"Added '{node.GetName()}' ({role})"

    def onRunVisit(self):
        def run(progress):
            return self.logic.runVisitAnalyses(self._requireVisit(), progress=progress)

        results = self.runWithProgress("Analyses", run)
        if results:
            self.ui.statusLabel.text = "Done: " + ", ".join(sorted(results))
            self._refreshRadiomics(self._selectedPatient())      # the visit's new maps

    def onRegister(self):
        result = self.runWithProgress("Registration", lambda progress: self.logic.registerVisits(
            self._requirePatient(), method=self._parameterNode.registrationMethod, progress=progress))
        if result:
            self.ui.registrationQualityLabel.text = result.summary()

    def onResponse(self):
        result = self.runWithProgress("Response", lambda progress: self.logic.computeResponse(
            self._requirePatient(), organ=self._parameterNode.organ,
            responseBiomarker=self._parameterNode.responseBiomarker, progress=progress))
        if result:
            self.ui.responseLabel.text = result.summary()
            self.ui.tableView.setMRMLTableNode(result.table_node)
            if result.chart_nodes:
                self._showChart(result.chart_nodes[0])

    def _showChart(self, chartNode, plotWidget=None, viewName="TMEMonitor plot view"):
        """A module panel's plot widget has no view node of its own: create one (as Spectroscopy does)."""
        plotWidget = plotWidget or self.ui.plotWidget
        viewNode = plotWidget.mrmlPlotViewNode()
        if viewNode is None:
            viewNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLPlotViewNode", viewName)
            plotWidget.setMRMLPlotViewNode(viewNode)
        viewNode.SetPlotChartNodeID(chartNode.GetID())

    # --- radiomics -----------------------------------------------------------------------------
    def _refreshRadiomics(self, patient):
        """Available maps and the feature picker of the selected patient (from the scene's radiomics tables)."""
        self._fillingRadiomicsFeatures = True
        try:
            self.ui.radiomicsFeatureComboBox.clear()
            if patient is None:
                self.ui.radiomicsAvailableLabel.text = ""
                return
            default, others = self.logic.radiomicsImageNames(patient)
            self.ui.radiomicsAvailableLabel.text = ("Maps: " + ", ".join(default)
                                                    + (f" (also: {', '.join(others)})" if others else ""))
            for name in self.logic.radiomicsFeatureNames(patient):
                self.ui.radiomicsFeatureComboBox.addItem(name)
            index = self.ui.radiomicsFeatureComboBox.findText(app_radiomics.DEFAULT_PLOT_FEATURES[0])
            if index >= 0:
                self.ui.radiomicsFeatureComboBox.currentIndex = index
        finally:
            self._fillingRadiomicsFeatures = False

    def onBrowseRadiomicsSettings(self):
        path = qt.QFileDialog.getOpenFileName(slicer.util.mainWindow(), "Radiomics settings file", "",
                                              "Settings (*.json *.yaml *.yml);;All files (*)")
        if path:
            self._parameterNode.radiomicsSettingsFile = path

    def onComputeRadiomics(self):
        p = self._parameterNode
        regions = [name for name, on in (("tumour", p.radiomicsTumour), ("habitats", p.radiomicsHabitats)) if on]
        maps = [name.strip() for name in p.radiomicsMaps.split(",") if name.strip()] or None
        result = self.runWithProgress("Radiomics", lambda progress: self.logic.computeRadiomics(
            self._requirePatient(), settingsFile=p.radiomicsSettingsFile, preset=p.radiomicsPreset, regions=regions,
            maps=maps, outputDirectory=p.radiomicsDirectory, organ=p.organ, progress=progress))
        if result is None:
            return
        self.ui.statusLabel.text = result.summary().splitlines()[0]
        self.ui.radiomicsTableView.setMRMLTableNode(result.delta_table)
        self._refreshRadiomics(result.patient_item)
        if result.chart is not None:
            self._showChart(result.chart, self.ui.radiomicsPlotWidget, "TMEMonitor radiomics plot view")

    def onRadiomicsFeatureChanged(self, index=None):
        if getattr(self, "_fillingRadiomicsFeatures", False):
            return
        feature = self.ui.radiomicsFeatureComboBox.currentText
        patient = self._selectedPatient()
        if not feature or patient is None:
            return
        chart = self.runQuick("Radiomics plot", lambda: self.logic.radiomicsChart(patient, feature))
        if chart is not None:
            self._showChart(chart, self.ui.radiomicsPlotWidget, "TMEMonitor radiomics plot view")

    # --- cohort results (TMEMonitorApp.cohort; computed outside Slicer) -----------------------------
    COHORT_TABLES = ("table", "status", "responses")     # order of cohortTableComboBox's items

    def onBrowseCohort(self):
        path = qt.QFileDialog.getExistingDirectory(slicer.util.mainWindow(), "Cohort results folder (cohort run --out)")
        if path:
            self._parameterNode.cohortDirectory = path

    def onLoadCohort(self):
        results = self.runQuick("Load cohort results",
                                lambda: self.logic.loadCohortResults(self._parameterNode.cohortDirectory))
        if results is not None:
            self._showCohort(results)
            self.ui.statusLabel.text = f"Cohort results loaded from '{results['out_dir']}'"

    def _showCohort(self, results):
        """Fill the Cohort section from ``results`` (TMEMonitorLogic.loadCohortResults), or empty it (None)."""
        self._cohort = results
        ui = self.ui
        ui.cohortSummaryLabel.text = self.logic.cohortSummary(results) if results else ""
        self.onCohortTableChanged()
        ui.cohortPlotComboBox.clear()
        for name, path in (results["plots"].items() if results else ()):
            ui.cohortPlotComboBox.addItem(name.replace("_", " "), path)
        self.onCohortPlotChanged()
        ui.cohortPatientsTable.setRowCount(0)
        if not results:
            return
        status = results["status"]
        rows = list(zip(status["patient"], status.get("site", [""] * len(status["patient"])), status["state"],
                        status.get("error", [""] * len(status["patient"]))))
        ui.cohortPatientsTable.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, text in enumerate(values):
                cell = qt.QTableWidgetItem(text or "")
                if column == 0:
                    cell.setData(qt.Qt.UserRole, values[0])
                if column == 3 and text:
                    cell.setToolTip(text)
                ui.cohortPatientsTable.setItem(row, column, cell)

    def onCohortTableChanged(self, index=None):
        results = getattr(self, "_cohort", None)
        kind = self.COHORT_TABLES[max(self.ui.cohortTableComboBox.currentIndex, 0)]
        self.ui.cohortTableView.setMRMLTableNode(results["table_nodes"][kind] if results else None)

    def onCohortPlotChanged(self, index=None):
        label = self.ui.cohortPlotLabel
        path = self.ui.cohortPlotComboBox.currentData
        label.clear()
        label.toolTip = path or ""
        if not path:
            return
        pixmap = qt.QPixmap(path)
        if pixmap.isNull():
            label.text = f"cannot read the figure '{path}'"
            return
        label.setPixmap(pixmap.scaledToWidth(min(pixmap.width(), 480), qt.Qt.SmoothTransformation))

    def _requireCohort(self):
        results = getattr(self, "_cohort", None)
        if results is None:
            raise InputError("load a cohort's results first (Cohort: results folder, Load cohort results)")
        return results

    def onOpenCohortReport(self):
        path = self.runQuick("Cohort report", lambda: self.logic.cohortReportPath(self._requireCohort()))
        if path:
            qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(path))

    def onOpenCohortPatient(self):
        def selected():
            results = self._requireCohort()
            row = self.ui.cohortPatientsTable.currentRow()
            if row < 0 or self.ui.cohortPatientsTable.item(row, 0) is None:
                raise InputError("select a patient of the cohort first")
            return results, self.ui.cohortPatientsTable.item(row, 0).data(qt.Qt.UserRole)

        chosen = self.runQuick("Open patient scene", selected)
        if chosen is None:
            return
        results, patient = chosen
        path = self.runWithProgress(f"Opening patient {patient}",
                                    lambda progress: self.logic.openCohortPatientScene(results, patient))
        if path is None:
            return
        self.refreshPatients()
        combo = self.ui.patientComboBox
        for index in reversed(range(combo.count)):          # the patient just added (last of that name)
            if combo.itemText(index) == patient:
                combo.currentIndex = index
                break
        self.ui.statusLabel.text = f"Opened patient {patient} from '{path}'"

    def onReport(self):
        directory = self._parameterNode.reportDirectory or os.path.join(slicer.app.temporaryPath, "TMEMonitorReport")
        path = self.runWithProgress("Report", lambda progress: self.logic.writeReport(
            self._requirePatient(), directory, progress=progress))
        if path:
            qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(path))


def _savedPanelSettings(scene, visitItem):
    """The DCE and Diffusion panels' settings as saved in their parameter nodes (None: module absent)."""
    dceSettings = dwiSettings = None
    try:
        import DCEModule
    except ImportError:
        DCEModule = None
    if DCEModule is not None:
        roles = dashboard.visit_nodes_by_role(scene, visitItem)
        dceSettings = DCEModule.settingsFromParameterNode(DCEModule.DCEModuleLogic(scene).getParameterNode(),
                                                          hasT1Source="vfa" in roles or "t1map" in roles)
    try:
        import DiffusionModule
    except ImportError:
        DiffusionModule = None
    if DiffusionModule is not None:
        dwiSettings = DiffusionModule.settingsFromParameterNode(
            DiffusionModule.DiffusionModuleLogic(scene).getParameterNode())
    return dceSettings, dwiSettings


class TMEMonitorLogic(ScriptedLoadableModuleLogic):
    """The dashboard's logic, for the panel and the console: TMEMonitorApp.dashboard on one scene."""

    def __init__(self, scene=None):
        ScriptedLoadableModuleLogic.__init__(self)
        self.scene = scene if scene is not None else slicer.mrmlScene

    def getParameterNode(self):
        return TMEMonitorParameterNode(ScriptedLoadableModuleLogic.getParameterNode(self))

    def listPatients(self):
        return dashboard.list_patients(self.scene)

    def listVisits(self, patientItem):
        return dashboard.list_visits(self.scene, patientItem)

    def addVisit(self, patientItem, name, date, day=None):
        return dashboard.add_visit(self.scene, patientItem, name, date, day=day)

    def buildDemoPatient(self, size="small", seed=0, progress=None):
        return demo.build_demo_scene(self.scene, size=size, seed=seed, progress=progress)

    def addSeriesToVisit(self, visitItem, path, role, flip_angles_deg=None, **options):
        if isinstance(flip_angles_deg, str):
            try:
                flip_angles_deg = [float(v) for v in flip_angles_deg.replace(";", ",").split(",") if v.strip()]
            except ValueError:
                raise InputError(f"flip angles '{flip_angles_deg}': expected numbers in degrees, comma separated")
        if flip_angles_deg is not None:
            options["flip_angles_deg"] = flip_angles_deg
        return dashboard.add_series_to_visit(self.scene, visitItem, path, role, **options)

    def runVisitAnalyses(self, visitItem, dceSettings=None, dwiSettings=None, progress=None):
        """DCE, diffusion and MRS of a visit; settings default to those saved in the DCE and Diffusion panels."""
        savedDce, savedDwi = _savedPanelSettings(self.scene, visitItem)
        return dashboard.run_visit_analyses(self.scene, visitItem, dce_settings=dceSettings or savedDce,
                                            dwi_settings=dwiSettings or savedDwi, progress=progress)

    def registerVisits(self, patientItem, method="rigid", progress=None):
        return dashboard.register_visits(self.scene, patientItem, method=method, progress=progress)

    def computeResponse(self, patientItem, organ="breast", responseBiomarker="ADC", progress=None):
        return dashboard.compute_response(self.scene, patientItem, organ=organ, response_biomarker=responseBiomarker,
                                          progress=progress)

    def writeReport(self, patientItem, directory, progress=None):
        return dashboard.write_report(self.scene, patientItem, directory, progress=progress)

    # --- radiomics (TMEMonitorApp.radiomics) ----------------------------------------------------
    def computeRadiomics(self, patientItem, settingsFile="", preset=app_radiomics.DEFAULT_PRESET,
                         regions=("tumour", "habitats"), maps=None, outputDirectory="", organ="breast", progress=None):
        """IBSI features of every visit (tumour and habitats, anatomy and the techniques' maps), deltas from
        baseline, a table node per visit, the delta table and chart; with ``outputDirectory`` also the CSV files.
        A settings file, when given, is used instead of the preset. Nothing is written on bad input or Cancel."""
        if outputDirectory and os.path.exists(outputDirectory) and not os.path.isdir(outputDirectory):
            raise InputError(f"radiomics CSV folder '{outputDirectory}' is a file")
        settings = app_radiomics.load_settings(settingsFile or None, None if settingsFile else preset)
        result = app_radiomics.compute_patient_radiomics(self.scene, patientItem, settings, regions=regions,
                                                         images=maps, organ=organ, progress=progress)
        app_radiomics.write_result_nodes(self.scene, result)
        if outputDirectory:
            app_radiomics.write_result(outputDirectory, result)
        return result

    def radiomicsChart(self, patientItem, feature, region="tumour"):
        return app_radiomics.delta_chart(self.scene, patientItem, [feature], region)

    def radiomicsFeatureNames(self, patientItem):
        return app_radiomics.feature_names(self.scene, patientItem)

    def radiomicsImageNames(self, patientItem):
        """(default image names, other tagged maps) of the patient's visits."""
        return app_radiomics.available_images(self.scene, [v.item for v in self.listVisits(patientItem)])

    # --- cohort results (TMEMonitorApp.cohort; computed outside Slicer by `tme-monitor cohort run`) -----
    def loadCohortResults(self, directory):
        """Read a cohort output folder (no computation): returns ``load_cohort_results``' dict plus
        ``table_nodes`` ({"table", "status", "responses": vtkMRMLTableNode}, refilled on a reload).
        InputError (scene untouched) when the folder is not a cohort output."""
        from TMEMonitorApp.cohort import load_cohort_results
        from TMEMonitorApp.cohort.scene_tables import add_result_tables
        results = load_cohort_results(directory)
        results["table_nodes"] = add_result_tables(self.scene, results)
        return results

    @staticmethod
    def cohortSummary(results):
        """One line: patients by state, rows, plots, harmonisation."""
        states = results["status"]["state"]
        counts = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states)))
        rows = len(results["table"].get("patient", []))
        harmonised = "yes" if results["harmonisation"] else "no"
        return (f"{len(states)} patients ({counts}); {rows} table rows; {len(results['plots'])} plots; "
                f"harmonised: {harmonised} - {results['out_dir']}")

    @staticmethod
    def cohortReportPath(results):
        path = results["report_html"]
        if not path or not os.path.isfile(path):
            raise InputError(f"cohort results '{results['out_dir']}': no report.html")
        return path

    def openCohortPatientScene(self, results, patient):
        """Add ``patient``'s scene (.mrb of the cohort run) to this scene (slicer.util.loadScene); returns its path.
        ``results``: loadCohortResults' dict or a cohort output folder."""
        if not isinstance(results, dict):
            from TMEMonitorApp.cohort import load_cohort_results
            results = load_cohort_results(results)
        entry = results["patients"].get(patient)
        if entry is None:
            raise InputError(f"patient '{patient}' is not in the cohort '{results['out_dir']}' "
                             f"(patients: {', '.join(results['patients'])})")
        if not entry["scene"]:
            status = results["status"]
            error = ""
            if patient in status["patient"] and "error" in status:
                error = status["error"][status["patient"].index(patient)] or ""
            raise InputError(f"patient '{patient}' has no scene (state: {entry['state']}" +
                             (f"; error: {error}" if error else "") + ")")
        slicer.util.loadScene(entry["scene"])
        return entry["scene"]


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
