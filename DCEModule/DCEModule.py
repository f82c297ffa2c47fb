"""DCEModule: DCE-MRI from signal to Ktrans/ve/vp maps (thin Slicer classes; the work is in DCEModuleLib)."""
import qt
import slicer
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.util import VTKObservationMixin

from DCEModuleLib.logic import DCELogic
from DCEModuleLib.pipeline import resolve_acquisition
from DCEModuleLib.settings import DCESettings, parse_t10_per_tissue
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import CancelFlag, Cancelled


class DCEModule(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "DCE-MRI (TME Monitor)"
        self.parent.categories = ["Quantification"]
        self.parent.dependencies = ["TMEMonitor", "Sequences"]
        self.parent.contributors = ["The TME Monitor contributors"]
        self.parent.helpText = (
            "DCE-MRI pharmacokinetic maps: T1 mapping, signal to concentration, arterial input function "
            "(population, measured, automatic, table), Tofts / extended Tofts / Patlak / 2CXM / 2CUM fits with "
            "exact convolution on the real time grid, semi-quantitative curve metrics, quality maps.")
        self.parent.acknowledgementText = "Validated against the OSIPI DCE-DSC-MRI CodeCollection test data."


@parameterNodeWrapper
class DCEModuleParameterNode:
    dceSeries: slicer.vtkMRMLSequenceNode
    vfaSeries: slicer.vtkMRMLSequenceNode
    t1Map: slicer.vtkMRMLScalarVolumeNode
    b1Map: slicer.vtkMRMLScalarVolumeNode
    t10Labels: slicer.vtkMRMLNode
    t10PerTissue: str = ""                   # "tumour=1.6, muscle=1.4" (segment names or label values)
    inputKind: str = "signal"                # signal | concentration (mM)
    mask: slicer.vtkMRMLNode
    aifRoi: slicer.vtkMRMLNode
    model: str = "extended_tofts"
    aifSource: str = "population"
    populationAif: str = "parker"
    hematocrit: float = 0.42
    agent: str = "gadobutrol"
    t1Method: str = "nonlinear"
    fixedT10: float = 1.4
    fitDelay: bool = False
    selectModel: bool = False
    semiQuantitative: bool = True
    writeCurves: bool = False
    # Acquisition overrides; 0 means "from the series' metadata".
    repetitionTimeMs: float = 0.0
    flipAngle: float = 0.0
    fieldStrength: float = 0.0


class DCEModuleWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._cancel = None
        self._aifPreview = None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/DCEModule.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = DCEModuleLogic()
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.cancelButton.connect("clicked(bool)", self.onCancel)
        self.ui.previewAifButton.connect("clicked(bool)", self.onPreviewAif)
        self.ui.inputKindComboBox.connect("currentIndexChanged(int)", self.updateAcquisitionLabel)
        self.ui.dceSeriesSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onSeriesChanged)
        for spinBox in (self.ui.repetitionTimeSpinBox, self.ui.flipAngleSpinBox, self.ui.fieldStrengthSpinBox):
            spinBox.connect("valueChanged(double)", self.updateAcquisitionLabel)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.initializeParameterNode()

    def cleanup(self):
        self.removeObservers()

    def enter(self):
        self.initializeParameterNode()

    def onSceneStartClose(self, caller, event):
        self._aifPreview = None
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

    def settings(self):
        p = self._parameterNode
        perTissue = parse_t10_per_tissue(p.t10PerTissue) if p.t10Labels and p.t10PerTissue.strip() else None
        return DCESettings(input_kind=p.inputKind, t10_per_tissue=perTissue, model=p.model, aif_source=p.aifSource,
                           population_aif=p.populationAif,
                           hematocrit=p.hematocrit, agent=p.agent, t1_method=p.t1Method,
                           fixed_t10_s=None if (p.vfaSeries or p.t1Map) else p.fixedT10, fit_delay=p.fitDelay,
                           select_model=p.selectModel, semi_quantitative=p.semiQuantitative,
                           write_concentration=p.writeCurves, write_fitted_curves=p.writeCurves,
                           tr_s=p.repetitionTimeMs / 1000.0 if p.repetitionTimeMs > 0 else None,
                           flip_angle_deg=p.flipAngle if p.flipAngle > 0 else None,
                           field_strength_T=p.fieldStrength if p.fieldStrength > 0 else None)

    def inputNodes(self):
        """The optional input nodes of the parameter node, as DCELogic.run / preview_aif arguments."""
        p = self._parameterNode
        return dict(vfa_node=p.vfaSeries, t1_map_node=p.t1Map, mask_node=p.mask, aif_mask_node=p.aifRoi,
                    b1_map_node=p.b1Map, t10_labels_node=p.t10Labels)

    def updateAcquisitionLabel(self, value=None):
        self.onSeriesChanged(self.ui.dceSeriesSelector.currentNode())

    def onSeriesChanged(self, node=None):
        """Show the acquisition values the analysis will use, and where each came from."""
        self.ui.acquisitionLabel.text = ""
        if node is None or self._parameterNode is None:
            return
        try:
            series = tme_scene.series_from_node(node, expected_axis="time")
            times = series.axis_values
            lines = [f"{times.size} frames, {times[0]:g}–{times[-1]:g} s "
                     f"(spacing {min(times[1:] - times[:-1]):.2f}–{max(times[1:] - times[:-1]):.2f} s) "
                     f"from {series.provenance.get('axis_values')}"]
            settings = self.settings()
            if settings.input_kind == "concentration":
                lines.append("concentration input (mM): no TR, flip angle or T1 source needed")
            else:
                for key, (value, source) in resolve_acquisition(series.metadata, {}, settings).items():
                    lines.append(f"{key}: {'' if value is None else f'{value:g}'} — {source}")
        except InputError as error:
            lines = [f"<b>Cannot analyse:</b> {error}"]
        self.ui.acquisitionLabel.text = "<br>".join(lines)

    def onApply(self):
        p = self._parameterNode
        self._cancel = CancelFlag(self._showProgress)
        self.ui.cancelButton.enabled = True
        self.ui.applyButton.enabled = False
        qt.QApplication.setOverrideCursor(qt.Qt.WaitCursor)
        try:
            if p.dceSeries is None:
                raise InputError("choose a DCE series")
            result = DCELogic(slicer.mrmlScene).run(p.dceSeries, self.settings(), progress=self._cancel,
                                                    **self.inputNodes())
        except Cancelled:
            self.ui.statusLabel.text = "Cancelled; nothing was written."
            return
        except InputError as error:
            # Bad input: say what is wrong; the scene is as it was.
            self.ui.statusLabel.text = f"<b>Cannot analyse:</b> {error}"
            slicer.util.errorDisplay(f"DCE analysis: {error}")
            return
        except Exception as error:
            import traceback
            slicer.util.errorDisplay(f"DCE analysis failed: {error}", detailedText=traceback.format_exc())
            return
        finally:
            qt.QApplication.restoreOverrideCursor()
            self.ui.cancelButton.enabled = False
            self.ui.applyButton.enabled = True
        tme_scene.show_in_slice_views(slicer.mrmlScene, background_node=self._proxyVolume(p.dceSeries),
                                      foreground_node=result.map_nodes.get("Ktrans"))
        warnings = "".join(f"<br>warning: {w}" for w in result.analysis.warnings)
        self.ui.statusLabel.text = f"Done. AIF: {result.analysis.aif['source']}{warnings}"

    def onPreviewAif(self):
        """Plot the AIF the run would use (no model fit); the previous preview is replaced."""
        p = self._parameterNode
        qt.QApplication.setOverrideCursor(qt.Qt.WaitCursor)
        try:
            if p.dceSeries is None:
                raise InputError("choose a DCE series")
            chart = DCELogic(slicer.mrmlScene).preview_aif(p.dceSeries, self.settings(), replace=self._aifPreview,
                                                           **self.inputNodes())
        except InputError as error:
            self.ui.statusLabel.text = f"<b>Cannot preview the AIF:</b> {error}"
            return
        finally:
            qt.QApplication.restoreOverrideCursor()
        self._aifPreview = chart
        slicer.modules.plots.logic().ShowChartInLayout(chart)
        self.ui.statusLabel.text = f"AIF preview: {chart.GetAttribute('TMEMonitor.AIFSource')}"

    @staticmethod
    def _proxyVolume(sequenceNode):
        """The volume a sequence browser shows for ``sequenceNode`` (None if it is not browsed)."""
        browser = slicer.modules.sequences.logic().GetFirstBrowserNodeForSequenceNode(sequenceNode)
        return browser.GetProxyNode(sequenceNode) if browser is not None else None

    def _showProgress(self, fraction, message=""):
        self.ui.progressBar.value = int(100 * fraction)
        self.ui.statusLabel.text = message
        slicer.app.processEvents()

    def onCancel(self):
        if self._cancel is not None:
            self._cancel.cancel()


