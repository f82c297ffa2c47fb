"""The response written into the scene: the biomarker and lesion tables, the parametric
response and habitat label maps, and the change-from-baseline chart (MRML only; the numbers
come from scoring and response)."""
import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.longitudinal import response_maps
from TMEMonitorLib.scene import attribute_names, hierarchy

RESPONSE_TABLE = "TMEMonitor.ResponseTable"          # "biomarkers" / "lesions": the patient's response tables


def _flag_text(flag):
    return "" if flag is None else ("yes" if flag else "no")


def biomarker_table(scene, patient_item, patient_name, scores, measurements, days, target_names):
    """Table node: one row per visit, one column per biomarker (+ change from baseline, real change)."""
    rows = scores.rows
    columns = {"visit": [r["name"] for r in rows], "date": [r["date"] for r in rows], "day": days}
    column_units = {"day": "d"}
    for name, unit in scores.table.units.items():
        columns[name] = [r["biomarkers"][name]["measured"] for r in rows]
        column_units[name] = unit
        columns[f"{name} change %"] = [r["biomarkers"][name]["change_from_baseline_percent"] for r in rows]
        columns[f"{name} real change"] = [_flag_text(r["biomarkers"][name]["real_change"]) for r in rows]
    columns["new lesions"] = [r["new_lesions"] for r in rows]
    columns["target lesions"] = [", ".join(target_names)] * len(rows)
    table = tme_scene.add_table(scene, f"{patient_name} biomarkers", columns, units=column_units)
    table.SetAttribute(RESPONSE_TABLE, "biomarkers")
    hierarchy.place(scene, table, patient_item)
    return table


def lesion_table(scene, patient_item, patient_name, measurements, days):
    """Table node: one row per visit and lesion (baseline identity, name at the visit, status, size)."""
    columns = {"visit": [], "day": [], "lesion": [], "name at visit": [], "status": [], "target": [],
               "longest diameter": [], "volume": []}
    for entry, day in zip(measurements, days):
        for lesion in entry.lesions:
            columns["visit"].append(entry.visit.name)
            columns["day"].append(day)
            columns["lesion"].append(lesion.identity or lesion.visit_name)
            columns["name at visit"].append(lesion.visit_name + (" + " + ", ".join(lesion.fragments)
                                                                 if lesion.fragments else ""))
            columns["status"].append(lesion.status)
            columns["target"].append("yes" if lesion.target else "no")
            columns["longest diameter"].append(lesion.longest_diameter_mm)
            columns["volume"].append(lesion.volume_ml)
    table = tme_scene.add_table(scene, f"{patient_name} lesions", columns,
                                units={"day": "d", "longest diameter": "mm", "volume": "mL"})
    table.SetAttribute(RESPONSE_TABLE, "lesions")
    hierarchy.place(scene, table, patient_item)
    return table


def prm_node(scene, labels, base, name, follow_up_name):
    colors = tme_scene.label_color_node(scene, "parametric response", response_maps.PRM_LABELS)
    node = tme_scene.add_label_map(scene, labels, base.ijk, f"PRM {name} {follow_up_name} vs baseline", colors)
    hierarchy.place(scene, node, base.visit.item)
    return node


def habitat_node(scene, labels, entry):
    colors = tme_scene.label_color_node(scene, "habitats", response_maps.HABITAT_LABELS)
    node = tme_scene.add_label_map(scene, labels, entry.ijk, f"{entry.visit.name} habitats", colors)
    hierarchy.place(scene, node, entry.visit.item)
    return node


def change_chart(scene, patient_item, days, percent_series):
    chart = tme_scene.add_plot(scene, "Change from baseline", days, percent_series, "day on treatment",
                               "change from baseline", "d", "%", styles={k: "line+markers" for k in percent_series})
    chart.SetAttribute(attribute_names.RESPONSE_CHART, "change")
    hierarchy.place(scene, chart, patient_item)
    return chart


def percent_series(scores, names, baseline_index):
    """{biomarker: change from baseline (%) per visit} of the charted biomarkers with a follow-up value."""
    out = {}
    for name in names:
        series = [(r["biomarkers"].get(name) or {}).get("change_from_baseline_percent") for r in scores.rows]
        series = [0.0 if i == baseline_index else (np.nan if s is None else s) for i, s in enumerate(series)]
        if name == "recist_sum_mm" and "longest_diameter_mm" in out and np.allclose(
                series, out["longest_diameter_mm"], equal_nan=True):
            continue                        # one target lesion: the sum is its diameter
        if any(np.isfinite(series[:baseline_index] + series[baseline_index + 1:])):
            out[name] = series
    return out
