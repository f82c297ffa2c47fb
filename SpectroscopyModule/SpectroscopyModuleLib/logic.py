"""SpectroscopyLogic: the MRS analysis between files/objects and MRML nodes (widget, console, CLI, dashboard).

Single voxel: a results table (metabolites with CRLB, totals, ratios with SD, SNR, linewidth,
quality flags), a spectrum chart on a reversed ppm axis (measured, fit, baseline, residual,
main components) and the voxel box as a Markups ROI placed from the header geometry.
MRSI: metabolite and ratio maps on the grid's voxel-to-RAS geometry (so they overlay the
anatomy), fit-status and quality label maps, a summary table, and any voxel's fit as a chart.
Everything is analysed before the first node is created: a failed run leaves the scene as it was.
"""
import json
import os
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.scene.geometry import to_vtk_matrix
from TMEMonitorLib.scene.rollback import RemoveAddedNodesOnError

from . import mrsi_grid, pipeline
from .settings import SpectroscopySettings

BIOMARKERS_ATTRIBUTE = "TMEMonitor.Biomarkers"
# Plot colours (r, g, b): data black, fit red, baseline grey, residual blue-grey, components distinct.
SERIES_COLORS = {"measured": (0.1, 0.1, 0.1), "fit": (0.85, 0.1, 0.1), "baseline": (0.55, 0.55, 0.55),
                 "residual": (0.45, 0.55, 0.7)}
COMPONENT_COLORS = ((0.12, 0.47, 0.71), (1.0, 0.5, 0.05), (0.17, 0.63, 0.17), (0.58, 0.4, 0.74),
                    (0.55, 0.34, 0.29), (0.89, 0.47, 0.76), (0.74, 0.74, 0.13), (0.09, 0.75, 0.81))


@dataclass
class SVSResult:
    analysis: object                        # pipeline.SVSAnalysis
    table_node: object = None
    chart_node: object = None
    roi_node: object = None                 # None when the header has no geometry
    folder_item: int = None
    map_nodes: dict = field(default_factory=dict)   # none for a single voxel (same shape as MRSIResult)

    @property
    def biomarkers(self):
        return self.analysis.biomarkers


@dataclass
class MRSIResult:
    analysis: object                        # pipeline.MRSIAnalysis
    map_nodes: dict = field(default_factory=dict)
    status_node: object = None
    quality_node: object = None
    table_node: object = None
    grid_node: object = None                # model outlining the voxel grid over the anatomy
    folder_item: int = None
    name_prefix: str = "MRSI"

    @property
    def biomarkers(self):
        return self.analysis.biomarkers


def _prefix(source, name_prefix, default):
    if name_prefix:
        return name_prefix
    if isinstance(source, (str, os.PathLike)):
        base = os.path.basename(os.fspath(source).rstrip("/\\"))
        for suffix in (".nii.gz", ".nii", ".dcm", ".rda", ".dat", ".raw", ".txt", ".json"):
            if base.lower().endswith(suffix):
                return base[:-len(suffix)]
        return base or default
    return default


