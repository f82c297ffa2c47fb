"""The cohort long table (one row per patient, visit/date, region, biomarker): ordering, the
ComBat step on it, and writing it as CSV and Parquet (pyarrow, imported here only)."""
import csv
import json
import math
import os
import uuid

from TMEMonitorLib.errors import InputError

COLUMNS = ("patient", "visit", "date", "day", "site", "region", "biomarker", "value", "unit",
           "change_from_baseline_percent", "real_change", "response_category", "value_harmonised",
           "change_from_baseline_percent_harmonised", "source")
FLOAT_COLUMNS = ("value", "change_from_baseline_percent", "value_harmonised", "change_from_baseline_percent_harmonised")
INT_COLUMNS = ("day",)


def sort_rows(rows):
    """Deterministic order whatever order the patients finished in."""
    def key(row):
        return (row["patient"], row["day"] if row["day"] is not None else -10 ** 9, row.get("source", ""),
                row["region"], row["biomarker"], row["date"])
    return sorted(rows, key=key)


def complete(rows, source):
    out = []
    for row in rows:
        row = {c: row.get(c) for c in COLUMNS}
        row["source"] = row["source"] or source
        out.append(row)
    return out


def harmonise(rows, settings, covariates_by_patient, log=print):
    """ComBat on the table's imaging biomarkers (settings["harmonisation"]); fills
    ``value_harmonised`` and its change from baseline; returns the estimates (dict) or None."""
    from . import combat
    options = settings["harmonisation"]
    biomarkers = [b for b in options["biomarkers"] if any(r["biomarker"] == b and r["source"] == "imaging"
                                                          for r in rows)]
    if not biomarkers:
        raise InputError(f"--harmonise: none of the biomarkers {', '.join(options['biomarkers'])} is in the table")
    samples = {}
    for row in rows:
        if row["source"] == "imaging" and row["biomarker"] in biomarkers:
            samples.setdefault((row["patient"], row["visit"]), {})[row["biomarker"]] = row
    keys = sorted(samples)
    fit_keys = [k for k in keys if len(samples[k]) == len(biomarkers)
                and (options["fit_on"] == "all" or samples[k][biomarkers[0]]["response_category"] == "baseline")]
    names = options["covariates"]

    def covariates_of(selected):
        return {name: [covariates_by_patient[k[0]].get(name) for k in selected] for name in names}
    for name in names:
        missing = sorted({k[0] for k in keys if covariates_by_patient.get(k[0], {}).get(name) in (None, "")})
        if missing:
            raise InputError(f"--harmonise: covariate '{name}' (a manifest column) is missing for patient(s) "
                             f"{', '.join(missing)}")
    data = [[samples[k][b]["value"] for k in fit_keys] for b in biomarkers]
    estimates, _ = combat.fit(data, [samples[k][biomarkers[0]]["site"] for k in fit_keys], covariates_of(fit_keys),
                              reference_site=options["reference_site"], empirical_bayes=options["empirical_bayes"],
                              features=biomarkers)
    estimates["fit_on"] = options["fit_on"]
    estimates["samples"] = [list(k) for k in fit_keys]
    # Apply to every observation of the table's sites, feature by feature (missing values stay missing).
    for index, biomarker in enumerate(biomarkers):
        chosen = [k for k in keys if biomarker in samples[k]]
        single = dict(estimates)
        for field in ("grand_mean", "var_pooled"):
            single[field] = [estimates[field][index]]
        single["beta_covariates"] = [[row[index]] for row in estimates["beta_covariates"]]
        for field in ("gamma_star", "delta_star"):
            single[field] = [[row[index]] for row in estimates[field]]
        single["features"] = [biomarker]
        values = combat.apply(single, [[samples[k][biomarker]["value"] for k in chosen]],
                              [samples[k][biomarker]["site"] for k in chosen], covariates_of(chosen))[0]
        for key, value in zip(chosen, values):
            samples[key][biomarker]["value_harmonised"] = float(value)
    baselines = {}
    for row in rows:
        if row.get("value_harmonised") is not None and row["response_category"] == "baseline":
            baselines[(row["patient"], row["biomarker"])] = row["value_harmonised"]
    for row in rows:
        base = baselines.get((row["patient"], row["biomarker"]))
        if row.get("value_harmonised") is not None and base and row["response_category"] != "baseline":
            row["change_from_baseline_percent_harmonised"] = 100.0 * (row["value_harmonised"] - base) / base
    log(f"Harmonised {', '.join(biomarkers)} across sites {', '.join(estimates['sites'])} "
        f"({estimates['method']}, fitted on {len(fit_keys)} {options['fit_on']} observations"
        + (f", reference site {estimates['reference_site']}" if estimates["reference_site"] else "") + ")")
    return estimates


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def write_csv(path, rows, columns=COLUMNS):
    temporary = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with open(temporary, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text(row.get(c)) for c in columns])
    os.replace(temporary, path)
    return path


def write_parquet(path, rows, metadata):
    """The long table as Parquet (typed columns; settings and harmonisation in the file metadata)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    fields = []
    for column in COLUMNS:
        kind = pa.float64() if column in FLOAT_COLUMNS else pa.int64() if column in INT_COLUMNS else pa.string()
        fields.append(pa.field(column, kind))
    schema = pa.schema(fields, metadata={k: json.dumps(v, default=str) for k, v in metadata.items()})
    arrays = {c: [_typed(row.get(c), c) for row in rows] for c in COLUMNS}
    table = pa.Table.from_pydict(arrays, schema=schema)
    temporary = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    pq.write_table(table, temporary)
    os.replace(temporary, path)
    return path


def _typed(value, column):
    if column in FLOAT_COLUMNS:
        return None if value is None else float(value)
    if column in INT_COLUMNS:
        return None if value is None else int(value)
    return "" if value is None else str(value)
