"""Patients and their dated visits in the subject hierarchy (patient -> visit studies)."""
from dataclasses import dataclass

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene import hierarchy


@dataclass
class VisitInfo:
    item: int
    name: str
    date: object                    # datetime.date
    day: int                        # days on treatment (baseline <= 0), or None
    role: str                       # "baseline", "on-treatment", ... or ""


def scene_item_name(scene, item):
    import slicer
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene).GetItemName(item)


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
    return [VisitInfo(item=item, name=name, date=date, day=day,
                      role=hierarchy.item_attribute(scene, item, hierarchy.VISIT_ROLE) or "")
            for item, name, date, day in hierarchy.visits(scene, patient_item)]


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


def baseline_visit(visits):
    """The visit whose role is baseline, else the first."""
    for visit in visits:
        if visit.role == "baseline":
            return visit
    return visits[0]
