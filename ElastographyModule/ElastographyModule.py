"""ElastographyModule: MR elastography, wave images to |G*|, G', G'', phi and shear-wave speed maps
(thin Slicer classes; the work is in ElastographyModuleLib)."""
import json
from typing import Annotated, Optional, Union

import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModule, ScriptedLoadableModuleLogic, ScriptedLoadableModuleTest
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper

from ElastographyModuleLib.logic import ATTRIBUTE_KEYS, ElastographyLogic
from ElastographyModuleLib.settings import ElastographySettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorWidgets import ModuleWidgetBase
from TMEMonitorWidgets.outputs import run_replacing_outputs


class ElastographyModule(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Elastography (TME Monitor)"
        self.parent.categories = ["Quantification"]
        self.parent.dependencies = ["TMEMonitor", "Sequences"]
        self.parent.contributors = ["The TME Monitor contributors"]
        self.parent.helpText = (
            "MR elastography: phase images over wave phase offsets (one or three encoding directions, one or "
            "several frequencies) to |G*|, storage and loss modulus, loss angle phi and shear-wave speed maps, "
            "with phase unwrapping, first-harmonic extraction, compression-wave removal, MDEV, k-MDEV and "
            "Helmholtz inversions, wave images, status maps and per-segment statistics.")
        self.parent.acknowledgementText = (
            "Inversions implemented from Papazoglou et al. 2012 (MDEV), Tzschatzsch et al. 2016 (k-MDEV) and "
            "Oliphant et al. 2001 (direct inversion).")


_LabelsOrSegmentation = Optional[Union[slicer.vtkMRMLLabelMapVolumeNode, slicer.vtkMRMLSegmentationNode]]


# Spin boxes: the connector replaces the .ui range by the annotation's, so every float names the .ui range;
# 0 is the special value ("from the series").
@parameterNodeWrapper
class ElastographyModuleParameterNode:
    phaseSeries: Optional[slicer.vtkMRMLSequenceNode]
    mask: _LabelsOrSegmentation
    frequencies: str = ""            # Hz, comma separated; empty: the series' TMEMonitor.MREFrequencies
    offsets: str = ""                # rad, comma separated, or one count; empty: the series' attribute
    directions: str = ""             # "1,0,0; 0,1,0; 0,0,1" (i, j, k); empty: the series' attribute or one
    umPerRad: Annotated[float, WithinRange(0.0, 1000.0)] = 0.0           # 0: the series' attribute
    phaseUnits: Annotated[str, Choice(["rad", "deg", "int12"])] = "rad"
    unwrap: Annotated[str, Choice(["laplacian", "spatiotemporal", "quality", "none"])] = "laplacian"
    compression: Annotated[str, Choice(["auto", "curl", "bandpass", "none"])] = "auto"
    runMdev: bool = True
    runKmdev: bool = True
    runHelmholtz: bool = False
    smoothing: Annotated[float, WithinRange(0.0, 10.0)] = 1.5            # voxels
    laplacian: Annotated[str, Choice(["fd4", "fd2", "savgol", "fft"])] = "fd4"
    derivativeAxes: Annotated[str, Choice(["3d", "2d"])] = "3d"
    density: Annotated[float, WithinRange(500.0, 2000.0)] = 1000.0       # kg/m3
    minWaveSnr: Annotated[float, WithinRange(0.0, 100.0)] = 3.0


def _numbers(text, what):
    try:
        return [float(v) for v in text.replace(";", ",").replace(" ", ",").split(",") if v.strip()]
    except ValueError:
        raise InputError(f"{what} '{text}': expected numbers separated by commas") from None


def settingsFromParameterNode(p):
    """ElastographySettings from the panel's parameter node."""
    inversions = tuple(name for name, on in (("mdev", p.runMdev), ("kmdev", p.runKmdev),
                                             ("helmholtz", p.runHelmholtz)) if on)
    if not inversions:
        raise InputError("choose at least one inversion (MDEV, k-MDEV or Helmholtz)")
    return ElastographySettings(inversions=inversions, unwrap=p.unwrap, phase_units=p.phaseUnits,
                                compression=p.compression, smoothing_sigma_vox=p.smoothing, laplacian=p.laplacian,
                                derivative_axes=p.derivativeAxes, density_kg_m3=p.density,
                                min_wave_snr=p.minWaveSnr).validated()


def acquisitionFromParameterNode(p):
    """Acquisition values typed in the panel (only those given; the series' attributes fill the rest)."""
    values = {}
    if p.frequencies.strip():
        values["frequencies_hz"] = _numbers(p.frequencies, "frequencies")
    if p.offsets.strip():
        values["offsets"] = _numbers(p.offsets, "phase offsets")
    if p.directions.strip():
        values["directions_ijk"] = [_numbers(part, "directions") for part in p.directions.split(";") if part.strip()]
    if p.umPerRad > 0:
        values["um_per_rad"] = p.umPerRad
    return values


class ElastographyModuleWidget(ModuleWidgetBase):
    UI_FILE = "UI/ElastographyModule.ui"

    def createLogic(self):
        return ElastographyModuleLogic()

    def workButtons(self):
        return [self.ui.applyButton]

    def connectWidgets(self):
        self.ui.applyButton.connect("clicked(bool)", self.onApply)
        self.ui.phaseSeriesSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onSeriesChanged)

    def onParameterNodeSet(self):
        self.onSeriesChanged(self._parameterNode.phaseSeries if self._parameterNode else None)

    def onSeriesChanged(self, node=None):
        """Show the acquisition layout the series carries (frequencies, offsets, directions, scaling)."""
        if node is None:
            self.ui.acquisitionLabel.text = ""
            return
        found = []
        for key in ATTRIBUTE_KEYS:
            text = node.GetAttribute("TMEMonitor." + key)
            if text:
                found.append(f"{key[3:]}: {text}")
        self.ui.acquisitionLabel.text = (
            f"{node.GetNumberOfDataNodes()} phase images. " + ("; ".join(found) + " (series attributes)" if found
                                                               else "No acquisition attributes: type the frequency "
                                                                    "and offsets below."))

    def onApply(self):
        p = self._parameterNode
        result = self.runWithProgress("Elastography", lambda progress: self.logic.runOnParameterNode(
            p, settingsFromParameterNode(p), acquisitionFromParameterNode(p), progress))
        if result is None:
            return
        shown = next(iter(result.map_nodes.values()), None)
        tme_scene.show_in_slice_views(slicer.mrmlScene, foreground_node=shown)
        analysis = result.analysis
        self.ui.statusLabel.text = "<br>".join(["Done.", *analysis.notes, *(f"warning: {w}" for w in analysis.warnings)])


