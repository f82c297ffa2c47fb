"""The longitudinal report: ``report.json`` (every number) and ``report.html`` (one page).

``report.json`` is strict JSON: NaN/inf and missing values are ``null``, never 0. Per visit
it holds each biomarker's measured value, its true value when known (phantom), the changes
from baseline and from the previous visit, the repeatability coefficient, the real-change
flag, and the response category of every criterion at that visit.
``report.html`` shows the same tables and the images: relative links to PNG files inside
the output folder (images elsewhere are copied into ``figures/``) or, with
``embed_images=True``, base64 data inside the page so it travels as one file.
The figure helpers are in ``figures.py`` (re-exported here).
"""
import base64
import html
import math
import os
import shutil

import numpy as np

from .. import quantities
from ..errors import InputError
from .biomarkers import BiomarkerTable
from .figures import labels_png, lines_png, overlay_png, scatter_png  # noqa: F401  (re-exported)

RESEARCH_NOTE = ("The functional call is a research readout from real-change flags, not a clinical response "
                 "criterion. Volumetric calls are research use as well.")


def strict(value):
    """JSON-safe copy: NaN/inf -> None, numpy scalars and arrays -> Python numbers and lists."""
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if isinstance(value, np.ndarray):
        return strict(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "as_dict"):
        return strict(value.as_dict())
    return value


def _as_dict(item):
    return item.as_dict() if hasattr(item, "as_dict") else dict(item)


def write_report(out_dir, patient_info, visits_table, response_calls=(), figures=(), maps_images=(),
                 registration=None, prm=None, habitats=None, organ=None, rc_percent=None, embed_images=False,
                 title="TME Monitor report"):
    """Write ``out_dir/report.json`` and ``out_dir/report.html``; returns (html path, json path).

    - ``patient_info``: dict (name, id, treatment_start, ... anything shown and stored).
    - ``visits_table``: a :class:`BiomarkerTable` (``rc_percent``: biomarker -> %RC for the
      real-change flags) or rows as ``BiomarkerTable.as_rows`` makes them.
    - ``response_calls``: ResponseCall objects (or their dicts).
    - ``figures``: [(caption, png path)] plots (biomarker vs day, PRM scatter ...);
      ``maps_images``: [(caption, png path)] maps over anatomy, response maps, habitats.
    - ``registration``: {visit: RegistrationResult or dict}; ``prm``: {map: {...}};
      ``habitats``: {visit: {habitat: mL}}.
    """
    rows = visits_table.as_rows(rc_percent) if isinstance(visits_table, BiomarkerTable) else list(visits_table)
    calls = [_as_dict(c) for c in response_calls]
    for row in rows:
        row["response"] = {c["criterion"]: c["category"] for c in calls if c["visit"] == row["name"]}
    data = {"title": title, "patient": dict(patient_info or {}), "organ": organ, "visits": rows, "response": calls,
            "registration": {name: (r.as_dict() if hasattr(r, "as_dict") else r)
                             for name, r in (registration or {}).items()},
            "prm": prm or {}, "habitats": habitats or {}}
    return write_report_data(out_dir, data, list(figures), maps_images=list(maps_images), embed_images=embed_images)


def _image_source(out_dir, path, embed):
    if embed:
        with open(path, "rb") as handle:
            return "data:image/png;base64," + base64.b64encode(handle.read()).decode("ascii")
    path = os.path.abspath(path)
    root = os.path.abspath(out_dir)
    if os.path.commonpath([path, root]) != root:                 # outside the report folder: copy it in
        target_dir = os.path.join(root, "figures")
        os.makedirs(target_dir, exist_ok=True)
        target = os.path.join(target_dir, os.path.basename(path))
        shutil.copyfile(path, target)
        path = target
    return os.path.relpath(path, root).replace(os.sep, "/")


NA = "<td class='na'>n/a</td>"