class DCEModuleLogic(ScriptedLoadableModuleLogic):
    """Console access: ``DCEModuleLogic().run(sequenceNode, DCESettings(...), vfa_node=...)``."""

    def getParameterNode(self):
        return DCEModuleParameterNode(super().getParameterNode())

    def run(self, dce_node, settings=None, **kwargs):
        return DCELogic(slicer.mrmlScene).run(dce_node, settings, **kwargs)


class DCEModuleTest(ScriptedLoadableModuleTest):
    """Self-test on a synthetic series from the project's phantom (no download)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_synthetic_extended_tofts()

    def test_synthetic_extended_tofts(self):
        import numpy as np
        from TMEMonitorLib.demo import build_demo_scene
        build = build_demo_scene(slicer.mrmlScene, size="tiny", seed=3, n_visits=1)
        visit = build.visits[0]
        mask = visit.visit.tumour_mask
        mask_node = tme_scene.add_label_map(slicer.mrmlScene, mask, visit.visit.ijk_to_ras, "tumour mask")
        result = DCELogic(slicer.mrmlScene).run(visit.nodes["dce"], DCESettings(model="extended_tofts"),
                                                vfa_node=visit.nodes["vfa"], mask_node=mask_node)
        ktrans = tme_scene.volume_to_array(result.map_nodes["Ktrans"])[mask]
        truth = visit.visit.truth["Ktrans"][mask]
        self.assertLess(abs(np.nanmedian(ktrans) - np.median(truth)) / np.median(truth), 0.15)
        self.assertEqual(result.map_nodes["Ktrans"].GetVoxelValueUnits().GetCodeValue(), "/min")
        self.delayDisplay("Test passed")
