"""The longitudinal dashboard's operations on a scene (used by the TMEMonitor widget, the console,
the demo and ``tme-monitor report``).

A patient is a subject-hierarchy subject; its visits are studies with a date (and day on
treatment). Inside a visit, acquisition nodes carry a role attribute (``TMEMonitor.Role``:
dce, vfa, dwi, anatomy, labels, tumour, mrs) and the maps the technique modules produce
carry ``TMEMonitor.Biomarker``. Everything here takes the scene explicitly.
"""
from dataclasses import dataclass

import numpy as np

from . import scene as tme_scene
from .errors import InputError
from .progress import report
from .scene import hierarchy

ROLE = "TMEMonitor.Role"
BIOMARKER = "TMEMonitor.Biomarker"
VISIT_ITEM = "TMEMonitor.VisitItem"


@dataclass
class VisitInfo:
    item: int
    name: str
    date: object
    day: int
    role: str


def list_patients(scene):
    """[(item, name)] of the subjects in the scene."""
    import slicer
    import vtk
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    ids = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, False)
    return [(ids.GetId(i), sh.GetItemName(ids.GetId(i))) for i in range(ids.GetNumberOfIds())
            if sh.GetItemLevel(ids.GetId(i)) == "Patient"]


def list_visits(scene, patient_item):
    """Visits of a patient ordered by date (every visit must have a date)."""
    out = []
    for item, name, date, day in hierarchy.visits(scene, patient_item):
        out.append(VisitInfo(item=item, name=name, date=date, day=day,
                             role=hierarchy.item_attribute(scene, item, hierarchy.VISIT_ROLE) or ""))
    return out


def add_visit(scene, patient_item, name, date, day=None, role=None):
    """Add a dated visit; the day on treatment is computed from the patient's treatment start when known."""
    if not name:
        raise InputError("a visit needs a name")
    if date is None:
        raise InputError(f"visit '{name}' has no date; every visit needs one")
    parsed = hierarchy.parse_date(date) if isinstance(date, str) else date
    start_text = hierarchy.item_attribute(scene, patient_item, hierarchy.TREATMENT_START)
    if day is None and start_text:
        day = (parsed - hierarchy.parse_date(start_text)).days
    return hierarchy.add_visit(scene, patient_item, name, parsed, day=day,
                               role=role or ("baseline" if day is not None and day <= 0 else None))


# Roles a file or DICOM folder can be added as: 4D series (axis) or 3D volumes (node kind).
SERIES_ROLES = {"dce": "time", "dwi": "b", "vfa": "flip_angle"}
VOLUME_ROLES = ("anatomy", "labels", "tumour")
ROLES = tuple(SERIES_ROLES) + VOLUME_ROLES
SOURCE_PATH = "TMEMonitor.SourcePath"


