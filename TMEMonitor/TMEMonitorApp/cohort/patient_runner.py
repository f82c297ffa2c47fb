"""The one adapter between the cohort runner and the per-patient code (dashboard, scene, demo,
phantom, technique settings): every call into them is in this file.

``run_patient`` processes one patient exactly as ``tme-monitor report`` does for a scene: a
headless scene, the visits and series of the manifest, the technique analyses of every visit,
registration to baseline, the response, and the patient's .mrb, maps and report.json/html. It
returns the patient's long-table rows and response calls. ``write_synthetic_patient`` writes one
patient of ``cohort demo`` from the synthetic patient on therapy (the phantom).
"""
import json
import os

import numpy as np

from TMEMonitorLib.errors import InputError

REGION = "tumour"
# Long-table units of the report's biomarkers (report.json gives them too; kept for empty visits).
BIOMARKER_ORDER = ("volume_ml", "longest_diameter_mm", "recist_sum_mm", "bidimensional_product_mm2", "ADC", "D",
                   "f", "Dstar", "Ktrans", "ve", "vp", "kep", "iAUC60", "tCho/tCr")
PRIMARY_CRITERION = "RECIST 1.1"


def technique_settings(settings):
    """{technique name: its validated settings object} for every settings section of a registered
    technique (``Technique.settings_type``; JSON lists become tuples where the field's default is a
    tuple); InputError naming the section and key."""
    import dataclasses
    from TMEMonitorApp import techniques
    out = {}
    for technique in techniques.techniques():
        cls = technique.settings_type
        if cls is None or technique.name not in settings:
            continue
        section = technique.name
        values = dict(settings.get(section) or {})
        if dataclasses.is_dataclass(cls):
            for item in dataclasses.fields(cls):
                if isinstance(item.default, tuple) and isinstance(values.get(item.name), list):
                    values[item.name] = tuple(values[item.name])
        try:
            instance = cls(**values)
        except TypeError as error:
            raise InputError(f"--settings: section '{section}': {error}") from None
        validate = getattr(instance, "validated", None)
        if validate is not None:
            try:
                instance = validate()
            except InputError as error:
                raise InputError(f"--settings: section '{section}': {error}") from None
        out[section] = instance
    return out


def run_patient(spec, settings, out_folder, progress=None):
    """Process one patient (``manifest.PatientSpec``) into ``out_folder``; returns a dict with
    ``rows`` (long table), ``responses`` (criterion calls), ``outputs`` (files, relative)."""
    from TMEMonitorApp import dashboard
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.scene import hierarchy

    from . import manifest

    report = progress or (lambda fraction, message="": None)
    by_technique = technique_settings(settings)
    settings_text = json.dumps(settings, sort_keys=True, default=str)
    scene = tme_scene.create_scene()
    try:
        patient_item = hierarchy.add_patient(scene, spec.patient, spec.patient, spec.treatment_start)
        import slicer
        slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene).SetItemAttribute(
            patient_item, "TMEMonitor.CohortSettings", settings_text)
        visit_items = []
        for visit in spec.visits:
            item = dashboard.add_visit(scene, patient_item, visit.name, visit.date, day=visit.day,
                                       role="baseline" if visit.baseline else "on-treatment")
            for series in visit.series:
                options = {}
                if series.role == "vfa":
                    options["flip_angles_deg"] = (series.flip_angles_deg or settings["vfa"].get("flip_angles_deg")
                                                  or _nrrd_flip_angles(series.path))
                    if not options["flip_angles_deg"]:
                        raise InputError(f"VFA series '{series.path}': no flip angles (give the manifest column "
                                         "flip_angles_deg or settings vfa.flip_angles_deg)")
                node = dashboard.add_series_to_visit(scene, item, series.path, series.role, **options)
                _restore_acquisition_attributes(node, series.path)      # NRRD keys only; others: no-op
            visit_items.append((visit, item))

        count = len(visit_items)
        analysed = set(manifest.analysed_roles())
        for index, (visit, item) in enumerate(visit_items):
            step = _scaled(report, 0.70 * index / count, 0.70 / count, f"visit {visit.name}")
            if {s.role for s in visit.series} & analysed:
                # Every registered technique whose inputs the visit holds (the dashboard's "run visit
                # analyses"), each with its settings section or its defaults.
                dashboard.run_visit_analyses(scene, item, settings=by_technique, progress=step)
        method = settings["registration"]["method"]
        organ = settings["response"]["organ"]
        if method != "none":
            report(0.72, "registration to baseline")
            dashboard.register_visits(scene, patient_item, method=method, progress=_scaled(report, 0.72, 0.1, "registration"))
        report(0.82, "response")
        response = dashboard.compute_response(scene, patient_item, organ=organ)
        report(0.88, "report")
        dashboard.write_report(scene, patient_item, out_folder, response=response, organ=organ)
        maps = _write_maps(scene, dashboard, tme_scene, visit_items, out_folder, settings_text)
        scene_path = tme_scene.save_scene(scene, os.path.join(out_folder, f"{spec.folder}.mrb"))
    finally:
        tme_scene.release_scene(scene)

    report_json = os.path.join(out_folder, "report.json")
    with open(report_json, encoding="utf-8") as stream:
        data = json.load(stream)
    data["cohort"] = {"patient": spec.patient, "site": spec.site, "covariates": spec.covariates,
                      "settings": settings,
                      "inputs": [{"visit": v.name, "date": v.date.isoformat(), "role": s.role, "path": s.path}
                                 for v in spec.visits for s in v.series]}
    with open(report_json, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=1, default=str)
    rows, responses = rows_from_report(data, spec)
    outputs = ["report.json", "report.html", os.path.basename(scene_path)] + maps
    report(1.0, "done")
    return {"rows": rows, "responses": responses, "outputs": outputs}


