"""DiffusionModule: ADC, IVIM and kurtosis maps from multi-b DWI (thin Slicer classes; the work is in DiffusionModuleLib)."""
import qt
import slicer
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.util import VTKObservationMixin

from DiffusionModuleLib.inputs_dwi import dwi_series, parse_b_values
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
        self.parent.helpText = (
            "Diffusion maps from multi-b DWI: ADC (log-linear, weighted, nonlinear), IVIM (segmented, full, "
            "Bayesian) and kurtosis, with b-values read from the data (and their source shown), direction "
            "averaging, Rician-bias correction, clipped-sample exclusion, fit-status maps, computed high-b images "
            "and per-segment histogram statistics.")
        self.parent.acknowledgementText = "Validated against the OSIPI TF2.4 IVIM test data."


@parameterNodeWrapper
class DiffusionModuleParameterNode:
    dwiSeries: slicer.vtkMRMLNode
    mask: slicer.vtkMRMLNode
    manualBValues: str = ""          # typed b-values, used only when the series has none
    fitAdc: bool = True
    adcMethod: str = "loglinear"
    # ADC b-range; 0 as maximum means "up to the highest b".
    adcBMin: float = 0.0
    adcBMax: float = 0.0
    fitIvim: bool = True
    ivimMethod: str = "bayesian"
    bThreshold: float = 200.0
    fitKurtosis: bool = False
    kurtosisBMax: float = 0.0        # 0: every b
    ricianCorrection: bool = False
    noiseSigma: float = 0.0          # 0: the series' noise attribute, else estimated from background
    clipValue: float = 0.0           # 0: no clipping
    highBValues: str = "1400"


class DiffusionModuleWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._cancel = None
        self._seriesHasBValues = True
        self._foundText = None       # b-values of the current series as shown in the line edit

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
            self.onSeriesChanged(self._parameterNode.dwiSeries)

    def settings(self):
        p = self._parameterNode
        high_b = tuple(parse_b_values(p.highBValues)) if p.highBValues.strip() else ()
        return DiffusionSettings(
            fit_adc=p.fitAdc, adc_method=p.adcMethod, adc_b_min=p.adcBMin if p.adcBMin > 0 else None,
            adc_b_max=p.adcBMax if p.adcBMax > 0 else None, fit_ivim=p.fitIvim, ivim_method=p.ivimMethod,
            ivim_b_threshold=p.bThreshold, fit_kurtosis=p.fitKurtosis,
            kurtosis_b_max=p.kurtosisBMax if p.kurtosisBMax > 0 else None, rician_correction=p.ricianCorrection,
            noise_sigma=p.noiseSigma if p.noiseSigma > 0 else None, clip_value=p.clipValue if p.clipValue > 0 else None,
            high_b_values=high_b).validated()

    def onSeriesChanged(self, node=None):
        """Show the b-values found and where they came from; let the user type them when the series has none."""
        if node is None:
            self.ui.bValuesLabel.text = ""
            self.ui.bValuesLineEdit.enabled = False
            return
        try:
            series = dwi_series(node)
        except InputError as error:
            self._seriesHasBValues = False
            self.ui.bValuesLineEdit.enabled = True
            if self._parameterNode is not None and self.ui.bValuesLineEdit.text == self._foundText:
                self._parameterNode.manualBValues = ""
            self.ui.bValuesLabel.text = (f"<b>No usable b-values</b> ({error}). Type one per frame below "
                                         "(s/mm², comma separated).")
            return
        self._seriesHasBValues = True
        self._foundText = ", ".join(f"{v:g}" for v in series.axis_values)
        self.ui.bValuesLineEdit.text = self._foundText
        self.ui.bValuesLineEdit.enabled = False
        self.ui.bValuesLabel.text = (f"{series.array.shape[0]} frames, b = {self._foundText} s/mm² — from "
                                     f"{series.provenance.get('axis_values')}")

    def _typedBValues(self):
        """The b-values typed by the user (None when the series carries its own)."""
        if self._seriesHasBValues:
            return None
        return parse_b_values(self._parameterNode.manualBValues)

    def onApply(self):
        p = self._parameterNode
        self._cancel = CancelFlag(self._showProgress)
        self.ui.cancelButton.enabled = True
        self.ui.applyButton.enabled = False
        qt.QApplication.setOverrideCursor(qt.Qt.WaitCursor)
        try:
            result = DiffusionLogic(slicer.mrmlScene).run(p.dwiSeries, self.settings(), mask_node=p.mask,
                                                          b_values=self._typedBValues(), progress=self._cancel)
        except Cancelled:
            self.ui.statusLabel.text = "Cancelled; nothing was written."
            return
        except InputError as error:
            # Bad input: say what is wrong; the scene is as it was.
            self.ui.statusLabel.text = f"<b>Cannot analyse:</b> {error}"
            slicer.util.errorDisplay(f"Diffusion analysis: {error}")
            return
        except Exception as error:
            import traceback
            slicer.util.errorDisplay(f"Diffusion analysis failed: {error}", detailedText=traceback.format_exc())
            return
        finally:
            qt.QApplication.restoreOverrideCursor()
            self.ui.cancelButton.enabled = False
            self.ui.applyButton.enabled = True
        shown = next((result.map_nodes[k] for k in ("ADC", "D", "K") if k in result.map_nodes), None)
        tme_scene.show_in_slice_views(slicer.mrmlScene, background_node=self._backgroundVolume(p.dwiSeries),
                                      foreground_node=shown)
        analysis = result.analysis
        lines = [f"Done. b-values from {result.b_values_source}.", *analysis.notes,
                 *(f"warning: {w}" for w in analysis.warnings)]
        self.ui.statusLabel.text = "<br>".join(lines)

    @staticmethod
    def _backgroundVolume(node):
        """The volume to show under the maps: the sequence's proxy volume, or the DWI volume itself."""
        if node is None:
            return None
        if node.IsA("vtkMRMLSequenceNode"):
            browser = slicer.modules.sequences.logic().GetFirstBrowserNodeForSequenceNode(node)
            return browser.GetProxyNode(node) if browser is not None else None
        return node if node.IsA("vtkMRMLVolumeNode") else None

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
    """Self-test on a synthetic multi-b series from the project's phantom (no download)."""

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
        mask = visit.visit.tumour_mask
        mask_node = tme_scene.add_label_map(slicer.mrmlScene, mask, visit.visit.ijk_to_ras, "tumour mask")
        result = DiffusionLogic(slicer.mrmlScene).run(visit.nodes["dwi"], DiffusionSettings(), mask_node=mask_node)
        adc = tme_scene.volume_to_array(result.map_nodes["ADC"])[mask]
        truth = visit.visit.truth["ADC"][mask]
        self.assertLess(abs(np.nanmedian(adc) - np.median(truth)) / np.median(truth), 0.1)
        d = tme_scene.volume_to_array(result.map_nodes["D"])[mask]
        d_truth = np.median(visit.visit.truth["D"][mask])
        self.assertLess(abs(np.nanmedian(d) - d_truth) / d_truth, 0.15)
        self.assertEqual(result.map_nodes["ADC"].GetVoxelValueUnits().GetCodeValue(), "mm2/s")
        self.assertIn("phantom b-values", result.map_nodes["ADC"].GetAttribute("TMEMonitor.b_values_source"))
        self.assertIn("ivim", result.status_nodes)
        self.assertIsNotNone(result.table_node)
        self.delayDisplay("Test passed")