def _cell(value, css="", applies=True):
    """A table cell; a missing value is *missing* (red) where it applies, n/a (grey) where it does not."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "<td class='missing'>missing</td>" if applies else NA
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, float):
        value = f"{value:.4g}"
    return f"<td{css}>{html.escape(str(value))}</td>"


def _with_unit(value, unit, scale=1.0):
    """'45.5 mm' (None stays None, for _cell)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    text = f"{value * scale:.4g}"
    shown = quantities.human_unit(unit) if unit is not None else ""
    return f"{text} {shown}".strip() if shown and shown != "unitless" else text


def _flag(flag, applies=True):
    """Real-change flag: +1/-1/0 (direction) or True/False (first version), None unknown."""
    if flag is None:
        return NA if not applies else "<td class='na'>–</td>"
    if isinstance(flag, bool):
        return "<td class='real'>real change</td>" if flag else "<td>within RC</td>"
    return {1: "<td class='real'>real increase</td>", -1: "<td class='real'>real decrease</td>"}.get(
        flag, "<td>within RC</td>")


_STYLE = ("body{font-family:sans-serif;margin:2em;max-width:1250px} table{border-collapse:collapse;font-size:12px;"
          "margin-bottom:1em} td,th{border:1px solid #ccc;padding:3px 6px;text-align:left} .missing{color:#a00;"
          "font-style:italic} .na{color:#999} .real{font-weight:bold;color:#063} figure{display:inline-block;"
          "margin:6px;vertical-align:top} figcaption{font-size:11px;max-width:440px} .note{color:#555}"
          " .grid{display:grid;gap:6px;align-items:start;margin-bottom:1em} .grid figure{margin:0;display:block}"
          " .grid img{width:100%;height:auto;display:block} .grid .rowhead{font-weight:bold;font-size:13px;"
          "align-self:center} .verdict li{margin-bottom:4px} .organ{font-weight:bold}")

# Patient fields as a reader names them.
PATIENT_LABELS = {"name": "Patient", "id": "ID", "treatment_start": "Treatment start", "sex": "Sex",
                  "birth_date": "Birth date"}


def _date_text(value):
    """'20260302' (DICOM DA) -> '2026-03-02'; other text unchanged."""
    text = str(value)
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def _patient_line(patient, organ):
    parts = []
    for key, value in patient.items():
        if value in (None, ""):
            continue
        label = PATIENT_LABELS.get(key, key.replace("_", " ").capitalize())
        shown = _date_text(value) if "date" in key or "start" in key else value
        parts.append(f"{html.escape(label)}: {html.escape(str(shown))}")
    if organ:
        parts.append(f"<span class='organ'>Organ: {html.escape(str(organ))}</span>")
    return "; ".join(parts)


def biomarker_label(name, unit=None):
    """(quantity label, display unit, scale) of a biomarker from the registry of quantities."""
    entry = quantities.lookup(name)
    if not quantities.is_registered(name) and unit is not None:
        return name, quantities.human_unit(unit), 1.0
    return entry.quantity, entry.display_unit, entry.display_scale


def _unit_text(unit):
    return "" if not unit or unit == "unitless" else unit


def registration_entry(value):
    """A registration record as a mapping (method, quality{nmi_before, nmi_after, correlation_before,
    correlation_after, dice, warnings}); scenes saved before it was structured hold the summary
    text 'rigid: NMI 1.190 -> 1.221, correlation 0.857 -> 0.916, tumour Dice 0.93 (warning: ...)',
    which is parsed."""
    if isinstance(value, dict):
        return value
    import re
    text = str(value)
    method, _, rest = text.partition(":")
    quality = {"warnings": []}
    for key, pattern in (("nmi", r"NMI\s+([-\d.]+)\s*->\s*([-\d.]+)"),
                         ("correlation", r"correlation\s+([-\d.]+)\s*->\s*([-\d.]+)")):
        found = re.search(pattern, rest)
        if found:
            quality[f"{key}_before"], quality[f"{key}_after"] = float(found.group(1)), float(found.group(2))
    found = re.search(r"Dice\s+([-\d.]+)", rest)
    if found:
        quality["dice"] = float(found.group(1))
    found = re.search(r"\(warning:\s*(.*)\)\s*$", rest)
    if found:
        quality["warnings"] = [w.strip() for w in found.group(1).split(";") if w.strip()]
    return {"method": method.strip() if rest else None, "quality": quality}


