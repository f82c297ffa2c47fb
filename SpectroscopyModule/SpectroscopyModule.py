"""SpectroscopyModule: MR spectroscopy (single voxel and MRSI) from file to metabolite ratios and maps
(thin Slicer classes; the work is in SpectroscopyModuleLib)."""
import os
from typing import Annotated

import qt
import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModule, ScriptedLoadableModuleLogic, ScriptedLoadableModuleTest
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper

from SpectroscopyModuleLib.logic import MRSIResult, SpectroscopyLogic
from SpectroscopyModuleLib.settings import SpectroscopySettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorWidgets import ModuleWidgetBase
from TMEMonitorWidgets.outputs import run_replacing_outputs

class SpectroscopyModule(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "MR Spectroscopy (TME Monitor)"
        self.parent.categories = ["Quantification"]
        self.parent.dependencies = ["TMEMonitor", "Markups", "Plots", "Tables"]
        self.parent.contributors = ["The TME Monitor contributors"]
        self.parent.helpText = (
            "Single-voxel MRS and MRSI: optional processing (coil combination, alignment, averaging, eddy-current "
            "correction, HLSVD water removal), linear-combination fit with a simulated or supplied basis, CRLBs, "
            "clinical ratios (tCho/tCr, tCho/tNAA, Lac/tCr, ...), quality flags, metabolite and ratio maps on the "
            "anatomy. See the module README.")
        self.parent.acknowledgementText = "Basis spectra simulated with the density-matrix formalism (no download)."


# Spin boxes: the connector replaces the .ui range by the annotation's (unbounded without one), so every
# float names the .ui range.
@parameterNodeWrapper
class SpectroscopyModuleParameterNode:
    inputPath: str = ""
    basisSource: Annotated[str, Choice(["simulate", "file"])] = "simulate"
    basisPath: str = ""
    sequence: Annotated[str, Choice(["PRESS", "STEAM", "sLASER", "FID"])] = "PRESS"
    echoTimeMs: Annotated[float, WithinRange(0.0, 2000.0)] = 0.0          # 0: from the header
    coilCombine: bool = True
    align: bool = True
    average: bool = True
    ecc: bool = False
    rejectOutliers: bool = False
    waterRemoval: bool = False
    reference: bool = True
    phase: bool = False
    apodise: bool = False
    lineBroadeningHz: Annotated[float, WithinRange(0.0, 50.0)] = 2.0
    zeroFill: bool = False
    waterReferencePath: str = ""
    waterScaling: bool = True
    # Voxel tissue fractions for water-scaled mM (default: white matter).
    tissueGm: Annotated[float, WithinRange(0.0, 1.0)] = 0.0
    tissueWm: Annotated[float, WithinRange(0.0, 1.0)] = 1.0
    tissueCsf: Annotated[float, WithinRange(0.0, 1.0)] = 0.0
    ppmMin: Annotated[float, WithinRange(-2.0, 10.0)] = 0.2
    ppmMax: Annotated[float, WithinRange(-2.0, 10.0)] = 4.2
    crlbThreshold: Annotated[float, WithinRange(1.0, 200.0)] = 20.0    # %


class SpectroscopyModuleWidget(ModuleWidgetBase):
    UI_FILE = "UI/SpectroscopyModule.ui"

    def __init__(self, parent=None):
        ModuleWidgetBase.__init__(self, parent)
        self._result = None
        self._pickNode = None

    def createLogic(self):
        return SpectroscopyModuleLogic()

    def workButtons(self):
        return [self.ui.applyButton, self.ui.showVoxelButton, self.ui.pickVoxelButton]

    def connectWidgets(self):
        self.ui.inputBrowseButton.connect("clicked(bool)", self.onBrowseInput)
        self.ui.basisBrowseButton.connect("clicked(bool)", self.onBrowseBasis)
        self.ui.waterReferenceBrowseButton.connect("clicked(bool)", self.onBrowseWaterReference)
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.mapComboBox.connect("currentIndexChanged(int)", self.onMapChanged)
        self.ui.showVoxelButton.connect("clicked(bool)", self.onShowVoxel)
        self.ui.pickVoxelButton.connect("clicked(bool)", self.onPickVoxel)
        self.ui.showGridCheckBox.connect("toggled(bool)", self.onShowGrid)
        self._showMrsiControls(False)

    def onSceneStartClose(self, caller, event):
        ModuleWidgetBase.onSceneStartClose(self, caller, event)
        self._result = None
        self._pickNode = None
        self._showMrsiControls(False)

    def settings(self):
        p = self._parameterNode
        chosen = {"coil_combine": p.coilCombine, "ecc": p.ecc, "align": p.align, "reject_outliers": p.rejectOutliers,
                  "average": p.average, "water_removal": p.waterRemoval, "reference": p.reference, "phase": p.phase,
                  "apodise": p.apodise, "zero_fill": p.zeroFill}
        return SpectroscopySettings(basis_source=p.basisSource, basis_path=p.basisPath or None, sequence=p.sequence,
                                    te_s=p.echoTimeMs / 1000.0 if p.echoTimeMs > 0 else None,
                                    processing=tuple(step for step, on in chosen.items() if on),
                                    water_reference_path=p.waterReferencePath or None,
                                    water_scaling=p.waterScaling,
                                    tissue_fractions={"gm": p.tissueGm, "wm": p.tissueWm, "csf": p.tissueCsf},
                                    line_broadening_hz=p.lineBroadeningHz if p.apodise else 0.0,
                                    ppm_min=p.ppmMin, ppm_max=p.ppmMax, crlb_threshold_percent=p.crlbThreshold)

    def onBrowseInput(self):
        path = qt.QFileDialog.getOpenFileName(slicer.util.mainWindow(), "Spectroscopy file", self._parameterNode.inputPath,
                                              "Spectroscopy (*.nii *.nii.gz *.dcm *.IMA *.rda *.dat *.SDAT *.SPAR "
                                              "*.7 *.data *.list *.RAW *.H2O *.txt);;All files (*)")
        if path:
            self._parameterNode.inputPath = path

    def onBrowseWaterReference(self):
        path = qt.QFileDialog.getOpenFileName(slicer.util.mainWindow(), "Unsuppressed water reference",
                                              self._parameterNode.waterReferencePath,
                                              "Spectroscopy (*.nii *.nii.gz *.dcm *.IMA *.rda *.SDAT *.SPAR *.RAW "
                                              "*.H2O *.txt);;All files (*)")
        if path:
            self._parameterNode.waterReferencePath = path

    def onBrowseBasis(self):
        path = qt.QFileDialog.getOpenFileName(slicer.util.mainWindow(), "Basis set", self._parameterNode.basisPath,
                                              "Basis (*.basis *.BASIS *.json);;All files (*)")
        if path:
            self._parameterNode.basisPath = path
            self._parameterNode.basisSource = "file"

    def onApply(self):
        result = self.runWithProgress("Spectroscopy analysis", lambda progress: self.logic.runOnParameterNode(
            self._parameterNode, self.settings(), progress))
        if result is None:
            return
        self._result = result
        self._showResult(result)

    def _showResult(self, result):
        analysis = result.analysis
        self.ui.resultsTableView.setMRMLTableNode(result.table_node)
        if isinstance(result, MRSIResult):
            self._showMrsiControls(True)
            self.ui.mapComboBox.clear()
            for name in result.map_nodes:
                self.ui.mapComboBox.addItem(name)
            preferred = [n for n in ("tCho/tCr", "tCho/tNAA", "tCho") if n in result.map_nodes]
            if preferred:
                self.ui.mapComboBox.setCurrentText(preferred[0])
            shape = analysis.status.shape           # (i, j, k)
            for spin, size in ((self.ui.voxelISpinBox, shape[0]), (self.ui.voxelJSpinBox, shape[1]),
                               (self.ui.voxelKSpinBox, shape[2])):
                spin.maximum = max(size - 1, 0)
            good = int((analysis.quality == 1).sum())
            self.ui.statusLabel.text = (f"MRSI {shape[0]} x {shape[1]} x {shape[2]}: {good} voxels of good quality. "
                                        + " ".join(analysis.warnings))
        else:
            self._showMrsiControls(False)
            self._showChart(result.chart_node)
            flags = analysis.quality["flags"]
            fit = analysis.fit
            self.ui.statusLabel.text = (f"SNR {fit.snr:.1f}, FWHM {fit.fwhm_ppm:.3f} ppm. "
                                        + ("Quality: " + "; ".join(flags) if flags else "No quality flags.")
                                        + " " + " ".join(analysis.warnings))
            if result.roi_node is not None:
                centre = [0.0, 0.0, 0.0]
                result.roi_node.GetCenter(centre)
                slicer.modules.markups.logic().JumpSlicesToLocation(centre[0], centre[1], centre[2], True)

    def _showChart(self, chart_node):
        view_node = self.ui.spectrumPlotWidget.mrmlPlotViewNode()
        if view_node is None:
            view_node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLPlotViewNode", "SpectroscopyModule plot view")
            self.ui.spectrumPlotWidget.setMRMLPlotViewNode(view_node)
        view_node.SetPlotChartNodeID(chart_node.GetID())

    def _showMrsiControls(self, visible):
        self.ui.mrsiCollapsibleButton.visible = visible

    def onMapChanged(self, index=None):
        if not isinstance(self._result, MRSIResult):
            return
        node = self._result.map_nodes.get(self.ui.mapComboBox.currentText)
        if node is not None:
            tme_scene.show_in_slice_views(slicer.mrmlScene, foreground_node=node, opacity=0.6)

    def onShowVoxel(self):
        if not isinstance(self._result, MRSIResult):
            return
        ijk = (self.ui.voxelISpinBox.value, self.ui.voxelJSpinBox.value, self.ui.voxelKSpinBox.value)
        chart = self.runQuick("Cannot show this voxel", lambda: self.logic.voxel_plot(self._result, ijk))
        if chart is not None:
            self._showChart(chart)

    def onShowGrid(self, visible):
        if isinstance(self._result, MRSIResult) and self._result.grid_node is not None:
            self._result.grid_node.GetDisplayNode().SetVisibility(bool(visible))

    def onPickVoxel(self):
        """Place one point in a slice view; the voxel under it gets its spectrum and fit shown."""
        if not isinstance(self._result, MRSIResult):
            return
        if self._pickNode is None or slicer.mrmlScene.GetNodeByID(self._pickNode.GetID()) is None:
            self._pickNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "MRSI voxel pick")
            self._pickNode.SetMaximumNumberOfControlPoints(1)
            self.addObserver(self._pickNode, slicer.vtkMRMLMarkupsNode.PointPositionDefinedEvent, self.onVoxelPicked)
        self._pickNode.RemoveAllControlPoints()
        # SetActiveList also makes the Markups toolbar show the node (SetActivePlaceNodeID alone does not).
        markupsLogic = slicer.modules.markups.logic()
        markupsLogic.SetActiveList(self._pickNode)
        markupsLogic.StartPlaceMode(False)

    def onVoxelPicked(self, caller=None, event=None):
        if not isinstance(self._result, MRSIResult) or self._pickNode.GetNumberOfControlPoints() == 0:
            return
        ras = [0.0, 0.0, 0.0]
        self._pickNode.GetNthControlPointPositionWorld(0, ras)

        def showPicked():
            i, j, k = self.logic.voxel_at_ras(self._result, ras)
            self.ui.voxelISpinBox.value, self.ui.voxelJSpinBox.value, self.ui.voxelKSpinBox.value = i, j, k
            self._showChart(self.logic.voxel_plot(self._result, (i, j, k)))
            return True

        self.runQuick("No MRSI voxel there", showPicked)


