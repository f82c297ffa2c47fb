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
