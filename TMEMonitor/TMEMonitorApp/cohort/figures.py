"""Cohort report figures (matplotlib, Agg): waterfall of the best change per biomarker, spider
plot of change over time, swimmer plot of response categories (with molecular responses), an
early-change biomarker-vs-biomarker scatter and imaging-vs-analyte correlations. Each figure is
written as a PNG and returned as its path."""
import os

import numpy as np

# Direction of a favourable change (response): ADC/D rise when cells die; the others fall.
FAVOURABLE_SIGN = {"ADC": 1, "D": 1}
MAIN_BIOMARKERS = ("recist_sum_mm", "volume_ml", "ADC", "Ktrans")
CATEGORY_COLOURS = {"CR": "#1a9850", "PR": "#91cf60", "SD": "#fee08b", "PD": "#d73027", "baseline": "#999999",
                    "functional response": "#4575b4", "molecular response": "#762a83", "": "#cccccc"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _changes(rows, biomarker, column):
    out = {}
    for row in rows:
        value = row.get(column)
        if value is None:                                   # not harmonised (sizes, analytes): the raw change
            value = row["change_from_baseline_percent"]
        if row["biomarker"] == biomarker and value is not None and row["response_category"] != "baseline":
            out.setdefault(row["patient"], []).append((row["day"], value))
    return {p: sorted(v) for p, v in out.items()}


def best_change(values, biomarker):
    sign = FAVOURABLE_SIGN.get(biomarker, -1)
    return max(values, key=lambda v: sign * v) if values else None


def waterfall(rows, path, column, best_category):
    plt = _pyplot()
    present = [b for b in MAIN_BIOMARKERS if _changes(rows, b, column)]
    if not present:
        return None
    fig, axes = plt.subplots(1, len(present), figsize=(4 * len(present), 3.4), squeeze=False)
    for axis, biomarker in zip(axes[0], present):
        changes = {p: best_change([c for _, c in v], biomarker) for p, v in _changes(rows, biomarker, column).items()}
        order = sorted(changes, key=lambda p: changes[p], reverse=True)
        axis.bar(range(len(order)), [changes[p] for p in order],
                 color=[CATEGORY_COLOURS.get(best_category.get(p, ""), "#cccccc") for p in order])
        axis.set_xticks(range(len(order)))
        axis.set_xticklabels(order, rotation=90, fontsize=7)
        axis.axhline(0, color="k", lw=0.6)
        if biomarker == "recist_sum_mm":
            axis.axhline(-30, color="g", ls="--", lw=0.6)
            axis.axhline(20, color="r", ls="--", lw=0.6)
        axis.set_title(f"best change: {biomarker}", fontsize=9)
        axis.set_ylabel("change from baseline (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def spider(rows, path, column, analytes=()):
    plt = _pyplot()
    present = [b for b in MAIN_BIOMARKERS + tuple(analytes) if _changes(rows, b, column if b not in analytes
                                                                         else "change_from_baseline_percent")]
    if not present:
        return None
    fig, axes = plt.subplots(1, len(present), figsize=(4 * len(present), 3.4), squeeze=False)
    for axis, biomarker in zip(axes[0], present):
        source = "change_from_baseline_percent" if biomarker in analytes else column
        for patient, values in sorted(_changes(rows, biomarker, source).items()):
            axis.plot([0] + [d for d, _ in values], [0] + [c for _, c in values], marker="o", ms=3, lw=1)
        axis.axhline(0, color="k", lw=0.6)
        axis.set_title(f"{biomarker} over time", fontsize=9)
        axis.set_xlabel("day on treatment")
        axis.set_ylabel("change from baseline (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def swimmer(responses, molecular, path, criterion="RECIST 1.1"):
    plt = _pyplot()
    patients = sorted({r["patient"] for r in responses})
    if not patients:
        return None
    fig, axis = plt.subplots(figsize=(7, 0.35 * len(patients) + 1.2))
    for index, patient in enumerate(patients):
        calls = sorted((r["day"] or 0, r["category"]) for r in responses
                       if r["patient"] == patient and r["criterion"] == criterion)
        end = max([d for d, _ in calls] + [1])
        axis.barh(index, end, color="#dddddd", height=0.6)
        for day, category in calls:
            axis.scatter(day, index, color=CATEGORY_COLOURS.get(category, "#000000"), zorder=3, s=30)
        for call in molecular:
            if call["patient"] == patient and call["response"]:
                axis.scatter(call["day"], index, marker="v", color=CATEGORY_COLOURS["molecular response"], zorder=4)
    axis.set_yticks(range(len(patients)))
    axis.set_yticklabels(patients, fontsize=7)
    axis.set_xlabel("day on treatment")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=k) for k, c in CATEGORY_COLOURS.items()
               if k in ("CR", "PR", "SD", "PD")]
    handles.append(plt.Line2D([], [], marker="v", ls="", color=CATEGORY_COLOURS["molecular response"],
                              label="molecular response"))
    axis.legend(handles=handles, fontsize=7, loc="lower right")
    axis.set_title(f"Swimmer plot ({criterion} at each visit)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def early_scatter(rows, path, column, pairs=(("ADC", "Ktrans"), ("ADC", "volume_ml"), ("Ktrans", "volume_ml"))):
    plt = _pyplot()
    early = {}
    for biomarker in {b for pair in pairs for b in pair}:
        for patient, values in _changes(rows, biomarker, column).items():
            early.setdefault(biomarker, {})[patient] = values[0][1]
    present = [(a, b) for a, b in pairs if a in early and b in early and set(early[a]) & set(early[b])]
    if not present:
        return None
    fig, axes = plt.subplots(1, len(present), figsize=(3.6 * len(present), 3.4), squeeze=False)
    for axis, (a, b) in zip(axes[0], present):
        patients = sorted(set(early[a]) & set(early[b]))
        axis.scatter([early[a][p] for p in patients], [early[b][p] for p in patients], s=18)
        for p in patients:
            axis.annotate(p, (early[a][p], early[b][p]), fontsize=6)
        axis.set_xlabel(f"{a} early change (%)")
        axis.set_ylabel(f"{b} early change (%)")
        axis.axhline(0, color="k", lw=0.5)
        axis.axvline(0, color="k", lw=0.5)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def correlation_scatter(correlations, path):
    plt = _pyplot()
    if not correlations:
        return None
    shown = correlations[:4]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.6 * len(shown), 3.4), squeeze=False)
    for axis, entry in zip(axes[0], shown):
        axis.scatter(entry["x"], entry["y"], s=18)
        axis.set_xlabel(f"{entry['imaging']} change (%)")
        axis.set_ylabel(f"{entry['analyte']} change (%)")
        axis.set_title(f"Spearman rho {entry['rho']:.2f} (n={entry['n']})", fontsize=9)
        if len(entry["x"]) > 1:
            slope, intercept = np.polyfit(entry["x"], entry["y"], 1)
            xs = np.linspace(min(entry["x"]), max(entry["x"]), 10)
            axis.plot(xs, slope * xs + intercept, "k--", lw=0.7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_all(rows, responses, molecular, correlations, folder, harmonised):
    os.makedirs(folder, exist_ok=True)
    column = "change_from_baseline_percent_harmonised" if harmonised else "change_from_baseline_percent"
    best = {}
    for r in responses:
        if r["criterion"] == "RECIST 1.1":
            rank = ("CR", "PR", "SD", "PD")
            current = best.get(r["patient"])
            if r["category"] in rank and (current is None or rank.index(r["category"]) < rank.index(current)):
                best[r["patient"]] = r["category"]
    analytes = sorted({r["biomarker"] for r in rows if r["source"] == "external"})
    figures = {"waterfall": waterfall(rows, os.path.join(folder, "waterfall.png"), column, best),
               "spider": spider(rows, os.path.join(folder, "spider.png"), column, analytes),
               "swimmer": swimmer(responses, molecular, os.path.join(folder, "swimmer.png")),
               "early_change_scatter": early_scatter(rows, os.path.join(folder, "early_change_scatter.png"), column),
               "imaging_vs_analyte": correlation_scatter(correlations, os.path.join(folder, "imaging_vs_analyte.png"))}
    return {k: v for k, v in figures.items() if v}, best
