"""Scoring the visits: the biomarker table (``longitudinal.biomarkers.BiomarkerTable``: changes
from baseline and previous visit with the one ``change()``, real-change flags against the
repeatability coefficients) and the response calls (RECIST 1.1, volumetric, RANO 2.0, functional).
No scene here: measurements in, rows and calls out."""
from dataclasses import dataclass

from TMEMonitorLib.longitudinal import repeatability, response_criteria
from TMEMonitorLib.longitudinal.biomarkers import BiomarkerTable

from .measurement import SIZE_TRUTH_KEYS, SIZE_UNITS


@dataclass
class Scores:
    table: BiomarkerTable
    rows: list                      # BiomarkerTable.as_rows + lesions per visit (report.json "visits")
    rc_percent: dict                # biomarker -> %RC used (None: no flag)
    flags: list                     # per visit: {biomarker: +1/-1/0/None}
    calls: list                     # response_criteria.ResponseCall
    measurements: list              # the measurements in the table's (time) order
    days: list                      # day on treatment of each (from the first visit's date when unknown)
    baseline_index: int


def rc_percent_of(name, organ, overrides, spec=None):
    """%RC of a biomarker: user override, else the repeatability table, else the technique's own."""
    rc = repeatability.rc_percent(name, organ, overrides)
    if rc is None and spec is not None:
        rc = spec.rc_percent
    return rc


def score(measurements, baseline, specs, organ="breast", truth=None, rc_overrides=None):
    """Scores of ``measurements`` against the ``baseline`` visit.

    ``specs``: {name: Biomarker} of the registered techniques; ``truth``: {visit name: phantom
    truth summary} (demo)."""
    truth = truth or {}
    units = {**SIZE_UNITS, **{name: spec.unit for name, spec in specs.items()}}
    truth_keys = {**SIZE_TRUTH_KEYS, **{name: spec.truth_key for name, spec in specs.items() if spec.truth_key}}
    table = BiomarkerTable(baseline=baseline.name)
    for entry in measurements:
        visit = entry.visit
        table.add_visit(visit.name, visit.date, visit.day)
        visit_truth = truth.get(visit.name, {})
        for name, unit in units.items():
            key = truth_keys.get(name)
            table.set_value(visit.name, name, entry.values.get(name), unit=unit,
                            truth=visit_truth.get(key) if key else None)
    rc = {name: rc_percent_of(name, organ, rc_overrides, specs.get(name)) for name in units}
    rows = table.as_rows(rc)
    by_name = {entry.visit.name: entry for entry in measurements}
    for row in rows:
        entry = by_name[row["name"]]
        row["new_lesions"] = entry.new_lesions
        row["lesions"] = [lesion.as_dict() for lesion in entry.lesions]
    flags = [{name: row["biomarkers"][name]["real_change"] for name in units} for row in rows]
    names = [row["name"] for row in rows]
    ordered = [by_name[name] for name in names]
    first = table.visits[0]
    days = [r.day if r.day is not None else (r.date - first.date).days for r in table.visits]
    new_lesions = [entry.new_lesions > 0 for entry in ordered]
    # Criteria by organ: RANO 2.0 (brain tumours) for the brain, RECIST 1.1 elsewhere; volumetric always.
    volumes = [e.values["volume_ml"] for e in ordered]
    if str(organ or "").lower() == "brain":
        calls = response_criteria.rano(names, [e.values["bidimensional_product_mm2"] for e in ordered], days,
                                       new_lesions, volumes_ml=volumes)
    else:
        calls = response_criteria.recist(names, [e.values["recist_sum_mm"] for e in ordered], days, new_lesions)
    calls += response_criteria.volumetric(names, volumes, days, new_lesions)
    directions = {name: spec.responding_direction for name, spec in specs.items()
                  if spec.responding_direction is not None}
    calls += response_criteria.functional(names, flags, directions=directions)
    return Scores(table=table, rows=rows, rc_percent=rc, flags=flags, calls=calls, measurements=ordered, days=days,
                  baseline_index=table.baseline_index())
