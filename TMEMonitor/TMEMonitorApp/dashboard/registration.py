"""Registration of every visit's anatomy to baseline: one transform node per visit, kept in the
scene with its quality (nothing about it is held outside the scene, so a saved and reloaded
scene scores and reports the same way)."""
import warnings
from dataclasses import dataclass

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.progress import report
from TMEMonitorLib.scene import hierarchy

from .patients import baseline_visit, list_visits
from .visit_inputs import anatomy_node

TRANSFORM_OF_VISIT = "TMEMonitor.RegistrationOfVisit"
REGISTRATION_METHOD = "TMEMonitor.RegistrationMethod"
REGISTRATION_QUALITY = "TMEMonitor.RegistrationQuality"
# The same quality as JSON (method, NMI / correlation before and after, tumour Dice, warnings) for the report.
REGISTRATION_RECORD = "TMEMonitor.RegistrationRecord"


@dataclass
class RegistrationSummary:
    """What ``register_visits`` returns: visit name -> longitudinal.registration.RegistrationResult,
    and visit item -> result (pass it to ``compute_response(registration=)`` to score with the
    exact transforms rather than those read back from the transform nodes)."""
    results: dict
    by_item: dict = None

    def summary(self):
        if not self.results:
            return "Registration: only one visit, nothing to register"
        return "Registration to baseline: " + "; ".join(f"{name} {r.summary()}" for name, r in self.results.items())

    def transform(self, visit_item):
        result = (self.by_item or {}).get(visit_item)
        return None if result is None else result.transform


def register_visits(scene, patient_item, method="rigid", progress=None):
    """Register every visit's anatomy to baseline; adds a transform node per visit with its quality."""
    from TMEMonitorLib.longitudinal import registration, transform_nodes
    visits = list_visits(scene, patient_item)
    if len(visits) < 2:
        return RegistrationSummary({}, {})
    remove_visit_transforms(scene, [v.item for v in visits])
    baseline = baseline_visit(visits)
    fixed = anatomy_node(scene, baseline.item)
    fixed_array = tme_scene.volume_to_array(fixed)
    fixed_ijk = tme_scene.node_ijk_to_ras(fixed)
    results, by_item = {}, {}
    others = [v for v in visits if v.item != baseline.item]
    for index, visit in enumerate(others):
        report(progress, index / len(others), f"registering {visit.name}")
        moving = anatomy_node(scene, visit.item)
        result = registration.register(fixed_array, fixed_ijk, tme_scene.volume_to_array(moving),
                                       tme_scene.node_ijk_to_ras(moving), method=method)
        # Linear: a linear transform node; B-spline: a grid transform node holding the whole composite
        # (linear stage + B-spline) sampled on the baseline grid, saved with the scene.
        transform = transform_nodes.add_transform_node(scene, result.transform, f"{visit.name} to baseline ({method})",
                                                       fixed_array.shape, fixed_ijk)
        transform.SetAttribute(TRANSFORM_OF_VISIT, str(visit.item))
        transform.SetAttribute(REGISTRATION_METHOD, method)
        transform.SetAttribute(REGISTRATION_QUALITY, result.summary())
        transform.SetAttribute(REGISTRATION_RECORD, _record_json(result))
        hierarchy.place(scene, transform, visit.item)
        results[visit.name] = result
        by_item[visit.item] = result
    report(progress, 1.0, "registration done")
    if any(r.warning for r in results.values()):
        warnings.warn("; ".join(f"{n}: {r.warning}" for n, r in results.items() if r.warning))
    return RegistrationSummary(results, by_item)


def visit_transform_nodes(scene, visit_item=None):
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


def remove_visit_transforms(scene, visit_items):
    """A new registration replaces the visit's earlier transform node (one per visit)."""
    wanted = {str(item) for item in visit_items}
    old = [n for n in visit_transform_nodes(scene) if n.GetAttribute(TRANSFORM_OF_VISIT) in wanted]
    for item in visit_items:
        old += visit_transform_nodes(scene, item)
    for node in {n.GetID(): n for n in old}.values():
        scene.RemoveNode(node)


def transform_for(scene, visit_item, registration=None):
    """SimpleITK transform baseline -> visit, None when the visit was not registered: from
    ``registration`` (a RegistrationSummary of this session) when it holds the visit, else from the
    visit's transform node (linear, or a grid node for B-spline; also after loading a scene)."""
    if registration is not None and registration.transform(visit_item) is not None:
        return registration.transform(visit_item)
    from TMEMonitorLib.longitudinal import transform_nodes
    nodes = visit_transform_nodes(scene, visit_item)
    return transform_nodes.sitk_transform_from_node(nodes[-1]) if nodes else None


def _record_json(result):
    import json

    from TMEMonitorLib.longitudinal.report import strict
    return json.dumps(strict({"method": result.method, "quality": result.quality.as_dict()}))


def registration_quality(scene, visits):
    """{visit name: {"method", "quality": {nmi_before, nmi_after, correlation_before, correlation_after,
    dice, warnings}}} of the registered visits, as stored on their transform nodes (scenes saved
    before the record was stored give their quality summary text, parsed by the report)."""
    import json
    out = {}
    for visit in visits:
        nodes = visit_transform_nodes(scene, visit.item)
        if not nodes:
            continue
        record = nodes[-1].GetAttribute(REGISTRATION_RECORD)
        if record:
            out[visit.name] = json.loads(record)
        elif nodes[-1].GetAttribute(REGISTRATION_QUALITY):
            out[visit.name] = nodes[-1].GetAttribute(REGISTRATION_QUALITY)
    return out