def add_series_to_visit(scene, visit_item, path, role, name=None, flip_angles_deg=None, replace=False, **overrides):
    """Read a NIfTI/NRRD file or a DICOM folder and add it to a visit with its role; returns the node.

    - ``dce`` / ``dwi``: a 4D series (``TMEMonitorLib.io.read_series``: frame times or b-values from
      the file, its sidecar or DICOM tags; ``overrides`` as read_series takes them, e.g.
      ``frame_time_s=``, ``axis_values=``, ``series=``) -> a sequence node indexed by time (s) or b (s/mm2).
    - ``vfa``: a 4D variable-flip-angle series; ``flip_angles_deg`` (one per frame) is required.
    - ``anatomy`` -> scalar volume; ``labels`` -> label map; ``tumour`` -> segmentation (one
      segment per label value) (``TMEMonitorLib.io.read_volume``).
    The node goes under the visit in the subject hierarchy with ``TMEMonitor.Role`` and its source
    path. Errors (unknown role, missing file, wrong axis, a second node of the same role without
    ``replace``) are raised before the scene changes; a failure while adding leaves it as it was.
    With ``replace=True`` an earlier node of the role keeps its data but loses the role.
    """
    import os

    from .io import read_series, read_volume
    from .scene.inputs import RemoveAddedNodesOnError
    if role not in ROLES:
        raise InputError(f"role '{role}' is not one of {', '.join(ROLES)}")
    sh_level = _subject_hierarchy(scene).GetItemLevel(visit_item)
    if sh_level != "Study":
        raise InputError(f"item {visit_item} is not a visit (a study item of a patient)")
    visit_name = scene_item_name(scene, visit_item)
    previous = visit_nodes_by_role(scene, visit_item).get(role)
    if previous is not None and not replace:
        raise InputError(f"visit '{visit_name}' already has a {role} node ('{previous.GetName()}'); "
                         "pass replace=True to use the new one instead")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{role} input '{path}' does not exist")
    name = name or f"{visit_name} {role}"
    if role in SERIES_ROLES:
        if role == "vfa":
            if flip_angles_deg is None:
                raise InputError(f"VFA series '{path}': give flip_angles_deg= (one per frame)")
            overrides.setdefault("frame_time_s", 1.0)        # placeholder axis, replaced by the flip angles
        data = read_series(path, **overrides)
        axis_name, axis_values, axis_source = data.axis_name, data.axis_values, data.provenance.get("axis_values")
        if role == "vfa":
            axis_values = np.asarray(flip_angles_deg, dtype=float).ravel()
            if axis_values.size != data.array.shape[0] or not np.all((axis_values > 0) & (axis_values < 90)):
                raise InputError(f"VFA series '{path}': {data.array.shape[0]} frames need as many flip angles "
                                 f"in (0, 90) deg, got {list(axis_values)}")
            axis_name, axis_source = "flip_angle", "user (flip_angles_deg=)"
        elif axis_name != SERIES_ROLES[role]:
            raise InputError(f"{role} series '{path}' is indexed by {axis_name}, not {SERIES_ROLES[role]}; "
                             f"pass axis_name= or axis_values= if the file's axis is wrong")
    else:
        data = read_volume(path)
        if role in ("labels", "tumour"):
            values = data.array[np.isfinite(data.array)]
            if not np.allclose(values, np.round(values)) or values.min(initial=0) < 0:
                raise InputError(f"{role} '{path}' is not a label map (non-negative whole numbers)")
            if role == "tumour" and not np.any(values > 0):
                raise InputError(f"tumour '{path}' is empty")
    with RemoveAddedNodesOnError(scene):
        if role in SERIES_ROLES:
            node = tme_scene.array_to_sequence(scene, data.array, axis_values, data.ijk_to_ras, name,
                                               axis_name=axis_name, axis_source=axis_source)
        elif role == "anatomy":
            node = tme_scene.array_to_volume(scene, data.array.astype(np.float32), data.ijk_to_ras, name)
        else:
            labels = np.nan_to_num(data.array).astype(np.uint16 if data.array.max() > 255 else np.uint8)
            node = tme_scene.add_label_map(scene, labels, data.ijk_to_ras, name) if role == "labels" else None
            if role == "tumour":
                label_node = tme_scene.array_to_volume(scene, labels, data.ijk_to_ras, name + " labels",
                                                       label_map=True)
                node = tme_scene.labelmap_to_segmentation(scene, label_node, name)
                scene.RemoveNode(label_node)
        tme_scene.set_acquisition_attributes(node, {k: v for k, v in data.metadata.items()
                                                    if isinstance(v, (int, float, str))})
        node.SetAttribute(SOURCE_PATH, os.path.abspath(path))
        if data.warnings:
            node.SetAttribute("TMEMonitor.ReadWarnings", " | ".join(data.warnings))
        hierarchy.place(scene, node, visit_item)
        hierarchy.place_sequence_proxy(scene, node, visit_item)
        if previous is not None:
            previous.RemoveAttribute(ROLE)
        node.SetAttribute(ROLE, role)
    return node


def _subject_hierarchy(scene):
    import slicer
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)


def visit_nodes_by_role(scene, visit_item):
    """{role: node} of a visit's acquisitions (first node of each role)."""
    out = {}
    for node in hierarchy.children_nodes(scene, visit_item):
        role = node.GetAttribute(ROLE)
        if role and role not in out:
            out[role] = node
    return out


def visit_biomarker_maps(scene, visit_item):
    """{biomarker: map node} produced for a visit (the latest node per biomarker)."""
    out = {}
    for node in hierarchy.children_nodes(scene, visit_item):
        name = node.GetAttribute(BIOMARKER)
        if name:
            out[name] = node
    return out


def _analysis_mask(nodes, series_array):
    """Voxels with signal (the body): mean signal above 5 % of its 99th percentile."""
    mean = series_array.mean(axis=0)
    return mean > 0.05 * np.percentile(mean, 99)


def run_visit_analyses(scene, visit_item, dce_settings=None, dwi_settings=None, progress=None):
    """Run the technique modules on a visit's acquisitions; returns {technique: result}."""
    nodes = visit_nodes_by_role(scene, visit_item)
    visit_name = scene_item_name(scene, visit_item)
    if not any(role in nodes for role in ("dce", "dwi", "mrs")):
        raise InputError(f"visit '{visit_name}' has no DCE, DWI or spectroscopy acquisition "
                         f"(nodes need the attribute {ROLE})")
    results = {}
    steps = [role for role in ("dce", "dwi", "mrs") if role in nodes]
    for index, role in enumerate(steps):
        step_progress = (lambda i: lambda f, m="": report(progress, (i + f) / len(steps), f"{role}: {m}"))(index)
        if role == "dce":
            results["dce"] = _run_dce(scene, visit_item, visit_name, nodes, dce_settings, step_progress)
        elif role == "dwi":
            results["dwi"] = _run_dwi(scene, visit_item, visit_name, nodes, dwi_settings, step_progress)
        elif role == "mrs":
            results["mrs"] = _run_mrs(scene, visit_item, visit_name, nodes, step_progress)
    report(progress, 1.0, "done")
    return results


