"""``tme-monitor cohort demo``: a synthetic multi-site cohort with known truth.

Each patient is the synthetic patient on therapy (the phantom) with its own seed and response
(responder or not), at one of S sites. Known site effects, applied to the true maps before the
signals are synthesised: site k multiplies the true D (and so the ADC) by ``1 + 0.12 k`` and adds
``0.05e-3 k`` mm2/s, multiplies Ktrans by ``1 - 0.10 k`` and adds ``0.01 k`` 1/min (site 0 has none).
A biological covariate (age, years) shifts the true D by ``AGE_SLOPE`` mm2/s per year from 60.
Each visit's acquisitions are synthesised by the registered techniques chosen (``--techniques``,
default DCE and DWI) through their ``synthesize()``, as the demo does.
Writes the series (NRRD), ``manifest.csv``, an external ctDNA CSV and ``truth.json``.
"""
import datetime
import json
import os

import numpy as np

from TMEMonitorLib.errors import InputError

from . import manifest as manifest_module

AGE_SLOPE = -4e-6                 # mm2/s per year: ADC falls with age (simulated covariate effect)
AGE_CENTRE = 60.0
CTDNA_ANALYTE = "ctDNA VAF"


def site_name(index):
    return f"site-{chr(ord('A') + index)}" if index < 26 else f"site-{index}"


def site_effects(index):
    """Known additive and multiplicative site effect of site ``index`` (0: none)."""
    return {"ADC": (1.0 + 0.12 * index, 0.05e-3 * index), "Ktrans": (max(1.0 - 0.10 * index, 0.3), 0.01 * index)}


def write_demo_cohort(out_dir, n_patients, n_sites, seed=0, n_visits=3, size="tiny", progress=None, log=None,
                      techniques=None):
    """Write the cohort; returns the manifest path. ``techniques``: names of the registered techniques
    whose acquisitions each visit gets (default ``patient_runner.DEFAULT_DEMO_TECHNIQUES``: DCE and
    DWI, to keep cohort runs fast); checked before anything is written."""
    if n_patients < 1:
        raise InputError("--patients: at least 1 patient")
    if n_sites < 1 or n_sites > n_patients:
        raise InputError(f"--sites: between 1 and the number of patients ({n_patients}), got {n_sites}")
    if n_visits < 2 or n_visits > 5:
        raise InputError("--visits: between 2 and 5 visits")
    from . import patient_runner
    synthesizers = patient_runner.demo_techniques(techniques)
    technique_names = [t.name for t in synthesizers]
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    responders = rng.permutation([i % 2 == 0 for i in range(n_patients)])      # half respond, shuffled
    records, external, truth_patients = [], [], {}
    for index in range(n_patients):
        patient = f"P{index + 1:03d}"
        site_index = index % n_sites
        site = site_name(site_index)
        age = int(rng.integers(40, 81))
        effects = site_effects(site_index)
        patient_seed = seed * 1000 + index
        shift = AGE_SLOPE * (age - AGE_CENTRE)
        if progress:
            progress(index / n_patients, f"patient {patient}")
        visits, truth = patient_runner.write_synthetic_patient(os.path.join(out_dir, "data", patient), patient_seed,
                                                               n_visits, bool(responders[index]), effects, shift,
                                                               size=size, techniques=technique_names)
        for visit in visits:
            for role, path in visit["files"].items():
                records.append({"patient": patient, "visit": visit["name"], "date": visit["date"], "role": role,
                                "path": os.path.relpath(path, out_dir), "site": site,
                                "timepoint": "baseline" if visit is visits[0] else "follow-up", "age": age,
                                "treatment_start": truth["treatment_start"]})
        ctdna = _ctdna_series(rng, visits, bool(responders[index]))
        for date, value in ctdna:
            external.append((patient, date, CTDNA_ANALYTE, value, "%"))
        truth_patients[patient] = {"seed": patient_seed, "site": site, "age": age, "responder": bool(responders[index]),
                                   "site_effect": {k: {"multiplicative": v[0], "additive": v[1]}
                                                   for k, v in effects.items()},
                                   "covariate_shift_D_mm2_s": shift, "visits": truth["visits"],
                                   "ctdna": [{"date": d, "value_percent": v} for d, v in ctdna]}
        if log:
            log(f"  {patient}: {site}, age {age}, {'responder' if responders[index] else 'non-responder'}, "
                f"{len(visits)} visits")
    manifest_path = manifest_module.write_manifest(os.path.join(out_dir, "manifest.csv"), records)
    with open(os.path.join(out_dir, "external.csv"), "w", encoding="utf-8") as stream:
        stream.write("patient,date,analyte,value,unit\n")
        for patient, date, analyte, value, unit in external:
            stream.write(f"{patient},{date},{analyte},{value:.6g},{unit}\n")
    truth = {"description": __doc__.strip(), "seed": seed, "size": size, "visits": n_visits,
             "techniques": technique_names,
             "sites": {site_name(k): {b: {"multiplicative": v[0], "additive": v[1],
                                          "unit_additive": "mm2/s" if b == "ADC" else "1/min"}
                                      for b, v in site_effects(k).items()} for k in range(n_sites)},
             "covariate": {"name": "age", "effect": "true D += AGE_SLOPE * (age - 60)", "slope_mm2_s_per_year": AGE_SLOPE,
                           "centre_years": AGE_CENTRE, "note": "applied before the site effect"},
             "ctdna_rule": "responders fall ~70 % by the first follow-up; non-responders rise",
             "patients": truth_patients}
    with open(os.path.join(out_dir, "truth.json"), "w", encoding="utf-8") as stream:
        json.dump(truth, stream, indent=1)
    if progress:
        progress(1.0, "cohort written")
    return manifest_path


def _ctdna_series(rng, visits, responder):
    """(date, VAF %) one day before each visit: responders fall ~70 % then more, others rise."""
    baseline = float(np.exp(rng.normal(np.log(4.0), 0.5)))
    factors = [1.0] + ([0.3, 0.12, 0.08, 0.05] if responder else [1.3, 1.7, 2.0, 2.4])
    out = []
    for index, visit in enumerate(visits):
        date = datetime.date.fromisoformat(visit["date"]) - datetime.timedelta(days=1)
        noise = float(np.exp(rng.normal(0, 0.05)))
        out.append((date.isoformat(), baseline * factors[min(index, len(factors) - 1)] * (noise if index else 1.0)))
    return out