class SpectroscopyLogic:
    def __init__(self, scene):
        self.scene = scene

    # ------------------------------------------------------------------ entry points
    def run(self, source, settings=None, **kwargs):
        """Analyse a file or MRSData as single voxel or MRSI, whichever it is."""
        mrs = pipeline.load_mrs(source, settings)
        if pipeline.is_mrsi(mrs):
            return self.run_mrsi(mrs, settings, name_prefix=kwargs.pop("name_prefix", None)
                                 or _prefix(source, None, "MRSI"), **kwargs)
        kwargs.pop("mask", None)
        return self.run_svs(mrs, settings, name_prefix=kwargs.pop("name_prefix", None)
                            or _prefix(source, None, "MRS"), **kwargs)

    def run_svs(self, path_or_mrsdata, settings=None, parent_item=None, name_prefix=None, progress=None, basis=None):
        """Analyse one single-voxel spectrum and write table, chart and voxel box; returns an :class:`SVSResult`."""
        settings = (settings or SpectroscopySettings()).validated()
        analysis = pipeline.analyse_svs(path_or_mrsdata, settings, basis=basis, progress=progress)
        return self.write_svs(analysis, _prefix(path_or_mrsdata, name_prefix, "MRS"), parent_item)

    def run_mrsi(self, path_or_mrsdata, settings=None, mask=None, parent_item=None, name_prefix=None,
                 progress=None, basis=None):
        """Fit every voxel of an MRSI grid and write maps; returns an :class:`MRSIResult`.

        ``mask``: bool array over the grid (i, j[, k]) limiting the fit."""
        settings = (settings or SpectroscopySettings()).validated()
        analysis = pipeline.analyse_mrsi(path_or_mrsdata, settings, mask=mask, basis=basis, progress=progress)
        return self.write_mrsi(analysis, _prefix(path_or_mrsdata, name_prefix, "MRSI"), parent_item)

    # ------------------------------------------------------------------ single voxel
    def write_svs(self, analysis, prefix, parent_item=None):
        """Nodes of a single-voxel analysis; if writing fails part-way, the scene is left as it was."""
        with RemoveAddedNodesOnError(self.scene):
            return self._write_svs(analysis, prefix, parent_item)

    def _write_svs(self, analysis, prefix, parent_item):
        scene = self.scene
        result = SVSResult(analysis=analysis)
        if parent_item is not None:
            result.folder_item = hierarchy.add_folder(scene, parent_item, "MRS (single voxel)")
        columns, units = svs_table_columns(analysis)
        result.table_node = tme_scene.add_table(scene, f"{prefix} results", columns, units=units)
        result.table_node.SetAttribute(BIOMARKERS_ATTRIBUTE, json.dumps(analysis.biomarkers))
        result.table_node.SetAttribute("TMEMonitor.Basis", analysis.basis)
        result.table_node.SetAttribute("TMEMonitor.QualityFlags", "; ".join(analysis.quality["flags"]))
        tme_scene.set_acquisition_attributes(result.table_node, {k: v[0] for k, v in analysis.acquisition.items()})
        tme_scene.set_acquisition_attributes(result.table_node,
                                             {f"{k}_source": v[1] for k, v in analysis.acquisition.items()})
        result.chart_node = self.spectrum_chart(analysis.fit, f"{prefix} spectrum")
        if analysis.geometry is not None:
            result.roi_node = self.voxel_box(analysis.geometry, f"{prefix} voxel")
        if result.folder_item is not None:
            for node in (result.table_node, result.chart_node, result.roi_node):
                if node is not None:
                    hierarchy.place(scene, node, result.folder_item)
        return result

    def spectrum_chart(self, fit, name):
        """Chart of the real (absorption) spectra of a fit over a reversed ppm axis."""
        series = {"measured": fit.spectrum.real, "fit": fit.fit_spectrum.real, "baseline": fit.baseline.real,
                  "residual": fit.residual.real}
        series.update(main_components(fit))
        chart = tme_scene.add_plot(self.scene, name, fit.ppm, series, "chemical shift", "signal", "ppm", "a.u.",
                                   reverse_x=True)
        # reverse_x: ppm decreases to the right (the NMR convention), a fixed range (max, min).
        chart.SetAttribute("TMEMonitor.XAxisReversed", "1")
        components = [label for label in series if label not in SERIES_COLORS]
        for index in range(chart.GetNumberOfPlotSeriesNodes()):
            plot = chart.GetNthPlotSeriesNode(index)
            label = plot.GetName()
            if label in SERIES_COLORS:
                plot.SetColor(*SERIES_COLORS[label])
            else:
                plot.SetColor(*COMPONENT_COLORS[components.index(label) % len(COMPONENT_COLORS)])
                plot.SetLineWidth(1)
        return chart

    def voxel_box(self, geometry, name):
        """A locked Markups ROI showing the spectroscopy voxel (centre, size and orientation from the header)."""
        directions = np.asarray(geometry["directions"], dtype=float)
        # Nearest rotation to the header's direction cosines (a box is symmetric, so a reflection
        # is removed by flipping its third axis).
        u, _, vt = np.linalg.svd(directions)
        rotation = u @ vt
        if np.linalg.det(rotation) < 0:
            rotation[:, 2] *= -1
        matrix = np.eye(4)
        matrix[:3, :3] = rotation
        matrix[:3, 3] = geometry["centre_ras"]
        roi = self.scene.AddNewNodeByClass("vtkMRMLMarkupsROINode", self.scene.GenerateUniqueName(name))
        roi.SetAndObserveObjectToNodeMatrix(to_vtk_matrix(matrix))
        roi.SetSize(*[float(v) for v in geometry["size_mm"]])
        roi.SetLocked(True)
        roi.CreateDefaultDisplayNodes()
        if roi.GetDisplayNode() is not None:      # no drag handles until the user picks the box to edit it
            roi.GetDisplayNode().SetHandlesInteractive(False)
        roi.SetAttribute("TMEMonitor.Quantity", "spectroscopy voxel")
        return roi

    # ------------------------------------------------------------------ MRSI
    def write_mrsi(self, analysis, prefix, parent_item=None):
        """Nodes of an MRSI analysis; if writing fails part-way, the scene is left as it was."""
        with RemoveAddedNodesOnError(self.scene):
            return self._write_mrsi(analysis, prefix, parent_item)

    def _write_mrsi(self, analysis, prefix, parent_item):
        scene = self.scene
        result = MRSIResult(analysis=analysis, name_prefix=prefix)
        if parent_item is not None:
            result.folder_item = hierarchy.add_folder(scene, parent_item, "MRSI")
        ijk_to_ras = analysis.ijk_to_ras
        good = _to_volume(analysis.quality == pipeline.QUALITY_GOOD)
        description = _description(analysis)
        for name, values in analysis.maps.items():
            # quantity, unit, colour map and window from the quantity registry (TMEMonitorLib.quantities:
            # ratios inferno with a fixed range, amplitudes in arbitrary units windowed on the good voxels)
            node = tme_scene.add_quantity_map(scene, _to_volume(values), ijk_to_ras, f"{prefix} {name}", name,
                                              mask=good if good.any() else None, description=description,
                                              quantity=name)
            result.map_nodes[name] = node
        result.status_node = tme_scene.add_status_map(scene, _to_volume(analysis.status), ijk_to_ras,
                                                      f"{prefix} fit status")
        colors = tme_scene.label_color_node(scene, "MRSI quality", pipeline.QUALITY_LABELS)
        result.quality_node = tme_scene.add_label_map(scene, _to_volume(analysis.quality), ijk_to_ras,
                                                      f"{prefix} quality", colors)
        result.quality_node.SetAttribute("TMEMonitor.Quantity", "MRSI quality")
        columns, units = mrsi_table_columns(analysis)
        result.table_node = tme_scene.add_table(scene, f"{prefix} summary", columns, units=units)
        result.table_node.SetAttribute(BIOMARKERS_ATTRIBUTE, json.dumps(analysis.biomarkers))
        result.table_node.SetAttribute("TMEMonitor.Basis", analysis.basis)
        self.grid_outline(result)
        if result.folder_item is not None:
            for node in [*result.map_nodes.values(), result.status_node, result.quality_node, result.table_node,
                         result.grid_node]:
                hierarchy.place(scene, node, result.folder_item)
        return result

    def grid_outline(self, result):
        """The MRSI voxel grid as a model over the anatomy (slice views show the voxel lines)."""
        if result.grid_node is None:
            result.grid_node = mrsi_grid.add_grid_outline(self.scene, result.analysis.status.shape,
                                                          result.analysis.ijk_to_ras, f"{result.name_prefix} grid")
            if result.folder_item is not None:
                hierarchy.place(self.scene, result.grid_node, result.folder_item)
        return result.grid_node

    def voxel_at_ras(self, result, ras):
        """(i, j, k) of the MRSI voxel under a RAS point (a click in a view)."""
        return mrsi_grid.voxel_at_ras(result.analysis.status.shape, result.analysis.ijk_to_ras, ras)

    def voxel_plot_at_ras(self, result, ras, name=None):
        """Chart of the spectrum and fit of the voxel under a RAS point."""
        return self.voxel_plot(result, self.voxel_at_ras(result, ras), name)

    def voxel_plot(self, result, ijk, name=None):
        """Chart of one MRSI voxel's spectrum and fit; ``ijk`` is the voxel (i, j, k) of the map volumes."""
        fit = pipeline.voxel_analysis(result.analysis, ijk)
        i, j, k = (int(v) for v in ijk)
        chart = self.spectrum_chart(fit, name or f"{result.name_prefix} voxel ({i}, {j}, {k})")
        chart.SetAttribute("TMEMonitor.Voxel", f"{i} {j} {k}")
        if result.folder_item is not None:
            hierarchy.place(self.scene, chart, result.folder_item)
        return chart


