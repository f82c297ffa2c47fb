"""DiffusionModule: ADC, IVIM and kurtosis maps from multi-b DWI (thin Slicer classes; the work is in DiffusionModuleLib)."""
from typing import Annotated, Optional, Union

import qt
import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModule, ScriptedLoadableModuleLogic, ScriptedLoadableModuleTest
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper

from DiffusionModuleLib.inputs_dwi import dwi_series, parse_b_values
from DiffusionModuleLib.logic import DiffusionLogic
from DiffusionModuleLib.settings import DiffusionSettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene import attribute_names
from TMEMonitorWidgets import ModuleWidgetBase
from TMEMonitorWidgets.outputs import run_replacing_outputs

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


# Node selectors: the connector sets the combo box's node types from the annotation, so it names the
# .ui's types (vtkMRMLMultiVolumeNode exists inside Slicer, not in slicer-core).
_DWI_NODE_TYPES = tuple(getattr(slicer, name) for name in
                        ("vtkMRMLSequenceNode", "vtkMRMLDiffusionWeightedVolumeNode", "vtkMRMLMultiVolumeNode")
                        if hasattr(slicer, name))
_LabelsOrSegmentation = Optional[Union[slicer.vtkMRMLLabelMapVolumeNode, slicer.vtkMRMLSegmentationNode]]


# Spin boxes: the connector replaces the .ui range by the annotation's (unbounded without one), so every
# float names the .ui range; 0 is the special value ("highest in the series", "every b", "none"...).
@parameterNodeWrapper
class DiffusionModuleParameterNode:
    dwiSeries: Optional[Union[_DWI_NODE_TYPES]]
    mask: _LabelsOrSegmentation
    manualBValues: str = ""          # typed b-values, used only when the series has none
    fitAdc: bool = True
    adcMethod: Annotated[str, Choice(["loglinear", "weighted", "nonlinear"])] = "loglinear"
    # ADC b-range (s/mm2); 0 as maximum means "up to the highest b".
    adcBMin: Annotated[float, WithinRange(0.0, 10000.0)] = 0.0
    adcBMax: Annotated[float, WithinRange(0.0, 10000.0)] = 0.0
    fitIvim: bool = True
    ivimMethod: Annotated[str, Choice(["full", "segmented", "bayesian"])] = "bayesian"
    bThreshold: Annotated[float, WithinRange(1.0, 1000.0)] = 200.0
    fitKurtosis: bool = False
    kurtosisBMax: Annotated[float, WithinRange(0.0, 10000.0)] = 0.0        # 0: every b
    ricianCorrection: bool = False
    noiseSigma: Annotated[float, WithinRange(0.0, 100000.0)] = 0.0         # 0: the series' noise attribute or background
    clipValue: Annotated[float, WithinRange(0.0, 1000000.0)] = 0.0         # 0: no clipping
    highBValues: str = "1400"


def settingsFromParameterNode(p):
    """DiffusionSettings from the panel's parameter node (the dashboard uses it for its visit runs)."""
    high_b = tuple(parse_b_values(p.highBValues)) if p.highBValues.strip() else ()
    return DiffusionSettings(
        fit_adc=p.fitAdc, adc_method=p.adcMethod, adc_b_min=p.adcBMin if p.adcBMin > 0 else None,
        adc_b_max=p.adcBMax if p.adcBMax > 0 else None, fit_ivim=p.fitIvim, ivim_method=p.ivimMethod,
        ivim_b_threshold=p.bThreshold, fit_kurtosis=p.fitKurtosis,
        kurtosis_b_max=p.kurtosisBMax if p.kurtosisBMax > 0 else None, rician_correction=p.ricianCorrection,
        noise_sigma=p.noiseSigma if p.noiseSigma > 0 else None, clip_value=p.clipValue if p.clipValue > 0 else None,
        high_b_values=high_b).validated()


