"""The cohort report (one self-contained HTML file: PNG figures embedded as base64)."""
import base64
import html
import os

from . import figures as figure_writer

RESPONDING = {"CR", "PR", "functional response", "molecular response"}


def response_rates(responses, molecular):
    """[{criterion, n, counts {category: n}, responders, rate}] from each patient's best call."""
    order = ("CR", "PR", "functional response", "SD", "no functional response", "PD")
    best = {}
    for call in responses:
        key = (call["criterion"], call["patient"])
        current = best.get(key)
        rank = order.index(call["category"]) if call["category"] in order else len(order)
        if current is None or rank < current[0]:
            best[key] = (rank, call["category"])
    table = []
    for criterion in sorted({c for c, _ in best}):
        categories = [v[1] for (c, _), v in best.items() if c == criterion]
        counts = {k: categories.count(k) for k in sorted(set(categories))}
        responders = sum(n for k, n in counts.items() if k in RESPONDING)
        table.append({"criterion": criterion, "n": len(categories), "counts": counts, "responders": responders,
                      "rate": responders / len(categories) if categories else None})
    for rule in sorted({m["rule"] for m in molecular}):
        calls = [m for m in molecular if m["rule"] == rule]
        responders = sum(1 for m in calls if m["response"])
        table.append({"criterion": f"{rule} [{calls[0]['citation']}]", "n": len(calls),
                      "counts": {"molecular response": responders, "no molecular response": len(calls) - responders},
                      "responders": responders, "rate": responders / len(calls)})
    return table


def _image(path):
    with open(path, "rb") as stream:
        return "data:image/png;base64," + base64.b64encode(stream.read()).decode()


def write_report(path, rows, responses, molecular, correlations, status_rows, settings, estimates, notes,
                 figures_folder):
    harmonised = estimates is not None
    figures, best = figure_writer.write_all(rows, responses, molecular, correlations, figures_folder, harmonised)
    e = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>TME Monitor cohort report</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;"
             "font-size:12px}td,th{border:1px solid #bbb;padding:3px 6px}img{max-width:100%}</style></head><body>",
             "<h1>TME Monitor cohort report</h1>"]
    done = sum(1 for s in status_rows if s["state"] == "done")
    parts.append(f"<p>{len(status_rows)} patients: {done} done, "
                 f"{sum(1 for s in status_rows if s['state'] == 'failed')} failed, "
                 f"{sum(1 for s in status_rows if s['state'] == 'invalid')} invalid in the manifest.</p>")
    if harmonised:
        ref = estimates["reference_site"] or "the pooled grand mean"
        parts.append(f"<p><b>Values shown: harmonised</b> ({e(estimates['method'])}; sites {e(', '.join(estimates['sites']))}; "
                     f"reference {e(ref)}; covariates preserved: {e(', '.join(c['name'] for c in estimates['covariates']) or 'none')}; "
                     f"biomarkers {e(', '.join(estimates['features']))}). The table keeps raw values in <code>value</code> "
                     f"and harmonised ones in <code>value_harmonised</code>. {e(estimates['citation'])}.</p>")
    else:
        parts.append("<p><b>Values shown: raw</b> (not harmonised across sites; run with --harmonise for ComBat).</p>")
    titles = {"waterfall": "Waterfall: best change from baseline per patient (colour: best RECIST 1.1 response)",
              "spider": "Spider plot: change from baseline over time", "swimmer": "Swimmer plot of response categories",
              "early_change_scatter": "Early change (first follow-up): biomarker vs biomarker",
              "imaging_vs_analyte": "Imaging change vs non-imaging biomarker change (first follow-up)"}
    for name, figure in figures.items():
        parts.append(f"<h2>{e(titles[name])}</h2><img src='{_image(figure)}' alt='{e(name)}'>")
    parts.append("<h2>Response rates per criterion (best response per patient)</h2><table>"
                 "<tr><th>criterion</th><th>patients</th><th>categories</th><th>responders</th><th>rate</th></tr>")
    for entry in response_rates(responses, molecular):
        counts = ", ".join(f"{k or '(none)'}: {n}" for k, n in entry["counts"].items())
        rate = "" if entry["rate"] is None else f"{100 * entry['rate']:.0f} %"
        parts.append(f"<tr><td>{e(entry['criterion'])}</td><td>{entry['n']}</td><td>{e(counts)}</td>"
                     f"<td>{entry['responders']}</td><td>{rate}</td></tr>")
    parts.append("</table><p>Responders: CR/PR (RECIST 1.1, volumetric, RANO 2.0), functional response, molecular "
                 "response.</p>")
    if correlations:
        parts.append("<h2>Imaging vs non-imaging biomarker change (Spearman)</h2><table><tr><th>imaging</th>"
                     "<th>analyte</th><th>n</th><th>rho</th><th>p</th></tr>")
        for c in correlations:
            parts.append(f"<tr><td>{e(c['imaging'])}</td><td>{e(c['analyte'])}</td><td>{c['n']}</td>"
                         f"<td>{c['rho']:.3f}</td><td>{c['p']:.3g}</td></tr>")
        parts.append("</table>")
    if molecular:
        parts.append("<h2>Molecular response calls</h2><table><tr><th>patient</th><th>analyte</th><th>rule</th>"
                     "<th>response</th><th>day</th><th>confirmed</th></tr>")
        for m in molecular:
            parts.append(f"<tr><td>{e(m['patient'])}</td><td>{e(m['analyte'])}</td><td>{e(m['rule'])} "
                         f"(fall &ge; {m['fall_percent']:g} %; {e(m['citation'])})</td><td>{'yes' if m['response'] else 'no'}</td>"
                         f"<td>{'' if m['day'] is None else m['day']}</td>"
                         f"<td>{'' if m['confirmed'] is None else ('yes' if m['confirmed'] else 'no')}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Patients</h2><table><tr><th>patient</th><th>site</th><th>state</th><th>best RECIST 1.1</th>"
                 "<th>seconds</th><th>error</th><th>report</th></tr>")
    for s in status_rows:
        link = f"<a href='{e(s['folder'])}/report.html'>report</a>" if s["state"] == "done" else ""
        parts.append(f"<tr><td>{e(s['patient'])}</td><td>{e(s.get('site') or '')}</td><td>{e(s['state'])}</td>"
                     f"<td>{e(best.get(s['patient'], ''))}</td><td>{'' if s['seconds'] is None else s['seconds']}</td>"
                     f"<td>{e(s['error'] or '')}</td><td>{link}</td></tr>")
    parts.append("</table>")
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    import json
    parts.append(f"<h2>Settings</h2><pre>{e(json.dumps(settings, indent=1, default=str))}</pre></body></html>")
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as stream:
        stream.write("\n".join(parts))
    os.replace(temporary, path)
    return path, figures
