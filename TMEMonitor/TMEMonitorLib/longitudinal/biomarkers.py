"""The per-visit biomarker table (pure Python): rows are visits, columns biomarkers with units.

A missing value (not measured, failed) is None and stays missing in every change and
flag computed from it: never zero (``change.change``, the one change function). ``region_statistics`` is the project's shared histogram
statistics (``TMEMonitorLib.statistics``), re-exported here for the longitudinal side.
"""
import datetime
import math
from dataclasses import dataclass, field

from ..errors import InputError
from ..statistics import STATISTIC_NAMES, region_statistics  # noqa: F401  (re-exported)
from . import repeatability
from .change import change  # noqa: F401  (re-exported: the one change function)
from .change import finite_or_none as _value


@dataclass
class VisitRow:
    name: str
    date: object = None          # datetime.date or None
    day: object = None           # days since treatment start (baseline <= 0), or None
    values: dict = field(default_factory=dict)       # biomarker -> float or None
    truth: dict = field(default_factory=dict)        # biomarker -> true value (phantom) or None


class BiomarkerTable:
    """Visits in time order (by day, else date, else insertion); the baseline is the visit named
    ``baseline`` when given, else the first."""

    def __init__(self, baseline=None):
        self._visits = []
        self.units = {}                                 # biomarker -> unit text
        self.baseline = baseline                        # visit name, or None: the first visit

    # -- building ---------------------------------------------------------------------------
    def add_visit(self, name, date=None, day=None):
        if any(v.name == name for v in self._visits):
            raise InputError(f"biomarker table: visit '{name}' is already in the table")
        if date is not None and not isinstance(date, datetime.date):
            raise InputError(f"biomarker table: date of visit '{name}' must be a datetime.date, got {date!r}")
        self._visits.append(VisitRow(name, date, None if day is None else int(day)))
        return self

    def set_value(self, visit, biomarker, value, unit=None, truth=None):
        row = self._row(visit)
        if unit is not None:
            self.units[biomarker] = unit
        self.units.setdefault(biomarker, "")
        row.values[biomarker] = _value(value)
        if truth is not None:
            row.truth[biomarker] = _value(truth)
        return self

    # -- reading ----------------------------------------------------------------------------
    @property
    def visits(self):
        def key(item):
            index, row = item
            date_key = row.date.toordinal() if row.date is not None else math.inf
            return (row.day if row.day is not None else math.inf, date_key, index)
        return [row for _, row in sorted(enumerate(self._visits), key=key)]

    @property
    def visit_names(self):
        return [row.name for row in self.visits]

    @property
    def biomarkers(self):
        return list(self.units)

    def _row(self, name):
        for row in self._visits:
            if row.name == name:
                return row
        raise InputError(f"biomarker table: no visit named '{name}' (visits: {', '.join(self.visit_names)})")

    def value(self, visit, biomarker):
        return self._row(visit).values.get(biomarker)

    def series(self, biomarker):
        return [row.values.get(biomarker) for row in self.visits]

    def days(self):
        return [row.day for row in self.visits]

    def baseline_index(self):
        """Position of the baseline visit in ``visits``."""
        if self.baseline is None:
            return 0
        names = self.visit_names
        if self.baseline not in names:
            raise InputError(f"biomarker table: baseline visit '{self.baseline}' is not in the table "
                             f"(visits: {', '.join(names)})")
        return names.index(self.baseline)

    def change_from_baseline(self, biomarker):
        """[(absolute, percent)] per visit (baseline: (0, 0) when measured)."""
        values = self.series(biomarker)
        base = values[self.baseline_index()]
        return [change(base, v) for v in values]

    def change_from_previous(self, biomarker):
        """[(absolute, percent)] per visit against the visit just before it ((None, None) for the first)."""
        values = self.series(biomarker)
        return [(None, None)] + [change(a, b) for a, b in zip(values[:-1], values[1:])]

    def real_change_flags(self, biomarker, rc, relative=True):
        """Per visit: +1 real increase, -1 real decrease, 0 within repeatability, None unknown
        (baseline, missing value or no RC)."""
        values = self.series(biomarker)
        base_index = self.baseline_index()
        return [None if index == base_index else
                repeatability.real_change_direction(values[base_index], value, rc, relative=relative)
                for index, value in enumerate(values)]

    def as_rows(self, rc_percent=None):
        """JSON-ready list per visit: each biomarker's measured value, truth, changes and flag.

        ``rc_percent``: biomarker -> relative repeatability coefficient (%) or None.
        """
        rc_percent = rc_percent or {}
        rows = []
        per_biomarker = {b: (self.change_from_baseline(b), self.change_from_previous(b),
                             self.real_change_flags(b, rc_percent.get(b))) for b in self.biomarkers}
        for index, row in enumerate(self.visits):
            entry = {"name": row.name, "date": row.date.isoformat() if row.date else None, "day": row.day,
                     "biomarkers": {}}
            for biomarker in self.biomarkers:
                from_baseline, from_previous, flags = per_biomarker[biomarker]
                truth = row.truth.get(biomarker)
                base_truth = self.visits[self.baseline_index()].truth.get(biomarker)
                entry["biomarkers"][biomarker] = {
                    "unit": self.units[biomarker], "measured": row.values.get(biomarker), "truth": truth,
                    "change_from_baseline": from_baseline[index][0],
                    "change_from_baseline_percent": from_baseline[index][1],
                    "change_from_previous": from_previous[index][0],
                    "change_from_previous_percent": from_previous[index][1],
                    "truth_change_from_baseline_percent": change(base_truth, truth)[1],
                    "rc_percent": rc_percent.get(biomarker), "real_change": flags[index]}
            rows.append(entry)
        return rows

    def columns(self):
        """Column-wise dict of lists (for a table node or CSV): visit, date, day, then each biomarker."""
        visits = self.visits
        columns = {"visit": [v.name for v in visits], "date": [v.date.isoformat() if v.date else None for v in visits],
                   "day": [v.day for v in visits]}
        for biomarker in self.biomarkers:
            columns[biomarker] = self.series(biomarker)
        return columns