def _scaled(report, start, width, label):
    return lambda fraction, message="": report(start + width * min(max(fraction, 0.0), 1.0), f"{label}: {message}")


def _write_maps(scene, dashboard, tme_scene, visit_items, out_folder, settings_text):
    written = []
    for visit, item in visit_items:
        folder = os.path.join("maps", _safe(visit.name))
        os.makedirs(os.path.join(out_folder, folder), exist_ok=True)
        for biomarker, node in sorted(dashboard.visit_biomarker_maps(scene, item).items()):
            node.SetAttribute("TMEMonitor.CohortSettings", settings_text)
            relative = os.path.join(folder, _safe(biomarker) + ".nrrd")
            tme_scene.write_node(node, os.path.join(out_folder, relative))
            written.append(relative)
    return written


def _safe(text):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "x"


def _nrrd_header(path):
    """({field: value}, {key: value}) of a NRRD header (fields ``name: value``, keys ``name:=value``)."""
    fields, keys = {}, {}
    if not path.lower().endswith((".nrrd", ".nhdr")) or not os.path.isfile(path):
        return fields, keys
    with open(path, "rb") as stream:
        for raw in stream:
            line = raw.decode("latin-1").rstrip("\r\n")
            if not line:
                break                                   # end of the header: the data follow
            if ":=" in line:
                key, value = line.split(":=", 1)
                keys[key.strip()] = value.strip()
            elif ": " in line and not line.startswith("#"):
                key, value = line.split(": ", 1)
                fields[key.strip()] = value.strip()
    return fields, keys


def _nrrd_flip_angles(path):
    """Flip angles (deg) of a .seq.nrrd whose list axis is ``flip_angle`` (Slicer sequence keys), else None."""
    fields, keys = _nrrd_header(path)
    if "flip_angle" not in fields.get("labels", ""):
        return None
    for key, value in keys.items():
        if key.endswith("index values"):
            try:
                return [float(v) for v in value.split()]
            except ValueError:
                return None
    return None


def _restore_acquisition_attributes(node, path):
    """Acquisition values a TME Monitor / Slicer NRRD carries as ``TMEMonitor.*`` keys (TR, flip angle,
    field strength, noise sigma ...) put back on the node when the reader did not (the node's own
    values win); their provenance is recorded."""
    _, keys = _nrrd_header(path)
    restored = []
    for key, value in keys.items():
        if key.startswith("TMEMonitor.") and key not in ("TMEMonitor.Role", "TMEMonitor.AxisSource") \
                and node.GetAttribute(key) is None:
            node.SetAttribute(key, value)
            restored.append(key[len("TMEMonitor."):])
    if restored:
        node.SetAttribute("TMEMonitor.AcquisitionSource", f"NRRD header keys of '{path}': {', '.join(restored)}")
    return restored


