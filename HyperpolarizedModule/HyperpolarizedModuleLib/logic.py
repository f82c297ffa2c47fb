"""HyperpolarizedLogic: the hyperpolarized 13C analysis between MRML nodes (widget, console, CLI, dashboard).

Resolves one dynamic sequence node per metabolite (same 13C grid and frames, refused otherwise before
anything is written), the TR (settings, else the sequence's frame times) and the flip schedules
(settings, else the nodes' TMEMonitor.flip_angle_deg attribute) with their sources; runs
:func:`pipeline.analyse_hyperpolarized`; writes the kPL, AUC ratio, R2, SNR, ... maps and the status
map on the 13C grid's own geometry (coarse; shown as overlays, never resampled), a statistics table
per segment (segments drawn on the anatomy are taken to the 13C grid by coverage >= 0.5,
segment_grid.py), and dynamic-curve plots with the fit. Nodes added before an error are removed.
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.statistics import statistics_table

from . import segment_grid
from .pipeline import analyse_hyperpolarized, map_display
from .settings import METABOLITES, HyperpolarizedSettings

FLIP_ATTRIBUTE = "flip_angle_deg"            # TMEMonitor.flip_angle_deg on a metabolite node (degrees)
# TMEMonitor.amplitude_sd on amplitude series fitted from spectra: their noise SD (signal units)
AMPLITUDE_SD_ATTRIBUTE = "amplitude_sd"
STATISTICS_MAPS = ("kPL", "AUC_ratio", "kPB", "kPA", "r2", "SNR", "lactate_TTP", "lactate_mean_time")


@dataclass
class HyperpolarizedResult:
    analysis: object
    map_nodes: dict = field(default_factory=dict)
    status_node: object = None
    table_node: object = None
    folder_item: int = None
    ijk_to_ras: np.ndarray = None
    segment_masks: dict = field(default_factory=dict)     # segment -> bool mask on the 13C grid


class HyperpolarizedLogic:
    def __init__(self, scene):
        self.scene = scene

    def resolve_inputs(self, nodes, settings):
        """({metabolite: (T, k, j, i)}, frame times s or None, flips {metabolite: deg}, ijk_to_ras, provenance)."""
        if nodes.get("pyruvate") is None or nodes.get("lactate") is None:
            raise InputError("pyruvate and lactate sequence nodes are both needed")
        arrays, flips, provenance = {}, {}, {}
        reference = None
        times = None
        for metabolite in METABOLITES:
            node = nodes.get(metabolite)
            if node is None:
                continue
            try:
                series = tme_scene.series_from_node(node, expected_axis="time")
            except MetadataError:
                if settings.tr_s is None:
                    raise MetadataError(f"{metabolite} '{node.GetName()}' has no frame times: give the TR "
                                        "(s between frames)") from None
                series = tme_scene.series_from_node(node)
            if reference is None:
                reference = (series.array.shape, series.ijk_to_ras, node.GetName())
                if series.axis_name == "time":
                    times = np.asarray(series.axis_values, dtype=float)
                    provenance["TR"] = f"frame times of '{node.GetName()}' " \
                                       f"({series.provenance.get('axis_values', 'sequence index')})"
            else:
                if series.array.shape[0] != reference[0][0]:
                    raise InputError(f"{metabolite} '{node.GetName()}': {series.array.shape[0]} frames, "
                                     f"'{reference[2]}' has {reference[0][0]}")
                if not tme_scene.same_geometry(series.array.shape[1:], series.ijk_to_ras, reference[0][1:],
                                               reference[1]):
                    raise InputError(f"{metabolite} '{node.GetName()}' is on another grid ({series.array.shape[1:]}) "
                                     f"than '{reference[2]}' ({reference[0][1:]}); metabolite images must share one grid")
            arrays[metabolite] = series.array
            if metabolite == "pyruvate" and isinstance(series.metadata.get(AMPLITUDE_SD_ATTRIBUTE), float):
                provenance["amplitude_sd"] = series.metadata[AMPLITUDE_SD_ATTRIBUTE]
            flip = series.metadata.get(FLIP_ATTRIBUTE)
            if isinstance(flip, float):
                flips[metabolite] = flip
                provenance[f"flip_{metabolite}"] = f"TMEMonitor.{FLIP_ATTRIBUTE} attribute of '{node.GetName()}' (deg)"
        return arrays, times, flips, reference[1], provenance

    def add_spectra_series(self, path, tr_s=None, centre_ppm=None, metabolites=("pyruvate", "lactate"), names=None,
                           flip_unit="deg", progress=None):
        """Dynamic 13C spectra (NIfTI-MRS with DIM_DYN, or .mat; spectra_inputs.py) -> one amplitude sequence
        node per metabolite (indexed by time, s), fitted with the Spectroscopy module's peak fit, ready for
        :meth:`run`. The TR comes from ``tr_s`` or the file; a constant flip of the file is recorded on the
        nodes (TMEMonitor.flip_angle_deg), the amplitudes' noise SD too (used as the noise sigma by run).
        Returns ({metabolite: node}, HyperpolarizedInputs). InputError before any node is added."""
        from TMEMonitorLib.scene.inputs import RemoveAddedNodesOnError

        from .spectra_inputs import read_spectra
        inputs = read_spectra(path, centre_ppm=centre_ppm, metabolites=metabolites, names=names, flip_unit=flip_unit,
                              progress=progress)
        tr, source = (tr_s, "given TR (s)") if tr_s is not None else (inputs.tr_s, inputs.provenance.get("TR"))
        if tr is None or not (np.isfinite(tr) and tr > 0):
            raise InputError(f"spectra {path}: the time between frames is not in the file; give the TR (s)")
        n_frames = inputs.series["pyruvate"].shape[0]
        times = np.arange(n_frames) * float(tr)
        poor = int(np.sum(inputs.extras["spectral_quality"] == 2))
        nodes = {}
        with RemoveAddedNodesOnError(self.scene):
            for metabolite, array in inputs.series.items():
                node = tme_scene.array_to_sequence(self.scene, array, times, inputs.ijk_to_ras, f"{metabolite} (spectra)",
                                                   axis_source=source)
                record = {AMPLITUDE_SD_ATTRIBUTE: inputs.extras["amplitude_sd"],
                          "spectra": inputs.provenance.get(metabolite, path),
                          "spectral_fit_poor_frames": poor}
                flips = inputs.flips_deg.get(metabolite)
                if flips is not None and np.ndim(flips) == 0:
                    record[FLIP_ATTRIBUTE] = float(flips)
                tme_scene.set_acquisition_attributes(node, record)
                nodes[metabolite] = node
        return nodes, inputs

    def analysis_mask(self, mask_node, shape, ijk_to_ras):
        """The analysis mask on the 13C grid: a node on that grid as it is, else by coverage >= 0.5."""
        if mask_node is None:
            return None
        masks = self._masks_on_grid(mask_node, shape, ijk_to_ras)
        combined = np.zeros(shape, bool)
        for mask in masks.values():
            combined |= mask
        return combined

    def run(self, nodes, settings=None, mask_node=None, statistics_segmentation=None, name_prefix="HP13C",
            parent_item=None, progress=None):
        """Analyse ``nodes`` ({"pyruvate": node, "lactate": node, "bicarbonate"/"alanine": optional}) and write
        the outputs; returns a :class:`HyperpolarizedResult`."""
        settings = (settings or HyperpolarizedSettings()).validated()
        arrays, times, flips, ijk_to_ras, provenance = self.resolve_inputs(nodes, settings)
        shape = arrays["pyruvate"].shape[1:]
        mask = self.analysis_mask(mask_node, shape, ijk_to_ras)
        segments, missed = None, []
        if statistics_segmentation is not None:
            segments, missed = self._statistics_masks(statistics_segmentation, shape, ijk_to_ras)
        noise_estimate = None
        if "amplitude_sd" in provenance:          # amplitudes fitted from spectra: their standard error
            noise_estimate = (provenance.pop("amplitude_sd"), f"median standard error of the spectral amplitudes of "
                                                              f"'{nodes['pyruvate'].GetName()}'")
        analysis = analyse_hyperpolarized(arrays, settings, frame_times_s=times, flips=flips, mask=mask,
                                          progress=progress, provenance=provenance, noise_estimate=noise_estimate)
        analysis.notes.extend(f"segment '{name}' covers no 13C voxel by half or more: no statistics for it"
                              for name in missed)
        return self.write_outputs(analysis, ijk_to_ras, name_prefix, parent_item, segments)

    def _statistics_masks(self, node, shape, ijk_to_ras):
        """({segment: mask on the 13C grid}, [segments that cover no 13C voxel by half]) for the statistics.

        A lesion smaller than a 13C voxel is no reason to refuse the maps: it is named in the notes (the
        statistics then hold the segments that do cover voxels, or the analysed voxels when none does)."""
        if not node.IsA("vtkMRMLSegmentationNode"):
            return self._masks_on_grid(node, shape, ijk_to_ras), []
        masks, missed = {}, []
        for name, (mask, mask_ijk) in _segments_native(self.scene, node).items():
            covered = segment_grid.coverage(mask, mask_ijk, shape, ijk_to_ras) >= segment_grid.MIN_COVERAGE
            if covered.any():
                masks[name] = covered
            else:
                missed.append(name)
        return (masks or None), missed

    def _masks_on_grid(self, node, shape, ijk_to_ras):
        """{name: bool mask on the 13C grid} from a label map / scalar volume or a segmentation (every segment)."""
        if node.IsA("vtkMRMLSegmentationNode"):
            out = {}
            for name, (mask, mask_ijk) in _segments_native(self.scene, node).items():
                out[name] = segment_grid.on_grid(mask, mask_ijk, shape, ijk_to_ras, f"segment '{name}'")
            return out
        array, mask_ijk = tme_scene.volume_from_node(node, what="mask")
        if tme_scene.same_geometry(array.shape, mask_ijk, shape, ijk_to_ras):
            if not np.any(array > 0):
                raise InputError(f"mask '{node.GetName()}' is empty")
            return {node.GetName(): array > 0}
        return {node.GetName(): segment_grid.on_grid(array > 0, mask_ijk, shape, ijk_to_ras, f"mask '{node.GetName()}'")}

    def write_outputs(self, analysis, ijk_to_ras, prefix, parent_item=None, segments=None):
        from TMEMonitorLib.scene.inputs import RemoveAddedNodesOnError
        with RemoveAddedNodesOnError(self.scene):
            return self._write_outputs(analysis, ijk_to_ras, prefix, parent_item, segments)

    def _write_outputs(self, analysis, ijk_to_ras, prefix, parent_item, segments):
        scene = self.scene
        result = HyperpolarizedResult(analysis=analysis, ijk_to_ras=ijk_to_ras)
        recorded = {k: v for k, v in analysis.provenance.items()}
        recorded.update({"model": analysis.settings.model, "noise_sigma": analysis.noise_sigma,
                         "noise_sigma_source": analysis.noise_source, "grid": "13C acquisition grid (not resampled)",
                         "R1P_per_s": analysis.settings.r1_pyruvate_per_s,
                         "R1L_per_s": analysis.settings.r1_lactate_per_s,
                         "frame_times_s": " ".join(f"{t:g}" for t in analysis.times_s)})
        description = "; ".join(analysis.notes)
        for name, values in analysis.maps.items():
            quantity, unit, colormap = map_display(name)
            node = tme_scene.add_parameter_map(scene, values, ijk_to_ras, f"{prefix} {quantity}", quantity, unit,
                                               colormap, mask=analysis.mask & (analysis.status == 0),
                                               description=description)
            tme_scene.set_acquisition_attributes(node, recorded)
            result.map_nodes[name] = node
        result.status_node = tme_scene.add_status_map(scene, analysis.status, ijk_to_ras, f"{prefix} kPL fit status")
        tme_scene.set_acquisition_attributes(result.status_node, recorded)
        masks = segments or {"analysed voxels": analysis.mask}
        result.segment_masks = masks
        maps = {n: _snap_constant(analysis.maps[n]) for n in STATISTICS_MAPS if n in analysis.maps}
        columns, units = statistics_table(maps, masks, ijk_to_ras, {n: map_display(n)[1] for n in maps},
                                          status=analysis.status)
        result.table_node = tme_scene.add_table(scene, f"{prefix} statistics", columns, units)
        tme_scene.set_acquisition_attributes(result.table_node, {**recorded, "segments_on_13C_grid":
                                                                 "coverage >= 0.5 of each 13C voxel"})
        if parent_item is not None:
            result.folder_item = hierarchy.add_folder(scene, parent_item, "Hyperpolarized 13C")
            for node in [*result.map_nodes.values(), result.status_node, result.table_node]:
                hierarchy.place(scene, node, result.folder_item)
        return result

    def dynamic_plot(self, result, voxel=None, segment=None, mask=None, name="HP 13C dynamics"):
        """Chart of the measured pyruvate, lactate (and other products) vs time with the fitted curves, for a
        voxel (k, j, i) of the 13C grid, a segment of the result's statistics, or ``mask`` (mean)."""
        analysis = getattr(result, "analysis", result)
        if voxel is not None:
            region = np.zeros(analysis.mask.shape, bool)
            try:
                region[tuple(int(v) for v in voxel)] = True
            except IndexError:
                raise InputError(f"plot: voxel {tuple(voxel)} is outside the 13C grid {analysis.mask.shape}") from None
        elif segment is not None:
            masks = getattr(result, "segment_masks", {}) or {}
            if segment not in masks:
                raise InputError(f"plot: no segment '{segment}' in the result ({', '.join(masks) or 'none'})")
            region = masks[segment] & analysis.mask
        else:
            region = analysis.mask if mask is None else np.asarray(mask, bool) & analysis.mask
        region = region & (analysis.status == 0)
        if not region.any():
            raise InputError("plot: the region holds no successfully fitted voxel")
        series = {}
        for metabolite, curve in analysis.curves.items():
            series[f"{metabolite} measured"] = curve[:, region].mean(axis=1)
        for metabolite, curve in analysis.fitted.items():
            series[f"{metabolite} fit"] = np.nanmean(curve[:, region], axis=1)
        styles = {key: "markers" for key in series if key.endswith("measured")}
        return tme_scene.add_plot(self.scene, name, analysis.times_s, series, "time", "signal", "s", "a.u.",
                                  styles=styles)


