"""Response categories per follow-up visit, each with the numbers it came from.

- RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009, doi:10.1016/j.ejca.2008.10.026), from
  the sum of target-lesion longest diameters: CR all target lesions gone (sum 0; the
  short-axis < 10 mm rule for lymph nodes is the reader's); PR >= 30 % decrease from the
  baseline sum; PD >= 20 % increase from the nadir (smallest sum so far, baseline included)
  AND >= 5 mm absolute increase, or any new lesion, or reappearance after CR; SD otherwise;
  NE when the sum is missing. PR/CR need confirmation by a repeat assessment >= 4 weeks later
  (for trials with response as primary end point).
- Volumetric (research): the sphere-equivalent RECIST thresholds, PR <= -65 % and
  PD >= +73 % of tumour volume ((0.7)^3 - 1 = -65.7 %, (1.2)^3 - 1 = +72.8 %; as in
  volumetric RECIST studies, e.g. Mozley et al., Transl Oncol 2012).
- RANO 2.0 (Wen et al., J Clin Oncol 2023, doi:10.1200/JCO.23.01059), brain tumours: sum of
  products of perpendicular diameters, PR >= 50 % decrease from baseline, PD >= 25 %
  increase from the nadir; volumetric option PR >= 65 % decrease, PD >= 40 % increase.
  (Its clinical items, steroids and non-enhancing disease, are the reader's.)
- Functional early response: a RESEARCH readout, NOT a clinical criterion: ADC (or D)
  rising and/or Ktrans (or tCho/tCr) falling beyond their repeatability coefficients.

Thresholds are compared with a 1e-9 relative tolerance so that a change exactly AT a
threshold (-30.0 %, +20.0 %, +5.0 mm) meets it despite floating-point rounding.
"""
import math
from dataclasses import dataclass, field

from ..errors import InputError

CONFIRMATION_DAYS = 28
_RANK = {"CR": 0, "PR": 1, "SD": 2, "PD": 3, "NE": 4}


@dataclass
class ResponseCall:
    criterion: str
    visit: str
    category: str
    numbers: dict = field(default_factory=dict)
    reason: str = ""
    confirmed: object = None          # True/False for PR/CR once a later assessment exists, else None

    def as_dict(self):
        return {"criterion": self.criterion, "visit": self.visit, "category": self.category,
                "numbers": dict(self.numbers), "reason": self.reason, "confirmed": self.confirmed}


def _missing(value):
    return value is None or not math.isfinite(float(value))


def _at_most(value, threshold):
    return value <= threshold + 1e-9 * max(1.0, abs(threshold))


def _at_least(value, threshold):
    return value >= threshold - 1e-9 * max(1.0, abs(threshold))


def _percent(value, reference):
    if reference == 0:
        return math.inf if value > 0 else 0.0
    return 100.0 * (value - reference) / reference


def _threshold_calls(criterion, visits, values, days, pr_percent, pd_percent, pd_absolute=None, new_lesions=None,
                     unit="mm"):
    if not (len(visits) == len(values) == len(days)):
        raise InputError(f"{criterion}: {len(visits)} visits, {len(values)} values and {len(days)} days must match")
    if _missing(values[0]) or values[0] <= 0:
        raise InputError(f"{criterion}: the baseline value must be a positive measurement, got {values[0]}")
    baseline = float(values[0])
    nadir = baseline
    calls = []
    for index in range(1, len(values)):
        new = bool(new_lesions and new_lesions[index])
        numbers = {"value": None, "baseline": baseline, "nadir": nadir, "unit": unit,
                   "change_from_baseline_percent": None, "change_from_nadir_percent": None,
                   "change_from_nadir": None, "PR_threshold_percent": -pr_percent,
                   "PD_threshold_percent": pd_percent, "PD_threshold_absolute": pd_absolute, "new_lesion": new}
        if _missing(values[index]):
            category, reason = ("PD", "new lesion") if new else ("NE", "measurement missing")
            calls.append(ResponseCall(criterion, visits[index], category, numbers, reason))
            continue
        value = float(values[index])
        from_baseline, from_nadir = _percent(value, baseline), _percent(value, nadir)
        numbers.update(value=value, change_from_baseline_percent=from_baseline,
                       change_from_nadir_percent=None if math.isinf(from_nadir) else from_nadir,
                       change_from_nadir=value - nadir)
        absolute_ok = pd_absolute is None or _at_least(value - nadir, pd_absolute)
        if new:
            category, reason = "PD", "new lesion"
        elif nadir == 0 and value > 0:
            category, reason = "PD", f"reappeared after complete response ({value:.1f} {unit})"
        elif value == 0:
            category, reason = "CR", "all target lesions disappeared"
        elif _at_least(from_nadir, pd_percent) and absolute_ok:
            category = "PD"
            reason = f"{from_nadir:+.1f} % from nadir {nadir:.1f} {unit} (>= +{pd_percent:g} %)" + (
                f" and {value - nadir:+.1f} {unit} (>= {pd_absolute:g} {unit})" if pd_absolute is not None else "")
        elif _at_most(from_baseline, -pr_percent):
            category, reason = "PR", f"{from_baseline:+.1f} % from baseline {baseline:.1f} {unit} (<= -{pr_percent:g} %)"
        else:
            category = "SD"
            reason = f"{from_baseline:+.1f} % from baseline, {from_nadir:+.1f} % from nadir"
            if _at_least(from_nadir, pd_percent) and not absolute_ok:
                reason += f" (increase {value - nadir:.1f} {unit} below the {pd_absolute:g} {unit} minimum)"
        calls.append(ResponseCall(criterion, visits[index], category, numbers, reason))
        nadir = min(nadir, value)
    _confirm(calls, list(days[1:]))
    return calls


