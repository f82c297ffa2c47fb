"""Radiomics files: features.csv (long format), deltas.csv, settings.json and summary.txt."""
import csv
import math
import os

from TMEMonitorLib.radiomics import write_long_csv, write_settings_json

DELTA_CSV_COLUMNS = ("patient", "visit", "day", "baseline", "region", "image", "feature", "unit", "baseline_value",
                     "value", "delta_absolute", "delta_relative_percent", "rc_percent", "real_change",
                     "repeatability_note")


def _cell(value):
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return "" if value is None else value


def write_delta_csv(deltas, path):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=DELTA_CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in deltas:
            writer.writerow({k: _cell(row.get(k)) for k in DELTA_CSV_COLUMNS})
    return path


def write_outputs(out_dir, rows, settings, summary_text, deltas=None):
    """Write the files into ``out_dir`` (created); returns {kind: path}."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {"features": os.path.join(out_dir, "features.csv"), "settings": os.path.join(out_dir, "settings.json"),
             "summary": os.path.join(out_dir, "summary.txt")}
    write_long_csv(rows, paths["features"])
    write_settings_json(settings, paths["settings"])
    if deltas is not None:
        paths["deltas"] = write_delta_csv(deltas, os.path.join(out_dir, "deltas.csv"))
    with open(paths["summary"], "w", encoding="utf-8") as handle:
        handle.write(summary_text.rstrip() + "\n")
    return paths


def write_result(out_dir, result):
    """The files of a patient's RadiomicsResult."""
    return write_outputs(out_dir, result.rows, result.settings, result.summary(), deltas=result.deltas)
