"""HyperpolarizedModule: kPL, AUC ratio, SNR and status maps from hyperpolarized [1-13C]pyruvate MRI (thin Slicer
classes; the work is in HyperpolarizedModuleLib)."""
import os
from typing import Annotated, Optional, Union

import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModule, ScriptedLoadableModuleLogic, ScriptedLoadableModuleTest
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper

from HyperpolarizedModuleLib.flip_angles import parse_schedule_text
from HyperpolarizedModuleLib.kinetics import NOISE_MODELS
from HyperpolarizedModuleLib.logic import FLIP_ATTRIBUTE, HyperpolarizedLogic
from HyperpolarizedModuleLib.settings import FLIP_UNITS, METABOLITES, MODELS, HyperpolarizedSettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import report
from TMEMonitorWidgets import ModuleWidgetBase
from TMEMonitorWidgets.outputs import run_replacing_outputs


class HyperpolarizedModule(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Hyperpolarized 13C (TME Monitor)"
        self.parent.categories = ["Quantification"]
        self.parent.dependencies = ["TMEMonitor", "Sequences", "Markups", "Plots"]
        self.parent.contributors = ["The TME Monitor contributors"]
        self.parent.helpText = (
            "Tumour glycolysis from hyperpolarized [1-13C]pyruvate: the pyruvate-to-lactate rate kPL (1/s) per voxel "
            "from the inputless precursor-product model (flip-angle depletion per frame, several excitations per "
            "frame, exact solution per interval), optional kPB/kPA, the lactate/pyruvate AUC ratio, SNR, R2 and a "
            "per-voxel status map on the 13C grid, statistics per segment and the dynamic curves with the fit. "
            "See the module README.")
        self.parent.acknowledgementText = (
            "Inputless kinetic model after Larson et al., MRM 2013, doi:10.1002/mrm.24645 (as in the UCSF "
            "hyperpolarized-mri-toolbox).")


# Choice values are what the combo boxes show; SHOWN_MAPS maps them to the Logic's map names.
SHOWN_MAPS = {"kPL": "kPL", "AUC ratio": "AUC_ratio", "pyruvate SNR": "SNR", "fit R2": "r2", "fit status": "status"}
ALL_VOXELS = "analysed voxels"
PICKED_VOXEL = "voxel below"
_LabelsOrSegmentation = Optional[Union[slicer.vtkMRMLLabelMapVolumeNode, slicer.vtkMRMLSegmentationNode]]


# Spin boxes: the connector replaces the .ui range by the annotation's, so every float names the .ui range;
# 0 is the special value ("from the frame times", "estimated").
@parameterNodeWrapper
class HyperpolarizedModuleParameterNode:
    pyruvateSeries: Optional[slicer.vtkMRMLSequenceNode]        # one dynamic series per metabolite, time-indexed
    lactateSeries: Optional[slicer.vtkMRMLSequenceNode]
    alanineSeries: Optional[slicer.vtkMRMLSequenceNode]
    bicarbonateSeries: Optional[slicer.vtkMRMLSequenceNode]
    anatomy: Optional[slicer.vtkMRMLScalarVolumeNode]           # background the maps are shown over
    mask: _LabelsOrSegmentation
    # Flip schedules: "" = the series' flip_angle_deg attribute; a number; a comma list; a .csv/.txt path.
    flipPyruvate: str = ""
    flipLactate: str = ""
    flipAlanine: str = ""
    flipBicarbonate: str = ""
    flipUnit: Annotated[str, Choice(list(FLIP_UNITS))] = "deg"
    excitationsPerFrame: Annotated[float, WithinRange(1.0, 64.0)] = 1.0
    repetitionTimeS: Annotated[float, WithinRange(0.0, 60.0)] = 0.0        # s between frames; 0: frame times
    model: Annotated[str, Choice(list(MODELS))] = "inputless"
    t1PyruvateS: Annotated[float, WithinRange(5.0, 100.0)] = 30.0        # R1P = 1/T1 (UCSF toolbox default)
    t1LactateS: Annotated[float, WithinRange(5.0, 100.0)] = 25.0
    fitR1Pyruvate: bool = False
    fitR1Lactate: bool = False
    noiseModel: Annotated[str, Choice(list(NOISE_MODELS))] = "gaussian"
    noiseSigma: Annotated[float, WithinRange(0.0, 1.0e9)] = 0.0        # signal units; 0: estimated
    minSnr: Annotated[float, WithinRange(0.0, 1000.0)] = 5.0
    shownMap: Annotated[str, Choice(list(SHOWN_MAPS))] = "kPL"
    spectraPath: str = ""                                                  # dynamic spectra file (optional)
    centrePpm: Annotated[float, WithinRange(0.0, 400.0)] = 0.0            # ppm at the receiver; 0: from the file


def settingsFromParameterNode(p):
    """HyperpolarizedSettings from the panel's parameter node (0 in a spin box: not given)."""
    flips = {f"flip_{m}_deg": parse_schedule_text(getattr(p, f"flip{m.capitalize()}"), f"{m} flip angles")
             for m in METABOLITES}
    return HyperpolarizedSettings(
        tr_s=p.repetitionTimeS if p.repetitionTimeS > 0 else None, flip_unit=p.flipUnit,
        excitations_per_frame=int(round(p.excitationsPerFrame)), r1_pyruvate_per_s=1.0 / p.t1PyruvateS,
        r1_lactate_per_s=1.0 / p.t1LactateS, fit_r1_pyruvate=p.fitR1Pyruvate, fit_r1_lactate=p.fitR1Lactate,
        model=p.model, noise_model=p.noiseModel, noise_sigma=p.noiseSigma if p.noiseSigma > 0 else None,
        min_snr=p.minSnr, **flips).validated()


def metaboliteNodes(p):
    """{metabolite: sequence node} chosen in the panel."""
    nodes = {m: getattr(p, f"{m}Series") for m in METABOLITES}
    return {m: node for m, node in nodes.items() if node is not None}


class HyperpolarizedModuleWidget(ModuleWidgetBase):
    UI_FILE = "UI/HyperpolarizedModule.ui"

    def __init__(self, parent=None):
        ModuleWidgetBase.__init__(self, parent)
        self._lastResult = None
        self._pickNode = None

    def createLogic(self):
        return HyperpolarizedModuleLogic()

    def workButtons(self):
        return [self.ui.applyButton, self.ui.plotButton, self.ui.pickVoxelButton, self.ui.fitSpectraButton]

    def connectWidgets(self):
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.plotButton.connect("clicked(bool)", self.onPlot)
        self.ui.pickVoxelButton.connect("clicked(bool)", self.onPickVoxel)
        self.ui.fitSpectraButton.connect("clicked(bool)", self.onFitSpectra)
        for selector in (self.ui.pyruvateSeriesSelector, self.ui.lactateSeriesSelector):
            selector.connect("currentNodeChanged(vtkMRMLNode*)", self.updateAcquisitionLabel)
        self.ui.repetitionTimeSpinBox.connect("valueChanged(double)", self.updateAcquisitionLabel)
        self._enablePlotting(False)

    def onSceneStartClose(self, caller, event):
        self._lastResult = None
        self._pickNode = None
        self._enablePlotting(False)
        ModuleWidgetBase.onSceneStartClose(self, caller, event)

    def onParameterNodeSet(self):
        self.updateAcquisitionLabel()

    def _enablePlotting(self, enabled):
        self.ui.plotButton.enabled = enabled
        self.ui.pickVoxelButton.enabled = enabled
        if not enabled:
            self.ui.plotRegionComboBox.clear()

    def updateAcquisitionLabel(self, *args):
        """Frames, TR and flip angles the fit will use and where they came from (read from the controls)."""
        self.ui.acquisitionLabel.text = ""
        pyruvate = self.ui.pyruvateSeriesSelector.currentNode()
        if self._parameterNode is None or pyruvate is None:
            return
        lines = []
        try:
            series = tme_scene.series_from_node(pyruvate, expected_axis="time")
            times = series.axis_values
            if self.ui.repetitionTimeSpinBox.value > 0:
                tr = f"TR {self.ui.repetitionTimeSpinBox.value:g} s (typed)"
            elif times.size > 1:
                tr = f"TR {times[1] - times[0]:g} s from the frame times ({series.provenance.get('axis_values')})"
            else:
                tr = "one frame"
            lines.append(f"{times.size} frames, {tr}")
        except InputError as error:
            lines.append(f"<b>Frames:</b> {error}. Type the TR below (s between frames).")
        for metabolite in ("pyruvate", "lactate"):
            node = self.ui.pyruvateSeriesSelector.currentNode() if metabolite == "pyruvate" \
                else self.ui.lactateSeriesSelector.currentNode()
            if node is None:
                continue
            flip = node.GetAttribute(f"TMEMonitor.{FLIP_ATTRIBUTE}")
            lines.append(f"{metabolite} flip: {flip} deg from the series' TMEMonitor.{FLIP_ATTRIBUTE}" if flip
                         else f"{metabolite} flip: not in the series; type it below")
        self.ui.acquisitionLabel.text = "<br>".join(lines)

    def onFitSpectra(self):
        """Dynamic spectra -> amplitude series (the Logic's add_spectra_series), chosen as the inputs."""
        p = self._parameterNode
        path = (p.spectraPath or "").strip()

        def work(progress):
            if not path:
                raise InputError("choose the dynamic spectra file (NIfTI-MRS with DIM_DYN, or .mat)")
            return self.logic.add_spectra_series(path, tr_s=p.repetitionTimeS if p.repetitionTimeS > 0 else None,
                                                 centre_ppm=p.centrePpm if p.centrePpm > 0 else None,
                                                 progress=progress)
        outcome = self.runWithProgress("Fitting dynamic spectra", work)
        if outcome is None:
            return
        nodes, inputs = outcome
        p.pyruvateSeries, p.lactateSeries = nodes["pyruvate"], nodes["lactate"]
        self.ui.statusLabel.text = "<br>".join([f"Amplitude series from {os.path.basename(path)}: "
                                                f"{', '.join(n.GetName() for n in nodes.values())}", *inputs.notes])

    def onApply(self):
        result = self.runWithProgress("Hyperpolarized 13C analysis", lambda progress: self.logic.runOnParameterNode(
            self._parameterNode, progress=progress))
        if result is None:
            return
        self._lastResult = result
        p = self._parameterNode
        key = SHOWN_MAPS[p.shownMap]
        shown = result.status_node if key == "status" else result.map_nodes.get(key)
        background = p.anatomy or self._proxyVolume(p.pyruvateSeries)
        if shown is not None and shown.IsA("vtkMRMLLabelMapVolumeNode"):
            tme_scene.show_in_slice_views(slicer.mrmlScene, background_node=background, label_node=shown)
        else:
            tme_scene.show_in_slice_views(slicer.mrmlScene, background_node=background, foreground_node=shown)
        self.ui.plotRegionComboBox.clear()
        for name in [ALL_VOXELS, *result.segment_masks, PICKED_VOXEL]:
            if name not in [self.ui.plotRegionComboBox.itemText(i) for i in range(self.ui.plotRegionComboBox.count)]:
                self.ui.plotRegionComboBox.addItem(name)
        shape = result.analysis.mask.shape                           # (k, j, i) of the 13C grid
        for spin, size in ((self.ui.voxelISpinBox, shape[2]), (self.ui.voxelJSpinBox, shape[1]),
                           (self.ui.voxelKSpinBox, shape[0])):
            spin.maximum = max(size - 1, 0)
        self._enablePlotting(True)
        analysis = result.analysis
        fitted = int((analysis.status[analysis.mask] == 0).sum())
        headline = ", ".join(result.map_nodes[n].GetName() for n in ("kPL", "AUC_ratio") if n in result.map_nodes)
        lines = [f"Done: {headline}; kPL fitted in {fitted} of {int(analysis.mask.sum())} voxels "
                 f"({shape[0]} x {shape[1]} x {shape[2]} grid).", *analysis.notes]
        self.ui.statusLabel.text = "<br>".join(lines)

    def onPlot(self):
        """Measured and fitted dynamics of the chosen region (the previous chart is replaced)."""
        if self._lastResult is None:
            return
        region = self.ui.plotRegionComboBox.currentText
        if region == PICKED_VOXEL:
            voxel = (self.ui.voxelKSpinBox.value, self.ui.voxelJSpinBox.value, self.ui.voxelISpinBox.value)
            kwargs, title = {"voxel": voxel}, f"voxel (i, j, k) = ({voxel[2]}, {voxel[1]}, {voxel[0]})"
        elif region == ALL_VOXELS or not region:
            kwargs, title = {}, "mean of the fitted voxels"
        else:
            kwargs, title = {"segment": region}, f"segment '{region}'"
        p = self._parameterNode
        chart = self.runQuick("Plot dynamics", lambda: run_replacing_outputs(
            slicer.mrmlScene, p.parameterNode, "HP13CDynamicsPlot",
            lambda: self.logic.dynamic_plot(self._lastResult, name=f"HP 13C dynamics, {title}", **kwargs)))
        if chart is None:
            return
        slicer.modules.plots.logic().ShowChartInLayout(chart)
        self.ui.statusLabel.text = f"Dynamics of the {title}: measured (markers) and fitted (lines)"

    def onPickVoxel(self):
        """Place one point in a slice view; the 13C voxel under it gets its dynamics plotted."""
        if self._lastResult is None:
            return
        if self._pickNode is None or slicer.mrmlScene.GetNodeByID(self._pickNode.GetID()) is None:
            self._pickNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "13C voxel pick")
            self._pickNode.SetMaximumNumberOfControlPoints(1)
            self.addObserver(self._pickNode, slicer.vtkMRMLMarkupsNode.PointPositionDefinedEvent, self.onVoxelPicked)
        self._pickNode.RemoveAllControlPoints()
        markupsLogic = slicer.modules.markups.logic()
        markupsLogic.SetActiveList(self._pickNode)
        markupsLogic.StartPlaceMode(False)

    def onVoxelPicked(self, caller=None, event=None):
        if self._lastResult is None or self._pickNode is None or self._pickNode.GetNumberOfControlPoints() == 0:
            return
        ras = [0.0, 0.0, 0.0]
        self._pickNode.GetNthControlPointPositionWorld(0, ras)
        voxel = self.runQuick("No 13C voxel there", lambda: self.logic.voxel_at_ras(self._lastResult, ras))
        if voxel is None:
            return
        self.ui.voxelKSpinBox.value, self.ui.voxelJSpinBox.value, self.ui.voxelISpinBox.value = voxel
        self.ui.plotRegionComboBox.setCurrentText(PICKED_VOXEL)
        self.onPlot()

    @staticmethod
    def _proxyVolume(sequenceNode):
        """The volume a sequence browser shows for ``sequenceNode`` (None if it is not browsed)."""
        if sequenceNode is None:
            return None
        browser = slicer.modules.sequences.logic().GetFirstBrowserNodeForSequenceNode(sequenceNode)
        return browser.GetProxyNode(sequenceNode) if browser is not None else None