class DiffusionModuleWidget(ModuleWidgetBase):
    UI_FILE = "UI/DiffusionModule.ui"

    def __init__(self, parent=None):
        ModuleWidgetBase.__init__(self, parent)
        self._seriesHasBValues = True
        self._foundText = None       # b-values of the current series as shown in the line edit

    def createLogic(self):
        return DiffusionModuleLogic()

    def workButtons(self):
        return [self.ui.applyButton]

    def connectWidgets(self):
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.dwiSeriesSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onSeriesChanged)

    def onParameterNodeSet(self):
        self.onSeriesChanged(self._parameterNode.dwiSeries if self._parameterNode else None)

    def settings(self):
        return settingsFromParameterNode(self._parameterNode)

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
                # This slot runs before the parameter-node connector has stored the new series, and
                # any parameter write refreshes every bound widget from the node (which would put
                # the selector back on the old series): clear the stale b-values once the event
                # that changed the series is done.
                qt.QTimer.singleShot(0, self._clearStaleBValues)
            self.ui.bValuesLabel.text = (f"<b>No usable b-values</b> ({error}). Type one per frame below "
                                         "(s/mm², comma separated).")
            return
        self._seriesHasBValues = True
        self._foundText = ", ".join(f"{v:g}" for v in series.axis_values)
        self.ui.bValuesLineEdit.text = self._foundText
        self.ui.bValuesLineEdit.enabled = False
        self.ui.bValuesLabel.text = (f"{series.array.shape[0]} frames, b = {self._foundText} s/mm² — from "
                                     f"{series.provenance.get('axis_values')}")

    def _clearStaleBValues(self):
        """Empty the typed b-values when they are still those of the previous series."""
        if self._parameterNode is not None and not self._seriesHasBValues \
                and self._parameterNode.manualBValues == self._foundText:
            self._parameterNode.manualBValues = ""

    def _typedBValues(self):
        """The b-values typed by the user (None when the series carries its own)."""
        if self._seriesHasBValues:
            return None
        return parse_b_values(self._parameterNode.manualBValues)

    def onApply(self):
        result = self.runWithProgress("Diffusion analysis", lambda progress: self.logic.runOnParameterNode(
            self._parameterNode, self.settings(), self._typedBValues(), progress))
        if result is None:
            return
        p = self._parameterNode
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


class DiffusionModuleLogic(DiffusionLogic, ScriptedLoadableModuleLogic):
    """The module's one logic, for the panel and the Python console alike.

    ``DiffusionModuleLogic().run(sequenceNode, DiffusionSettings(...), mask_node=...)`` and every other
    :class:`DiffusionModuleLib.logic.DiffusionLogic` method, on ``slicer.mrmlScene`` unless a scene is given.
    """

    def __init__(self, scene=None):
        ScriptedLoadableModuleLogic.__init__(self)
        DiffusionLogic.__init__(self, scene if scene is not None else slicer.mrmlScene)

    def getParameterNode(self):
        return DiffusionModuleParameterNode(ScriptedLoadableModuleLogic.getParameterNode(self))

    def runOnParameterNode(self, parameterNode, settings, bValues=None, progress=None):
        """One analysis of the panel: the previous run's outputs of this series are replaced, not piled up."""
        series = parameterNode.dwiSeries
        if series is None:
            raise InputError("choose a DWI series")
        return run_replacing_outputs(self.scene, parameterNode.parameterNode, f"DWI.{series.GetID()}",
                                     lambda: self.run(series, settings, mask_node=parameterNode.mask,
                                                      b_values=bValues, progress=progress))


class DiffusionModuleTest(ScriptedLoadableModuleTest):
    """Self-test on a synthetic multi-b series from the project's phantom (no download)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_synthetic_ivim()

    def test_synthetic_ivim(self):
        import numpy as np
        from TMEMonitorApp.demo import build_demo_scene
        build = build_demo_scene(slicer.mrmlScene, size="tiny", seed=2, n_visits=1)
        visit = build.visits[0]
        mask = visit.visit.tumour_mask
        mask_node = tme_scene.add_label_map(slicer.mrmlScene, mask, visit.visit.ijk_to_ras, "tumour mask")
        result = DiffusionModuleLogic().run(visit.nodes["dwi"], DiffusionSettings(), mask_node=mask_node)
        adc = tme_scene.volume_to_array(result.map_nodes["ADC"])[mask]
        truth = visit.visit.truth["ADC"][mask]
        self.assertLess(abs(np.nanmedian(adc) - np.median(truth)) / np.median(truth), 0.1)
        d = tme_scene.volume_to_array(result.map_nodes["D"])[mask]
        d_truth = np.median(visit.visit.truth["D"][mask])
        self.assertLess(abs(np.nanmedian(d) - d_truth) / d_truth, 0.15)
        self.assertEqual(result.map_nodes["ADC"].GetVoxelValueUnits().GetCodeValue(), "mm2/s")
        self.assertIn("phantom b-values", attribute_names.get(result.map_nodes["ADC"], attribute_names.source_attribute("b_values")))
        self.assertIn("ivim", result.status_nodes)
        self.assertIsNotNone(result.table_node)
        self.delayDisplay("Test passed")
