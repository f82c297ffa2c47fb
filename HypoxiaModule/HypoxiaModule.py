"""HypoxiaModule: R2*/T2*, R2', gas-challenge and Perfused-Oxy-R maps (thin Slicer classes; the work is in HypoxiaModuleLib)."""
from typing import Annotated, Optional, Union

import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModule, ScriptedLoadableModuleLogic, ScriptedLoadableModuleTest
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper

from HypoxiaModuleLib.logic import HypoxiaLogic, echo_series, t1_series
from HypoxiaModuleLib.paradigm import GASES
from HypoxiaModuleLib.relaxometry import METHODS as R2STAR_METHODS
from HypoxiaModuleLib.relaxometry import R2_MODELS
from HypoxiaModuleLib.settings import T1_METHODS, HypoxiaSettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene import attribute_names
from TMEMonitorLib.progress import report
from TMEMonitorWidgets import ModuleWidgetBase
from TMEMonitorWidgets.outputs import run_replacing_outputs


class HypoxiaModule(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Hypoxia (TME Monitor)"
        self.parent.categories = ["Quantification"]
        self.parent.dependencies = ["TMEMonitor", "Sequences"]
        self.parent.contributors = ["The TME Monitor contributors"]
        self.parent.helpText = (
            "Tumour oxygenation from quantitative MRI: R2*/T2* from multi-echo gradient echo (log-linear, "
            "nonlinear or ARLO, noise-floor echoes left out), R2 and R2' = R2* - R2 with a multi-echo spin echo, "
            "Delta R1 (oxygen-enhanced MRI) and Delta R2* (BOLD) across an air -> gas -> air paradigm with "
            "per-voxel significance, and the Perfused-Oxy-R (hypoxic) map with a DCE enhancement map.")
        self.parent.acknowledgementText = (
            "Perfused-Oxy-R map after O'Connor et al., Cancer Res 2016, doi:10.1158/0008-5472.CAN-15-2062.")


# Choice values are what the combo box shows; the widget maps them to the Logic's names.
SHOWN_MAPS = {"R2*": "R2star", "T2*": "T2star", "R2'": "R2prime", "Delta R1": "dR1", "Delta R2*": "dR2star",
              "hypoxia classes": "classes"}
# Node selectors: the connector sets the combo box's node types from the annotation, so it names the .ui's.
# Spin boxes: the connector replaces the .ui range by the annotation's, so every float names the .ui range;
# 0 is the spin box's special value ("from metadata", "not set", "to the end of the series"...).
_LabelsOrSegmentation = Optional[Union[slicer.vtkMRMLLabelMapVolumeNode, slicer.vtkMRMLSegmentationNode]]


@parameterNodeWrapper
class HypoxiaModuleParameterNode:
    greSeries: Optional[slicer.vtkMRMLSequenceNode]       # multi-echo gradient echo, indexed by echo time
    echoTimesMs: str = ""                                 # override of the GRE echo times (ms); "" = from the series
    seSeries: Optional[slicer.vtkMRMLSequenceNode]        # multi-echo spin echo (R2, R2')
    seEchoTimesMs: str = ""
    mask: _LabelsOrSegmentation
    oeSeries: Optional[slicer.vtkMRMLSequenceNode]        # dynamic T1-weighted across air -> gas -> air
    boldSeries: Optional[slicer.vtkMRMLSequenceNode]      # dynamic T2*-weighted across air -> gas -> air
    t1AirMap: Optional[slicer.vtkMRMLScalarVolumeNode]    # T1 (s) before gas
    t1GasMap: Optional[slicer.vtkMRMLScalarVolumeNode]    # T1 (s) during gas
    t1AirSeries: Optional[slicer.vtkMRMLSequenceNode]     # T1-mapping images before gas (IR / Look-Locker / VFA)
    t1GasSeries: Optional[slicer.vtkMRMLSequenceNode]     # T1-mapping images during gas
    t1Method: Annotated[str, Choice(list(T1_METHODS))] = "ir"
    tiAirMs: str = ""                                     # typed inversion times (ms); "" = from the series
    tiGasMs: str = ""
    t10Map: Optional[slicer.vtkMRMLScalarVolumeNode]      # pre-gas T1 (s) for the OE conversion
    enhancementMap: Optional[slicer.vtkMRMLScalarVolumeNode]
    fieldMap: Optional[slicer.vtkMRMLScalarVolumeNode]    # B0 field map (Hz) for the field-gradient correction
    gas: Annotated[str, Choice(list(GASES))] = "oxygen"
    gasOnS: Annotated[float, WithinRange(0.0, 100000.0)] = 0.0      # 0: not set
    gasOffS: Annotated[float, WithinRange(0.0, 100000.0)] = 0.0     # 0: gas to the end of the series
    washInS: Annotated[float, WithinRange(0.0, 3600.0)] = 60.0
    alpha: Annotated[float, WithinRange(0.001, 0.2)] = 0.05
    fixedT10: Annotated[float, WithinRange(0.0, 6.0)] = 0.0        # s; 0: from the T10 / T1-air map
    repetitionTimeMs: Annotated[float, WithinRange(0.0, 100.0)] = 0.0     # 0: from metadata
    flipAngle: Annotated[float, WithinRange(0.0, 89.0)] = 0.0             # deg; 0: from metadata
    dynamicEchoTimeMs: Annotated[float, WithinRange(0.0, 200.0)] = 0.0    # 0: from metadata
    enhancementThreshold: Annotated[float, WithinRange(0.0, 100000.0)] = 0.1
    r2starMethod: Annotated[str, Choice(list(R2STAR_METHODS))] = "nonlinear"
    noiseFloor: bool = True
    noiseSigma: Annotated[float, WithinRange(0.0, 1000000.0)] = 0.0       # 0: estimated from the background
    noiseFloorSnr: Annotated[float, WithinRange(0.5, 20.0)] = 3.0
    r2starMax: Annotated[float, WithinRange(10.0, 10000.0)] = 2000.0      # 1/s
    fieldGradientCorrection: bool = True
    skipFirstSeEcho: bool = False
    seModel: Annotated[str, Choice(list(R2_MODELS))] = "monoexponential"     # spin-echo R2: mono-exponential or EPG
    shownMap: Annotated[str, Choice(list(SHOWN_MAPS))] = "R2*"
    plotPoint: Optional[slicer.vtkMRMLMarkupsFiducialNode]   # plots at the voxel under its first point


def parseEchoTimesMs(text, what):
    """Echo times typed in ms (comma/space separated) as seconds; None for an empty field."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        values = [float(v) for v in text.replace(";", ",").replace(" ", ",").split(",") if v.strip()]
    except ValueError:
        raise InputError(f"{what} '{text}': expected numbers in ms separated by commas") from None
    return [v / 1000.0 for v in values]


def settingsFromParameterNode(p):
    """HypoxiaSettings from the panel's parameter node (0 in a spin box: the setting is not given)."""
    def given(value, scale=1.0):
        return value * scale if value > 0 else None

    return HypoxiaSettings(
        r2star_method=p.r2starMethod, noise_sigma=given(p.noiseSigma), noise_floor_snr=p.noiseFloorSnr,
        noise_floor=p.noiseFloor, r2star_max_per_s=p.r2starMax, field_gradient_correction=p.fieldGradientCorrection,
        r2_skip_first_echo=p.skipFirstSeEcho, gas=p.gas, gas_on_s=given(p.gasOnS), gas_off_s=given(p.gasOffS),
        wash_in_s=p.washInS, alpha=p.alpha,
        se_model=p.seModel,
        enhancement_threshold=p.enhancementThreshold if p.enhancementMap is not None else None,
        t10_s=given(p.fixedT10), tr_s=given(p.repetitionTimeMs, 1e-3), flip_angle_deg=given(p.flipAngle),
        dynamic_echo_time_s=given(p.dynamicEchoTimeMs, 1e-3), t1_method=p.t1Method).validated()


def inputNodesFromParameterNode(p):
    """The Logic's node keywords (HypoxiaLogic.resolve_inputs) from the parameter node."""
    return dict(gre_node=p.greSeries, echo_times_s=parseEchoTimesMs(p.echoTimesMs, "GRE echo times (ms)"),
                se_node=p.seSeries, se_echo_times_s=parseEchoTimesMs(p.seEchoTimesMs, "spin-echo echo times (ms)"),
                field_map_node=p.fieldMap, oe_node=p.oeSeries, bold_node=p.boldSeries, t1_air_node=p.t1AirMap,
                t1_gas_node=p.t1GasMap, t10_node=p.t10Map, enhancement_node=p.enhancementMap, mask_node=p.mask,
                t1_series_air_node=p.t1AirSeries, t1_series_gas_node=p.t1GasSeries, t1_method=p.t1Method,
                t1_values_air=typedInversionTimes(p.tiAirMs, p.t1Method, "inversion times on air (ms)"),
                t1_values_gas=typedInversionTimes(p.tiGasMs, p.t1Method, "inversion times on gas (ms)"))


def typedInversionTimes(text, method, what):
    """Typed inversion times (ms) as seconds, None when empty; refused for a VFA series (flip angles)."""
    values = parseEchoTimesMs(text, what)
    if values is not None and method == "vfa":
        raise InputError(f"{what}: typed inversion times apply to the ir and look-locker methods, not vfa "
                         "(a VFA series is indexed by its flip angles)")
    return values


class HypoxiaModuleWidget(ModuleWidgetBase):
    UI_FILE = "UI/HypoxiaModule.ui"

    def __init__(self, parent=None):
        ModuleWidgetBase.__init__(self, parent)
        self._lastResult = None

    def createLogic(self):
        return HypoxiaModuleLogic()

    def workButtons(self):
        return [self.ui.applyButton, self.ui.plotSignalButton, self.ui.plotParadigmButton]

    def connectWidgets(self):
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.plotSignalButton.connect("clicked(bool)", self.onPlotSignal)
        self.ui.plotParadigmButton.connect("clicked(bool)", self.onPlotParadigm)
        for selector in (self.ui.t1AirSeriesSelector, self.ui.t1GasSeriesSelector):
            selector.connect("currentNodeChanged(vtkMRMLNode*)", self.updateT1SeriesLabel)
        for lineEdit in (self.ui.tiAirLineEdit, self.ui.tiGasLineEdit):
            lineEdit.connect("editingFinished()", self.updateT1SeriesLabel)
        self.ui.t1MethodComboBox.connect("currentIndexChanged(int)", self.updateT1SeriesLabel)
        self.ui.greSeriesSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.updateEchoTimesLabel)
        self.ui.echoTimesLineEdit.connect("editingFinished()", self.updateEchoTimesLabel)
        self.ui.oeSeriesSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.updateParadigmLabel)
        self.ui.boldSeriesSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.updateParadigmLabel)
        self.ui.plotSignalButton.enabled = False
        self.ui.plotParadigmButton.enabled = False

    def onSceneStartClose(self, caller, event):
        self._lastResult = None
        self.ui.plotSignalButton.enabled = False
        self.ui.plotParadigmButton.enabled = False
        ModuleWidgetBase.onSceneStartClose(self, caller, event)

    def onParameterNodeSet(self):
        self.updateEchoTimesLabel()
        self.updateParadigmLabel()
        self.updateT1SeriesLabel()

    def settings(self):
        return settingsFromParameterNode(self._parameterNode)

    def updateEchoTimesLabel(self, node=None):
        """Show the echo times the fit will use and where they came from (the series or the typed override)."""
        # Read the controls, not the parameter node: this slot may run before the node follows them.
        series = self.ui.greSeriesSelector.currentNode()
        self.ui.echoTimesLabel.text = ""
        if self._parameterNode is None or series is None:
            return
        try:
            typed = parseEchoTimesMs(self.ui.echoTimesLineEdit.text, "GRE echo times (ms)")
            array, te, source, _ = echo_series(series, typed, "multi-echo gradient echo")
            self.ui.echoTimesLabel.text = (f"{array.shape[0]} echoes, TE = {', '.join(f'{v * 1e3:g}' for v in te)} ms"
                                           f" — from {source}")
        except InputError as error:
            self.ui.echoTimesLabel.text = f"<b>Echo times:</b> {error}. Type them below (ms, comma separated)."

    def updateParadigmLabel(self, node=None):
        """Frames and time span of the dynamic series, so the gas timing can be checked against them."""
        lines = []
        for label, selector in (("OE", self.ui.oeSeriesSelector), ("BOLD", self.ui.boldSeriesSelector)):
            series = selector.currentNode()
            if series is None or self._parameterNode is None:
                continue
            try:
                data = tme_scene.series_from_node(series, expected_axis="time")
                t = data.axis_values
                lines.append(f"{label}: {t.size} frames, {t[0]:g}–{t[-1]:g} s (from {data.provenance.get('axis_values')})")
            except InputError as error:
                lines.append(f"<b>{label}:</b> {error}")
        self.ui.paradigmLabel.text = "<br>".join(lines)

    def updateT1SeriesLabel(self, *args):
        """Inversion times (or flip angles) of the T1 series and where they came from, or what is missing."""
        lines = []
        method = self.ui.t1MethodComboBox.currentText
        for label, selector, lineEdit in (("on air", self.ui.t1AirSeriesSelector, self.ui.tiAirLineEdit),
                                          ("on gas", self.ui.t1GasSeriesSelector, self.ui.tiGasLineEdit)):
            series = selector.currentNode()
            if series is None or self._parameterNode is None:
                continue
            try:
                typed = typedInversionTimes(lineEdit.text, method, f"inversion times {label} (ms)")
                array, values, source, _, _ = t1_series(series, method, typed, f"T1 series {label}")
                shown = ", ".join(f"{v:g}" for v in values) + " deg" if method == "vfa" else \
                    ", ".join(f"{v * 1e3:g}" for v in values) + " ms"
                lines.append(f"T1 series {label}: {array.shape[0]} images, {shown} — from {source}")
            except InputError as error:
                lines.append(f"<b>T1 series {label}:</b> {error}")
        self.ui.t1SeriesLabel.text = "<br>".join(lines)

    def onApply(self):
        result = self.runWithProgress("Hypoxia analysis", lambda progress: self.logic.runOnParameterNode(
            self._parameterNode, progress=progress))
        if result is None:
            return
        self._lastResult = result
        self.ui.plotSignalButton.enabled = "R2star" in result.map_nodes
        self.ui.plotParadigmButton.enabled = bool(set(result.analysis.responders) & {"dR1", "dR2star"})
        p = self._parameterNode
        key = SHOWN_MAPS[p.shownMap]
        shown = result.class_node if key == "classes" else result.map_nodes.get(key)
        if shown is None:
            shown = next(iter(result.map_nodes.values()), None)
        background = self._proxyVolume(p.greSeries or p.oeSeries or p.boldSeries or p.seSeries)
        if shown is not None and shown.IsA("vtkMRMLLabelMapVolumeNode"):
            tme_scene.show_in_slice_views(slicer.mrmlScene, background_node=background, label_node=shown)
        else:
            tme_scene.show_in_slice_views(slicer.mrmlScene, background_node=background, foreground_node=shown)
        analysis = result.analysis
        produced = ", ".join(node.GetName() for node in result.map_nodes.values() if not node.GetName().endswith("p-value"))
        lines = [f"Done: {produced}.", *analysis.notes, *(f"warning: {w}" for w in analysis.warnings)]
        self.ui.statusLabel.text = "<br>".join(lines)

    def onPlotSignal(self):
        """Mean signal vs TE over the analysed voxels with the fitted curve (the previous plot is replaced)."""
        p = self._parameterNode
        if self._lastResult is None or p.greSeries is None:
            return
        chart = self.runQuick("Signal vs TE", lambda: run_replacing_outputs(
            slicer.mrmlScene, p.parameterNode, f"HypoxiaSignalPlot.{p.greSeries.GetID()}",
            lambda: self.logic.signal_plot(self._lastResult, p.greSeries, name=f"{p.greSeries.GetName()} signal vs TE",
                                           point_node=p.plotPoint)))
        if chart is None:
            return
        slicer.modules.plots.logic().ShowChartInLayout(chart)
        where = f"the voxel at '{p.plotPoint.GetName()}'" if p.plotPoint is not None else "the analysed voxels (mean)"
        self.ui.statusLabel.text = f"Signal vs TE: {where}, measured and fitted"

    def onPlotParadigm(self):
        """Delta R1 (OE) or Delta R2* (BOLD) across the gas paradigm, for the picked point or the mask's mean."""
        p = self._parameterNode
        if self._lastResult is None:
            return
        responders = self._lastResult.analysis.responders
        series, kind = (p.oeSeries, "oe") if "dR1" in responders and p.oeSeries is not None else (p.boldSeries, "bold")
        if series is None:
            return

        def plot():
            t10 = None
            if kind == "oe" and p.t10Map is not None:
                t10 = tme_scene.volume_from_node(p.t10Map, None, None, "T10 map")[0]
            return self.logic.paradigm_plot(self._lastResult, series, kind, point_node=p.plotPoint,
                                            mask=None if p.plotPoint is not None else p.mask,
                                            name=f"{series.GetName()} gas paradigm", t10_s=t10)

        chart = self.runQuick("Gas paradigm", lambda: run_replacing_outputs(
            slicer.mrmlScene, p.parameterNode, f"HypoxiaParadigmPlot.{series.GetID()}", plot))
        if chart is None:
            return
        slicer.modules.plots.logic().ShowChartInLayout(chart)
        self.ui.statusLabel.text = (f"Gas paradigm ({kind.upper()}): {chart.GetAttribute('TMEMonitor.PlotRegion')}; "
                                    "second series: the air and gas epoch means")

    @staticmethod
    def _proxyVolume(sequenceNode):
        """The volume a sequence browser shows for ``sequenceNode`` (None if it is not browsed)."""
        if sequenceNode is None:
            return None
        browser = slicer.modules.sequences.logic().GetFirstBrowserNodeForSequenceNode(sequenceNode)
        return browser.GetProxyNode(sequenceNode) if browser is not None else None


