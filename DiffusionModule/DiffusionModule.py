"""DiffusionModule: ADC, IVIM and kurtosis maps from multi-b DWI (thin Slicer classes; work in DiffusionModuleLib)."""
import slicer
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.util import VTKObservationMixin

from DiffusionModuleLib.logic import DiffusionLogic
from DiffusionModuleLib.settings import DiffusionSettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import CancelFlag, Cancelled


class DiffusionModule(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Diffusion (TME Monitor)"
        self.parent.categories = ["Quantification"]
        self.parent.dependencies = ["TMEMonitor", "Sequences"]
        self.parent.contributors = ["The TME Monitor contributors"]
        self.parent.helpText = ("ADC (log-linear, weighted, nonlinear), IVIM (segmented, full, Bayesian) and kurtosis "
                                "maps from multi-b DWI, with b-values read from the data and quality maps.")
        self.parent.acknowledgementText = "Validated against the OSIPI TF2.4 IVIM test data."


@parameterNodeWrapper
class DiffusionModuleParameterNode:
    dwiSeries: slicer.vtkMRMLSequenceNode
    mask: slicer.vtkMRMLNode
    fitAdc: bool = True
    adcMethod: str = "loglinear"
    fitIvim: bool = True
    ivimMethod: str = "full"
    bThreshold: float = 200.0
    fitKurtosis: bool = False
    manualBValues: str = ""


class DiffusionModuleWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._cancel = None

    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/DiffusionModule.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = DiffusionModuleLogic()
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.cancelButton.connect("clicked(bool)", self.onCancel)
        self.ui.dwiSeriesSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onSeriesChanged)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.initializeParameterNode()

    def cleanup(self):
        self.removeObservers()

    def enter(self):
        self.initializeParameterNode()

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

    def onSeriesChanged(self, node=None):
        """Show the b-values found and where they came from (editable when the series has none)."""
        if node is None:
            self.ui.bValuesLabel.text = ""
            return
        try:
            series = tme_scene.series_from_node(node, expected_axis="b")
            self.ui.bValuesLabel.text = (f"b = {', '.join(f'{v:g}' for v in series.axis_values)} s/mm² — from "
                                         f"{series.provenance.get('axis_values')}")
            self.ui.bValuesLineEdit.enabled = False
        except InputError as error:
            self.ui.bValuesLabel.text = f"No usable b-values ({error}); type them below (s/mm², comma separated)."
            self.ui.bValuesLineEdit.enabled = True

    def settings(self):
        p = self._parameterNode
        return DiffusionSettings(fit_adc=p.fitAdc, adc_method=p.adcMethod, fit_ivim=p.fitIvim, ivim_method=p.ivimMethod,
                                 ivim_b_threshold=p.bThreshold, fit_kurtosis=p.fitKurtosis)

    def _seriesNode(self):
        """The selected series; with typed b-values, a copy of it indexed by them."""
        p = self._parameterNode
        if not p.manualBValues.strip() or not self.ui.bValuesLineEdit.enabled:
            return p.dwiSeries
        values = [float(v) for v in p.manualBValues.replace(";", ",").split(",") if v.strip()]
        series = tme_scene.series_from_node(p.dwiSeries)
        return tme_scene.array_to_sequence(slicer.mrmlScene, series.array, values, series.ijk_to_ras,
                                           p.dwiSeries.GetName() + " (typed b-values)", axis_name="b",
                                           axis_source="typed by the user")

    def onApply(self):
        self._cancel = CancelFlag(self._showProgress)
        self.ui.cancelButton.enabled = True
        try:
            with slicer.util.tryWithErrorDisplay("Diffusion analysis failed.", waitCursor=True):
                result = DiffusionLogic(slicer.mrmlScene).run(self._seriesNode(), self.settings(),
                                                              mask_node=self._parameterNode.mask, progress=self._cancel)
                shown = result.map_nodes.get("ADC") or result.map_nodes.get("D")
                tme_scene.show_in_slice_views(slicer.mrmlScene, foreground_node=shown)
                self.ui.statusLabel.text = "Done. " + "; ".join(result.analysis.notes)
        except Cancelled:
            self.ui.statusLabel.text = "Cancelled; nothing was written."
        finally:
            self.ui.cancelButton.enabled = False

    def _showProgress(self, fraction, message=""):
        self.ui.progressBar.value = int(100 * fraction)
        self.ui.statusLabel.text = message
        slicer.app.processEvents()

    def onCancel(self):
        if self._cancel is not None:
            self._cancel.cancel()


class DiffusionModuleLogic(ScriptedLoadableModuleLogic):
    """Console access: ``DiffusionModuleLogic().run(sequenceNode, DiffusionSettings(...), mask_node=...)``."""

    def getParameterNode(self):
        return DiffusionModuleParameterNode(super().getParameterNode())

    def run(self, dwi_node, settings=None, **kwargs):
        return DiffusionLogic(slicer.mrmlScene).run(dwi_node, settings, **kwargs)


class DiffusionModuleTest(ScriptedLoadableModuleTest):
    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_synthetic_ivim()

    def test_synthetic_ivim(self):
        import numpy as np
        from TMEMonitorLib.demo import build_demo_scene
        build = build_demo_scene(slicer.mrmlScene, size="tiny", seed=2, n_visits=1)
        visit = build.visits[0]
        result = DiffusionLogic(slicer.mrmlScene).run(visit.nodes["dwi"], DiffusionSettings())
        mask = visit.visit.tumour_mask
        adc = tme_scene.volume_to_array(result.map_nodes["ADC"])[mask]
        self.assertLess(abs(np.nanmedian(adc) / np.median(visit.visit.truth["ADC"][mask]) - 1), 0.1)
        self.assertEqual(result.map_nodes["ADC"].GetVoxelValueUnits().GetCodeValue(), "mm2/s")
        self.delayDisplay("Test passed")