class HyperpolarizedModuleLogic(HyperpolarizedLogic, ScriptedLoadableModuleLogic):
    """The module's one logic, for the panel and the Python console alike.

    ``HyperpolarizedModuleLogic().run({"pyruvate": node, "lactate": node}, HyperpolarizedSettings(...),
    mask_node=..., statistics_segmentation=...)``, ``.dynamic_plot(result, voxel=(k, j, i))``: every
    :class:`HyperpolarizedModuleLib.logic.HyperpolarizedLogic` method, on ``slicer.mrmlScene`` unless a scene is
    given.
    """

    def __init__(self, scene=None):
        ScriptedLoadableModuleLogic.__init__(self)
        HyperpolarizedLogic.__init__(self, scene if scene is not None else slicer.mrmlScene)
        self._writeProgress = None

    def getParameterNode(self):
        return HyperpolarizedModuleParameterNode(ScriptedLoadableModuleLogic.getParameterNode(self))

    def runOnParameterNode(self, parameterNode, progress=None):
        """One analysis of the panel: the previous run's outputs for the same pyruvate series are replaced."""
        p = parameterNode
        if p.pyruvateSeries is None or p.lactateSeries is None:
            raise InputError("choose the pyruvate and the lactate dynamic series")
        settings = settingsFromParameterNode(p)
        nodes = metaboliteNodes(p)
        segmentation = p.mask if p.mask is not None and p.mask.IsA("vtkMRMLSegmentationNode") else None
        report(progress, 0.0, "reading the inputs")
        settings, note = self.noiseSigmaOverGrid(settings, nodes, p.mask)
        fitProgress = None if progress is None else (lambda f, m="": progress(0.05 + 0.85 * f, m))
        self._writeProgress = progress
        primary = p.pyruvateSeries
        try:
            result = run_replacing_outputs(self.scene, p.parameterNode, f"HP13C.{primary.GetID()}",
                                           lambda: self.run(nodes, settings, mask_node=p.mask,
                                                            statistics_segmentation=segmentation,
                                                            name_prefix=primary.GetName(), progress=fitProgress))
        finally:
            self._writeProgress = None
        if note:
            result.analysis.notes.append(note)
        return result

    def noiseSigmaOverGrid(self, settings, nodes, mask_node):
        """(settings, note): with a segmentation as mask and no noise sigma, sigma from the whole 13C grid.

        Outside a drawn segment (a tumour) lies tissue with 13C signal, not background; the Lib's estimate
        would take it as noise. Here sigma comes from the 20 % of the grid's voxels with the least pyruvate
        (magnitude: Rayleigh mean; complex data keep their imaginary-part estimate)."""
        from dataclasses import replace

        import numpy as np

        from HyperpolarizedModuleLib import noise
        if mask_node is None or not mask_node.IsA("vtkMRMLSegmentationNode") or settings.noise_sigma is not None:
            return settings, ""
        arrays = self.resolve_inputs(nodes, settings)[0]
        pyruvate = np.moveaxis(arrays["pyruvate"], 0, -1)
        if np.iscomplexobj(pyruvate):
            return settings, ""
        sigma, source = noise.estimate_sigma(pyruvate, background=None, magnitude=True)
        if not sigma > 0:
            return settings, ""
        return replace(settings, noise_sigma=sigma), f"noise sigma {sigma:.4g} from {source} over the whole 13C grid " \
                                                    "(a segmentation as mask: its outside is tissue, not background)"

    def voxel_at_ras(self, result, ras):
        """(k, j, i) of the 13C voxel holding the RAS point; InputError outside the 13C grid."""
        import numpy as np
        shape = result.analysis.mask.shape
        ijk = np.linalg.inv(result.ijk_to_ras) @ np.array([ras[0], ras[1], ras[2], 1.0])
        i, j, k = (int(v) for v in np.rint(ijk[:3]))
        if not (0 <= k < shape[0] and 0 <= j < shape[1] and 0 <= i < shape[2]):
            raise InputError(f"the point R {ras[0]:.1f}, A {ras[1]:.1f}, S {ras[2]:.1f} mm lies outside the 13C grid "
                             f"({shape[2]} x {shape[1]} x {shape[0]} voxels)")
        return k, j, i

    def write_outputs(self, analysis, *args, **kwargs):
        # A last progress report (and Cancel check) after the fit, before any node is written.
        report(getattr(self, "_writeProgress", None), 0.92, "writing the maps")
        return HyperpolarizedLogic.write_outputs(self, analysis, *args, **kwargs)