def rows_from_report(data, spec):
    """Long-table rows and response calls from a patient's report.json data."""
    site = spec.site
    calls = {}
    responses = []
    days = {v["name"]: v.get("day") for v in data["visits"]}
    for call in data.get("response", []):
        calls[(call["criterion"], call["visit"])] = call["category"]
        responses.append({"patient": spec.patient, "visit": call["visit"], "day": days.get(call["visit"]),
                          "criterion": call["criterion"], "category": call["category"], "reason": call.get("reason", "")})
    spec_days = {v.name: v for v in spec.visits}
    rows = []
    for visit in data["visits"]:
        manifest_visit = spec_days.get(visit["name"])
        day = manifest_visit.day if manifest_visit else visit.get("day")
        baseline = bool(manifest_visit and manifest_visit.baseline)
        category = "baseline" if baseline else calls.get((PRIMARY_CRITERION, visit["name"]), "")
        names = [n for n in BIOMARKER_ORDER if n in visit["biomarkers"]] + \
            sorted(n for n in visit["biomarkers"] if n not in BIOMARKER_ORDER)
        for name in names:
            entry = visit["biomarkers"][name]
            if entry.get("measured") is None:
                continue                                        # not measured: no row (never a zero)
            real = entry.get("real_change")
            rows.append({"patient": spec.patient, "visit": visit["name"], "date": visit["date"], "day": day,
                         "site": site, "region": REGION, "biomarker": name, "value": float(entry["measured"]),
                         "unit": entry.get("unit") or "",
                         "change_from_baseline_percent": entry.get("change_from_baseline_percent"),
                         "real_change": "" if real is None else ("yes" if real else "no"),
                         "response_category": category})
    return rows, responses


# ---------------------------------------------------------------------------------------------
# Synthetic patient of ``cohort demo``
# ---------------------------------------------------------------------------------------------
DEFAULT_DEMO_TECHNIQUES = ("dce", "dwi")     # fast cohort runs; any registered technique with a synthesize()


def demo_techniques(names=None, flag="--techniques"):
    """The registered techniques a cohort demo synthesises (default ``DEFAULT_DEMO_TECHNIQUES``), in
    technique order; InputError naming ``flag`` when a name is not a registered technique with a
    synthetic acquisition."""
    from TMEMonitorApp import demo
    names = list(DEFAULT_DEMO_TECHNIQUES if names is None else names)
    if not names:
        raise InputError(f"{flag}: give at least one technique")
    return demo.synthesizing_techniques(names, what=flag)


