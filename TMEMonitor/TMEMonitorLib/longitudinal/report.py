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


def _cell(value, css=""):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "<td class='missing'>missing</td>"
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, float):
        value = f"{value:.4g}"
    return f"<td{css}>{html.escape(str(value))}</td>"


def _flag(flag):
    """Real-change flag: +1/-1/0 (direction) or True/False (first version), None unknown."""
    if flag is None:
        return "<td class='na'>–</td>"
    if isinstance(flag, bool):
        return "<td class='real'>real change</td>" if flag else "<td>within RC</td>"
    return {1: "<td class='real'>real increase</td>", -1: "<td class='real'>real decrease</td>"}.get(
        flag, "<td>within RC</td>")


_STYLE = ("body{font-family:sans-serif;margin:2em;max-width:1250px} table{border-collapse:collapse;font-size:12px;"
          "margin-bottom:1em} td,th{border:1px solid #ccc;padding:3px 6px;text-align:left} .missing{color:#a00;"
          "font-style:italic} .na{color:#999} .real{font-weight:bold;color:#063} figure{display:inline-block;"
          "margin:6px;vertical-align:top} figcaption{font-size:11px;max-width:440px} .note{color:#555}")


def _html(data, figures, maps_images, sources):
    patient = data.get("patient", {})
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(str(data.get('title', '')))}"
           f"</title><style>{_STYLE}</style></head><body>",
           f"<h1>{html.escape(str(data.get('title', 'TME Monitor report')))}</h1><p>"
           + "; ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in patient.items())
           + (f"; organ for repeatability: {html.escape(str(data['organ']))}" if data.get("organ") else "") + "</p>"]
    out.append("<h2>Response</h2><table><tr><th>criterion</th><th>visit</th><th>category</th><th>value</th>"
               "<th>baseline</th><th>nadir</th><th>change from baseline %</th><th>change from nadir %</th>"
               "<th>PR / PD thresholds %</th><th>confirmed</th><th>reason</th></tr>")
    for call in data.get("response", []):
        n = call.get("numbers", {})
        thresholds = (f"{n['PR_threshold_percent']:g} / +{n['PD_threshold_percent']:g}"
                      if n.get("PR_threshold_percent") is not None else None)
        out.append("<tr>" + "".join(_cell(v) for v in (
            call.get("criterion"), call.get("visit"), call.get("category"), n.get("value"), n.get("baseline"),
            n.get("nadir"), n.get("change_from_baseline_percent"), n.get("change_from_nadir_percent"), thresholds))
            + ("<td class='na'>–</td>" if call.get("confirmed") is None else _cell(call.get("confirmed")))
            + _cell(call.get("reason")) + "</tr>")
    out.append(f"</table><p class='note'><i>{RESEARCH_NOTE}</i></p>")
    out.append("<h2>Biomarkers per visit</h2><table><tr><th>visit</th><th>date</th><th>day</th><th>biomarker</th>"
               "<th>unit</th><th>measured</th><th>truth</th><th>change from baseline %</th>"
               "<th>change from previous %</th><th>RC %</th><th>real change</th></tr>")
    for visit in data.get("visits", []):
        for name, entry in visit.get("biomarkers", {}).items():
            real = entry.get("real_change")
            out.append("<tr>" + "".join(_cell(v) for v in (
                visit.get("name"), visit.get("date"), visit.get("day"), name, entry.get("unit"), entry.get("measured")))
                + ("<td class='na'>–</td>" if entry.get("truth") is None else _cell(entry.get("truth")))
                + _cell(entry.get("change_from_baseline_percent")) + _cell(entry.get("change_from_previous_percent"))
                + _cell(entry.get("rc_percent")) + _flag(real) + "</tr>")
    out.append("</table>")
    if data.get("registration"):
        out.append("<h2>Registration to baseline</h2><table><tr><th>visit</th><th>method</th><th>NMI before → after"
                   "</th><th>correlation before → after</th><th>tumour Dice</th><th>warnings</th></tr>")
        for name, r in data["registration"].items():
            q = r.get("quality", {}) if isinstance(r, dict) else {}
            fmt = (lambda a, b: f"{a:.3f} → {b:.3f}" if a is not None and b is not None else None)
            out.append("<tr>" + _cell(name) + _cell(r.get("method") if isinstance(r, dict) else str(r))
                       + _cell(fmt(q.get("nmi_before"), q.get("nmi_after")))
                       + _cell(fmt(q.get("correlation_before"), q.get("correlation_after")))
                       + _cell(q.get("dice")) + _cell("; ".join(q.get("warnings", [])) or "none") + "</tr>")
        out.append("</table>")
    if data.get("prm"):
        out.append("<h2>Parametric response maps</h2><table><tr><th>map</th><th>follow-up</th><th>threshold</th>"
                   "<th>increased</th><th>decreased</th><th>unchanged</th></tr>")
        for name, prm in data["prm"].items():
            f = prm.get("fractions", {})
            out.append("<tr>" + "".join(_cell(v) for v in (
                name, prm.get("follow_up"), f"{prm.get('threshold'):.4g} {prm.get('unit', '')}".strip()
                if prm.get("threshold") is not None else None, f.get("increased"), f.get("decreased"),
                f.get("unchanged"))) + "</tr>")
        out.append("</table><p class='note'>Fractions of the baseline tumour voxels with both values.</p>")
    if data.get("habitats"):
        names = sorted({h for volumes in data["habitats"].values() for h in volumes})
        out.append("<h2>Habitat volumes (mL)</h2><table><tr><th>visit</th>"
                   + "".join(f"<th>{html.escape(h)}</th>" for h in names) + "</tr>")
        for visit, volumes in data["habitats"].items():
            out.append("<tr>" + _cell(visit) + "".join(_cell(volumes.get(h)) for h in names) + "</tr>")
        out.append("</table>")
    for heading, images in (("Maps", maps_images), ("Plots", figures)):
        if images:
            out.append(f"<h2>{heading}</h2>")
            for caption, path in images:
                out.append(f"<figure><img src='{html.escape(sources[path])}' alt='{html.escape(caption)}'>"
                           f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report_data(out_dir, data, figures, maps_images=(), embed_images=False):
    """Write a ready report dict (``report.json`` as is) and its HTML page; returns (html, json) paths.

    ``figures`` / ``maps_images``: [(caption, png path)].
    """
    images = list(maps_images) + list(figures)
    for caption, path in images:
        if not os.path.isfile(path):
            raise InputError(f"report image '{caption}': file {path} does not exist")
    os.makedirs(out_dir, exist_ok=True)
    sources = {path: _image_source(out_dir, path, embed_images) for _, path in images}
    data = dict(data)
    data["images"] = [{"caption": caption, "file": None if embed_images else sources[path]}
                      for caption, path in images]
    # Each file written whole (temporary name, then renamed): a failure leaves the previous report.
    from ..atomic_files import write_json, write_text
    json_path = write_json(os.path.join(out_dir, "report.json"), strict(data), indent=1, allow_nan=False)
    html_path = write_text(os.path.join(out_dir, "report.html"),
                           _html(strict(data), list(figures), list(maps_images), sources))
    return html_path, json_path