def scene_item_name(scene, item):
    import slicer
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene).GetItemName(item)


def _mask_node(scene, nodes, series_node, expected_axis):
    series = tme_scene.series_from_node(series_node, expected_axis=expected_axis)
    mask = _analysis_mask(nodes, series.array)
    node = tme_scene.add_label_map(scene, mask, series.ijk_to_ras, f"{series_node.GetName()} analysis mask")
    node.SetHideFromEditors(True)
    return node


def _tag_maps(result, visit_item, prefix=""):
    for name, node in result.map_nodes.items():
        node.SetAttribute(BIOMARKER, prefix + name)
        node.SetAttribute(VISIT_ITEM, str(visit_item))


def _run_dce(scene, visit_item, visit_name, nodes, settings, progress):
    from DCEModuleLib.logic import DCELogic
    from DCEModuleLib.settings import DCESettings
    mask_node = _mask_node(scene, nodes, nodes["dce"], "time")
    try:
        result = DCELogic(scene).run(nodes["dce"], settings or DCESettings(), vfa_node=nodes.get("vfa"),
                                     mask_node=mask_node, parent_item=visit_item, name_prefix=f"{visit_name} DCE",
                                     statistics_segmentation=nodes.get("tumour"), progress=progress)
    finally:
        scene.RemoveNode(mask_node)
    _tag_maps(result, visit_item)
    return result


def _run_dwi(scene, visit_item, visit_name, nodes, settings, progress):
    from DiffusionModuleLib.logic import DiffusionLogic
    mask_node = _mask_node(scene, nodes, nodes["dwi"], "b")
    try:
        result = DiffusionLogic(scene).run(nodes["dwi"], settings, mask_node=mask_node, parent_item=visit_item,
                                           name_prefix=f"{visit_name} DWI",
                                           statistics_segmentation=nodes.get("tumour"), progress=progress)
    finally:
        scene.RemoveNode(mask_node)
    _tag_maps(result, visit_item)
    return result


def _run_mrs(scene, visit_item, visit_name, nodes, progress):
    from SpectroscopyModuleLib.logic import SpectroscopyLogic
    source = nodes["mrs"].GetAttribute("TMEMonitor.SourcePath")
    if not source:
        raise InputError(f"visit '{visit_name}': the spectroscopy node has no source file")
    result = SpectroscopyLogic(scene).run_svs(source, parent_item=visit_item, name_prefix=f"{visit_name} MRS",
                                              progress=progress)
    return result


# ---------------------------------------------------------------------------------------------
# Registration, response and report
# ---------------------------------------------------------------------------------------------
TRANSFORM_OF_VISIT = "TMEMonitor.RegistrationOfVisit"

# Biomarkers followed across visits: map name -> (unit, statistic shown)
TRACKED_MAPS = {"ADC": "mm2/s", "D": "mm2/s", "f": "", "Dstar": "mm2/s", "Ktrans": "1/min", "ve": "", "vp": "",
                "kep": "1/min", "iAUC60": "mM*s"}
TRUTH_KEYS = {"volume_ml": "volume_ml", "longest_diameter_mm": "longest_diameter_mm", "ADC": "ADC_mean",
              "D": "D_mean", "f": "f_mean", "Dstar": "Dstar_mean", "Ktrans": "Ktrans_mean", "ve": "ve_mean",
              "vp": "vp_mean", "kep": "kep_mean", "tCho/tCr": "tCho/tCr"}


@dataclass
class RegistrationSummary:
    results: dict          # visit name -> longitudinal.registration.RegistrationResult

    def summary(self):
        if not self.results:
            return "Registration: only one visit, nothing to register"
        return "Registration to baseline: " + "; ".join(f"{name} {r.summary()}" for name, r in self.results.items())


def _baseline(visits):
    for visit in visits:
        if visit.role == "baseline":
            return visit
    return visits[0]


def _anatomy(scene, visit_item):
    nodes = visit_nodes_by_role(scene, visit_item)
    node = nodes.get("anatomy")
    if node is None:
        raise InputError(f"visit '{scene_item_name(scene, visit_item)}' has no anatomy image to register "
                         f"(a volume with {ROLE} = anatomy)")
    return node


