"""A visit's inputs: adding a file or DICOM folder with its role, and finding a visit's nodes.

Roles: the series and file roles the registered techniques declare (e.g. ``dce`` indexed by
time, ``dwi`` by b, ``vfa`` by flip angle, ``mrs`` a spectrum file) and the app's own 3D
volumes (``anatomy``, ``labels``, ``tumour``).
"""
import os

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.techniques import BIOMARKER, FILE, ROLE, SERIES, SOURCE_PATH, VOLUME

from .. import techniques
from .patients import scene_item_name

VOLUME_ROLES = ("anatomy", "labels", "tumour")
READ_WARNINGS = "TMEMonitor.ReadWarnings"


def series_roles():
    """{role: axis} of the 4D series the registered techniques take."""
    out = {}
    for technique in techniques.techniques():
        for role in technique.inputs:
            if role.kind == SERIES:
                out.setdefault(role.role, role.axis)
    return out


def file_roles():
    """Roles whose node names a file the technique reads itself (e.g. a spectrum)."""
    return tuple(dict.fromkeys(r.role for t in techniques.techniques() for r in t.inputs if r.kind == FILE))


def technique_volume_roles():
    """3D image roles the registered techniques take (e.g. an MRE magnitude image)."""
    return tuple(dict.fromkeys(r.role for t in techniques.techniques() for r in t.inputs
                               if r.kind == VOLUME and r.role not in VOLUME_ROLES))


def roles():
    return tuple(series_roles()) + file_roles() + technique_volume_roles() + VOLUME_ROLES


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


def anatomy_node(scene, visit_item):
    node = visit_nodes_by_role(scene, visit_item).get("anatomy")
    if node is None:
        raise InputError(f"visit '{scene_item_name(scene, visit_item)}' has no anatomy image to register "
                         f"(a volume with {ROLE} = anatomy)")
    return node


def _subject_hierarchy(scene):
    import slicer
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)


def add_file_node(scene, visit_item, path, role, name):
    """A text node standing for a file a technique reads itself (its path in ``SOURCE_PATH``)."""
    node = scene.AddNewNodeByClass("vtkMRMLTextNode", scene.GenerateUniqueName(name))
    node.SetText(os.path.abspath(path))
    node.SetAttribute(SOURCE_PATH, os.path.abspath(path))
    hierarchy.place(scene, node, visit_item)
    node.SetAttribute(ROLE, role)
    return node


def add_series_to_visit(scene, visit_item, path, role, name=None, flip_angles_deg=None, replace=False, **overrides):
    """Read a NIfTI/NRRD file or a DICOM folder and add it to a visit with its role; returns the node.

    - series roles (``dce``, ``dwi`` ... as the techniques declare them): a 4D series
      (``TMEMonitorLib.io.read_series``: frame times or b-values from the file, its sidecar or
      DICOM tags; ``overrides`` as read_series takes them, e.g. ``frame_time_s=``,
      ``axis_values=``, ``series=``) -> a sequence node indexed by time (s) or b (s/mm2).
    - ``vfa``: a 4D variable-flip-angle series; ``flip_angles_deg`` (one per frame) is required.
    - file roles (``mrs``): a node naming the file; the technique reads it when it runs.
    - ``anatomy`` -> scalar volume; ``labels`` -> label map; ``tumour`` -> segmentation (one
      segment per label value) (``TMEMonitorLib.io.read_volume``).
    The node goes under the visit in the subject hierarchy with ``TMEMonitor.Role`` and its source
    path. Errors (unknown role, missing file, wrong axis, a second node of the same role without
    ``replace``) are raised before the scene changes; a failure while adding leaves it as it was.
    With ``replace=True`` an earlier node of the role keeps its data but loses the role.
    """
    from TMEMonitorLib.io import read_series, read_volume
    from TMEMonitorLib.scene.rollback import RemoveAddedNodesOnError
    series = series_roles()
    known = roles()
    if role not in known:
        raise InputError(f"role '{role}' is not one of {', '.join(known)}")
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
    data = axis_name = axis_values = axis_source = None
    if role in series:
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
        elif axis_name != series[role]:
            raise InputError(f"{role} series '{path}' is indexed by {axis_name}, not {series[role]}; "
                             f"pass axis_name= or axis_values= if the file's axis is wrong")
    elif role in VOLUME_ROLES or role in technique_volume_roles():
        data = read_volume(path)
        if role in ("labels", "tumour"):
            values = data.array[np.isfinite(data.array)]
            if not np.allclose(values, np.round(values)) or values.min(initial=0) < 0:
                raise InputError(f"{role} '{path}' is not a label map (non-negative whole numbers)")
            if role == "tumour" and not np.any(values > 0):
                raise InputError(f"tumour '{path}' is empty")
    with RemoveAddedNodesOnError(scene):
        if data is None:                                         # a file role
            node = add_file_node(scene, visit_item, path, role, name)
        else:
            node = _add_data_node(scene, data, role, name, series, axis_values, axis_name, axis_source)
            tme_scene.set_acquisition_attributes(node, {k: v for k, v in data.metadata.items()
                                                        if isinstance(v, (int, float, str))})
            node.SetAttribute(SOURCE_PATH, os.path.abspath(path))
            if data.warnings:
                node.SetAttribute(READ_WARNINGS, " | ".join(data.warnings))
            hierarchy.place(scene, node, visit_item)
            hierarchy.place_sequence_proxy(scene, node, visit_item)
        if previous is not None:
            previous.RemoveAttribute(ROLE)
        node.SetAttribute(ROLE, role)
    return node


def _add_data_node(scene, data, role, name, series, axis_values, axis_name, axis_source):
    if role in series:
        return tme_scene.array_to_sequence(scene, data.array, axis_values, data.ijk_to_ras, name,
                                           axis_name=axis_name, axis_source=axis_source)
    if role not in ("labels", "tumour"):                     # anatomy and technique images
        return tme_scene.array_to_volume(scene, data.array.astype(np.float32), data.ijk_to_ras, name)
    labels = np.nan_to_num(data.array).astype(np.uint16 if data.array.max() > 255 else np.uint8)
    if role == "labels":
        return tme_scene.add_label_map(scene, labels, data.ijk_to_ras, name)
    label_node = tme_scene.array_to_volume(scene, labels, data.ijk_to_ras, name + " labels", label_map=True)
    node = tme_scene.labelmap_to_segmentation(scene, label_node, name)
    scene.RemoveNode(label_node)
    return node
