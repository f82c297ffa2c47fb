"""Non-imaging biomarkers (liquid biopsy and serum markers): a CSV of dated values per patient
(``patient, date, analyte, value, unit``), joined to the long table with their change from the
analyte's baseline and, where a response rule is published, a molecular-response call.

The analyte's baseline is its last value on or before the imaging baseline date (else its first
value, noted). Rules (a fall from baseline of at least the threshold):
- ctDNA (analyte names containing "ctdna", "cfdna" or "vaf"): >= 50 % fall of the variant allele
  fraction / copies = molecular response (Raja R et al., Clin Cancer Res 2018;24:6212-6222,
  durvalumab in NSCLC and urothelial cancer).
- PSA: >= 50 % decline from baseline, confirmed by a second value >= 3 weeks later (PCWG3:
  Scher HI et al., J Clin Oncol 2016;34:1402-1418).
- CA-125: >= 50 % reduction, maintained >= 28 days (GCIG: Rustin GJS et al., Int J Gynecol Cancer
  2011;21:419-423).
Other analytes are joined without a call.
"""
import csv
import os

from TMEMonitorLib.errors import InputError

from .manifest import parse_date

REGION = "circulation"
RULES = (
    (("ctdna", "cfdna", "vaf"), {"name": "ctDNA molecular response", "fall_percent": 50.0, "confirm_days": None,
                                 "citation": "Raja R et al., Clin Cancer Res 2018;24:6212-6222"}),
    (("psa",), {"name": "PSA50 (PCWG3)", "fall_percent": 50.0, "confirm_days": 21,
                "citation": "Scher HI et al., J Clin Oncol 2016;34:1402-1418"}),
    (("ca-125", "ca125", "ca 125"), {"name": "CA-125 (GCIG)", "fall_percent": 50.0, "confirm_days": 28,
                                     "citation": "Rustin GJS et al., Int J Gynecol Cancer 2011;21:419-423"}),
)


def rule_for(analyte, fall_override=None):
    key = analyte.lower()
    for names, rule in RULES:
        if any(name in key for name in names):
            rule = dict(rule)
            if fall_override is not None:
                rule.update(fall_percent=float(fall_override), citation="user threshold (--settings external)")
            return rule
    if fall_override is not None:
        return {"name": f"{analyte} fall >= {fall_override:g} %", "fall_percent": float(fall_override),
                "confirm_days": None, "citation": "user threshold (--settings external)"}
    return None