def _verdicts(data):
    """One line per follow-up visit: the primary criterion's call (and the others), and the
    biomarkers that changed beyond their repeatability coefficient."""
    calls = data.get("response", [])
    baseline = data.get("baseline")
    lines = []
    for visit in data.get("visits", []):
        name = visit.get("name")
        if name == baseline:
            continue
        visit_calls = [c for c in calls if c.get("visit") == name]
        clinical = [c for c in visit_calls if not str(c.get("criterion", "")).startswith("functional")]
        functional = [c for c in visit_calls if str(c.get("criterion", "")).startswith("functional")]
        head = ", ".join(f"{c['criterion']} <b>{html.escape(str(c['category']))}</b>" for c in clinical) \
            or "no size criterion"
        changed = []
        for biomarker, entry in visit.get("biomarkers", {}).items():
            flag = entry.get("real_change")
            change = entry.get("change_from_baseline_percent")
            if flag in (1, -1, True) and change is not None:
                label, _, _ = biomarker_label(biomarker, entry.get("unit"))
                changed.append(f"{html.escape(label)} {change:+.0f} %")
        text = (f"<li><b>{html.escape(str(name))}</b>" + (f" (day {visit['day']})" if visit.get("day") is not None
                                                          else "") + f": {head}")
        if functional:
            text += "; " + ", ".join(f"{html.escape(c['criterion'])}: {html.escape(str(c['category']))}"
                                     for c in functional)
        text += "; beyond repeatability: " + (", ".join(changed) if changed else "none") + "</li>"
        lines.append(text)
    return lines


