"""Loading a cohort's results without computing anything (for the Slicer dashboard and scripts).

Qt-free, and needs none of dask/distributed/pyarrow: the long table is read from ``cohort.csv``.
"""
import csv
import os

from TMEMonitorLib.errors import InputError

TABLE_CSV = "cohort.csv"
TABLE_PARQUET = "cohort.parquet"
STATUS_CSV = "status.csv"
RESPONSES_CSV = "responses.csv"
REPORT_HTML = "report.html"
FIGURES = "figures"
HARMONISATION_JSON = "harmonisation.json"
SETTINGS_JSON = "settings.json"
STATUS_REQUIRED = ("patient", "state")
TABLE_REQUIRED = ("patient", "visit", "biomarker", "value", "unit")
NUMERIC_COLUMNS = ("day", "value", "change_from_baseline_percent", "value_harmonised",
                   "change_from_baseline_percent_harmonised", "seconds")


def read_csv_columns(path):
    """{column: [values]} of a CSV written by the cohort runner (numbers parsed, empty -> None)."""
    with open(path, newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        columns = {name: [] for name in reader.fieldnames or []}
        for row in reader:
            for name in columns:
                value = row.get(name, "")
                if name in NUMERIC_COLUMNS:
                    value = float(value) if value not in ("", None) else None
                columns[name].append(value)
    return columns


def _read_checked(path, required):
    """read_csv_columns, InputError naming the file when it is not a cohort CSV (columns, numbers, encoding)."""
    try:
        columns = read_csv_columns(path)
    except (ValueError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"cohort results: '{path}' is not a cohort CSV: {error}") from None
    missing = [name for name in required if name not in columns]
    if missing:
        raise InputError(f"cohort results: '{path}' has no column(s) {', '.join(missing)} (not written by "
                         "`tme-monitor cohort run`)")
    return columns


def load_cohort_results(out_dir):
    """The results of ``tme-monitor cohort run`` in ``out_dir``.

    Returns a dict: ``table`` ({column: values} of the long table), ``status`` (patient, state,
    error, seconds), ``responses`` (criterion calls per visit), ``plots`` ({name: PNG path}),
    ``report_html``, ``harmonisation`` (path or None) and ``patients`` ({patient: {"folder",
    "scene" (.mrb path or None), "report_html", "state"}}) to open a patient's scene."""
    if not out_dir:
        raise InputError("cohort results: no folder given (choose the `tme-monitor cohort run --out` folder)")
    out_dir = os.path.abspath(os.fspath(out_dir))
    if not os.path.isdir(out_dir):
        raise InputError(f"cohort results '{out_dir}': no such folder")
    table_path = os.path.join(out_dir, TABLE_CSV)
    status_path = os.path.join(out_dir, STATUS_CSV)
    if not os.path.isfile(table_path) or not os.path.isfile(status_path):
        raise InputError(f"cohort results '{out_dir}': not a cohort output folder, no {TABLE_CSV} / {STATUS_CSV} "
                         "(run `tme-monitor cohort run MANIFEST --out` this folder first)")
    status = _read_checked(status_path, STATUS_REQUIRED)
    table = _read_checked(table_path, TABLE_REQUIRED)
    figures = os.path.join(out_dir, FIGURES)
    plots = {}
    if os.path.isdir(figures):
        plots = {os.path.splitext(n)[0]: os.path.join(figures, n) for n in sorted(os.listdir(figures))
                 if n.endswith(".png")}
    patients = {}
    for patient, folder, state in zip(status["patient"], status.get("folder", status["patient"]), status["state"]):
        path = os.path.join(out_dir, folder or "")
        scenes = [n for n in os.listdir(path) if n.endswith(".mrb")] if os.path.isdir(path) else []
        report = os.path.join(path, "report.html")
        patients[patient] = {"folder": path, "state": state,
                             "scene": os.path.join(path, scenes[0]) if scenes else None,
                             "report_html": report if os.path.isfile(report) else None}
    responses_path = os.path.join(out_dir, RESPONSES_CSV)
    harmonisation = os.path.join(out_dir, HARMONISATION_JSON)
    return {"out_dir": out_dir, "table": table, "status": status,
            "responses": read_csv_columns(responses_path) if os.path.isfile(responses_path) else {},
            "plots": plots, "report_html": os.path.join(out_dir, REPORT_HTML),
            "harmonisation": harmonisation if os.path.isfile(harmonisation) else None, "patients": patients}
