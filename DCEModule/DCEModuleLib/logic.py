"""DCELogic: the DCE analysis between MRML nodes (used by the widget, the console and the CLI).

Resolves the input nodes into arrays (refusing bad input before anything is written), runs
:func:`pipeline.analyse_dce`, then writes display-ready map nodes with units, the status
map, per-segment statistics, the AIF plot and, on request, concentration and fitted-curve
sequences, under the visit's subject-hierarchy folder.
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene import attribute_names, hierarchy
from TMEMonitorLib.statistics import statistics_table

from .pipeline import MODEL_CODES, PARAMETER_DISPLAY, analyse_dce, preview_aif
from .settings import DCESettings

CURVE_TYPE_LABELS = {
    1: ("persistent (type 1)", (0.20, 0.60, 0.95)),
    2: ("plateau (type 2)", (0.95, 0.80, 0.15)),
    3: ("washout (type 3)", (0.90, 0.15, 0.15)),
}


@dataclass
class DCEResult:
    analysis: object                       # pipeline.DCEAnalysis (arrays)
    map_nodes: dict = field(default_factory=dict)
    status_node: object = None
    curve_type_node: object = None
    table_node: object = None
    aif_chart_node: object = None
    concentration_node: object = None
    fitted_node: object = None
    aif_voxels_node: object = None
    folder_item: int = None


class DCELogic:
    def __init__(self, scene):
        self.scene = scene

    def resolve_inputs(self, dce_node, vfa_node=None, t1_map_node=None, mask_node=None, aif_mask_node=None,
                       b1_map_node=None, t10_labels_node=None):
        """Arrays and acquisition metadata from the nodes; raises InputError on any mismatch.

        ``dce_node`` holds signal, or concentration in mM (``DCESettings.input_kind``).
        ``b1_map_node``: scalar volume of the relative flip-angle scale on the VFA/DCE grid.
        ``t10_labels_node``: label map or segmentation naming the tissues of
        ``DCESettings.t10_per_tissue`` (segment names, colour names or label values).
        """
        series = tme_scene.series_from_node(dce_node, expected_axis="time")
        shape = series.array.shape[1:]
        inputs = {"signal_4d": series.array, "t_s": series.axis_values, "metadata": series.metadata,
                  "provenance": {**series.provenance, **_metadata_sources(series.metadata)},
                  "ijk_to_ras": series.ijk_to_ras}
        if vfa_node is not None:
            vfa = tme_scene.series_from_node(vfa_node)
            if vfa.array.shape[1:] != shape or not np.allclose(vfa.ijk_to_ras, series.ijk_to_ras, atol=1e-3):
                raise InputError(f"VFA series '{vfa_node.GetName()}' is on another grid than the DCE series "
                                 f"'{dce_node.GetName()}'")
            if vfa.axis_name not in ("flip_angle", "FlipAngle", "flip angle"):
                raise InputError(f"VFA series '{vfa_node.GetName()}' is indexed by '{vfa.axis_name}', not by flip angle")
            unit = vfa_node.GetIndexUnit() if vfa_node.IsA("vtkMRMLSequenceNode") else "deg"
            if unit not in ("deg", "degree", "degrees", "°", ""):
                raise InputError(f"VFA series '{vfa_node.GetName()}': flip angles in '{unit}', expected deg")
            # The VFA acquisition's own TR when recorded on its node (else the DCE TR is used).
            vfa_tr = vfa.metadata.get("TR_s")
            inputs["vfa"] = (vfa.array, vfa.axis_values, vfa_tr if isinstance(vfa_tr, float) else None)
        if b1_map_node is not None:
            inputs["b1_map"] = self._b1_map(b1_map_node, f"VFA series '{vfa_node.GetName()}'" if vfa_node is not None
                                           else f"DCE series '{dce_node.GetName()}'", shape, series.ijk_to_ras)
        if t10_labels_node is not None:
            inputs["t10_labels"] = self._tissue_labels(t10_labels_node, shape, series.ijk_to_ras)
        if t1_map_node is not None:
            inputs["t10_map"] = tme_scene.volume_from_node(t1_map_node, shape, series.ijk_to_ras, "T1 map")[0]
        inputs["mask"] = tme_scene.mask_from_node(self.scene, mask_node, shape, series.ijk_to_ras, what="mask")
        inputs["aif_mask"] = tme_scene.mask_from_node(self.scene, aif_mask_node, shape, series.ijk_to_ras,
                                                      what="AIF ROI")
        return inputs

    def _b1_map(self, node, reference, shape, ijk_to_ras):
        from TMEMonitorLib.scene.geometry import same_geometry
        from TMEMonitorLib.scene.volumes import volume_geometry
        if not node.IsA("vtkMRMLScalarVolumeNode"):
            raise InputError(f"B1 map '{node.GetName()}': expected a scalar volume node")
        b1_shape, b1_ijk = volume_geometry(node)
        if not same_geometry(b1_shape, b1_ijk, shape, ijk_to_ras):
            raise InputError(f"B1 map '{node.GetName()}' is on another grid ({tuple(b1_shape)}) than the "
                             f"{reference} ({tuple(shape)}); resample it first")
        return tme_scene.volume_to_array(node).astype(float)

    def _tissue_labels(self, node, shape, ijk_to_ras):
        """(integer labels, {tissue name: label value}) from a segmentation or a label map."""
        if node.IsA("vtkMRMLSegmentationNode"):
            from TMEMonitorLib.scene.inputs import segment_masks
            labels = np.zeros(shape, np.int64)
            names = {}
            for value, (name, mask) in enumerate(segment_masks(self.scene, node, shape, ijk_to_ras).items(), start=1):
                labels[mask] = value
                names[name] = value
            return labels, names
        array, _ = tme_scene.volume_from_node(node, shape, ijk_to_ras, "T10 tissue labels")
        labels = np.where(np.isfinite(array), np.rint(array), 0).astype(np.int64)
        names = {}
        display = node.GetDisplayNode() if hasattr(node, "GetDisplayNode") else None
        colors = display.GetColorNode() if display is not None else None
        if colors is not None:
            for value in np.unique(labels):
                name = colors.GetColorName(int(value)) if value > 0 else None
                if name and name not in ("(none)", "invalid"):
                    names[name] = int(value)
        return labels, names

    def run(self, dce_node, settings=None, vfa_node=None, t1_map_node=None, mask_node=None, aif_mask_node=None,
            aif_table=None, parent_item=None, name_prefix=None, statistics_segmentation=None, progress=None,
            b1_map_node=None, t10_labels_node=None):
        """Analyse ``dce_node`` and write the outputs; returns a :class:`DCEResult`."""
        settings = (settings or DCESettings()).validated()
        inputs = self.resolve_inputs(dce_node, vfa_node, t1_map_node, mask_node, aif_mask_node, b1_map_node,
                                     t10_labels_node)
        ijk_to_ras = inputs.pop("ijk_to_ras")
        statistics_masks = self._statistics_masks(statistics_segmentation, mask_node, inputs, ijk_to_ras)
        analysis = analyse_dce(settings=settings, aif_table=aif_table, progress=progress, **inputs)
        return self.write_outputs(analysis, ijk_to_ras, name_prefix or dce_node.GetName(), parent_item,
                                  statistics_masks)

    def preview_aif(self, dce_node, settings=None, vfa_node=None, t1_map_node=None, mask_node=None,
                    aif_mask_node=None, aif_table=None, b1_map_node=None, t10_labels_node=None, name=None,
                    replace=None, progress=None):
        """Resolve the AIF the run would use and plot it (time s, mM) without fitting the model.

        Returns the chart node (its table holds "time", "plasma AIF" and "blood AIF"; the
        attribute ``TMEMonitor.AIFSource`` says where it came from). ``replace``: an earlier
        preview chart, removed with its table and series once the new one is written. Bad
        input raises before any node is created.
        """
        from TMEMonitorLib.scene.inputs import RemoveAddedNodesOnError
        settings = (settings or DCESettings()).validated()
        inputs = self.resolve_inputs(dce_node, vfa_node, t1_map_node, mask_node, aif_mask_node, b1_map_node,
                                     t10_labels_node)
        inputs.pop("ijk_to_ras")
        preview = preview_aif(settings=settings, aif_table=aif_table, progress=progress, **inputs)
        aif = preview.aif
        with RemoveAddedNodesOnError(self.scene):
            chart = tme_scene.add_plot(self.scene, name or f"{dce_node.GetName()} AIF preview", aif["t_s"],
                                       {"plasma AIF": aif["cp_mM"], "blood AIF": aif["cb_mM"]},
                                       "time", "concentration", "s", "mM")
            chart.SetAttribute("TMEMonitor.AIFSource", aif["source"])
            chart.SetAttribute(attribute_names.INPUT_KIND, settings.input_kind)
        if replace is not None and replace is not chart:
            remove_chart(self.scene, replace)
        return chart

    def _statistics_masks(self, segmentation, mask_node, inputs, ijk_to_ras):
        """Segment name -> mask for the statistics table (the analysis mask when none given)."""
        shape = inputs["signal_4d"].shape[1:]
        if segmentation is None:
            mask = inputs["mask"]
            masks = {(mask_node.GetName() if mask_node is not None else "all voxels"):
                     (mask if mask is not None else np.ones(shape, bool))}
            if mask_node is not None and mask_node.IsA("vtkMRMLSegmentationNode") \
                    and mask_node.GetSegmentation().GetNumberOfSegments() > 1:
                # A segmentation mask (e.g. tumour habitats): its union, then one row set per segment.
                masks.update(self._statistics_masks(mask_node, None, inputs, ijk_to_ras))
            return masks
        ijk = ijk_to_ras
        from TMEMonitorLib.scene.inputs import segment_masks
        return segment_masks(self.scene, segmentation, shape, ijk)

    def write_outputs(self, analysis, ijk_to_ras, prefix, parent_item=None, statistics_masks=None):
        """Output nodes for ``analysis``; if writing fails part-way, the nodes added so far are removed."""
        from TMEMonitorLib.scene.inputs import RemoveAddedNodesOnError
        with RemoveAddedNodesOnError(self.scene):
            return self._write_outputs(analysis, ijk_to_ras, prefix, parent_item, statistics_masks)

    def _write_outputs(self, analysis, ijk_to_ras, prefix, parent_item, statistics_masks):
        scene = self.scene
        result = DCEResult(analysis=analysis)
        description = _description(analysis)
        for name, values in analysis.maps.items():
            quantity, unit, colormap = PARAMETER_DISPLAY.get(name, _standard_error_display(name))
            node = tme_scene.add_parameter_map(scene, values, ijk_to_ras, f"{prefix} {quantity}", quantity, unit,
                                               colormap, mask=analysis.mask, description=description)
            result.map_nodes[name] = node
        result.status_node = tme_scene.add_status_map(scene, analysis.status, ijk_to_ras, f"{prefix} fit status")
        if analysis.settings.semi_quantitative:
            colors = tme_scene.label_color_node(scene, "enhancement curve type", CURVE_TYPE_LABELS)
            result.curve_type_node = tme_scene.add_label_map(scene, analysis.curve_type, ijk_to_ras,
                                                             f"{prefix} curve type", colors)
        if "model" in result.map_nodes:
            result.map_nodes["model"].SetAttribute(
                "TMEMonitor.ModelCodes", "; ".join(f"{code} {name}" for name, code in MODEL_CODES.items()))
        masks = statistics_masks or {"all voxels": analysis.mask}
        # Region statistics of every quantitative map (not of the model-choice codes).
        quantitative = {k: v for k, v in analysis.maps.items() if k != "model"}
        columns, units = statistics_table(quantitative, masks, ijk_to_ras,
                                          {k: PARAMETER_DISPLAY.get(k, _standard_error_display(k))[1]
                                           for k in analysis.maps}, status=analysis.status)
        result.table_node = tme_scene.add_table(scene, f"{prefix} statistics", columns, units=units)
        aif = analysis.aif
        result.aif_chart_node = tme_scene.add_plot(scene, f"{prefix} AIF", aif["t_s"],
                                                   {"plasma AIF": aif["cp_mM"], "blood AIF": aif["cb_mM"]},
                                                   "time", "concentration", "s", "mM")
        result.aif_chart_node.SetAttribute("TMEMonitor.AIFSource", aif["source"])
        if aif.get("voxels") is not None:
            voxels = np.zeros(analysis.mask.shape, np.uint8)
            voxels[aif["voxels"]] = 1
            result.aif_voxels_node = tme_scene.add_label_map(
                scene, voxels, ijk_to_ras, f"{prefix} AIF voxels",
                tme_scene.label_color_node(scene, "AIF voxels", {1: ("arterial input", (0.9, 0.1, 0.1))}))
        if analysis.concentration is not None:
            result.concentration_node = tme_scene.array_to_sequence(
                scene, analysis.concentration, analysis.t_s, ijk_to_ras, f"{prefix} concentration",
                axis_source="frame times of the DCE series")
        if analysis.fitted is not None:
            result.fitted_node = tme_scene.array_to_sequence(
                scene, analysis.fitted, analysis.t_s, ijk_to_ras, f"{prefix} fitted {analysis.settings.model}",
                axis_source="frame times of the DCE series")
        if parent_item is not None:
            model = "model selection" if analysis.settings.select_model else analysis.settings.model
            result.folder_item = hierarchy.add_folder(scene, parent_item, f"DCE ({model})")
            aif_data = result.aif_chart_node.GetNthPlotSeriesNode(0).GetTableNode()
            for node in [*result.map_nodes.values(), result.status_node, result.curve_type_node, result.table_node,
                         result.aif_chart_node, aif_data, result.aif_voxels_node, result.concentration_node,
                         result.fitted_node]:
                if node is not None:
                    hierarchy.place(scene, node, result.folder_item)
        recorded = {}
        for key, (value, source) in analysis.acquisition.items():
            recorded[key] = value
            recorded[f"{key}_source"] = source
        recorded["model"] = "select (AICc)" if analysis.settings.select_model else analysis.settings.model
        recorded["AIF_source"] = aif["source"]
        recorded["input_kind"] = analysis.settings.input_kind
        for node in [*result.map_nodes.values(), result.status_node]:
            tme_scene.set_acquisition_attributes(node, recorded)
        return result

    def curve_plot(self, result, voxel=None, mask=None, name="DCE curve"):
        """Plot of measured and fitted concentration for a voxel (k, j, i) or the mean over a mask."""
        analysis = result.analysis
        if analysis.concentration is None or analysis.fitted is None:
            raise InputError("curve plot needs the concentration and fitted curves (settings write_concentration "
                             "and write_fitted_curves)")
        if voxel is not None:
            measured = analysis.concentration[(slice(None),) + tuple(voxel)]
            fitted = analysis.fitted[(slice(None),) + tuple(voxel)]
        else:
            region = analysis.mask if mask is None else (np.asarray(mask, bool) & analysis.mask)
            measured = np.nanmean(analysis.concentration[:, region], axis=1)
            fitted = np.nanmean(analysis.fitted[:, region], axis=1)
        return tme_scene.add_plot(self.scene, name, analysis.t_s, {"measured": measured, "fitted": fitted},
                                  "time", "concentration", "s", "mM", styles={"measured": "markers"})


def remove_chart(scene, chart):
    """Remove a chart with its plot series and their table nodes."""
    if chart is None or chart.GetScene() is None:
        return
    series = [chart.GetNthPlotSeriesNode(i) for i in range(chart.GetNumberOfPlotSeriesNodes())]
    tables = [s.GetTableNode() for s in series if s is not None and s.GetTableNode() is not None]
    for node in [chart, *series, *tables]:
        if node is not None and node.GetScene() is not None:
            scene.RemoveNode(node)


def _standard_error_display(name):
    if name.startswith("se_"):
        base = PARAMETER_DISPLAY.get(name[3:], (name[3:], "", "magma"))
        return (f"standard error of {base[0]}", base[1], "magma")
    return (name, "", "viridis")


def _metadata_sources(metadata):
    return {key[:-len("_source")]: value for key, value in metadata.items() if key.endswith("_source")}


def _description(analysis):
    lines = [f"input: {analysis.settings.input_kind}", f"model: {analysis.settings.model}",
             f"AIF: {analysis.aif['source']}"]
    for key, (value, source) in analysis.acquisition.items():
        lines.append(f"{key}: {'' if value is None else f'{value:g} '}({source})")
    return "; ".join(lines)
