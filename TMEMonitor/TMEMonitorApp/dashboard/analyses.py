"""Run every registered technique that applies to a visit; all or nothing."""
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import report
from TMEMonitorLib.scene.rollback import RemoveAddedNodesOnError
from TMEMonitorLib.techniques import BIOMARKER, ROLE, VISIT_ITEM

from .. import techniques
from .patients import scene_item_name
from .visit_inputs import visit_nodes_by_role


def run_visit_analyses(scene, visit_item, dce_settings=None, dwi_settings=None, progress=None, settings=None):
    """Run each registered technique whose inputs the visit holds; returns {technique name: result}.

    ``settings``: {technique name: settings object}; ``dce_settings`` / ``dwi_settings`` are the
    same for the DCE and diffusion techniques (kept for existing callers). A technique not named
    runs with its defaults. If any technique fails (bad input, cancelled) the visit is left as
    it was: the outputs of the techniques that ran before it are removed too.
    """
    settings = dict(settings or {})
    for name, value in (("dce", dce_settings), ("dwi", dwi_settings)):
        if value is not None:
            settings[name] = value
    nodes = visit_nodes_by_role(scene, visit_item)
    visit_name = scene_item_name(scene, visit_item)
    registered = techniques.techniques()
    steps = [t for t in registered if t.applies_to(nodes)]
    if not steps:
        wanted = ", ".join(f"{t.title} ({' + '.join(t.required_roles())})" for t in registered) or "none registered"
        raise InputError(f"visit '{visit_name}' has no acquisition a technique can analyse (nodes need the "
                         f"attribute {ROLE}; techniques: {wanted})")
    unknown = sorted(set(settings) - {t.name for t in registered})
    if unknown:
        raise InputError(f"settings given for unknown technique(s) {', '.join(unknown)}")
    results = {}
    with RemoveAddedNodesOnError(scene):
        for index, technique in enumerate(steps):
            step_progress = _step(progress, index, len(steps), technique.title)
            result = technique.analyse_visit(scene, visit_item, nodes, settings.get(technique.name), step_progress)
            for name, node in (getattr(result, "map_nodes", None) or {}).items():
                node.SetAttribute(BIOMARKER, name)
                node.SetAttribute(VISIT_ITEM, str(visit_item))
            results[technique.name] = result
    _share_windows(scene, visit_item)
    report(progress, 1.0, "done")
    return results


def _step(progress, index, count, title):
    return lambda fraction, message="": report(progress, (index + fraction) / count, f"{title}: {message}")


def _share_windows(scene, visit_item):
    """The new maps take the window their quantity has at the patient's other visits (display.py)."""
    import slicer
    from .display import apply_shared_windows
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    patient_item = sh.GetItemParent(visit_item)
    if patient_item and patient_item != sh.GetSceneItemID():
        apply_shared_windows(scene, patient_item)