class HypoxiaModuleLogic(HypoxiaLogic, ScriptedLoadableModuleLogic):
    """The module's one logic, for the panel and the Python console alike.

    ``HypoxiaModuleLogic().run(HypoxiaSettings(...), gre_node=..., oe_node=..., mask_node=...)``,
    ``.signal_plot(result, gre_node)``: every :class:`HypoxiaModuleLib.logic.HypoxiaLogic` method, on
    ``slicer.mrmlScene`` unless a scene is given.
    """

    def __init__(self, scene=None):
        ScriptedLoadableModuleLogic.__init__(self)
        HypoxiaLogic.__init__(self, scene if scene is not None else slicer.mrmlScene)
        self._writeProgress = None

    def getParameterNode(self):
        return HypoxiaModuleParameterNode(ScriptedLoadableModuleLogic.getParameterNode(self))

    def runOnParameterNode(self, parameterNode, progress=None):
        """One analysis of the panel: the previous run's outputs for the same inputs are replaced, not piled up."""
        p = parameterNode
        primary = p.greSeries or p.seSeries or p.oeSeries or p.boldSeries or p.t1AirMap or p.t1AirSeries
        if primary is None:
            raise InputError("choose a multi-echo gradient-echo series (or a spin-echo, OE / BOLD dynamic series, "
                             "or T1 maps or T1 series before and during gas)")
        settings = settingsFromParameterNode(p)
        nodes = inputNodesFromParameterNode(p)
        segmentation = p.mask if p.mask is not None and p.mask.IsA("vtkMRMLSegmentationNode") else None
        report(progress, 0.0, "reading the inputs")
        # The fits report 0..1; the panel's bar keeps the last steps for checking and writing.
        fitProgress = None if progress is None else (lambda f, m="": progress(0.05 + 0.85 * f, m))
        self._writeProgress = progress
        try:
            result = run_replacing_outputs(self.scene, p.parameterNode, f"Hypoxia.{primary.GetID()}",
                                           lambda: self.run(settings, name_prefix=primary.GetName(),
                                                            statistics_segmentation=segmentation,
                                                            progress=fitProgress, **nodes))
        finally:
            self._writeProgress = None
        return result

    def write_outputs(self, analysis, *args, **kwargs):
        # A last progress report (and Cancel check) after the fits, before any node is written.
        report(getattr(self, "_writeProgress", None), 0.92, "writing the maps")
        return HypoxiaLogic.write_outputs(self, analysis, *args, **kwargs)


