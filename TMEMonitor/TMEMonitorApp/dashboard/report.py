"""The patient's report: report.html (maps over anatomy per visit in a grid, response maps, plots,
tables) and report.json, from a ResponseSummary (computed here when not given).

Maps are drawn with the registry of quantities (``TMEMonitorLib.quantities``): its label and
display unit on the colour bar, its fixed display range for every visit (so a fall in Ktrans
looks darker, not re-windowed), in radiological convention (``longitudinal.figures``)."""
import os

import numpy as np

from TMEMonitorLib import quantities
from TMEMonitorLib.progress import report

# The size-based and functional response criteria reported per organ: RANO 2.0 is a brain-tumour
# criterion (Wen et al., JCO 2023); elsewhere RECIST 1.1 with the volumetric research call.
CRITERIA_BY_ORGAN = {"brain": ("RANO 2.0", "RANO 2.0 volumetric", "volumetric")}
DEFAULT_CRITERIA = ("RECIST 1.1", "volumetric")
FUNCTIONAL_PREFIX = "functional"


def criteria_for(organ):
    """Names of the size criteria reported for ``organ`` (the functional research call always is)."""
    return CRITERIA_BY_ORGAN.get(str(organ or "").lower(), DEFAULT_CRITERIA)


def _slice_of(entry):
    """The slice (k) holding most of the tumour."""
    return int(np.argmax(entry.mask.sum(axis=(1, 2))))


def map_style(biomarker, style=None):
    """(colour-bar label, scale to the displayed unit, display range in displayed units, colour map)
    of a biomarker map: the registry's entry, or the technique's FigureStyle when the registry has
    no fixed range for it."""
    entry = quantities.lookup(biomarker)
    if quantities.is_registered(biomarker) and entry.display_limits is not None:
        return entry.label, entry.display_scale, tuple(entry.display_limits), entry.colormap
    return style.label, style.scale, tuple(style.value_range), style.colormap


def series_label(name):
    """Legend text of a charted biomarker: the registry's quantity name ('tumour volume', not 'volume_ml')."""
    return quantities.lookup(name).quantity if quantities.is_registered(name) else name


def write_report(scene, patient_item, out_dir, response=None, organ="breast", progress=None, embed_images=False):
    """HTML report with maps over anatomy, response maps, plots and the table; plus report.json.

    ``embed_images``: PNGs inside report.html as base64 (one self-contained file to mail)."""
    from TMEMonitorLib.longitudinal import report as report_writer
    from TMEMonitorLib.longitudinal import response_maps

    from .response import compute_response
    response = response or compute_response(scene, patient_item, organ=organ)
    figures_dir = os.path.join(out_dir, "figures")
    os.makedirs(figures_dir, exist_ok=True)
    figures = []
    inputs = response.figures
    columns, rows = [], []
    for index, entry in enumerate(inputs.measurements):
        report(progress, index / max(len(inputs.measurements), 1), f"figures of {entry.visit.name}")
        k = _slice_of(entry)
        name = entry.visit.name.replace(" ", "_")
        cells = {}
        for biomarker, style in inputs.figure_styles.items():
            if biomarker not in entry.arrays:
                continue
            label, scale, value_range, colormap = map_style(biomarker, style)
            values = entry.arrays[biomarker][k] * scale
            values = np.where(entry.mask[k] | (entry.anatomy[k] > 0), values, np.nan)
            path = os.path.join(figures_dir, f"{name}_{biomarker.replace('/', '_')}.png")
            column = series_label(biomarker)
            cells[column] = (f"{entry.visit.name} (day {entry.visit.day}): {label}",
                             report_writer.overlay_png(path, entry.anatomy[k], values, f"{entry.visit.name} {column}",
                                                       label, colormap, value_range, ijk_to_ras=entry.ijk))
        if entry.habitats is not None:
            cells["habitats"] = (f"{entry.visit.name}: habitats", report_writer.labels_png(
                os.path.join(figures_dir, f"{name}_habitats.png"), entry.anatomy[k], entry.habitats[k],
                response_maps.HABITAT_LABELS, f"{entry.visit.name} habitats", ijk_to_ras=entry.ijk))
        for column in cells:
            if column not in columns:
                columns.append(column)
        rows.append((f"{entry.visit.name} (day {entry.visit.day})", cells))
    base = inputs.measurements[inputs.baseline_index]
    k = _slice_of(base)
    for name, prm in inputs.prm.items():
        safe = name.replace("/", "_")
        label, scale, _, _ = map_style(name, None) if quantities.is_registered(name) else (name, 1.0, None, None)
        unit = quantities.lookup(name).display_unit if quantities.is_registered(name) else prm.unit
        figures.append((f"Parametric response map of {series_label(name)}", report_writer.labels_png(
            os.path.join(figures_dir, f"prm_{safe}.png"), base.anatomy[k], prm.labels[k], response_maps.PRM_LABELS,
            f"PRM {series_label(name)} (baseline space)", ijk_to_ras=base.ijk)))
        figures.append((f"{series_label(name)}: baseline vs follow-up voxels", report_writer.scatter_png(
            os.path.join(figures_dir, f"prm_{safe}_scatter.png"), np.asarray(prm.scatter[0]) * scale,
            np.asarray(prm.scatter[1]) * scale, prm.threshold * scale, f"{series_label(name)} voxel scatter", unit)))
    if inputs.percent_series:
        figures.append(("Change from baseline", report_writer.lines_png(
            os.path.join(figures_dir, "change_from_baseline.png"), inputs.days,
            {series_label(name): values for name, values in inputs.percent_series.items()},
            "Biomarker change from baseline", "change from baseline (%)")))
    data = dict(response.data)
    data.setdefault("title", "TME Monitor report")
    criteria = criteria_for(data.get("organ", organ))
    data["response"] = [c for c in data.get("response", []) if c["criterion"] in criteria
                        or str(c["criterion"]).startswith(FUNCTIONAL_PREFIX)]
    for row in data.get("visits", []):
        if isinstance(row.get("response"), dict):
            row["response"] = {k: v for k, v in row["response"].items()
                               if k in criteria or str(k).startswith(FUNCTIONAL_PREFIX)}
    data["criteria"] = list(criteria) + ["functional (research)"]
    data["registration"] = dict(inputs.registration)
    radiomics = _radiomics_section(scene, patient_item)
    if radiomics is not None:
        data["radiomics"] = radiomics
    map_grid = {"columns": columns, "rows": rows} if columns else None
    html_path, _ = report_writer.write_report_data(out_dir, data, figures, embed_images=embed_images,
                                                   map_grid=map_grid)
    report(progress, 1.0, "report written")
    return html_path


def _radiomics_section(scene, patient_item):
    """The radiomics delta table for the report when radiomics was computed for the patient (else None)."""
    from ..radiomics.nodes import report_section
    return report_section(scene, patient_item)