def read_external(path):
    """Rows of the external CSV; every problem listed at once (InputError naming --external)."""
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise InputError(f"--external: file '{path}' does not exist")
    with open(path, newline="", encoding="utf-8-sig") as stream:
        reader = csv.DictReader(stream)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in ("patient", "date", "analyte", "value", "unit") if c not in header]
        if missing:
            raise InputError(f"--external: '{path}' lacks column(s) {', '.join(missing)} "
                             "(patient, date, analyte, value, unit)")
        rows, problems = [], []
        for number, raw in enumerate(reader, start=2):
            record = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            date = parse_date(record["date"])
            try:
                value = float(record["value"])
            except ValueError:
                value = None
            if not record["patient"] or not record["analyte"]:
                problems.append(f"row {number}: empty patient or analyte")
            if date is None:
                problems.append(f"row {number}: date '{record['date']}' does not parse (expected YYYY-MM-DD)")
            if value is None or value != value:
                problems.append(f"row {number}: value '{record['value']}' is not a number")
            elif value < 0:
                problems.append(f"row {number}: value {value} is negative")
            rows.append({"patient": record["patient"], "date": date, "analyte": record["analyte"], "value": value,
                         "unit": record["unit"]})
    if problems:
        raise InputError(f"--external: '{path}' has {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return rows


def join(external_rows, specs, fall_override=None):
    """(table rows, molecular calls, notes) for patients of the cohort; values of patients not in
    the manifest are left out (listed in notes)."""
    table, calls, notes = [], [], []
    unknown = sorted({r["patient"] for r in external_rows} - set(specs))
    if unknown:
        notes.append(f"external values of patient(s) not in the manifest left out: {', '.join(unknown)}")
    series = {}
    for row in external_rows:
        if row["patient"] in specs:
            series.setdefault((row["patient"], row["analyte"], row["unit"]), []).append(row)
    for (patient, analyte, unit), values in sorted(series.items()):
        spec = specs[patient]
        values.sort(key=lambda r: r["date"])
        base_visit = next(v for v in spec.visits if v.baseline)
        zero = spec.treatment_start or base_visit.date
        before = [r for r in values if r["date"] <= base_visit.date]
        baseline = before[-1] if before else values[0]
        if not before:
            notes.append(f"{patient} {analyte}: no value on or before the imaging baseline; the first value "
                         f"({baseline['date'].isoformat()}) is its baseline")
        rule = rule_for(analyte, fall_override)
        first_response = None
        for row in values:
            change = None if row is baseline or not baseline["value"] else \
                100.0 * (row["value"] - baseline["value"]) / baseline["value"]
            category = "baseline" if row is baseline else ""
            if rule and change is not None and row["date"] > baseline["date"]:
                responded = change <= -rule["fall_percent"]
                category = "molecular response" if responded else "no molecular response"
                if responded and first_response is None:
                    first_response = row
            table.append({"patient": patient, "visit": _nearest_visit(spec, row["date"]), "date": row["date"].isoformat(),
                          "day": (row["date"] - zero).days, "site": spec.site, "region": REGION, "biomarker": analyte,
                          "value": row["value"], "unit": unit, "change_from_baseline_percent": change,
                          "real_change": "", "response_category": category, "source": "external"})
        if rule:
            confirmed = None
            if first_response is not None and rule["confirm_days"]:
                later = [r for r in values if (r["date"] - first_response["date"]).days >= rule["confirm_days"]]
                confirmed = any(100.0 * (r["value"] - baseline["value"]) / baseline["value"] <= -rule["fall_percent"]
                                for r in later) if later else None
            calls.append({"patient": patient, "analyte": analyte, "rule": rule["name"], "citation": rule["citation"],
                          "fall_percent": rule["fall_percent"], "response": first_response is not None,
                          "day": (first_response["date"] - zero).days if first_response else None,
                          "confirmed": confirmed})
    return table, calls, notes


def _nearest_visit(spec, date, window_days=7):
    """The imaging visit within +-7 days of an external value (the closest), else ''."""
    best = min(spec.visits, key=lambda v: abs((v.date - date).days))
    return best.name if abs((best.date - date).days) <= window_days else ""


def correlations(rows):
    """Spearman correlation of each imaging biomarker's change at the first follow-up with each
    analyte's change at the same visit (external values matched to it): [{imaging, analyte, n, rho, p}]."""
    from scipy import stats
    first = {}
    for row in rows:
        if row["source"] == "imaging" and row["response_category"] != "baseline" and row["day"] is not None:
            if row["patient"] not in first or row["day"] < first[row["patient"]][0]:
                first[row["patient"]] = (row["day"], row["visit"])
    imaging, analytes = {}, {}
    for row in rows:
        if first.get(row["patient"], (None, None))[1] != row["visit"] or row["change_from_baseline_percent"] is None:
            continue
        target = imaging if row["source"] == "imaging" else analytes
        target.setdefault(row["biomarker"], {})[row["patient"]] = row["change_from_baseline_percent"]
    out = []
    for analyte, by_patient in sorted(analytes.items()):
        for biomarker, values in sorted(imaging.items()):
            patients = sorted(set(values) & set(by_patient))
            if len(patients) < 3:
                continue
            x = [values[p] for p in patients]
            y = [by_patient[p] for p in patients]
            if len(set(x)) < 2 or len(set(y)) < 2:
                continue
            rho, p_value = stats.spearmanr(x, y)
            out.append({"imaging": biomarker, "analyte": analyte, "n": len(patients), "rho": float(rho),
                        "p": float(p_value), "x": x, "y": y})
    return out

