"""Radiomics in the scene: a features table node per visit (under the visit), the patient's delta
table and a chart of selected delta features over visits (under the patient); read back for the
panel's feature picker and the report (a saved and reloaded scene reports the same way)."""
import json
import math

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.radiomics import settings_json
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.scene.rollback import RemoveAddedNodesOnError

from .visit_images import ANATOMY, TUMOUR, map_biomarkers

RADIOMICS_TABLE = "TMEMonitor.RadiomicsTable"       # "visit" / "deltas" / "chart"
RADIOMICS_SETTINGS = "TMEMonitor.RadiomicsSettings"  # resolved settings (JSON)
RADIOMICS_HASH = "TMEMonitor.RadiomicsSettingsHash"
RADIOMICS_BASELINE = "TMEMonitor.RadiomicsBaseline"  # JSON: {"name": ..., "day": ...}

# Features charted and reported by default (tumour): mean, heterogeneity (histogram entropy,
# coefficient of variation) and size.
DEFAULT_PLOT_FEATURES = ("stat_mean",)
REPORT_FEATURES = ("stat_mean", "stat_cov", "ih_entropy")
REPORT_SIZE_FEATURE = "morph_volume"

VISIT_COLUMNS = ("region", "image", "feature", "value", "unit", "flag")
DELTA_COLUMNS = ("visit", "day", "region", "image", "feature", "unit", "baseline value", "value", "delta absolute",
                 "delta relative %", "RC %", "real change", "repeatability note")
_DELTA_KEYS = ("visit", "day", "region", "image", "feature", "unit", "baseline_value", "value", "delta_absolute",
               "delta_relative_percent", "rc_percent", "real_change", "repeatability_note")


def _radiomics_nodes(scene, parent_item, kind):
    return [n for n in hierarchy.children_nodes(scene, parent_item) if n.GetAttribute(RADIOMICS_TABLE) == kind]


def visit_table_nodes(scene, patient_item):
    """{visit name: the visit's radiomics table node} (latest per visit)."""
    out = {}
    for item, name, _, _ in hierarchy.visits(scene, patient_item):
        nodes = _radiomics_nodes(scene, item, "visit")
        if nodes:
            out[name] = nodes[-1]
    return out


def delta_table_node(scene, patient_item):
    nodes = _radiomics_nodes(scene, patient_item, "deltas")
    return nodes[-1] if nodes else None


def _chart_nodes(scene, patient_item):
    return [n for n in hierarchy.children_nodes(scene, patient_item, recursive=False)
            if n.IsA("vtkMRMLPlotChartNode") and n.GetAttribute(RADIOMICS_TABLE) == "chart"]


def _remove_chart(scene, chart):
    # Collect first: removing a series node shortens the chart's list of references.
    series_nodes = [chart.GetNthPlotSeriesNode(i) for i in range(chart.GetNumberOfPlotSeriesNodes())]
    tables = {}
    for series in series_nodes:
        if series is not None and series.GetTableNode() is not None:
            tables[series.GetTableNode().GetID()] = series.GetTableNode()
    for node in [s for s in series_nodes if s is not None] + list(tables.values()):
        if node.GetScene() is scene:
            scene.RemoveNode(node)
    scene.RemoveNode(chart)


def _tag(node, result, kind):
    node.SetAttribute(RADIOMICS_TABLE, kind)
    node.SetAttribute(RADIOMICS_SETTINGS, settings_json(result.settings))
    node.SetAttribute(RADIOMICS_HASH, result.settings_hash)


def write_result_nodes(scene, result, plot_features=DEFAULT_PLOT_FEATURES):
    """Per-visit feature tables, the delta table and the chart for ``result``; earlier radiomics
    nodes of the patient are replaced. All or nothing. Fills result.table_nodes / delta_table / chart."""
    old = [n for item, *_ in hierarchy.visits(scene, result.patient_item) for n in _radiomics_nodes(scene, item, "visit")]
    old += _radiomics_nodes(scene, result.patient_item, "deltas")
    old_charts = _chart_nodes(scene, result.patient_item)
    with RemoveAddedNodesOnError(scene):
        tables = {}
        for visit in result.visits:
            rows = [r for r in result.rows if r["visit"] == visit.name]
            columns = {c: [r.get(c) for r in rows] for c in VISIT_COLUMNS}
            node = tme_scene.add_table(scene, f"{visit.name} radiomics", columns)
            node.SetColumnDescription("feature", "IBSI feature tag with its aggregation suffix")
            node.SetColumnDescription("flag", "why the value is NaN (empty: defined)")
            _tag(node, result, "visit")
            hierarchy.place(scene, node, visit.item)
            tables[visit.name] = node
        columns = {title: [d.get(key) for d in result.deltas] for title, key in zip(DELTA_COLUMNS, _DELTA_KEYS)}
        delta = tme_scene.add_table(scene, f"{result.patient_name} radiomics deltas", columns,
                                    units={"day": "d", "delta relative %": "%", "RC %": "%"})
        delta.SetColumnDescription("RC %", "repeatability coefficient (relative); empty where none is known")
        _tag(delta, result, "deltas")
        base = next(v for v in result.visits if v.name == result.baseline)
        delta.SetAttribute(RADIOMICS_BASELINE, json.dumps({"name": base.name, "day": base.day}))
        hierarchy.place(scene, delta, result.patient_item)
        chart = delta_chart(scene, result.patient_item, plot_features, table=delta, replace=False)
    for node in old:
        scene.RemoveNode(node)
    for node in old_charts:
        _remove_chart(scene, node)
    result.table_nodes, result.delta_table, result.chart = tables, delta, chart
    return result