def addSyntheticExam(scene, kpl_tumour=0.05, kpl_normal=0.015, shape=(1, 12, 12), snr=60.0, seed=0, name="HP exam"):
    """A coarse 13C exam of ``HyperpolarizedModuleLib.synthesis.phantom_grid`` (disc body, round tumour, magnitude
    noise) as scene nodes: pyruvate and lactate sequences (frame times in s, flip angles in degrees as the
    TMEMonitor.flip_angle_deg attribute), the body and tumour label maps. Returns (phantom, nodes)."""
    import numpy as np

    from HyperpolarizedModuleLib import synthesis
    p = synthesis.phantom_grid(shape=shape, kpl_tumour=kpl_tumour, kpl_normal=kpl_normal, snr=snr, rng=seed)
    times = np.arange(p.pyruvate.shape[0]) * p.tr_s
    nodes = {}
    for metabolite, array, flip in (("pyruvate", p.pyruvate, p.flip_pyruvate_deg), ("lactate", p.lactate,
                                                                                      p.flip_lactate_deg)):
        node = tme_scene.array_to_sequence(scene, array.astype(np.float32), times, p.ijk_to_ras, f"{name} {metabolite}",
                                           axis_source="synthetic acquisition (13C frame times)")
        tme_scene.set_acquisition_attributes(node, {FLIP_ATTRIBUTE: float(flip)})
        nodes[metabolite] = node
    nodes["body"] = tme_scene.add_label_map(scene, p.body.astype(np.uint8), p.ijk_to_ras, f"{name} body")
    nodes["tumour"] = tme_scene.add_label_map(scene, p.tumour.astype(np.uint8), p.ijk_to_ras, f"{name} tumour")
    return p, nodes