def _to_volume(grid_ijk):
    """(i, j, k) grid -> [k, j, i] volume array."""
    return np.ascontiguousarray(np.transpose(np.asarray(grid_ijk), (2, 1, 0)))


def main_components(fit):
    """Real parts of the main fitted components: overlapping pools summed (tNAA, tCr, tCho, Glx), then Lac, Ins, ..."""
    from .quantification import TOTALS
    out = {}
    for pool in pipeline.PLOT_POOLS:
        parts = [p for p in TOTALS[pool] if p in fit.components and fit.amplitudes.get(p, 0) > 0]
        if parts:
            out[pool] = sum(fit.components[p].real for p in parts)
    for name in pipeline.PLOT_SINGLE:
        if name in fit.components and fit.amplitudes.get(name, 0) > 0:
            out[name] = fit.components[name].real
    return out


def svs_table_columns(analysis):
    """Columns (quantity, kind, value, unit, CRLB %, SD, note) of the single-voxel results table."""
    fit = analysis.fit
    rows = []
    for name in pipeline._metabolite_names(fit.names):
        rows.append((name, "metabolite", fit.amplitudes[name], pipeline.AMPLITUDE_UNIT, fit.crlb_percent[name],
                     fit.crlb_abs[name], "not detected" if fit.amplitudes[name] <= 0 else ""))
    for name in fit.names:
        if name not in pipeline._metabolite_names(fit.names):
            rows.append((name, "macromolecule/lipid", fit.amplitudes[name], pipeline.AMPLITUDE_UNIT,
                         fit.crlb_percent[name], fit.crlb_abs[name], ""))
    for name, value in analysis.sums.items():
        crlb = analysis.sum_crlb_percent[name]
        rows.append((name, "total", value, pipeline.AMPLITUDE_UNIT, crlb,
                     crlb * value / 100.0 if np.isfinite(crlb) else None, ""))
    for name, value in analysis.ratios.items():
        rows.append((name, "ratio", value, pipeline.RATIO_UNIT, None, analysis.ratio_sd.get(name), ""))
    for name, value in analysis.concentrations_mM.items():
        rows.append((name, "concentration", value, "mM", None, None, analysis.concentration_source or ""))
    rows += [("SNR", "quality", fit.snr, "", None, None, f"minimum {analysis.settings.min_snr:g}"),
             ("FWHM", "quality", fit.fwhm_ppm, "ppm", None, None,
              f"{fit.fwhm_hz:.2f} Hz; limit {analysis.settings.fwhm_threshold_ppm:g} ppm"),
             ("frequency shift", "fit", fit.shift_hz, "Hz", None, None, ""),
             ("zero-order phase", "fit", fit.phase0_deg, "deg", None, None, ""),
             ("R2", "fit", fit.r2, "", None, None, f"fit status: {fit.status_name}"),
             ("quality flags", "quality", float(len(analysis.quality["flags"])), "", None, None,
              "; ".join(analysis.quality["flags"]) or "none")]
    names = ("quantity", "kind", "value", "unit", "CRLB %", "SD", "note")
    columns = {n: [row[i] for row in rows] for i, n in enumerate(names)}
    return columns, {"CRLB %": "%"}


