"""The one loader of the vendored OSIPI DCE-DSC-MRI CodeCollection test data, and its pass rule.

Data: <repo>/Testing/Data/osipi-dce/ (see the README there for source, licence, commit).
Cells holding curves are space-separated numbers; some files start with a UTF-8 BOM.
Each loader returns plain dicts with the project's units (s, 1/s, mM): T1 mapping, signal to
concentration, population AIFs, and the kinetic-model DROs (:func:`model_cases`).
"""
import csv
import os

import numpy as np

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA_DIR = os.environ.get("TME_OSIPI_DCE_DIR", os.path.join(REPO_ROOT, "Testing", "Data", "osipi-dce"))

# pass when |measured - reference| <= atol + rtol * |reference| (the OSIPI authors' tolerances)
T1_TOL = dict(atol=0.05, rtol=0.05)  # R1, 1/s
SI2CONC_TOL = dict(atol=1e-5, rtol=1e-5)  # mM
AIF_TOL = dict(atol=1e-4, rtol=0.01)  # mM
PARKER_DELAY_TOL = dict(atol=0.1, rtol=0.1)  # mM (reference shifts by whole frames)


def path(*parts):
    full = os.path.join(DATA_DIR, *parts)
    if not os.path.exists(full):
        raise FileNotFoundError(f"OSIPI DCE reference data missing: {full} (vendored under Testing/Data/osipi-dce)")
    return full


def _rows(*parts):
    with open(path(*parts), newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _numbers(cell):
    return np.array(cell.split(), dtype=float)


def t1_cases(dataset):
    """VFA cases of 'brain', 'quiba' or 'prostate': label, fa_deg, tr_s, signal, r1_ref, b1, r1_ref_b1."""
    rows = _rows("T1_mapping", "data", f"t1_{dataset}_data.csv")
    cases = []
    for r in rows:
        tr = _numbers(r["TR"])[0]
        case = {"label": r["label"], "fa_deg": _numbers(r["FA"]), "signal": _numbers(r["s"])}
        if dataset == "prostate":  # TR in ms; reference T1 in ms (column name has a leading space)
            case.update(tr_s=tr / 1000.0, r1_ref=1000.0 / float(r[" T1 nonlinear"]),
                        b1=float(r["B1"]) / 100.0, r1_ref_b1=1000.0 / float(r[" T1 nonlinear B1cor"]))
        elif dataset == "quiba":  # reference R1 in 1/ms
            case.update(tr_s=tr, r1_ref=float(r["R1"]) * 1000.0)
        else:
            case.update(tr_s=tr, r1_ref=float(r["R1"]))
        cases.append(case)
    return cases


def si2conc_cases():
    """Signal-to-concentration cases (baseline = mean of s[1:numbaselinepts])."""
    cases = []
    for r in _rows("SI_to_Conc", "data", "SI2Conc_data.csv"):
        cases.append({"label": r["label"], "fa_deg": float(r["FA"]), "tr_s": float(r["TR"]),
                      "t10_s": float(r["T1base"]), "n_baseline": int(r["numbaselinepts"]),
                      "r1": float(r["r1"]), "signal": _numbers(r["s"]), "conc_ref": _numbers(r["conc"])})
    return cases


def aif_cases(filename, time_unit_s):
    """Population AIF cases grouped by label: time (s), Cb (mM), delay (s, 0 if absent)."""
    groups = {}
    for r in _rows("PopulationAIF_DCE", "data", filename):
        g = groups.setdefault(r["label"], {"label": r["label"], "t": [], "cb": [], "delay_s": float(r.get("delay") or 0.0)})
        g["t"].append(float(r["time"]) * time_unit_s)
        g["cb"].append(float(r["Cb"]))
    return [{"label": g["label"], "delay_s": g["delay_s"], "t_s": np.array(g["t"]), "cb_ref": np.array(g["cb"])}
            for g in groups.values()]


def model_cases(file_name):
    """Kinetic-model DRO cases (DCEmodels/data/<file_name>): one dict per case, scalar columns as
    floats, curve columns as arrays, "label" as text."""
    cases = []
    for row in _rows("DCEmodels", "data", file_name):
        case = {}
        for key, value in row.items():
            key, value = key.strip(), value.strip()
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


load_cases = model_cases


def delayed(curve, samples):
    """The curve shifted right by ``samples`` samples, zero-filled (the suite's delayed variants)."""
    out = np.zeros_like(curve)
    out[samples:] = curve[:curve.size - samples]
    return out


def within(measured, reference, atol, rtol):
    """Boolean array: the OSIPI pass rule."""
    return np.abs(np.asarray(measured) - np.asarray(reference)) <= atol + rtol * np.abs(reference)
