"""DiffusionLogic: the diffusion analysis between MRML nodes (used by the widget, the console, the CLI
and the longitudinal dashboard).

Resolves the DWI node into an array with its b-values and their source (refusing bad input
before anything is written), runs :func:`pipeline.analyse_dwi`, then writes display-ready map
nodes with units, one fit-status label map per model, computed high-b images, per-segment
statistics with histogram metrics, and records the b-values and their source on every output.
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import plausibility
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.statistics import statistics_table

from . import models
from .inputs_dwi import dwi_series
from .pipeline import MODEL_LABELS, analyse_dwi, map_display
from .settings import DiffusionSettings

NOISE_ATTRIBUTE = "noise_sigma"          # TMEMonitor.noise_sigma on the DWI node (signal units)


@dataclass
class DiffusionResult:
    analysis: object                        # pipeline.DiffusionAnalysis (arrays)
    map_nodes: dict = field(default_factory=dict)            # "ADC", "D", "f", "Dstar", "K", "S0", "rmse_ADC", ...
    status_nodes: dict = field(default_factory=dict)         # model -> fit-status label map
    computed_high_b_nodes: dict = field(default_factory=dict)   # b (s/mm2) -> computed DWI volume
    table_node: object = None
    folder_item: int = None
    b_values_source: str = ""

    @property
    def high_b_nodes(self):
        """Alias of ``computed_high_b_nodes``."""
        return self.computed_high_b_nodes


class DiffusionLogic:
    def __init__(self, scene):
        self.scene = scene

    def resolve_inputs(self, dwi_node, mask_node=None, b_values=None):
        """(NodeSeries with b-values, analysis mask or None); InputError on any mismatch."""
        series = dwi_series(dwi_node, b_values)
        shape = series.array.shape[1:]
        mask = tme_scene.mask_from_node(self.scene, mask_node, shape, series.ijk_to_ras, what="mask")
        return series, mask

    def run(self, dwi_node, settings=None, mask_node=None, parent_item=None, name_prefix=None,
            statistics_segmentation=None, b_values=None, progress=None):
        """Analyse ``dwi_node`` and write the outputs; returns a :class:`DiffusionResult`.

        ``b_values`` (s/mm2, one per frame) replace or supply the node's own; ``mask_node`` limits
        the fit; ``statistics_segmentation`` gives the table one row set per segment.
        """
        settings = (settings or DiffusionSettings()).validated()
        series, mask = self.resolve_inputs(dwi_node, mask_node, b_values)
        shape = series.array.shape[1:]
        statistics_masks = self._statistics_masks(statistics_segmentation, mask_node, mask, shape, series.ijk_to_ras)
        sigma = series.metadata.get(NOISE_ATTRIBUTE)
        analysis = analyse_dwi(series.array, series.axis_values, settings, mask=mask,
                               noise_sigma=sigma if isinstance(sigma, float) else None,
                               noise_sigma_source=f"TMEMonitor.{NOISE_ATTRIBUTE} attribute of '{dwi_node.GetName()}'",
                               progress=progress)
        analysis.warnings[:0] = series.warnings
        return self.write_outputs(analysis, series, name_prefix or dwi_node.GetName(), parent_item, statistics_masks)

    def _statistics_masks(self, segmentation, mask_node, mask, shape, ijk_to_ras):
        """Segment name -> mask for the statistics table (the analysis mask when none is given)."""
        if segmentation is None:
            masks = {(mask_node.GetName() if mask_node is not None else "all voxels"):
                     (mask if mask is not None else np.ones(shape, bool))}
            if mask_node is not None and mask_node.IsA("vtkMRMLSegmentationNode") \
                    and mask_node.GetSegmentation().GetNumberOfSegments() > 1:
                masks.update(self._statistics_masks(mask_node, None, None, shape, ijk_to_ras))
            # A label map of several labels (tissue labels, habitats): one row set per label too.
            from TMEMonitorLib.scene.inputs import label_map_masks
            masks.update(label_map_masks(mask_node, shape, ijk_to_ras))
            return masks
        from TMEMonitorLib.scene.inputs import segment_masks
        return segment_masks(self.scene, segmentation, shape, ijk_to_ras)

    def write_outputs(self, analysis, series, prefix, parent_item=None, statistics_masks=None):
        """Output nodes for ``analysis``; if writing fails part-way, the nodes added so far are removed."""
        from TMEMonitorLib.scene.inputs import RemoveAddedNodesOnError
        with RemoveAddedNodesOnError(self.scene):
            return self._write_outputs(analysis, series, prefix, parent_item, statistics_masks)

    def _write_outputs(self, analysis, series, prefix, parent_item, statistics_masks):
        scene = self.scene
        ijk_to_ras = series.ijk_to_ras
        source = series.provenance.get("axis_values", "")
        result = DiffusionResult(analysis=analysis, b_values_source=source)
        description = "; ".join(analysis.notes)
        recorded = _recorded_attributes(analysis, source)
        for name, values in analysis.maps.items():
            # quantity, unit, colour map and window from the quantity registry (TMEMonitorLib.quantities)
            node = tme_scene.add_quantity_map(scene, values, ijk_to_ras, f"{prefix} {map_display(name)[0]}", name,
                                              mask=analysis.mask, description=description)
            model = analysis.map_models.get(name)
            tme_scene.set_acquisition_attributes(node, {**recorded, **_model_attributes(analysis, model)})
            result.map_nodes[name] = node
        for model, status in _flagged_status(analysis).items():
            node = tme_scene.add_status_map(scene, status, ijk_to_ras, f"{prefix} {MODEL_LABELS[model]} fit status")
            tme_scene.set_acquisition_attributes(node, {**recorded, **_model_attributes(analysis, model)})
            result.status_nodes[model] = node
        for b, image in analysis.high_b.items():
            # registry entry "computed DWI": arbitrary units in grey (a DWI image reads best in grey)
            node = tme_scene.add_quantity_map(scene, image, ijk_to_ras, f"{prefix} computed b={b:g}", "computed DWI",
                                              mask=analysis.mask, description=description,
                                              quantity=f"computed DWI b={b:g} s/mm2")
            tme_scene.set_acquisition_attributes(node, {**recorded, "computed_b": b,
                                                        **_model_attributes(analysis, analysis.high_b_model)})
            result.computed_high_b_nodes[b] = node
        result.table_node = tme_scene.add_table(scene, f"{prefix} statistics",
                                                *self._statistics(analysis, series, statistics_masks))
        tme_scene.set_acquisition_attributes(result.table_node, recorded)
        if parent_item is not None:
            result.folder_item = hierarchy.add_folder(scene, parent_item, "Diffusion")
            for node in [*result.map_nodes.values(), *result.status_nodes.values(),
                         *result.computed_high_b_nodes.values(), result.table_node]:
                hierarchy.place(scene, node, result.folder_item)
        return result

    @staticmethod
    def _statistics(analysis, series, statistics_masks):
        """Statistics columns of every quantitative map, each with its own model's failed fraction."""
        masks = statistics_masks or {"all voxels": analysis.mask}
        columns, column_units = None, {}
        for model, status in _flagged_status(analysis).items():
            maps = {name: values for name, values in analysis.maps.items()
                    if analysis.map_models.get(name) == model and not name.startswith("excluded_")}
            part, column_units = statistics_table(maps, masks, series.ijk_to_ras, status=status)
            if columns is None:
                columns = part
            else:
                for key, values in part.items():
                    columns[key].extend(values)
        return columns, column_units

    def signal_plot(self, result, dwi, voxel=None, mask=None, name="DWI signal"):
        """Chart of the measured signal vs b with each fitted model's curve.

        ``result``: a DiffusionResult or DiffusionAnalysis; ``dwi``: the DWI node or its array
        (n_b, slices, rows, cols); ``voxel`` (k, j, i), else the mean over ``mask`` (default: the
        analysis mask). Frames sharing a b-value are averaged as in the fit.
        """
        analysis = getattr(result, "analysis", result)
        if hasattr(dwi, "IsA"):
            # The analysis' own b-values: the node may lack them (typed by the user for the fit).
            signal = dwi_series(dwi, analysis.b_values_frames).array
        else:
            signal = np.asarray(dwi, dtype=float)
        if signal.shape != (analysis.b_values_frames.size,) + analysis.mask.shape:
            raise InputError(f"signal plot: DWI data of shape {signal.shape} do not match the analysis "
                             f"({analysis.b_values_frames.size} frames of {analysis.mask.shape})")
        if voxel is not None:
            region = np.zeros(analysis.mask.shape, bool)
            region[tuple(int(v) for v in voxel)] = True
        else:
            region = analysis.mask if mask is None else (np.asarray(mask, bool) & analysis.mask)
        if not region.any():
            raise InputError("signal plot: the region holds no analysed voxel")
        curves = np.moveaxis(signal[:, region].astype(float), 0, -1)
        b = analysis.b_values
        if analysis.directions_averaged:
            curves, _ = models.average_directions(curves, analysis.b_values_frames)
        series = {"measured": np.nanmean(curves, axis=0)}
        parameters = {"adc": ("S0", "ADC"), "ivim": ("S0_IVIM", "D", "f", "Dstar"),
                      "kurtosis": ("S0_kurtosis", "D_kurtosis", "K")}
        for model in analysis.status:
            names = [n if n in analysis.maps else "S0" for n in parameters[model]]
            values = {key: analysis.maps[n][region] for key, n in zip(_PREDICT_KEYS[model], names)}
            predicted = models.predict_signal(model, b, **values)
            series[f"{MODEL_LABELS[model]} fit"] = np.nanmean(predicted, axis=0)
        return tme_scene.add_plot(self.scene, name, b, series, "b", "signal", "s/mm2", "a.u.",
                                  styles={"measured": "markers"})