class SpectroscopyModuleLogic(SpectroscopyLogic, ScriptedLoadableModuleLogic):
    """The module's one logic, for the panel and the Python console alike.

    ``SpectroscopyModuleLogic().run("/path/svs.nii.gz", SpectroscopySettings(...))``, ``.run_svs``,
    ``.run_mrsi``, ``.voxel_plot``...: every :class:`SpectroscopyModuleLib.logic.SpectroscopyLogic` method, on
    ``slicer.mrmlScene`` unless a scene is given.
    """

    def __init__(self, scene=None):
        ScriptedLoadableModuleLogic.__init__(self)
        SpectroscopyLogic.__init__(self, scene if scene is not None else slicer.mrmlScene)

    def getParameterNode(self):
        return SpectroscopyModuleParameterNode(ScriptedLoadableModuleLogic.getParameterNode(self))

    def runOnParameterNode(self, parameterNode, settings, progress=None):
        """One analysis of the panel: the previous run's outputs of this file are replaced, not piled up."""
        path = parameterNode.inputPath.strip()
        if not path:
            raise InputError("choose a spectroscopy file (Input file)")
        if not os.path.exists(path):
            raise InputError(f"input file '{path}' does not exist")
        name = os.path.basename(path.rstrip("/\\")) or "MRS"
        return run_replacing_outputs(self.scene, parameterNode.parameterNode, f"MRS.{path}",
                                     lambda: self.run(path, settings, name_prefix=name, progress=progress))