class HyperpolarizedModuleTest(ScriptedLoadableModuleTest):
    """Self-test on a synthetic 13C exam with known kPL (no download): kPL, AUC ratio, status, statistics."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_synthetic_exam()

    def test_synthetic_exam(self):
        import numpy as np

        from TMEMonitorLib.fitting import status as st
        phantom, nodes = addSyntheticExam(slicer.mrmlScene, snr=None)      # noise-free: the fit must be exact
        result = HyperpolarizedModuleLogic().run({"pyruvate": nodes["pyruvate"], "lactate": nodes["lactate"]},
                                                 HyperpolarizedSettings(), mask_node=nodes["body"],
                                                 statistics_segmentation=nodes["tumour"])
        body = phantom.body
        kpl = tme_scene.volume_to_array(result.map_nodes["kPL"])
        np.testing.assert_allclose(kpl[body], phantom.kpl[body], rtol=1e-4)
        self.assertEqual(result.map_nodes["kPL"].GetVoxelValueUnits().GetCodeValue(), "/s")
        status = tme_scene.volume_to_array(result.status_node)
        np.testing.assert_array_equal(status[body], st.OK)
        np.testing.assert_array_equal(status[~body], st.MASKED)
        auc = tme_scene.volume_to_array(result.map_nodes["AUC_ratio"])
        np.testing.assert_allclose(auc[body], phantom.lactate.sum(0)[body] / phantom.pyruvate.sum(0)[body], rtol=1e-5)
        columns = tme_scene.table_to_columns(result.table_node)
        row = [i for i, n in enumerate(columns["parameter"]) if n == "kPL"][0]
        self.assertAlmostEqual(float(columns["mean"][row]), float(np.mean(phantom.kpl[phantom.tumour])), places=5)
        chart = HyperpolarizedModuleLogic().dynamic_plot(result, voxel=tuple(np.argwhere(phantom.tumour)[0]))
        self.assertTrue(chart.IsA("vtkMRMLPlotChartNode"))
        self.delayDisplay("Test passed")