def _figure_html(caption, source):
    return (f"<figure><img src='{html.escape(source)}' alt='{html.escape(caption)}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _html(data, figures, maps_images, sources, map_grid=None):
    patient = data.get("patient", {})
    title = data.get("title") or "TME Monitor report"
    if patient.get("name") and str(patient["name"]) not in title:
        title = f"{title}: {patient['name']}"
    organ = data.get("organ")
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(str(title))}"
           f"</title><style>{_STYLE}</style></head><body>",
           f"<h1>{html.escape(str(title))}</h1><p>{_patient_line(patient, organ)}</p>"]
    if data.get("criteria"):
        out.append(f"<p class='note'>Criteria for {html.escape(str(organ or 'this organ'))}: "
                   f"{html.escape(', '.join(data['criteria']))}.</p>")
    verdicts = _verdicts(data)
    if verdicts:
        out.append("<h2>Summary per visit</h2><ul class='verdict'>" + "".join(verdicts) + "</ul>")
    out.append("<h2>Response</h2><table><tr><th>criterion</th><th>visit</th><th>category</th><th>value</th>"
               "<th>baseline</th><th>nadir</th><th>change from baseline (%)</th><th>change from nadir (%)</th>"
               "<th>PR / PD thresholds (%)</th><th>confirmed</th><th>reason</th></tr>")
    for call in data.get("response", []):
        n = call.get("numbers", {})
        sized = "value" in n or "baseline" in n            # size criteria carry numbers; functional ones flags
        unit = n.get("unit")
        thresholds = (f"{n['PR_threshold_percent']:g} / +{n['PD_threshold_percent']:g}"
                      if n.get("PR_threshold_percent") is not None else None)
        out.append("<tr>" + "".join(_cell(v) for v in (call.get("criterion"), call.get("visit"), call.get("category")))
                   + "".join(_cell(v, applies=sized) for v in (
                       _with_unit(n.get("value"), unit), _with_unit(n.get("baseline"), unit),
                       _with_unit(n.get("nadir"), unit), n.get("change_from_baseline_percent"),
                       n.get("change_from_nadir_percent"), thresholds))
                   + (NA if call.get("confirmed") is None else _cell(call.get("confirmed")))
                   + _cell(call.get("reason")) + "</tr>")
    out.append(f"</table><p class='note'><i>{RESEARCH_NOTE}</i></p>")
    rows = data.get("visits", [])
    with_truth = any(entry.get("truth") is not None for visit in rows for entry in visit.get("biomarkers", {}).values())
    out.append("<h2>Biomarkers per visit</h2><table><tr><th>visit</th><th>date</th><th>day</th><th>biomarker</th>"
               "<th>unit</th><th>measured</th>" + ("<th>truth (phantom)</th>" if with_truth else "")
               + "<th>change from baseline (%)</th><th>change from previous (%)</th><th>repeatability coefficient (%)"
                 "</th><th>real change</th></tr>")
    baseline = data.get("baseline") or (rows[0].get("name") if rows else None)
    for index, visit in enumerate(rows):
        is_baseline = visit.get("name") == baseline
        for name, entry in visit.get("biomarkers", {}).items():
            label, unit, scale = biomarker_label(name, entry.get("unit"))
            measured = entry.get("measured")
            truth = entry.get("truth")
            out.append("<tr>" + "".join(_cell(v) for v in (visit.get("name"), visit.get("date"), visit.get("day"),
                                                           label))
                       + _cell(_unit_text(unit) or "unitless")
                       + _cell(None if measured is None else measured * scale)
                       + ((NA if truth is None else _cell(truth * scale)) if with_truth else "")
                       + _cell(entry.get("change_from_baseline_percent"), applies=not is_baseline)
                       + _cell(entry.get("change_from_previous_percent"), applies=index > 0)
                       + _cell(entry.get("rc_percent"), applies=False)
                       + _flag(entry.get("real_change"), applies=not is_baseline) + "</tr>")
    out.append("</table>")
    if data.get("registration"):
        out.append("<h2>Registration to baseline</h2><table><tr><th>visit</th><th>method</th><th>NMI before → after"
                   "</th><th>correlation before → after</th><th>tumour Dice</th><th>warnings</th></tr>")
        for name, record in data["registration"].items():
            r = registration_entry(record)
            q = r.get("quality") or {}
            fmt = (lambda a, b: f"{a:.3f} → {b:.3f}" if a is not None and b is not None else None)
            dice = q.get("dice")
            out.append("<tr>" + _cell(name) + _cell(r.get("method"))
                       + _cell(fmt(q.get("nmi_before"), q.get("nmi_after")))
                       + _cell(fmt(q.get("correlation_before"), q.get("correlation_after")))
                       + _cell(None if dice is None else f"{dice:.2f}", applies=False)
                       + _cell("; ".join(q.get("warnings") or []) or "none") + "</tr>")
        out.append("</table>")
    if data.get("prm"):
        out.append("<h2>Parametric response maps</h2><table><tr><th>map</th><th>follow-up</th><th>threshold</th>"
                   "<th>increased (fraction)</th><th>decreased (fraction)</th><th>unchanged (fraction)</th></tr>")
        for name, prm in data["prm"].items():
            f = prm.get("fractions", {})
            label, shown, scale = biomarker_label(name, prm.get("unit"))
            threshold = prm.get("threshold")
            out.append("<tr>" + "".join(_cell(v) for v in (
                label, prm.get("follow_up"),
                f"{threshold * scale:.4g} {_unit_text(shown)}".strip() if threshold is not None else None,
                f.get("increased"), f.get("decreased"), f.get("unchanged"))) + "</tr>")
        out.append("</table><p class='note'>Fractions of the baseline tumour voxels with both values.</p>")
    if data.get("habitats"):
        names = sorted({h for volumes in data["habitats"].values() for h in volumes})
        out.append("<h2>Habitat volumes (mL)</h2><table><tr><th>visit</th>"
                   + "".join(f"<th>{html.escape(h)} (mL)</th>" for h in names) + "</tr>")
        for visit, volumes in data["habitats"].items():
            out.append("<tr>" + _cell(visit) + "".join(_cell(volumes.get(h)) for h in names) + "</tr>")
        out.append("</table>")
    if map_grid:
        columns = map_grid["columns"]
        out.append("<h2>Maps per visit</h2><p class='note'>Axial slice through the tumour, radiological convention "
                   "(patient's right on the screen's left), as Slicer's axial view; one colour scale per quantity for "
                   "every visit.</p>")
        out.append(f"<div class='grid' style='grid-template-columns:7em repeat({len(columns)}, minmax(0, 1fr))'>"
                   "<div></div>" + "".join(f"<div class='rowhead'>{html.escape(c)}</div>" for c in columns))
        for row_label, cells in map_grid["rows"]:
            out.append(f"<div class='rowhead'>{html.escape(row_label)}</div>")
            for column in columns:
                cell = cells.get(column)
                out.append(_figure_html(cell[0], sources[cell[1]]) if cell else "<div class='na'>n/a</div>")
        out.append("</div>")
    if data.get("radiomics"):
        out.append(_radiomics_html(data["radiomics"]))
    for heading, images in (("Maps", maps_images), ("Plots", figures)):
        if images:
            out.append(f"<h2>{heading}</h2>")
            for caption, path in images:
                out.append(_figure_html(caption, sources[path]))
    out.append("</body></html>")
    return "\n".join(out)


