"""One window per quantity across a patient's visits (issue 13).

Every map of one quantity (a visit's Ktrans, the same visit's truth Ktrans, the next visit's ...)
is shown with the same window, so that a fall in Ktrans reads as a darker map and not as a
re-scaled one: the quantity registry's default range (``window_mode="registry"``, default; a
quantity without one, such as a signal in arbitrary units, gets the patient's window), or the
2nd-98th percentile of the map's values pooled over all of the patient's visits
(``window_mode="patient"``; the values are those inside the analysed region: maps hold NaN
outside it, and exact background zeros are left out). The window is stored on each map's display
node (saved with the scene), its source on the node (``TMEMonitor.WindowSource`` / ``WindowNote``)
and it is stated in the colour legend.
"""
import numpy as np

from TMEMonitorLib import quantities
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene import attribute_names, hierarchy
from TMEMonitorLib.scene.maps import WINDOW_PATIENT, WINDOW_REGISTRY, set_window

from .patients import list_visits

WINDOW_MODES = ("registry", "patient")
PERCENTILES = (2.0, 98.0)


def patient_map_nodes(scene, patient_item):
    """{map name: [scalar map nodes]} of every visit of the patient (measured and truth maps alike;
    a node says what it holds in ``TMEMonitor.MapName``). Label maps and code maps are left out."""
    out = {}
    for visit in list_visits(scene, patient_item):
        for node in hierarchy.children_nodes(scene, visit.item):
            name = node.GetAttribute(attribute_names.MAP_NAME)
            if not name or not node.IsA("vtkMRMLScalarVolumeNode") or node.IsA("vtkMRMLLabelMapVolumeNode"):
                continue
            entry = quantities.lookup(name)
            if entry.kind == quantities.LABEL or entry.unit == "code" or node.GetDisplayNode() is None:
                continue
            out.setdefault(name, []).append(node)
    return out


def pooled_window(nodes, low=PERCENTILES[0], high=PERCENTILES[1]):
    """(lower, upper): percentiles of the finite, non-zero values of all ``nodes`` together."""
    parts = []
    for node in nodes:
        values = tme_scene.volume_to_array(node, copy=False).astype(float).ravel()
        parts.append(values[np.isfinite(values) & (values != 0.0)])
    pooled = np.concatenate(parts) if parts else np.zeros(0)
    if pooled.size == 0:
        return None
    lower, upper = np.percentile(pooled, [low, high])
    return float(lower), float(upper)


def apply_shared_windows(scene, patient_item, window_mode="registry"):
    """Give every map of one quantity the same window at all of the patient's visits; returns
    {map name: (lower, upper, source)}."""
    if window_mode not in WINDOW_MODES:
        raise InputError(f"window mode '{window_mode}': expected one of {', '.join(WINDOW_MODES)}")
    applied = {}
    for name, nodes in patient_map_nodes(scene, patient_item).items():
        entry = quantities.lookup(name)
        if window_mode == "registry" and entry.display_range is not None:
            window, source = entry.display_range, WINDOW_REGISTRY
        else:
            window, source = pooled_window(nodes), WINDOW_PATIENT
            if window is None:
                continue
        for node in nodes:
            lower, upper = set_window(node, window[0], window[1], source, entry.symmetric)
        applied[name] = (lower, upper, source)
    return applied