def register_visits(scene, patient_item, method="rigid", progress=None):
    """Register every visit's anatomy to baseline; adds a transform node per visit and keeps its quality."""
    import slicer

    from .longitudinal import registration, transform_nodes
    visits = list_visits(scene, patient_item)
    if len(visits) < 2:
        return RegistrationSummary({})
    _remove_visit_transforms(scene, [v.item for v in visits])
    baseline = _baseline(visits)
    fixed = _anatomy(scene, baseline.item)
    fixed_array = tme_scene.volume_to_array(fixed)
    fixed_ijk = tme_scene.node_ijk_to_ras(fixed)
    results = {}
    others = [v for v in visits if v.item != baseline.item]
    for index, visit in enumerate(others):
        report(progress, index / len(others), f"registering {visit.name}")
        moving = _anatomy(scene, visit.item)
        result = registration.register(fixed_array, fixed_ijk, tme_scene.volume_to_array(moving),
                                       tme_scene.node_ijk_to_ras(moving), method=method)
        # Linear: a linear transform node; B-spline: a grid transform node holding the whole composite
        # (linear stage + B-spline) sampled on the baseline grid, saved with the scene.
        transform = transform_nodes.add_transform_node(scene, result.transform, f"{visit.name} to baseline ({method})",
                                                       fixed_array.shape, fixed_ijk)
        transform.SetAttribute(TRANSFORM_OF_VISIT, str(visit.item))
        transform.SetAttribute("TMEMonitor.RegistrationMethod", method)
        transform.SetAttribute("TMEMonitor.RegistrationQuality", result.summary())
        hierarchy.place(scene, transform, visit.item)
        results[visit.name] = result
        _REGISTRATIONS[(id(scene), visit.item)] = result
    report(progress, 1.0, "registration done")
    if any(r.warning for r in results.values()):
        import warnings
        warnings.warn("; ".join(f"{n}: {r.warning}" for n, r in results.items() if r.warning))
    del slicer
    return RegistrationSummary(results)


# Registration results of this session (the SimpleITK transforms, B-spline included), by visit.
_REGISTRATIONS = {}


def _visit_transform_nodes(scene, visit_item=None):
    """Registration transform nodes (all, or a visit's). A visit's are found under its subject-hierarchy
    item (item IDs change when a scene is reloaded, so the attribute alone cannot identify it)."""
    if visit_item is not None:
        nodes = [n for n in hierarchy.children_nodes(scene, visit_item)
                 if n.IsA("vtkMRMLTransformNode") and n.GetAttribute(TRANSFORM_OF_VISIT)]
        if nodes:
            return nodes
    nodes = []
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLTransformNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLTransformNode")
        value = node.GetAttribute(TRANSFORM_OF_VISIT)
        if value and (visit_item is None or value == str(visit_item)):
            nodes.append(node)
    return nodes


def _remove_visit_transforms(scene, visit_items):
    """A new registration replaces the visit's earlier transform node (one per visit)."""
    wanted = {str(item) for item in visit_items}
    old = [n for n in _visit_transform_nodes(scene) if n.GetAttribute(TRANSFORM_OF_VISIT) in wanted]
    for item in visit_items:
        old += _visit_transform_nodes(scene, item)
    for node in {n.GetID(): n for n in old}.values():
        scene.RemoveNode(node)
    for key in [k for k in _REGISTRATIONS if k[0] == id(scene) and str(k[1]) in wanted]:
        del _REGISTRATIONS[key]


def _transform_for(scene, visit_item):
    """SimpleITK transform baseline -> visit (None when the visit was not registered): this session's
    result, else the visit's transform node (linear, or a grid node for B-spline; after loading a scene)."""
    result = _REGISTRATIONS.get((id(scene), visit_item))
    if result is not None:
        return result.transform
    from .longitudinal import transform_nodes
    nodes = _visit_transform_nodes(scene, visit_item)
    return transform_nodes.sitk_transform_from_node(nodes[-1]) if nodes else None


@dataclass
class ResponseSummary:
    table_node: object
    chart_nodes: list
    calls: list
    data: dict                      # everything for report.json
    figures_input: dict             # arrays for the report figures
    lesion_table_node: object = None  # one row per visit and lesion: identity, status, longest diameter

    def summary(self):
        lines = [f"{c.criterion} at {c.visit}: {c.category} ({c.reason})" for c in self.calls]
        return "Response: " + (" | ".join(lines) if lines else "no follow-up visit")

    def comparison_lines(self):
        lines = []
        for visit in self.data["visits"]:
            for name, entry in visit["biomarkers"].items():
                truth = entry.get("truth")
                if truth is None or entry.get("measured") is None:
                    continue
                measured = entry["measured"]
                error = 100.0 * (measured - truth) / truth if truth else float("nan")
                change = entry.get("change_from_baseline_percent")
                truth_change = entry.get("truth_change_from_baseline_percent")
                change_text = "" if change is None else f"; change {change:+6.1f} % (true {truth_change:+6.1f} %)"
                lines.append(f"{visit['name']:9s} {name:20s} measured {measured:10.4g}  true {truth:10.4g}  "
                             f"({error:+5.1f} %){change_text}")
        return lines


