"""The patient's report: report.html (maps over anatomy, response maps, plots, tables) and
report.json, from a ResponseSummary (computed here when not given)."""
import os

import numpy as np

from TMEMonitorLib.progress import report


def _slice_of(entry):
    """The slice (k) holding most of the tumour."""
    return int(np.argmax(entry.mask.sum(axis=(1, 2))))


def write_report(scene, patient_item, out_dir, response=None, organ="breast", progress=None):
    """HTML report with maps over anatomy, response maps, plots and the table; plus report.json."""
    from TMEMonitorLib.longitudinal import report as report_writer
    from TMEMonitorLib.longitudinal import response_maps

    from .response import compute_response
    response = response or compute_response(scene, patient_item, organ=organ)
    figures_dir = os.path.join(out_dir, "figures")
    os.makedirs(figures_dir, exist_ok=True)
    figures = []
    inputs = response.figures
    for index, entry in enumerate(inputs.measurements):
        report(progress, index / max(len(inputs.measurements), 1), f"figures of {entry.visit.name}")
        k = _slice_of(entry)
        name = entry.visit.name.replace(" ", "_")
        for biomarker, style in inputs.figure_styles.items():
            if biomarker not in entry.arrays:
                continue
            values = entry.arrays[biomarker][k] * style.scale
            values = np.where(entry.mask[k] | (entry.anatomy[k] > 0), values, np.nan)
            path = os.path.join(figures_dir, f"{name}_{biomarker.replace('/', '_')}.png")
            figures.append((f"{entry.visit.name} (day {entry.visit.day}): {style.label}",
                            report_writer.overlay_png(path, entry.anatomy[k], values,
                                                      f"{entry.visit.name} {biomarker}", style.label, style.colormap,
                                                      tuple(style.value_range))))
        if entry.habitats is not None:
            figures.append((f"{entry.visit.name}: habitats", report_writer.labels_png(
                os.path.join(figures_dir, f"{name}_habitats.png"), entry.anatomy[k], entry.habitats[k],
                response_maps.HABITAT_LABELS, f"{entry.visit.name} habitats")))
    base = inputs.measurements[inputs.baseline_index]
    k = _slice_of(base)
    for name, prm in inputs.prm.items():
        safe = name.replace("/", "_")
        figures.append((f"Parametric response map of {name}", report_writer.labels_png(
            os.path.join(figures_dir, f"prm_{safe}.png"), base.anatomy[k], prm.labels[k], response_maps.PRM_LABELS,
            f"PRM {name} (baseline space)")))
        figures.append((f"{name}: baseline vs follow-up voxels", report_writer.scatter_png(
            os.path.join(figures_dir, f"prm_{safe}_scatter.png"), prm.scatter[0], prm.scatter[1], prm.threshold,
            f"{name} voxel scatter", prm.unit)))
    if inputs.percent_series:
        figures.append(("Change from baseline", report_writer.lines_png(
            os.path.join(figures_dir, "change_from_baseline.png"), inputs.days, inputs.percent_series,
            "Biomarker change from baseline", "change (%)")))
    data = dict(response.data)
    data["registration"] = dict(inputs.registration)
    radiomics = _radiomics_section(scene, patient_item)
    if radiomics is not None:
        data["radiomics"] = radiomics
    html_path, _ = report_writer.write_report_data(out_dir, data, figures)
    report(progress, 1.0, "report written")
    return html_path


def _radiomics_section(scene, patient_item):
    """The radiomics delta table for the report when radiomics was computed for the patient (else None)."""
    from ..radiomics.nodes import report_section
    return report_section(scene, patient_item)
