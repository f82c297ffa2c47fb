"""Long-format feature table (CSV) and the settings written with it (JSON)."""
import csv
import json
import math
import os

from ..errors import InputError
from .settings import settings_hash

COLUMNS = ("patient", "visit", "region", "image", "feature", "value", "unit", "settings_hash", "flag")


def _check_folder(path, flag):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"radiomics {flag}: folder {folder} does not exist")


def write_long_csv(rows, path, settings=None):
    """Write ``rows`` (mappings with COLUMNS keys) as CSV; with ``settings`` also write
    ``<path without .csv>.settings.json`` holding the resolved settings and their hash.
    Values are written with repr precision; NaN as empty cells. Returns the paths written."""
    _check_folder(path, "output CSV")
    written = [path]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            out = dict(row)
            value = out.get("value")
            if isinstance(value, float) and not math.isfinite(value):
                out["value"] = ""
            elif isinstance(value, float):
                out["value"] = repr(value)
            writer.writerow(out)
    if settings is not None:
        json_path = (path[:-4] if path.lower().endswith(".csv") else path) + ".settings.json"
        write_settings_json(settings, json_path)
        written.append(json_path)
    return written


def write_settings_json(settings, path):
    _check_folder(path, "settings JSON")
    with open(path, "w") as handle:
        json.dump({"settings_hash": settings_hash(settings), "settings": settings}, handle,
                  indent=2, sort_keys=True)
    return path


def read_long_csv(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["value"] = float(row["value"]) if row.get("value") not in ("", None) else float("nan")
    return rows