def _confirm(calls, days):
    """A PR/CR is confirmed by the first evaluable assessment >= 28 days later being PR/CR
    (CR needs CR); a PD before it refutes it; None while no such assessment exists."""
    for index, call in enumerate(calls):
        if call.category not in ("PR", "CR"):
            continue
        call.numbers["confirmation_days"] = CONFIRMATION_DAYS
        for later, day in zip(calls[index + 1:], days[index + 1:]):
            if later.category == "PD":
                call.confirmed = False
                break
            if later.category != "NE" and day is not None and days[index] is not None \
                    and day - days[index] >= CONFIRMATION_DAYS:
                call.confirmed = later.category == "CR" if call.category == "CR" else later.category in ("PR", "CR")
                break


def best_overall_response(calls, require_confirmation=True):
    """Best category over the follow-up calls of one criterion; an unconfirmed PR/CR counts as SD
    when confirmation is required (RECIST 1.1 section 4.4)."""
    best = "NE"
    for call in calls:
        category = call.category
        if require_confirmation and category in ("PR", "CR") and call.confirmed is not True:
            category = "SD"
        if _RANK[category] < _RANK[best]:
            best = category
    return best


def recist(visits, sums_mm, days, new_lesions=None):
    """RECIST 1.1 calls for each follow-up visit (``visits[0]`` is baseline) from target-lesion
    longest-diameter sums (mm); ``new_lesions[i]`` True when visit i shows a new lesion."""
    return _threshold_calls("RECIST 1.1", visits, list(sums_mm), days, 30.0, 20.0, pd_absolute=5.0,
                            new_lesions=new_lesions)


def volumetric(visits, volumes_ml, days, new_lesions=None):
    """Volumetric calls (PR <= -65 %, PD >= +73 % from nadir) from total tumour volumes (mL)."""
    return _threshold_calls("volumetric", visits, list(volumes_ml), days, 65.0, 73.0, new_lesions=new_lesions,
                            unit="mL")


def rano(visits, products_mm2, days, new_lesions=None, volumes_ml=None):
    """RANO 2.0 calls from the sum of bidimensional products (mm2); with ``volumes_ml`` also the
    volumetric RANO 2.0 calls."""
    calls = _threshold_calls("RANO 2.0", visits, list(products_mm2), days, 50.0, 25.0, new_lesions=new_lesions,
                             unit="mm2")
    if volumes_ml is not None:
        calls += _threshold_calls("RANO 2.0 volumetric", visits, list(volumes_ml), days, 65.0, 40.0,
                                  new_lesions=new_lesions, unit="mL")
    return calls


# Direction of a real change that indicates response: ADC/D up (cell kill), Ktrans and the
# choline ratio down (vascular shut-down, lower membrane turnover).
RESPONDING_DIRECTION = {"ADC": 1, "D": 1, "Ktrans": -1, "tCho/tCr": -1}
FUNCTIONAL_CRITERION = "functional (research, not clinical)"


def functional(visits, flags, changes_percent=None, rc_percent=None, directions=None):
    """Research readout from real-change flags; ``flags[i]`` = {"ADC": +1/-1/0/None, "Ktrans": ...}
    (+1 real increase, -1 real decrease, 0 no real change, None unknown), ``visits[0]`` baseline.
    Optional ``changes_percent[i]`` / ``rc_percent`` dicts are kept in the call's numbers.
    ``directions``: biomarker -> direction of a real change that indicates response (default
    RESPONDING_DIRECTION; the dashboard passes what the registered techniques declare).
    """
    wanted = RESPONDING_DIRECTION if directions is None else dict(directions)
    calls = []
    for index in range(1, len(visits)):
        flag = flags[index] or {}
        responding = [n for n, d in wanted.items() if flag.get(n) == d]
        opposite = [n for n, d in wanted.items() if flag.get(n) == -d]
        judged = [n for n in wanted if flag.get(n) is not None]
        if responding and not opposite:
            category = "functional response"
        elif opposite and not responding:
            category = "functional progression"
        elif responding and opposite:
            category = "mixed"
        elif judged:
            category = "no real functional change"
        else:
            category = "NE"
        reason = "; ".join([f"{n} real change in the responding direction" for n in responding]
                           + [f"{n} real change against response" for n in opposite]) \
            or ("no change beyond repeatability" if judged else "no functional biomarker available")
        numbers = {"flags": {n: flag.get(n) for n in wanted}}
        if changes_percent is not None:
            numbers["change_from_baseline_percent"] = {n: (changes_percent[index] or {}).get(n)
                                                       for n in wanted}
        if rc_percent is not None:
            numbers["rc_percent"] = {n: rc_percent.get(n) for n in wanted}
        calls.append(ResponseCall(FUNCTIONAL_CRITERION, visits[index], category, numbers, reason))
    return calls


def finite_or_none(value):
    return None if _missing(value) else float(value)
