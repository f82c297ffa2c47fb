"""Subject hierarchy: patient -> visit (study) -> the visit's series and maps.

Visit dates are kept as DICOM-style attributes (``DICOM.StudyDate`` YYYYMMDD) plus the day
on treatment, so that the longitudinal dashboard can order visits and show days everywhere.
"""
import datetime

import slicer

from ..errors import InputError

from .attribute_names import TREATMENT_START, VISIT_DATE, VISIT_DAY, VISIT_ROLE  # noqa: F401  (names used here)


def _sh(scene):
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    if sh is None:
        raise RuntimeError("the scene has no subject hierarchy (is the SubjectHierarchy logic registered?)")
    return sh


def _date_text(date):
    if isinstance(date, str):
        return date.replace("-", "")
    return date.strftime("%Y%m%d")


def parse_date(text):
    try:
        return datetime.datetime.strptime(text.replace("-", ""), "%Y%m%d").date()
    except (AttributeError, ValueError):
        raise InputError(f"visit date '{text}' is not a date (expected YYYY-MM-DD)") from None


def add_patient(scene, name, patient_id=None, treatment_start=None):
    sh = _sh(scene)
    item = sh.CreateSubjectItem(sh.GetSceneItemID(), name)
    if patient_id:
        sh.SetItemAttribute(item, "DICOM.PatientID", str(patient_id))
    if treatment_start is not None:
        sh.SetItemAttribute(item, TREATMENT_START, _date_text(treatment_start))
    return item


def add_visit(scene, patient_item, name, date, day=None, role=None):
    """A study item under the patient; ``date`` is required (visits are ordered by it)."""
    if date is None:
        raise InputError(f"visit '{name}' has no date; every visit needs one")
    sh = _sh(scene)
    item = sh.CreateStudyItem(patient_item, name)
    sh.SetItemAttribute(item, VISIT_DATE, _date_text(date))
    if day is not None:
        sh.SetItemAttribute(item, VISIT_DAY, str(int(day)))
    if role:
        sh.SetItemAttribute(item, VISIT_ROLE, role)
    return item


def add_folder(scene, parent_item, name):
    sh = _sh(scene)
    return sh.CreateFolderItem(parent_item, name)


def place(scene, node, parent_item):
    """Put a data node under a patient/visit/folder item."""
    sh = _sh(scene)
    item = sh.GetItemByDataNode(node)
    if item == 0 or item == sh.GetInvalidItemID():
        item = sh.CreateItem(parent_item, node)
    else:
        sh.SetItemParent(item, parent_item)
    return item


def place_sequence_proxy(scene, node, parent_item):
    """Put the proxy volume of a sequence's browser under the item too (it is what the views show)."""
    if not node.IsA("vtkMRMLSequenceNode"):
        return
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSequenceBrowserNode")):
        browser = scene.GetNthNodeByClass(index, "vtkMRMLSequenceBrowserNode")
        if browser.GetMasterSequenceNode() is node:
            proxy = browser.GetProxyNode(node)
            if proxy is not None:
                place(scene, proxy, parent_item)


def children_nodes(scene, parent_item, recursive=True):
    sh = _sh(scene)
    ids = vtk_id_list()
    sh.GetItemChildren(parent_item, ids, recursive)
    nodes = []
    for index in range(ids.GetNumberOfIds()):
        node = sh.GetItemDataNode(ids.GetId(index))
        # Skip nodes already removed from the scene (their item can outlive them headless).
        if node is not None and node.GetScene() is not None and scene.GetNodeByID(node.GetID()) is node:
            nodes.append(node)
    return nodes


def vtk_id_list():
    import vtk
    return vtk.vtkIdList()


def find_item(scene, name, parent_item=None):
    sh = _sh(scene)
    parent = sh.GetSceneItemID() if parent_item is None else parent_item
    return sh.GetItemChildWithName(parent, name)


def visits(scene, patient_item):
    """[(item, name, date, day)] of a patient's visits, ordered by date."""
    sh = _sh(scene)
    ids = vtk_id_list()
    sh.GetItemChildren(patient_item, ids, False)
    out = []
    for index in range(ids.GetNumberOfIds()):
        item = ids.GetId(index)
        if sh.GetItemLevel(item) != "Study":
            continue
        date_text = sh.GetItemAttribute(item, VISIT_DATE)
        if not date_text:
            raise InputError(f"visit '{sh.GetItemName(item)}' has no date")
        day_text = sh.GetItemAttribute(item, VISIT_DAY)
        out.append((item, sh.GetItemName(item), parse_date(date_text), int(day_text) if day_text else None))
    return sorted(out, key=lambda v: v[2])


def item_attribute(scene, item, name):
    return _sh(scene).GetItemAttribute(item, name)