def write_synthetic_patient(folder, seed, n_visits, responder, site_effect, covariate_shift, size="tiny",
                            techniques=None):
    """Write one synthetic patient's series (NRRD; files a technique writes itself, e.g. a spectrum,
    stay where it wrote them under the visit's folder) under ``folder``; returns (visits, truth).

    Each of ``techniques`` (names of registered techniques; default ``DEFAULT_DEMO_TECHNIQUES``)
    synthesises its acquisition of every visit through its ``synthesize()``, as the demo does
    (``TMEMonitorApp.demo.synthesize_visit_nodes``); the visit also gets its tumour label map.
    ``site_effect``: {"ADC": (multiplicative, additive mm2/s), "Ktrans": (multiplicative, additive 1/min)}
    applied to the true D map (and so the ADC) and the true Ktrans map of every tissue before the
    signals are synthesised, as a scanner would bias them; ``covariate_shift`` (mm2/s) is added to
    the true D map (the simulated biological covariate effect). ``visits``: [{name, date, day,
    files: {role: path}}]; ``truth``: per-visit tumour means before and after the site effect."""
    from TMEMonitorApp import demo
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.phantom import make_patient
    from TMEMonitorLib.phantom.patient import summarise
    from TMEMonitorLib.techniques import SOURCE_PATH, SynthesisContext

    synthesizers = demo_techniques(techniques)
    shape = demo.SIZES[size] if isinstance(size, str) else tuple(size)
    patient = make_patient(shape=shape, n_visits=n_visits, seed=seed, responder=responder)
    rng = np.random.default_rng(seed + 1000)        # one generator, drawn by the techniques in order (as the demo)
    scene = tme_scene.create_scene()
    visits, truth = [], {}
    try:
        for index, visit in enumerate(patient.visits):
            biological = summarise(visit)
            tissue = visit.labels > 0
            d_scale, d_shift = site_effect["ADC"]
            k_scale, k_shift = site_effect["Ktrans"]
            visit.truth["D"] = np.where(tissue, d_scale * (visit.truth["D"] + covariate_shift) + d_shift,
                                        0.0).astype(np.float32)
            visit.truth["Ktrans"] = np.where(tissue & (visit.truth["Ktrans"] > 0),
                                             k_scale * visit.truth["Ktrans"] + k_shift, 0.0).astype(np.float32)
            with np.errstate(divide="ignore", invalid="ignore"):
                visit.truth["kep"] = np.where(visit.truth["ve"] > 0, visit.truth["Ktrans"] / np.maximum(
                    visit.truth["ve"], 1e-6), 0.0).astype(np.float32)
            visit.truth["ADC"] = np.where(tissue, _log_linear_adc(visit.truth), 0.0).astype(np.float32)
            acquired = summarise(visit)
            truth[visit.name] = {"day": visit.day, "biological": _truth_subset(biological),
                                 "as_acquired": _truth_subset(acquired)}
            visit_folder = os.path.join(folder, _safe(visit.name))
            os.makedirs(visit_folder, exist_ok=True)
            context = SynthesisContext(rng=rng, seed=seed, visit_index=index, out_dir=visit_folder, responder=responder)
            files = {}
            for role, node in demo.synthesize_visit_nodes(scene, visit, synthesizers, context).items():
                files[role] = _write_acquisition(tme_scene, node, visit_folder, role, SOURCE_PATH)
            tumour = np.where(visit.tumour_mask, visit.labels, 0).astype(np.uint8)
            node = tme_scene.add_label_map(scene, tumour, visit.ijk_to_ras, f"{visit.name} tumour")
            files["tumour"] = tme_scene.write_node(node, os.path.join(visit_folder, "tumour.nrrd"))
            visits.append({"name": visit.name, "date": visit.date.isoformat(), "day": visit.day, "files": files})
    finally:
        tme_scene.release_scene(scene)
    return visits, {"patient_id": patient.patient_id, "responder": responder,
                    "treatment_start": patient.treatment_start_date.isoformat(), "visits": truth,
                    "techniques": [t.name for t in synthesizers]}


def _write_acquisition(tme_scene, node, visit_folder, role, source_path_attribute):
    """The file of one synthetic acquisition: a series as ``<role>.seq.nrrd``, a volume as
    ``<role>.nrrd``, a file the technique wrote (its node names it) where it is."""
    if node.IsA("vtkMRMLSequenceNode"):
        return tme_scene.write_node(node, os.path.join(visit_folder, f"{role}.seq.nrrd"))
    if node.IsA("vtkMRMLVolumeNode"):
        return tme_scene.write_node(node, os.path.join(visit_folder, f"{role}.nrrd"))
    path = node.GetAttribute(source_path_attribute)
    if not path or not os.path.isfile(path):
        raise InputError(f"synthetic '{role}' acquisition: no file (node '{node.GetName()}')")
    return path


def _log_linear_adc(truth):
    """ADC a log-linear fit over the phantom's b-values gives on the noise-free IVIM signal
    (the phantom's definition of the true ADC; Le Bihan et al. 1988)."""
    from TMEMonitorLib.phantom.patient import ADC_B_VALUES
    b = ADC_B_VALUES
    f, d, dstar = (truth[k][..., None].astype(float) for k in ("f", "D", "Dstar"))
    signal = f * np.exp(-b * dstar) + (1 - f) * np.exp(-b * d)
    log_signal = np.log(np.maximum(signal, 1e-12))
    centred = b - b.mean()
    return -(log_signal * centred).sum(-1) / (centred ** 2).sum()


def _truth_subset(summary):
    keys = ("volume_ml", "longest_diameter_mm", "ADC_mean", "D_mean", "Ktrans_mean", "ve_mean", "kep_mean")
    return {k: float(summary[k]) for k in keys if k in summary}