def addSyntheticVisit(scene, visit=0, responder=True, shape=(4, 32, 32), noise_sigma=10.0, seed=0):
    """The hypoxia phantom of ``HypoxiaModuleLib.synthesis`` (in an elliptical body surrounded by air) as
    scene nodes: multi-echo GRE and SE sequences
    (indexed by echo time in ms), an oxygen-enhanced dynamic series (frame times in s, TR and flip angle
    as metadata), the T10 and DCE enhancement maps and the tumour label map. Returns (phantom, nodes)."""
    import numpy as np

    from HypoxiaModuleLib import synthesis
    rng = np.random.default_rng(seed)
    p = synthesis.hypoxia_phantom(shape, visit=visit, responder=responder)
    # Air around the body (no signal, noise only), as on a scanner: the noise floor is estimated there.
    j, i = np.meshgrid(*(np.arange(n) - (n - 1) / 2.0 for n in shape[1:]), indexing="ij")
    body = ((j / (0.48 * shape[1])) ** 2 + (i / (0.48 * shape[2])) ** 2) <= 1.0
    p.s0 = np.where(body[None], p.s0, 0.0)
    paradigm = synthesis.default_paradigm()
    gre_te_s, se_te_s = 0.002 + 0.004 * np.arange(8), 0.015 * np.arange(1, 7)
    frame_times_s, tr_s, flip_deg = np.arange(0.0, 540.0, 15.0), 0.004, 15.0
    ijk = tme_scene.make_ijk_to_ras((1.0, 1.0, 3.0), (-(shape[2] - 1) / 2.0, (shape[1] - 1) / 2.0, 0.0))

    def frames_first(values):
        return np.moveaxis(values, -1, 0).astype(np.float32)

    gre = frames_first(synthesis.multi_echo(p.r2star_per_s, p.s0, gre_te_s, noise_sigma, rng))
    se = frames_first(synthesis.multi_echo(p.r2_per_s, p.s0, se_te_s, noise_sigma, rng))
    # OE signal changes are ~1 %: the dynamic series has the SNR of an averaged T1-weighted acquisition.
    oe = frames_first(synthesis.oe_dynamic(p.t1_s, p.delta_r1_per_s, p.s0, frame_times_s, paradigm, tr_s, flip_deg,
                                           noise_sigma * 0.02, rng))
    name = f"visit {visit}"
    nodes = {
        "gre": tme_scene.array_to_sequence(scene, gre, gre_te_s * 1000.0, ijk, f"{name} GRE", axis_name="echo_time",
                                           axis_unit="ms", axis_source="synthetic acquisition (phantom EchoTime)"),
        "se": tme_scene.array_to_sequence(scene, se, se_te_s * 1000.0, ijk, f"{name} SE", axis_name="echo_time",
                                          axis_unit="ms", axis_source="synthetic acquisition (phantom EchoTime)"),
        "oe": tme_scene.array_to_sequence(scene, oe, frame_times_s, ijk, f"{name} OE dynamic",
                                          axis_source="synthetic acquisition (phantom frame times)"),
        "t10": tme_scene.array_to_volume(scene, p.t1_s.astype(np.float32), ijk, f"{name} T10 (s)"),
        "enhancement": tme_scene.array_to_volume(scene, p.enhancement.astype(np.float32), ijk,
                                                 f"{name} DCE enhancement"),
        "mask": tme_scene.add_label_map(scene, p.tumour.astype(np.uint8), ijk, f"{name} tumour"),
    }
    tme_scene.set_acquisition_attributes(nodes["oe"], {"TR_s": tr_s, "flip_angle_deg": flip_deg})
    return p, nodes