def _tumour_mask(scene, visit_item, shape, ijk_to_ras):
    node = visit_nodes_by_role(scene, visit_item).get("tumour")
    if node is None:
        raise InputError(f"visit '{scene_item_name(scene, visit_item)}' has no tumour segmentation "
                         f"(a segmentation with {ROLE} = tumour)")
    return tme_scene.mask_from_node(scene, node, shape, ijk_to_ras, what="tumour segmentation")


def _visit_tumour(scene, visit, baseline, done, shape, ijk):
    """(tumour mask on the visit's grid, where it came from): the visit's own segmentation, or the
    baseline tumour propagated through the visit's registration. Baseline must be first and drawn."""
    from .longitudinal.segmentation_tools import propagate_mask
    if visit_nodes_by_role(scene, visit.item).get("tumour") is not None:
        return _tumour_mask(scene, visit.item, shape, ijk), "segmentation drawn or imported for this visit"
    if visit.item == baseline.item or not done:
        return _tumour_mask(scene, visit.item, shape, ijk), ""       # raises: baseline needs a drawn tumour
    base = done[0]
    transform = _transform_for(scene, visit.item)
    mask = propagate_mask(base["mask"], base["ijk"], shape, ijk, transform)
    if not np.any(mask):
        raise InputError(f"visit '{visit.name}': the baseline tumour propagated through the registration does not "
                         "overlap this visit's image; check the registration")
    return mask.astype(bool), "baseline tumour propagated through the registration"


