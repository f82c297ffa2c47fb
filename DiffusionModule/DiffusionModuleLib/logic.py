"""DiffusionLogic: the diffusion analysis between MRML nodes (widget, console, CLI, dashboard)."""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.statistics import statistics_table

from .pipeline import MAP_DISPLAY, analyse_dwi
from .settings import DiffusionSettings


@dataclass
class DiffusionResult:
    analysis: object
    map_nodes: dict = field(default_factory=dict)
    status_nodes: dict = field(default_factory=dict)
    high_b_nodes: dict = field(default_factory=dict)
    table_node: object = None
    folder_item: int = None


def _display(name):
    if name in MAP_DISPLAY:
        return MAP_DISPLAY[name]
    if name.startswith("se_"):
        quantity, unit, _ = MAP_DISPLAY.get(name[3:], (name[3:], "", ""))
        return (f"standard error of {quantity}", unit, "magma")
    if name.startswith("rmse_"):
        return (f"RMSE of {name[5:]}", "a.u.", "magma")
    if name.startswith("excluded_samples_"):
        return (f"excluded samples ({name[17:]})", "", "magma")
    return (name, "", "viridis")


class DiffusionLogic:
    def __init__(self, scene):
        self.scene = scene

    def run(self, dwi_node, settings=None, mask_node=None, parent_item=None, name_prefix=None,
            statistics_segmentation=None, progress=None):
        settings = (settings or DiffusionSettings()).validated()
        series = tme_scene.series_from_node(dwi_node, expected_axis="b")
        shape = series.array.shape[1:]
        mask = tme_scene.mask_from_node(self.scene, mask_node, shape, series.ijk_to_ras, what="mask")
        masks = self._statistics_masks(statistics_segmentation, mask, shape, series.ijk_to_ras)
        analysis = analyse_dwi(series.array, series.axis_values, settings, mask=mask,
                               noise_sigma=series.metadata.get("noise_sigma"), progress=progress)
        return self.write_outputs(analysis, series, name_prefix or dwi_node.GetName(), parent_item, masks)

    def _statistics_masks(self, segmentation, mask, shape, ijk_to_ras):
        if segmentation is None:
            return {"analysed voxels": mask if mask is not None else np.ones(shape, bool)}
        seg = segmentation.GetSegmentation()
        return {seg.GetSegment(seg.GetNthSegmentID(i)).GetName():
                tme_scene.mask_from_node(self.scene, segmentation, shape, ijk_to_ras, segment_id=seg.GetNthSegmentID(i))
                for i in range(seg.GetNumberOfSegments())}

    def write_outputs(self, analysis, series, prefix, parent_item=None, masks=None):
        scene = self.scene
        result = DiffusionResult(analysis=analysis)
        if parent_item is not None:
            result.folder_item = hierarchy.add_folder(scene, parent_item, "Diffusion")
        provenance = {"b_values": " ".join(f"{v:g}" for v in series.axis_values),
                      "b_values_source": series.provenance.get("axis_values", ""),
                      "notes": "; ".join(analysis.notes)}
        for name, values in analysis.maps.items():
            quantity, unit, colormap = _display(name)
            node = tme_scene.add_parameter_map(scene, values, series.ijk_to_ras, f"{prefix} {quantity}", quantity, unit,
                                               colormap, mask=analysis.mask, description="; ".join(analysis.notes))
            tme_scene.set_acquisition_attributes(node, provenance)
            result.map_nodes[name] = node
        for model, status in analysis.status.items():
            result.status_nodes[model] = tme_scene.add_status_map(scene, status, series.ijk_to_ras,
                                                                  f"{prefix} {model} fit status")
        for b, image in analysis.high_b.items():
            node = tme_scene.add_parameter_map(scene, image, series.ijk_to_ras, f"{prefix} computed b={b:g}",
                                               f"computed DWI b={b:g}", "a.u.", "viridis", mask=analysis.mask)
            result.high_b_nodes[b] = node
        units = {name: _display(name)[1] for name in analysis.maps}
        any_status = next(iter(analysis.status.values())) if analysis.status else None
        columns, column_units = statistics_table(
            {k: v for k, v in analysis.maps.items() if not k.startswith(("rmse_", "excluded_"))},
            masks or {"analysed voxels": analysis.mask}, series.ijk_to_ras, units, status=any_status)
        result.table_node = tme_scene.add_table(scene, f"{prefix} statistics", columns, units=column_units)
        if result.folder_item is not None:
            for node in [*result.map_nodes.values(), *result.status_nodes.values(), *result.high_b_nodes.values(),
                         result.table_node]:
                hierarchy.place(scene, node, result.folder_item)
        return result

    def signal_plot(self, result, dwi_node, voxel=None, mask=None, name="DWI signal"):
        """Chart of measured signal vs b with the fitted curves, for a voxel (k, j, i) or a mask mean."""
        from . import models
        series = tme_scene.series_from_node(dwi_node, expected_axis="b")
        maps = result.analysis.maps
        if voxel is not None:
            index = tuple(voxel)
            measured = series.array[(slice(None),) + index]
            take = lambda name: maps[name][index] if name in maps else None  # noqa: E731
        else:
            region = result.analysis.mask if mask is None else np.asarray(mask, bool)
            measured = series.array[:, region].mean(axis=1)
            take = lambda name: np.nanmedian(maps[name][region]) if name in maps else None  # noqa: E731
        if take("ADC") is None and take("D") is None:
            raise InputError("signal plot: no fitted diffusion model in this result")
        b = series.axis_values
        curves = {"measured": measured}
        if take("ADC") is not None:
            curves["ADC fit"] = models.predict_signal("adc", b, S0=take("S0"), ADC=take("ADC"))
        if take("D") is not None:
            curves["IVIM fit"] = models.predict_signal("ivim", b, S0=take("S0"), D=take("D"), f=take("f"),
                                                       Dstar=take("Dstar"))
        return tme_scene.add_plot(self.scene, name, b, curves, "b", "signal", "s/mm2", "a.u.",
                                  styles={"measured": "markers"})
