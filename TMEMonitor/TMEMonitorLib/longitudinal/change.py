"""The one change() of the longitudinal side: a missing value stays missing.

``change(reference, value)`` -> (absolute, percent). Missing (None, NaN or inf on either side)
gives (None, None), and the percent is None when the reference is 0: never NaN, never zero, so
that report.json writes null and every flag computed from it is "unknown". The biomarker
table, the real-change test and the dashboard all use this function.
"""
import math


def finite_or_none(value):
    """float, or None when missing (None, NaN, inf)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def change(reference, value):
    """(absolute, percent) change from ``reference`` to ``value``; None where either is missing
    (percent also None when the reference is 0)."""
    reference, value = finite_or_none(reference), finite_or_none(value)
    if reference is None or value is None:
        return None, None
    absolute = value - reference
    return absolute, (100.0 * absolute / reference if reference != 0 else None)