class HypoxiaModuleTest(ScriptedLoadableModuleTest):
    """Self-test on the synthetic hypoxia phantom (no download): R2*, R2', Delta R1 and the hypoxic fraction."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_synthetic_phantom()

    def test_synthetic_phantom(self):
        import numpy as np
        phantom, nodes = addSyntheticVisit(slicer.mrmlScene, noise_sigma=5.0, seed=1)
        settings = HypoxiaSettings(gas_on_s=120.0, gas_off_s=420.0, enhancement_threshold=0.1)
        result = HypoxiaModuleLogic().run(settings, gre_node=nodes["gre"], se_node=nodes["se"], oe_node=nodes["oe"],
                                          t10_node=nodes["t10"], enhancement_node=nodes["enhancement"],
                                          mask_node=nodes["mask"])
        tumour = phantom.tumour
        r2star = tme_scene.volume_to_array(result.map_nodes["R2star"])[tumour]
        truth = phantom.r2star_per_s[tumour]
        self.assertLess(np.nanmedian(np.abs(r2star - truth) / truth), 0.05)
        self.assertEqual(result.map_nodes["R2star"].GetVoxelValueUnits().GetCodeValue(), "/s")
        self.assertEqual(result.map_nodes["T2star"].GetVoxelValueUnits().GetCodeValue(), "ms")
        self.assertIn("EchoTime", attribute_names.get(result.map_nodes["R2star"], attribute_names.source_attribute("echo_times")))
        r2prime = tme_scene.volume_to_array(result.map_nodes["R2prime"])[tumour]
        self.assertLess(abs(np.nanmedian(r2prime) - np.median((phantom.r2star_per_s - phantom.r2_per_s)[tumour])), 3.0)
        classes = tme_scene.volume_to_array(result.class_node)
        hypoxic_called = np.count_nonzero(classes[tumour] == 3) / tumour.sum()
        self.assertLess(abs(hypoxic_called - phantom.hypoxic.sum() / tumour.sum()), 0.1)
        self.delayDisplay("Test passed")