def compute_response(scene, patient_item, organ="breast", response_biomarker="ADC", truth=None, rc_overrides=None,
                     prm_thresholds=None, progress=None):
    """Per-visit biomarkers, changes against repeatability, PRM and habitats, response calls, table and plots."""
    from .longitudinal import registration, repeatability, response_criteria, response_maps
    from .longitudinal.segmentation_tools import bidimensional_product_mm2
    from .phantom.measurements import longest_diameter_mm, volume_ml
    from .statistics import region_statistics
    visits = list_visits(scene, patient_item)
    if len(visits) < 1:
        raise InputError("the patient has no visits")
    baseline = _baseline(visits)
    truth = truth or {}
    per_visit = []
    for index, visit in enumerate(visits):
        report(progress, 0.5 * index / len(visits), f"biomarkers of {visit.name}")
        maps = visit_biomarker_maps(scene, visit.item)
        reference = maps.get("ADC") or maps.get("Ktrans") or _anatomy(scene, visit.item)
        shape, ijk = tme_scene.volume_geometry(reference)
        mask, mask_source = _visit_tumour(scene, visit, baseline, per_visit, shape, ijk)
        values = {"volume_ml": volume_ml(mask, ijk), "longest_diameter_mm": longest_diameter_mm(mask, ijk),
                  "bidimensional_product_mm2": bidimensional_product_mm2(mask, ijk)}
        arrays = {}
        for name in TRACKED_MAPS:
            node = maps.get(name)
            if node is None:
                values[name] = None                   # missing, never zero
                continue
            array = tme_scene.volume_to_array(node)
            arrays[name] = array
            values[name] = region_statistics(array, mask)["mean"]
        mrs = _mrs_biomarkers(scene, visit.item)
        values["tCho/tCr"] = mrs.get("tCho/tCr")
        per_visit.append({"visit": visit, "values": values, "mask": mask, "mask_source": mask_source, "ijk": ijk,
                          "own_segmentation": visit_nodes_by_role(scene, visit.item).get("tumour") is not None,
                          "shape": shape, "arrays": arrays,
                          "anatomy": tme_scene.volume_to_array(_anatomy(scene, visit.item))})

    report(progress, 0.5, "lesions and RECIST target sum")
    target_info = _follow_lesions(scene, per_visit, per_visit[visits.index(baseline)])
    units = {"volume_ml": "mL", "longest_diameter_mm": "mm", "recist_sum_mm": "mm", "bidimensional_product_mm2": "mm2",
             **TRACKED_MAPS, "tCho/tCr": ""}
    base_values = per_visit[visits.index(baseline)]["values"]
    data = {"patient": {"name": scene_item_name(scene, patient_item),
                        "id": hierarchy.item_attribute(scene, patient_item, "DICOM.PatientID"),
                        "treatment_start": hierarchy.item_attribute(scene, patient_item, hierarchy.TREATMENT_START)},
            "organ": organ, "visits": [], "response": [], "prm": {}, "habitats": {}, "target_lesions": target_info}
    flags = []
    previous = None
    for entry in per_visit:
        visit = entry["visit"]
        visit_truth = truth.get(visit.name, {})
        base_truth = truth.get(baseline.name, {})
        biomarkers, visit_flags = {}, {}
        for name, value in entry["values"].items():
            rc = repeatability.rc_percent(name, organ, rc_overrides)
            _, from_baseline = repeatability.change(base_values.get(name), value)
            _, from_previous = repeatability.change(previous["values"].get(name) if previous else None, value)
            real = repeatability.is_real_change(base_values.get(name), value, rc) if visit is not baseline else None
            truth_value = visit_truth.get(TRUTH_KEYS.get(name, ""), None)
            base_truth_value = base_truth.get(TRUTH_KEYS.get(name, ""), None)
            biomarkers[name] = {"unit": units.get(name, ""), "measured": value, "truth": truth_value,
                                "change_from_baseline_percent": from_baseline if visit is not baseline else None,
                                "change_from_previous_percent": from_previous if previous else None,
                                "truth_change_from_baseline_percent":
                                    repeatability.change(base_truth_value, truth_value)[1] if truth_value is not None
                                    and visit is not baseline else None,
                                "rc_percent": rc, "real_change": real}
            visit_flags[name] = None if real is None else (0 if not real else int(np.sign(from_baseline)))
        flags.append(visit_flags)
        data["visits"].append({"name": visit.name, "date": visit.date.isoformat(), "day": visit.day,
                               "biomarkers": biomarkers, "new_lesions": entry["new_lesions"],
                               "lesions": [m.as_dict() for m in entry["lesions"]]})
        previous = entry

    names = [v.name for v in visits]
    days = [v.day if v.day is not None else (v.date - visits[0].date).days for v in visits]
    new_lesions = [e["new_lesions"] > 0 for e in per_visit]
    calls = response_criteria.recist(names, [e["values"]["recist_sum_mm"] for e in per_visit], days, new_lesions)
    calls += response_criteria.volumetric(names, [e["values"]["volume_ml"] for e in per_visit], days, new_lesions)
    calls += response_criteria.rano(names, [e["values"]["bidimensional_product_mm2"] for e in per_visit], days,
                                    new_lesions)
    calls += response_criteria.functional(names, flags)
    data["response"] = [c.as_dict() for c in calls]

    # Voxel-wise response maps (last visit against baseline, in baseline space) and habitats.
    report(progress, 0.6, "response maps")
    base = per_visit[visits.index(baseline)]
    last = per_visit[-1]
    thresholds = {"ADC": 0.3e-3, "Ktrans": 0.05, **(prm_thresholds or {})}
    prm_nodes = {}
    if last is not base:
        transform = _transform_for(scene, last["visit"].item)
        for name in ("ADC", "Ktrans"):
            if name not in base["arrays"] or name not in last["arrays"]:
                continue
            follow = registration.resample(last["arrays"][name], last["ijk"], base["shape"], base["ijk"], transform)
            labels, fractions, scatter = response_maps.parametric_response_map(base["arrays"][name], follow,
                                                                              base["mask"], thresholds[name])
            data["prm"][name] = {"threshold": thresholds[name], "unit": TRACKED_MAPS[name], "fractions": fractions,
                                 "follow_up": last["visit"].name}
            colors = tme_scene.label_color_node(scene, "parametric response", response_maps.PRM_LABELS)
            node = tme_scene.add_label_map(scene, labels, base["ijk"], f"PRM {name} {last['visit'].name} vs baseline",
                                           colors)
            hierarchy.place(scene, node, base["visit"].item)
            prm_nodes[name] = (node, labels, scatter)
    habitat_volumes = {}
    for entry in per_visit:
        if "ADC" in entry["arrays"] and "Ktrans" in entry["arrays"]:
            labels = response_maps.habitats(entry["arrays"]["ADC"], entry["arrays"]["Ktrans"], entry["mask"])
            voxel_ml = tme_scene.voxel_volume_ml(entry["ijk"])
            habitat_volumes[entry["visit"].name] = response_maps.habitat_volumes_ml(labels, voxel_ml)
            colors = tme_scene.label_color_node(scene, "habitats", response_maps.HABITAT_LABELS)
            node = tme_scene.add_label_map(scene, labels, entry["ijk"], f"{entry['visit'].name} habitats", colors)
            hierarchy.place(scene, node, entry["visit"].item)
            entry["habitats"] = labels
    data["habitats"] = habitat_volumes

    # Table node: one row per visit, one column per biomarker (+ change from baseline).
    report(progress, 0.85, "table and plots")
    columns = {"visit": names, "date": [v.date.isoformat() for v in visits], "day": days}
    column_units = {"day": "d"}
    for name in units:
        columns[name] = [e["values"].get(name) for e in per_visit]
        column_units[name] = units[name]
        columns[f"{name} change %"] = [v["biomarkers"][name]["change_from_baseline_percent"] for v in data["visits"]]
        columns[f"{name} real change"] = [_flag_text(v["biomarkers"][name]["real_change"]) for v in data["visits"]]
    columns["new lesions"] = [e["new_lesions"] for e in per_visit]
    columns["target lesions"] = [", ".join(target_info["names"])] * len(per_visit)
    table = tme_scene.add_table(scene, f"{data['patient']['name']} biomarkers", columns, units=column_units)
    hierarchy.place(scene, table, patient_item)
    lesion_table = _lesion_table(scene, data["patient"]["name"], per_visit, days)
    hierarchy.place(scene, lesion_table, patient_item)
    charts = []
    percent_series = {}
    for name in ("volume_ml", "longest_diameter_mm", "recist_sum_mm", "ADC", "Ktrans", "tCho/tCr"):
        series = [(v["biomarkers"].get(name) or {}).get("change_from_baseline_percent") for v in data["visits"]]
        series = [0.0 if i == visits.index(baseline) else (np.nan if s is None else s) for i, s in enumerate(series)]
        if name == "recist_sum_mm" and "longest_diameter_mm" in percent_series and np.allclose(
                series, percent_series["longest_diameter_mm"], equal_nan=True):
            continue                        # one target lesion: the sum is its diameter
        if any(np.isfinite(series[1:])):
            percent_series[name] = series
    if percent_series and len(visits) > 1:
        chart = tme_scene.add_plot(scene, "Change from baseline", days, percent_series, "day on treatment",
                                   "change from baseline", "d", "%", styles={k: "line+markers" for k in percent_series})
        hierarchy.place(scene, chart, patient_item)
        charts.append(chart)
    report(progress, 1.0, "response done")
    figures_input = {"per_visit": per_visit, "prm": prm_nodes, "days": days, "percent_series": percent_series,
                     "thresholds": thresholds}
    return ResponseSummary(table_node=table, chart_nodes=charts, calls=calls, data=data, figures_input=figures_input,
                           lesion_table_node=lesion_table)