class ElastographyModuleLogic(ElastographyLogic, ScriptedLoadableModuleLogic):
    """The module's one logic, for the panel and the Python console alike.

    ``ElastographyModuleLogic().run(phaseSequenceNode, ElastographySettings(...), mask_node=...)`` and every
    other :class:`ElastographyModuleLib.logic.ElastographyLogic` method, on ``slicer.mrmlScene`` unless a
    scene is given.
    """

    def __init__(self, scene=None):
        ScriptedLoadableModuleLogic.__init__(self)
        ElastographyLogic.__init__(self, scene if scene is not None else slicer.mrmlScene)

    def getParameterNode(self):
        return ElastographyModuleParameterNode(ScriptedLoadableModuleLogic.getParameterNode(self))

    def runOnParameterNode(self, parameterNode, settings, acquisitionValues=None, progress=None):
        """One analysis of the panel: the previous run's outputs of this series are replaced, not piled up."""
        series = parameterNode.phaseSeries
        if series is None:
            raise InputError("choose an MRE phase series")
        return run_replacing_outputs(self.scene, parameterNode.parameterNode, f"MRE.{series.GetID()}",
                                     lambda: self.run(series, settings, mask_node=parameterNode.mask,
                                                      name_prefix=f"{series.GetName()} MRE", progress=progress,
                                                      **(acquisitionValues or {})))


class ElastographyModuleTest(ScriptedLoadableModuleTest):
    """Self-test on the project's phantom: its synthetic MRE (no download)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_synthetic_mre()

    def test_synthetic_mre(self):
        import numpy as np
        from TMEMonitorApp.demo import build_demo_scene
        build = build_demo_scene(slicer.mrmlScene, size="tiny", seed=2, n_visits=1, only=["mre"])
        visit = build.visits[0]
        mask = visit.visit.labels > 0
        mask_node = tme_scene.add_label_map(slicer.mrmlScene, mask, visit.visit.ijk_to_ras, "body mask")
        phase = visit.nodes["mre_phase"]
        self.assertEqual(json.loads(phase.GetAttribute("TMEMonitor.MREPhaseOffsets"))[0], 0.0)
        result = ElastographyModuleLogic().run(phase, ElastographySettings(derivative_axes="2d"), mask_node=mask_node)
        node = result.map_nodes[("mdev", "abs_G")]
        self.assertEqual(node.GetAttribute("TMEMonitor.Unit"), "kPa")
        tumour = visit.visit.tumour_mask
        measured = np.nanmean(tme_scene.volume_to_array(node)[tumour])
        truth = visit.visit.truth_summary["abs_G_kPa_mean"]
        self.assertLess(abs(measured / truth - 1), 0.35)
        self.assertIsNotNone(result.table_node)
        self.delayDisplay("Test passed")