def mrsi_table_columns(analysis):
    """Per map: median, mean and count over good-quality voxels, and the fit-status counts."""
    good = analysis.quality == pipeline.QUALITY_GOOD
    rows = []
    for name, values in analysis.maps.items():
        selected = values[good & np.isfinite(values)]
        rows.append((name, analysis.units[name], float(np.median(selected)) if selected.size else None,
                     float(np.mean(selected)) if selected.size else None, int(selected.size)))
    counts = fit_status.describe(analysis.status)
    for label, count in counts.items():
        rows.append((f"voxels: {label}", "", None, None, count))
    rows.append(("voxels: good quality", "", None, None, int(good.sum())))
    names = ("map", "unit", "median (good voxels)", "mean (good voxels)", "voxels")
    return {n: [row[i] for row in rows] for i, n in enumerate(names)}, {}


def _description(analysis):
    parts = [f"basis: {analysis.basis}"]
    parts += [f"{step}: {outcome}" for step, outcome in analysis.processing]
    for key, (value, source) in analysis.acquisition.items():
        parts.append(f"{key}: {value:g} ({source})")
    return "; ".join(parts)


__all__ = ["SpectroscopyLogic", "SVSResult", "MRSIResult", "main_components", "svs_table_columns", "mrsi_table_columns"]