def _lesion_labels(scene, visit_item, mask, ijk):
    """(label map, names) of a visit's lesions: the connected components of its tumour mask. A
    component that holds exactly one whole segment (or label value) of the tumour node is named
    after it; otherwise "lesion n" (largest first). Segments that touch (a rim and a core) make
    one lesion."""
    from .longitudinal import target_lesions
    labels, names = target_lesions.split_lesions(mask)
    node = visit_nodes_by_role(scene, visit_item).get("tumour")
    if node is None or not names:
        return labels, names
    parts = {}
    if node.IsA("vtkMRMLSegmentationNode"):
        segmentation = node.GetSegmentation()
        for index in range(segmentation.GetNumberOfSegments()):
            segment_id = segmentation.GetNthSegmentID(index)
            try:
                parts[segmentation.GetSegment(segment_id).GetName()] = tme_scene.mask_from_node(
                    scene, node, mask.shape, ijk, segment_id=segment_id)
            except InputError:                      # a segment off this grid: not a lesion here
                continue
    else:
        values, _ = tme_scene.volume_from_node(node, mask.shape, ijk, "tumour label map")
        for value in np.unique(values[values > 0]):
            parts[f"label {int(value) if float(value).is_integer() else value}"] = values == value
    taken = set()
    for index in range(len(names)):
        component = labels == index + 1
        inside = [name for name, part in parts.items() if np.any(part & component)]
        if len(inside) == 1 and not np.any(parts[inside[0]] & ~component) and inside[0] not in taken:
            names[index] = inside[0]
            taken.add(inside[0])
    return labels, names


def _follow_lesions(scene, per_visit, base):
    """Per-lesion measurements of every visit (``entry["lesions"]``), the RECIST target sum
    (``values["recist_sum_mm"]``) and the new-lesion count; returns the target-lesion summary."""
    from .longitudinal import target_lesions
    from .longitudinal.segmentation_tools import propagate_labels
    base_labels, base_names = _lesion_labels(scene, base["visit"].item, base["mask"], base["ijk"])
    base_lesions = target_lesions.measure(base_labels, base_names, base["ijk"])
    targets, note = target_lesions.select_targets(base_lesions)
    for entry in per_visit:
        if entry is base:
            lesions = base_lesions
        else:
            transform = _transform_for(scene, entry["visit"].item)
            propagated = propagate_labels(base_labels, base["ijk"], entry["shape"], entry["ijk"], transform)
            if entry["own_segmentation"]:
                visit_labels, visit_names = _lesion_labels(scene, entry["visit"].item, entry["mask"], entry["ijk"])
            else:                                   # the baseline lesions propagated are this visit's lesions
                visit_labels, visit_names = propagated, list(base_names)
            lesions = target_lesions.follow(propagated, base_names, visit_labels, visit_names, entry["ijk"])
            for lesion in lesions:
                lesion.target = lesion.identity in targets
        entry["lesions"] = lesions
        entry["new_lesions"] = target_lesions.new_lesion_count(lesions)
        entry["values"]["recist_sum_mm"] = target_lesions.target_sum_mm(lesions, targets)
    return {"names": targets, "note": note, "baseline_lesions": base_names,
            "max_targets": target_lesions.MAX_TARGETS, "measurable_mm": target_lesions.MEASURABLE_MM}


