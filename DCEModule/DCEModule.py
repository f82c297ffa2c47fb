"""DCEModule: DCE-MRI from signal to Ktrans/ve/vp maps (thin Slicer classes; the work is in DCEModuleLib)."""
from typing import Annotated, Optional, Union

import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModule, ScriptedLoadableModuleLogic, ScriptedLoadableModuleTest
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper

from DCEModuleLib.logic import DCELogic
from DCEModuleLib.pipeline import resolve_acquisition
from DCEModuleLib.settings import DCESettings, parse_t10_per_tissue
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorWidgets import ModuleWidgetBase
from TMEMonitorWidgets.outputs import run_replacing_outputs

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


# Spin boxes: the connector replaces the .ui range by the annotation's (unbounded without one), so every
# float names the .ui range; the .ui keeps its decimals and special-value text.
# Node selectors: the annotation gives the combo box its node types (the connector sets them),
# so it names exactly the .ui's types; Optional because "None" is a valid choice.
_LabelsOrSegmentation = Optional[Union[slicer.vtkMRMLLabelMapVolumeNode, slicer.vtkMRMLSegmentationNode]]


@parameterNodeWrapper
class DCEModuleParameterNode:
    dceSeries: Optional[slicer.vtkMRMLSequenceNode]
    vfaSeries: Optional[slicer.vtkMRMLSequenceNode]
    t1Map: Optional[slicer.vtkMRMLScalarVolumeNode]
    b1Map: Optional[slicer.vtkMRMLScalarVolumeNode]
    t10Labels: _LabelsOrSegmentation
    t10PerTissue: str = ""                   # "tumour=1.6, muscle=1.4" (segment names or label values)
    inputKind: Annotated[str, Choice(["signal", "concentration"])] = "signal"   # concentration in mM
    mask: _LabelsOrSegmentation
    aifRoi: _LabelsOrSegmentation
    model: Annotated[str, Choice(["extended_tofts", "tofts", "patlak", "2cxm", "2cum"])] = "extended_tofts"
    aifSource: Annotated[str, Choice(["population", "measured", "automatic"])] = "population"
    populationAif: Annotated[str, Choice(["parker", "georgiou", "mcgrath_preclinical"])] = "parker"
    hematocrit: Annotated[float, WithinRange(0.0, 0.9)] = 0.42
    agent: Annotated[str, Choice(["gadobutrol", "gadoterate", "gadopentetate", "gadoteridol", "gadobenate",
                                  "gadodiamide", "gadoxetate"])] = "gadobutrol"
    t1Method: Annotated[str, Choice(["nonlinear", "linear", "two_point"])] = "nonlinear"
    fixedT10: Annotated[float, WithinRange(0.05, 6.0)] = 1.4       # s
    fitDelay: bool = False
    selectModel: bool = False
    semiQuantitative: bool = True
    writeCurves: bool = False
    # Acquisition overrides; 0 (the spin box's "from metadata") means "from the series' metadata".
    repetitionTimeMs: Annotated[float, WithinRange(0.0, 100.0)] = 0.0
    flipAngle: Annotated[float, WithinRange(0.0, 89.0)] = 0.0      # deg
    fieldStrength: Annotated[float, WithinRange(0.0, 11.7)] = 0.0  # T


def settingsFromParameterNode(p, hasT1Source=None):
    """DCESettings from the panel's parameter node (the dashboard uses it for its visit runs).

    ``hasT1Source``: whether the analysis has a VFA series or T1 map (default: the panel's own
    selection); without one the panel's fixed T10 is used.
    """
    if hasT1Source is None:
        hasT1Source = bool(p.vfaSeries or p.t1Map)
    perTissue = parse_t10_per_tissue(p.t10PerTissue) if p.t10Labels and p.t10PerTissue.strip() else None
    return DCESettings(input_kind=p.inputKind, t10_per_tissue=perTissue, model=p.model, aif_source=p.aifSource,
                       population_aif=p.populationAif,
                       hematocrit=p.hematocrit, agent=p.agent, t1_method=p.t1Method,
                       fixed_t10_s=None if hasT1Source else p.fixedT10, fit_delay=p.fitDelay,
                       select_model=p.selectModel, semi_quantitative=p.semiQuantitative,
                       write_concentration=p.writeCurves, write_fitted_curves=p.writeCurves,
                       tr_s=p.repetitionTimeMs / 1000.0 if p.repetitionTimeMs > 0 else None,
                       flip_angle_deg=p.flipAngle if p.flipAngle > 0 else None,
                       field_strength_T=p.fieldStrength if p.fieldStrength > 0 else None)