def _segments_native(scene, segmentation_node):
    """{segment name: (mask, ijk_to_ras)} exported on the segmentation's own geometry (temporary nodes removed)."""
    import vtk
    segmentation = segmentation_node.GetSegmentation()
    if segmentation.GetNumberOfSegments() == 0:
        raise InputError(f"segmentation '{segmentation_node.GetName()}' has no segments")
    logic = tme_scene.module_logic(scene, "Segmentations")
    out = {}
    for index in range(segmentation.GetNumberOfSegments()):
        segment_id = segmentation.GetNthSegmentID(index)
        ids = vtk.vtkStringArray()
        ids.InsertNextValue(segment_id)
        before = {scene.GetNthNode(i).GetID() for i in range(scene.GetNumberOfNodes())}
        labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "__tme_tmp_segment")
        try:
            logic.ExportSegmentsToLabelmapNode(segmentation_node, ids, labelmap)
            mask = tme_scene.volume_to_array(labelmap) > 0
            _, ijk = tme_scene.volume_geometry(labelmap)
        finally:
            for node in [scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes())]:
                if node is not None and node.GetID() not in before:
                    scene.RemoveNode(node)
        out[segmentation.GetSegment(segment_id).GetName()] = (mask, ijk)
    return out


def _snap_constant(values):
    """A map whose finite values differ only by rounding as one value (the statistics' histogram needs a range)."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size > 1:
        low, high = finite.min(), finite.max()
        if 0 < high - low <= 1e-9 * max(abs(low), abs(high)):
            return np.where(np.isfinite(values), float(np.median(finite)), values)
    return values