class SpectroscopyModuleTest(ScriptedLoadableModuleTest):
    """Self-test on synthetic spectra with known concentrations (no download)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_synthetic_single_voxel()
        self.setUp()
        self.test_synthetic_mrsi()

    def test_synthetic_single_voxel(self):
        import numpy as np
        from SpectroscopyModuleLib.synthetic import TUMOUR_MM, synthesize_spectrum
        mrs = synthesize_spectrum(TUMOUR_MM, snr=80, rng=4)
        mrs.affine = np.diag([20.0, 20.0, 20.0, 1.0])
        result = SpectroscopyModuleLogic().run_svs(mrs, SpectroscopySettings(processing=()))
        truth = (TUMOUR_MM["GPC"] + TUMOUR_MM["PCh"]) / (TUMOUR_MM["Cr"] + TUMOUR_MM["PCr"])
        self.assertLess(abs(result.biomarkers["tCho/tCr"] - truth) / truth, 0.15)
        self.assertIsNotNone(result.roi_node)
        self.assertGreater(result.chart_node.GetXAxisRange()[0], result.chart_node.GetXAxisRange()[1])
        self.delayDisplay("Single voxel passed")

    def test_synthetic_mrsi(self):
        import numpy as np
        from SpectroscopyModuleLib.synthetic import TUMOUR_MM, synthesize_mrsi
        maps = {name: np.full((3, 3), value) for name, value in TUMOUR_MM.items()}
        mrsi = synthesize_mrsi(maps, snr=60, rng=5, affine=np.diag([10.0, 10.0, 10.0, 1.0]))
        result = SpectroscopyModuleLogic().run_mrsi(mrsi, SpectroscopySettings(processing=()))
        self.assertEqual(result.map_nodes["tCho"].GetVoxelValueUnits().GetCodeValue(), "[arb'U]")
        self.assertIsNotNone(SpectroscopyModuleLogic().voxel_plot(result, (1, 1, 0)))
        self.delayDisplay("MRSI passed")