def _lesion_table(scene, patient_name, per_visit, days):
    """Table node: one row per visit and lesion (baseline identity, name at the visit, status, size)."""
    columns = {"visit": [], "day": [], "lesion": [], "name at visit": [], "status": [], "target": [],
               "longest diameter": [], "volume": []}
    for entry, day in zip(per_visit, days):
        for lesion in entry["lesions"]:
            columns["visit"].append(entry["visit"].name)
            columns["day"].append(day)
            columns["lesion"].append(lesion.identity or lesion.visit_name)
            columns["name at visit"].append(lesion.visit_name + (" + " + ", ".join(lesion.fragments)
                                                                 if lesion.fragments else ""))
            columns["status"].append(lesion.status)
            columns["target"].append("yes" if lesion.target else "no")
            columns["longest diameter"].append(lesion.longest_diameter_mm)
            columns["volume"].append(lesion.volume_ml)
    return tme_scene.add_table(scene, f"{patient_name} lesions", columns,
                               units={"day": "d", "longest diameter": "mm", "volume": "mL"})


def _flag_text(flag):
    return "" if flag is None else ("yes" if flag else "no")


def _mrs_biomarkers(scene, visit_item):
    """Spectroscopy results of a visit (a table node carrying ``TMEMonitor.Biomarkers`` JSON)."""
    import json
    for node in hierarchy.children_nodes(scene, visit_item):
        text = node.GetAttribute("TMEMonitor.Biomarkers")
        if text:
            try:
                return json.loads(text)
            except ValueError:
                continue
    return {}


def write_report(scene, patient_item, out_dir, response=None, organ="breast", progress=None):
    """HTML report with maps over anatomy, response maps, plots and the table; plus report.json."""
    import os

    from .longitudinal import report as report_writer
    from .longitudinal import response_maps
    response = response or compute_response(scene, patient_item, organ=organ)
    figures_dir = os.path.join(out_dir, "figures")
    os.makedirs(figures_dir, exist_ok=True)
    figures = []
    inputs = response.figures_input
    for index, entry in enumerate(inputs["per_visit"]):
        report(progress, index / max(len(inputs["per_visit"]), 1), f"figures of {entry['visit'].name}")
        k = int(np.argmax(entry["mask"].sum(axis=(1, 2))))
        name = entry["visit"].name.replace(" ", "_")
        for biomarker, cmap, scale, unit in (("Ktrans", "inferno", 1.0, "Ktrans (1/min)"),
                                             ("ADC", "viridis", 1e3, "ADC (10^-3 mm2/s)")):
            if biomarker in entry["arrays"]:
                values = entry["arrays"][biomarker][k] * scale
                values = np.where(entry["mask"][k] | (entry["anatomy"][k] > 0), values, np.nan)
                value_range = (0, 0.4) if biomarker == "Ktrans" else (0, 3.0)
                figures.append((f"{entry['visit'].name} (day {entry['visit'].day}): {unit}",
                                report_writer.overlay_png(os.path.join(figures_dir, f"{name}_{biomarker}.png"),
                                                          entry["anatomy"][k], values, f"{entry['visit'].name} {biomarker}",
                                                          unit, cmap, value_range)))
        if "habitats" in entry:
            figures.append((f"{entry['visit'].name}: habitats", report_writer.labels_png(
                os.path.join(figures_dir, f"{name}_habitats.png"), entry["anatomy"][k], entry["habitats"][k],
                response_maps.HABITAT_LABELS, f"{entry['visit'].name} habitats")))
    base = inputs["per_visit"][0]
    k = int(np.argmax(base["mask"].sum(axis=(1, 2))))
    for name, (node, labels, scatter) in inputs["prm"].items():
        figures.append((f"Parametric response map of {name}", report_writer.labels_png(
            os.path.join(figures_dir, f"prm_{name}.png"), base["anatomy"][k], labels[k], response_maps.PRM_LABELS,
            f"PRM {name} (baseline space)")))
        figures.append((f"{name}: baseline vs follow-up voxels", report_writer.scatter_png(
            os.path.join(figures_dir, f"prm_{name}_scatter.png"), scatter[0], scatter[1],
            inputs["thresholds"][name], f"{name} voxel scatter", TRACKED_MAPS[name])))
    if inputs["percent_series"]:
        figures.append(("Change from baseline", report_writer.lines_png(
            os.path.join(figures_dir, "change_from_baseline.png"), inputs["days"], inputs["percent_series"],
            "Biomarker change from baseline", "change (%)")))
    data = dict(response.data)
    data["registration"] = {name: r.summary() for (sid, item), r in _REGISTRATIONS.items() if sid == id(scene)
                            for name in [scene_item_name(scene, item)]}
    html_path, _ = report_writer.write_report_data(out_dir, data, figures)
    report(progress, 1.0, "report written")
    return html_path