class DCEModuleWidget(ModuleWidgetBase):
    UI_FILE = "UI/DCEModule.ui"

    def __init__(self, parent=None):
        ModuleWidgetBase.__init__(self, parent)
        self._aifPreview = None

    def createLogic(self):
        return DCEModuleLogic()

    def workButtons(self):
        return [self.ui.applyButton, self.ui.previewAifButton]

    def connectWidgets(self):
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.previewAifButton.connect("clicked(bool)", self.onPreviewAif)
        self.ui.inputKindComboBox.connect("currentIndexChanged(int)", self.updateAcquisitionLabel)
        self.ui.dceSeriesSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onSeriesChanged)
        for spinBox in (self.ui.repetitionTimeSpinBox, self.ui.flipAngleSpinBox, self.ui.fieldStrengthSpinBox):
            spinBox.connect("valueChanged(double)", self.updateAcquisitionLabel)

    def onSceneStartClose(self, caller, event):
        self._aifPreview = None
        ModuleWidgetBase.onSceneStartClose(self, caller, event)

    def onParameterNodeSet(self):
        self.updateAcquisitionLabel()

    def settings(self):
        return settingsFromParameterNode(self._parameterNode)

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

    def _requireSeries(self):
        if self._parameterNode.dceSeries is None:
            raise InputError("choose a DCE series")
        return self._parameterNode.dceSeries

    def onApply(self):
        result = self.runWithProgress("DCE analysis", lambda progress: self.logic.runOnParameterNode(
            self._parameterNode, self.settings(), self.inputNodes(), progress))
        if result is None:
            return
        p = self._parameterNode
        tme_scene.show_in_slice_views(slicer.mrmlScene, background_node=self._proxyVolume(p.dceSeries),
                                      foreground_node=result.map_nodes.get("Ktrans"))
        warnings = "".join(f"<br>warning: {w}" for w in result.analysis.warnings)
        self.ui.statusLabel.text = f"Done. AIF: {result.analysis.aif['source']}{warnings}"

    def onPreviewAif(self):
        """Plot the AIF the run would use (no model fit); the previous preview is replaced."""
        chart = self.runWithProgress("AIF preview", lambda progress: self.logic.preview_aif(
            self._requireSeries(), self.settings(), replace=self._aifPreview, progress=progress,
            **self.inputNodes()))
        if chart is None:
            return
        self._aifPreview = chart
        slicer.modules.plots.logic().ShowChartInLayout(chart)
        self.ui.statusLabel.text = f"AIF preview: {chart.GetAttribute('TMEMonitor.AIFSource')}"

    @staticmethod
    def _proxyVolume(sequenceNode):
        """The volume a sequence browser shows for ``sequenceNode`` (None if it is not browsed)."""
        browser = slicer.modules.sequences.logic().GetFirstBrowserNodeForSequenceNode(sequenceNode)
        return browser.GetProxyNode(sequenceNode) if browser is not None else None


class DCEModuleLogic(DCELogic, ScriptedLoadableModuleLogic):
    """The module's one logic, for the panel and the Python console alike.

    ``DCEModuleLogic().run(sequenceNode, DCESettings(...), vfa_node=...)``, ``.preview_aif(...)``,
    ``.curve_plot(result, voxel=...)``: every :class:`DCEModuleLib.logic.DCELogic` method, on
    ``slicer.mrmlScene`` unless a scene is given.
    """

    def __init__(self, scene=None):
        ScriptedLoadableModuleLogic.__init__(self)
        DCELogic.__init__(self, scene if scene is not None else slicer.mrmlScene)

    def getParameterNode(self):
        return DCEModuleParameterNode(ScriptedLoadableModuleLogic.getParameterNode(self))

    def runOnParameterNode(self, parameterNode, settings, inputNodes, progress=None):
        """One analysis of the panel: the previous run's outputs of this series are replaced, not piled up."""
        if parameterNode.dceSeries is None:
            raise InputError("choose a DCE series")
        series = parameterNode.dceSeries
        return run_replacing_outputs(self.scene, parameterNode.parameterNode, f"DCE.{series.GetID()}",
                                     lambda: self.run(series, settings, progress=progress, **inputNodes))


class DCEModuleTest(ScriptedLoadableModuleTest):
    """Self-test on a synthetic series from the project's phantom (no download)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_synthetic_extended_tofts()

    def test_synthetic_extended_tofts(self):
        import numpy as np
        from TMEMonitorApp.demo import build_demo_scene
        build = build_demo_scene(slicer.mrmlScene, size="tiny", seed=3, n_visits=1)
        visit = build.visits[0]
        mask = visit.visit.tumour_mask
        mask_node = tme_scene.add_label_map(slicer.mrmlScene, mask, visit.visit.ijk_to_ras, "tumour mask")
        result = DCEModuleLogic().run(visit.nodes["dce"], DCESettings(model="extended_tofts"),
                                                vfa_node=visit.nodes["vfa"], mask_node=mask_node)
        ktrans = tme_scene.volume_to_array(result.map_nodes["Ktrans"])[mask]
        truth = visit.visit.truth["Ktrans"][mask]
        self.assertLess(abs(np.nanmedian(ktrans) - np.median(truth)) / np.median(truth), 0.15)
        self.assertEqual(result.map_nodes["Ktrans"].GetVoxelValueUnits().GetCodeValue(), "/min")
        self.delayDisplay("Test passed")
