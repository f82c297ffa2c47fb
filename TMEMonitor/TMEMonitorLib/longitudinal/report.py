"""The longitudinal report: figures (PNG), ``report.html`` (self-contained page) and ``report.json``.

``report.json`` holds every number (strict JSON: missing values are null, never 0).
matplotlib is imported where the figures are drawn (not bundled with Slicer: installed on
first use there).
"""
import html
import json
import math
import os

import numpy as np

from ..dependencies import require


def _pyplot():
    matplotlib = require("matplotlib")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def strict(value):
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python numbers."""
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return strict(value.tolist())
    return value


def overlay_png(path, anatomy, values, title, unit, cmap="viridis", value_range=None):
    """A slice of anatomy in grey with a parameter map over it (NaN transparent) and a colour bar."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 3.6), dpi=100)
    ax.imshow(anatomy, cmap="gray", origin="lower")
    masked = np.ma.masked_invalid(values)
    low, high = value_range or (np.nanpercentile(values, 2), np.nanpercentile(values, 98)) if np.isfinite(values).any() else (0, 1)
    image = ax.imshow(masked, cmap=cmap, origin="lower", vmin=low, vmax=high, alpha=0.85)
    fig.colorbar(image, ax=ax, label=unit)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def labels_png(path, anatomy, labels, names_colours, title):
    plt = _pyplot()
    from matplotlib.colors import ListedColormap
    fig, ax = plt.subplots(figsize=(4.2, 3.6), dpi=100)
    ax.imshow(anatomy, cmap="gray", origin="lower")
    colours = [(0, 0, 0, 0)] + [(*rgb, 1.0) for _, rgb in [names_colours[k] for k in sorted(names_colours)]]
    masked = np.ma.masked_equal(labels, 0)
    ax.imshow(masked, cmap=ListedColormap(colours), vmin=0, vmax=len(colours) - 1, origin="lower", alpha=0.8,
              interpolation="nearest")
    handles = [plt.Rectangle((0, 0), 1, 1, color=rgb) for _, rgb in [names_colours[k] for k in sorted(names_colours)]]
    ax.legend(handles, [names_colours[k][0] for k in sorted(names_colours)], fontsize=7, loc="lower right")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def lines_png(path, days, series, title, ylabel):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=100)
    for label, values in series.items():
        ax.plot(days, [np.nan if v is None else v for v in values], marker="o", label=label)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("days on treatment")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def scatter_png(path, baseline, follow_up, threshold, title, unit):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.scatter(baseline, follow_up, s=4, alpha=0.5)
    finite = np.concatenate([baseline, follow_up])
    finite = finite[np.isfinite(finite)]
    if finite.size:
        low, high = np.percentile(finite, [1, 99])
        line = np.array([low, high])
        ax.plot(line, line, "k-", lw=0.8)
        ax.plot(line, line + threshold, "r--", lw=0.8)
        ax.plot(line, line - threshold, "b--", lw=0.8)
    ax.set_xlabel(f"baseline ({unit})")
    ax.set_ylabel(f"follow-up ({unit})")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _cell(value):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "<td class='missing'>missing</td>"
    if isinstance(value, float):
        return f"<td>{value:.4g}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def write_report(out_dir, data, figures):
    """Write ``report.json`` (``data``) and ``report.html`` (tables, calls and ``figures``: [(caption, path)])."""
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, "report.json")
    with open(json_path, "w") as handle:
        json.dump(strict(data), handle, indent=1, allow_nan=False)
    patient = data.get("patient", {})
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>TME Monitor report</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:1200px} table{border-collapse:collapse;"
             "font-size:12px} td,th{border:1px solid #ccc;padding:3px 6px} .missing{color:#a00;font-style:italic}"
             " .real{font-weight:bold;color:#063} figure{display:inline-block;margin:6px} figcaption{font-size:11px}"
             "</style></head><body>",
             f"<h1>TME Monitor — {html.escape(str(patient.get('name', '')))}</h1>",
             f"<p>Patient ID {html.escape(str(patient.get('id', '')))}; treatment start "
             f"{html.escape(str(patient.get('treatment_start', 'unknown')))}; organ for repeatability: "
             f"{html.escape(str(data.get('organ', '')))}.</p>",
             "<h2>Response</h2><table><tr><th>criterion</th><th>visit</th><th>category</th><th>confirmed</th>"
             "<th>reason</th></tr>"]
    for call in data.get("response", []):
        parts.append("<tr>" + "".join(_cell(call.get(k)) for k in ("criterion", "visit", "category", "confirmed", "reason"))
                     + "</tr>")
    parts.append("</table><p><i>The functional call is a research readout, not a clinical response criterion.</i></p>")
    parts.append("<h2>Biomarkers per visit</h2><table><tr><th>visit</th><th>day</th><th>biomarker</th><th>unit</th>"
                 "<th>measured</th><th>truth</th><th>change from baseline %</th><th>change from previous %</th>"
                 "<th>RC %</th><th>real change</th></tr>")
    for visit in data.get("visits", []):
        for name, entry in visit.get("biomarkers", {}).items():
            real = entry.get("real_change")
            parts.append("<tr>" + _cell(visit.get("name")) + _cell(visit.get("day")) + _cell(name)
                         + _cell(entry.get("unit")) + _cell(entry.get("measured")) + _cell(entry.get("truth"))
                         + _cell(entry.get("change_from_baseline_percent"))
                         + _cell(entry.get("change_from_previous_percent")) + _cell(entry.get("rc_percent"))
                         + (f"<td class='real'>yes</td>" if real else _cell("no" if real is False else None)) + "</tr>")
    parts.append("</table>")
    if data.get("registration"):
        parts.append("<h2>Registration to baseline</h2><ul>")
        for name, text in data["registration"].items():
            parts.append(f"<li>{html.escape(name)}: {html.escape(str(text))}</li>")
        parts.append("</ul>")
    if data.get("prm"):
        parts.append("<h2>Voxel-wise response maps</h2><table><tr><th>map</th><th>threshold</th><th>increased</th>"
                     "<th>decreased</th><th>unchanged</th></tr>")
        for name, prm in data["prm"].items():
            parts.append("<tr>" + _cell(name) + _cell(prm.get("threshold")) + _cell(prm["fractions"].get("increased"))
                         + _cell(prm["fractions"].get("decreased")) + _cell(prm["fractions"].get("unchanged")) + "</tr>")
        parts.append("</table>")
    parts.append("<h2>Figures</h2>")
    for caption, path in figures:
        relative = os.path.relpath(path, out_dir)
        parts.append(f"<figure><img src='{html.escape(relative)}'><figcaption>{html.escape(caption)}</figcaption></figure>")
    parts.append("</body></html>")
    html_path = os.path.join(out_dir, "report.html")
    with open(html_path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts))
    return html_path, json_path