def _delta_records(table):
    columns = tme_scene.table_to_columns(table)
    n = len(columns.get("visit", []))
    return [{key: columns[title][i] for title, key in zip(DELTA_COLUMNS, _DELTA_KEYS) if title in columns}
            for i in range(n)]


def _baseline_of(table):
    text = table.GetAttribute(RADIOMICS_BASELINE)
    return json.loads(text) if text else {"name": "baseline", "day": None}


def feature_names(scene, patient_item):
    """Feature tags in the patient's delta table (in table order); [] before radiomics ran."""
    table = delta_table_node(scene, patient_item)
    if table is None:
        return []
    column = table.GetTable().GetColumnByName("feature")
    return list(dict.fromkeys(column.GetValue(i) for i in range(column.GetNumberOfValues())))


def delta_chart(scene, patient_item, features=DEFAULT_PLOT_FEATURES, region=TUMOUR, images=None, table=None,
                replace=True):
    """Chart of the relative change from baseline (%) of ``features`` in ``region`` over the visits,
    one series per feature and image; replaces the patient's earlier radiomics chart. Returns it
    (None when no follow-up has a finite value of them)."""
    table = table or delta_table_node(scene, patient_item)
    if table is None:
        raise InputError("no radiomics delta table for this patient: compute radiomics first")
    features = [features] if isinstance(features, str) else list(features)
    records = [r for r in _delta_records(table) if r["region"] == region and r["feature"] in features
               and (images is None or r["image"] in images)]
    if not records and features:
        known = ", ".join(feature_names(scene, patient_item)[:8])
        raise InputError(f"radiomics chart: no delta of {', '.join(features)} in region '{region}' "
                         f"(features include {known} ...)")
    base = _baseline_of(table)
    visits = list(dict.fromkeys(r["visit"] for r in records))
    days = {r["visit"]: r["day"] for r in records}
    xs = [base["day"]] + [days[v] for v in visits]
    if any(x is None or (isinstance(x, float) and not math.isfinite(x)) for x in xs):
        xs = list(range(len(xs)))                       # no days on treatment: visit order
        x_title, x_unit = "visit (order)", ""
    else:
        x_title, x_unit = "day on treatment", "d"
    series = {}
    for record in records:
        label = f"{record['feature']} {record['image']}" if len(features) > 1 else record["image"]
        series.setdefault(label, {base["name"]: 0.0})[record["visit"]] = record["delta_relative_percent"]
    series = {label: [values.get(v, np.nan) for v in [base["name"]] + visits] for label, values in series.items()}
    if replace:
        for node in _chart_nodes(scene, patient_item):
            _remove_chart(scene, node)
    title = f"Radiomics: {', '.join(features)} ({region}) change from baseline"
    chart = tme_scene.add_plot(scene, title, xs, series, x_title, "change from baseline", x_unit, "%",
                               styles={k: "line+markers" for k in series})
    chart.SetAttribute(RADIOMICS_TABLE, "chart")
    chart.SetAttribute("TMEMonitor.RadiomicsFeatures", ",".join(features))
    hierarchy.place(scene, chart, patient_item)
    return chart


def report_section(scene, patient_item):
    """The report's radiomics section (a small delta table of a few features of the tumour per
    visit), or None when radiomics was not computed for the patient."""
    table = delta_table_node(scene, patient_item)
    if table is None:
        return None
    records = [r for r in _delta_records(table) if r["region"] == TUMOUR]
    charted = [name for name, spec in map_biomarkers().items() if spec.charted]
    images = [i for i in [ANATOMY] + charted if any(r["image"] == i for r in records)]
    rows = []
    size_image = images[0] if images else None
    for record in records:
        wanted = (record["feature"] in REPORT_FEATURES and record["image"] in images) or \
                 (record["feature"] == REPORT_SIZE_FEATURE and record["image"] == size_image)
        if wanted:
            rows.append({k: record.get(k) for k in ("visit", "day", "image", "feature", "unit", "baseline_value",
                                                     "value", "delta_absolute", "delta_relative_percent",
                                                     "rc_percent", "real_change")})
    settings_text = table.GetAttribute(RADIOMICS_SETTINGS)
    return {"baseline": _baseline_of(table)["name"], "region": TUMOUR,
            "settings_hash": table.GetAttribute(RADIOMICS_HASH),
            "settings": json.loads(settings_text) if settings_text else None,
            "features": [REPORT_SIZE_FEATURE] + list(REPORT_FEATURES), "images": images, "rows": rows,
            "note": "IBSI features (TMEMonitorLib.radiomics); RC only where test-retest repeatability is known "
                    "(tumour mean of a map, tumour volume), empty otherwise. All features: the scene's radiomics "
                    "tables or tme-monitor radiomics."}