def _radiomics_html(section):
    """Radiomics section: change from baseline of a few IBSI features of the tumour per visit."""
    out = [f"<h2>Radiomics (tumour, change from {html.escape(str(section.get('baseline')))})</h2><table><tr>"
           "<th>visit</th><th>day</th><th>image</th><th>feature</th><th>unit</th><th>baseline</th><th>value</th>"
           "<th>change %</th><th>RC %</th><th>real change</th></tr>"]
    for row in section.get("rows", []):
        out.append("<tr>" + "".join(_cell(row.get(k)) for k in (
            "visit", "day", "image", "feature", "unit", "baseline_value", "value", "delta_relative_percent"))
            + (NA if row.get("rc_percent") is None else _cell(row.get("rc_percent")))
            + (NA if not row.get("real_change") else _cell(row.get("real_change"))) + "</tr>")
    out.append(f"</table><p class='note'>Settings {html.escape(str(section.get('settings_hash')))}. "
               f"{html.escape(str(section.get('note', '')))}</p>")
    return "".join(out)


def write_report_data(out_dir, data, figures, maps_images=(), embed_images=False, map_grid=None):
    """Write a ready report dict (``report.json`` as is) and its HTML page; returns (html, json) paths.

    ``figures`` / ``maps_images``: [(caption, png path)]. ``map_grid`` (optional): the per-visit
    maps laid out as a grid that lines up at every width, {"columns": [column titles], "rows":
    [(row title, {column title: (caption, png path)})]}. ``embed_images``: the PNGs as base64
    data inside report.html (one self-contained file to mail) instead of relative links.
    """
    grid_images = [cell for _, cells in (map_grid or {}).get("rows", []) for cell in cells.values()]
    images = grid_images + list(maps_images) + list(figures)
    for caption, path in images:
        if not os.path.isfile(path):
            raise InputError(f"report image '{caption}': file {path} does not exist")
    os.makedirs(out_dir, exist_ok=True)
    sources = {path: _image_source(out_dir, path, embed_images) for _, path in images}
    data = dict(data)
    if data.get("registration"):
        data["registration"] = {name: registration_entry(r.as_dict() if hasattr(r, "as_dict") else r)
                                for name, r in data["registration"].items()}
    data["images"] = [{"caption": caption, "file": None if embed_images else sources[path]}
                      for caption, path in images]
    # Each file written whole (temporary name, then renamed): a failure leaves the previous report.
    from ..atomic_files import write_json, write_text
    json_path = write_json(os.path.join(out_dir, "report.json"), strict(data), indent=1, allow_nan=False)
    html_path = write_text(os.path.join(out_dir, "report.html"),
                           _html(strict(data), list(figures), list(maps_images), sources, map_grid))
    return html_path, json_path