_PREDICT_KEYS = {"adc": ("S0", "ADC"), "ivim": ("S0", "D", "f", "Dstar"), "kurtosis": ("S0", "D", "K")}


def _text(values):
    return " ".join(f"{float(v):g}" for v in values)


def _recorded_attributes(analysis, source):
    """What every output node records: the b-values found, their source, and how they were used."""
    recorded = {"b_values": _text(analysis.b_values_frames), "b_values_source": source,
                "b_values_fitted": _text(analysis.b_values), "b_values_unit": "s/mm2",
                "directions_averaged": "geometric mean (trace)" if analysis.directions_averaged else "no"}
    settings = analysis.settings
    if analysis.noise_sigma is not None:
        recorded["rician_noise_sigma"] = analysis.noise_sigma
        recorded["rician_noise_sigma_source"] = analysis.noise_sigma_source
    if settings.clip_value is not None:
        recorded["clip_value"] = settings.clip_value
    if settings.noise_floor is not None:
        recorded["noise_floor"] = settings.noise_floor
    return recorded


def _model_attributes(analysis, model):
    if not model:
        return {}
    settings = analysis.settings
    method = {"adc": settings.adc_method, "ivim": settings.ivim_method, "kurtosis": "bounded nonlinear"}[model]
    low, high = analysis.b_ranges[model]
    out = {"model": MODEL_LABELS[model], "method": method, "b_range": f"{low:g} {high:g}"}
    if model == "ivim":
        out["b_threshold"] = settings.ivim_b_threshold
    if model == "adc" and settings.adc_b_min is None and settings.adc_b_max is None:
        out["b_range_source"] = "default (every b-value)"
    return out


def _flagged_status(analysis):
    """{model: status map} with physically impossible values of the model's maps (negative ADC or D,
    f outside 0..1) marked IMPLAUSIBLE (TMEMonitorLib.plausibility)."""
    return {model: plausibility.flag_implausible(status, {name: values for name, values in analysis.maps.items()
                                                          if analysis.map_models.get(name) == model})
            for model, status in analysis.status.items()}
