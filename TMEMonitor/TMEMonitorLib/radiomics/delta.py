"""Delta radiomics: absolute and relative change of each feature from a baseline visit."""
import math

from ..errors import InputError


def delta_features(per_visit, baseline=None):
    """``per_visit``: mapping visit -> mapping tag -> value (ordered as the visits occurred).
    Returns visit -> tag -> {"absolute": v - v0, "relative": (v - v0) / |v0|} for every
    visit after the baseline (first visit unless ``baseline`` names one). Relative change is
    NaN where the baseline is 0 or either value is missing."""
    visits = list(per_visit)
    if not visits:
        raise InputError("delta radiomics: no visits given")
    if baseline is None:
        baseline = visits[0]
    if baseline not in per_visit:
        raise InputError(f"delta radiomics: baseline visit {baseline!r} not among the visits {visits}")
    base = per_visit[baseline]
    out = {}
    for visit in visits:
        if visit == baseline:
            continue
        current = per_visit[visit]
        changes = {}
        for tag, v0 in base.items():
            v = current.get(tag, float("nan"))
            try:
                v, v0f = float(v), float(v0)
            except (TypeError, ValueError):
                continue
            absolute = v - v0f
            relative = absolute / abs(v0f) if (v0f != 0 and math.isfinite(v0f)) else float("nan")
            changes[tag] = {"absolute": absolute, "relative": relative}
        out[visit] = changes
    return out


def delta_rows(rows, baseline=None):
    """Long-format delta rows from long-format feature rows (see ``tables.py``): one row per
    (patient, region, image, feature, visit after baseline) with ``delta_absolute`` and
    ``delta_relative``. Visits keep the order in which they first appear."""
    groups = {}
    for row in rows:
        key = (row.get("patient"), row.get("region"), row.get("image"), row.get("feature"))
        groups.setdefault(key, {})[row.get("visit")] = row.get("value")
    out = []
    for (patient, region, image, feature), by_visit in groups.items():
        visits = list(by_visit)
        base = baseline if baseline is not None else visits[0]
        if base not in by_visit:
            continue
        deltas = delta_features({v: {feature: by_visit[v]} for v in visits}, base)
        for visit, changes in deltas.items():
            change = changes.get(feature)
            if change is None:
                continue
            out.append({"patient": patient, "visit": visit, "baseline": base, "region": region,
                        "image": image, "feature": feature, "delta_absolute": change["absolute"],
                        "delta_relative": change["relative"]})
    return out
