"""Loader for the vendored OSIPI DCE model reference files (Testing/Data/osipi-dce/DCEmodels/data)."""
import csv
import os

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MODEL_DATA = os.path.join(ROOT, "Testing", "Data", "osipi-dce", "DCEmodels", "data")


def _numbers(cell):
    return np.array([float(v) for v in cell.split()])


def load_cases(file_name):
    """List of dicts, one per case: scalar columns as floats, curve columns as arrays."""
    path = os.path.join(MODEL_DATA, file_name)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    cases = []
    for row in rows:
        case = {}
        for key, value in row.items():
            key = key.strip()
            value = value.strip()
            if key == "label":
                case[key] = value
            elif " " in value:
                case[key] = _numbers(value)
            else:
                try:
                    case[key] = float(value)
                except ValueError:
                    case[key] = value
        cases.append(case)
    return cases


def delayed(curve, samples):
    """The curve shifted right by ``samples`` samples, zero-filled (the suite's delayed variants)."""
    out = np.zeros_like(curve)
    out[samples:] = curve[:curve.size - samples]
    return out


def within(measured, reference, atol, rtol):
    return abs(measured - reference) <= atol + rtol * abs(reference)
