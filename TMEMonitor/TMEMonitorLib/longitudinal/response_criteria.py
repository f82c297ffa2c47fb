"""Response categories, each with the numbers it came from.

- RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009, doi:10.1016/j.ejca.2008.10.026): sum of
  target-lesion longest diameters; CR disappearance; PR >= 30 % decrease from baseline;
  PD >= 20 % increase from the nadir with >= 5 mm absolute increase, or a new lesion; else SD.
  PR/CR confirmed by a repeat assessment >= 4 weeks later.
- Volumetric: the sphere-equivalent RECIST thresholds, PR <= -65 % and PD >= +73 % of volume
  (0.7^3 and 1.2^3; e.g. Mozley et al., Transl Oncol 2012, doi:10.1593/tlo.11349).
- RANO 2.0 (Wen et al., J Clin Oncol 2023, doi:10.1200/JCO.23.01059): product of
  perpendicular diameters, PR >= 50 % decrease from baseline, PD >= 25 % increase from the
  nadir; volumetric option PR >= 65 % decrease, PD >= 40 % increase.
- Functional early response (research readout, NOT a clinical criterion): ADC rising and/or
  Ktrans falling beyond their repeatability coefficients.
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class ResponseCall:
    criterion: str
    visit: str
    category: str
    numbers: dict = field(default_factory=dict)
    reason: str = ""
    confirmed: bool = None

    def as_dict(self):
        return {"criterion": self.criterion, "visit": self.visit, "category": self.category,
                "numbers": self.numbers, "reason": self.reason, "confirmed": self.confirmed}


def _percent(value, reference):
    return 100.0 * (value - reference) / reference if reference else float("nan")


def _threshold_calls(criterion, visits, values, days, pr_percent, pd_percent, pd_absolute=None,
                     new_lesions=None, unit="mm"):
    calls = []
    baseline = values[0]
    nadir = baseline
    for index in range(1, len(values)):
        value = values[index]
        new = bool(new_lesions and new_lesions[index])
        from_baseline = _percent(value, baseline)
        from_nadir = _percent(value, nadir)
        numbers = {"value": value, "baseline": baseline, "nadir": nadir, "change_from_baseline_percent": from_baseline,
                   "change_from_nadir_percent": from_nadir, "unit": unit, "PR_threshold_percent": -pr_percent,
                   "PD_threshold_percent": pd_percent}
        if new:
            category, reason = "PD", "new lesion"
        elif value == 0:
            category, reason = "CR", "target lesions disappeared"
        elif from_nadir >= pd_percent and (pd_absolute is None or value - nadir >= pd_absolute):
            category = "PD"
            reason = f"{from_nadir:+.1f} % from nadir {nadir:.1f} {unit}" + (
                f" (and +{value - nadir:.1f} {unit} >= {pd_absolute:g} {unit})" if pd_absolute else "")
        elif from_baseline <= -pr_percent:
            category, reason = "PR", f"{from_baseline:+.1f} % from baseline {baseline:.1f} {unit}"
        else:
            category, reason = "SD", f"{from_baseline:+.1f} % from baseline, {from_nadir:+.1f} % from nadir"
        calls.append(ResponseCall(criterion, visits[index], category, numbers, reason))
        nadir = min(nadir, value)
    # Confirmation: a PR/CR needs a PR/CR again at an assessment at least 28 days later.
    for index, call in enumerate(calls):
        if call.category in ("PR", "CR"):
            later = [c for j, c in enumerate(calls[index + 1:], start=index + 1)
                     if days[j + 1] - days[index + 1] >= 28]
            call.confirmed = bool(later and later[0].category in ("PR", "CR")) if later else None
    return calls


def recist(visits, sums_mm, days, new_lesions=None):
    """RECIST 1.1 calls for every follow-up visit (first entry is baseline)."""
    return _threshold_calls("RECIST 1.1", visits, list(sums_mm), days, 30.0, 20.0, pd_absolute=5.0,
                            new_lesions=new_lesions)


def volumetric(visits, volumes_ml, days, new_lesions=None):
    return _threshold_calls("volumetric", visits, list(volumes_ml), days, 65.0, 73.0, new_lesions=new_lesions,
                            unit="mL")


def rano(visits, products_mm2, days, new_lesions=None, volumes_ml=None):
    calls = _threshold_calls("RANO 2.0", visits, list(products_mm2), days, 50.0, 25.0, new_lesions=new_lesions,
                             unit="mm2")
    if volumes_ml is not None:
        calls += _threshold_calls("RANO 2.0 volumetric", visits, list(volumes_ml), days, 65.0, 40.0,
                                  new_lesions=new_lesions, unit="mL")
    return calls


def functional(visits, flags):
    """Research readout from real-change flags: ``flags[i]`` = {"ADC": +1/-1/0/None, "Ktrans": ...}
    where +1 is a real increase, -1 a real decrease, 0 no real change."""
    calls = []
    for visit, flag in zip(visits[1:], flags[1:]):
        responding = [name for name, direction in (("ADC", 1), ("D", 1), ("Ktrans", -1), ("tCho/tCr", -1))
                      if flag.get(name) == direction]
        opposite = [name for name, direction in (("ADC", -1), ("D", -1), ("Ktrans", 1), ("tCho/tCr", 1))
                    if flag.get(name) == direction]
        if responding and not opposite:
            category = "functional response"
        elif opposite and not responding:
            category = "functional progression"
        elif responding and opposite:
            category = "mixed"
        else:
            category = "no real functional change"
        reason = "; ".join([f"{n} real change in the responding direction" for n in responding] +
                           [f"{n} real change against response" for n in opposite]) or "no change beyond repeatability"
        calls.append(ResponseCall("functional (research, not clinical)", visit, category,
                                  {k: v for k, v in flag.items()}, reason))
    return calls


def finite_or_none(value):
    return None if value is None or not np.isfinite(value) else float(value)
