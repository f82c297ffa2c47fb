"""Lesions across visits: each visit's tumour split into lesions, the baseline lesions followed
through the registration, RECIST 1.1 target lesions and their sum, new lesions."""
from dataclasses import asdict, dataclass

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.longitudinal import target_lesions
from TMEMonitorLib.longitudinal.segmentation_tools import propagate_labels

from .registration import transform_for
from .visit_inputs import visit_nodes_by_role


@dataclass
class TargetLesions:
    names: list                     # baseline lesions chosen as targets
    note: str
    baseline_lesions: list          # every baseline lesion's name
    max_targets: int
    measurable_mm: float

    def as_dict(self):
        return asdict(self)


def lesion_labels(scene, visit_item, mask, ijk):
    """(label map, names) of a visit's lesions: the connected components of its tumour mask. A
    component that holds exactly one whole segment (or label value) of the tumour node is named
    after it; otherwise "lesion n" (largest first). Segments that touch (a rim and a core) make
    one lesion."""
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


def follow_lesions(scene, measurements, base, registration=None):
    """Per-lesion measurements of every visit (``m.lesions``), the RECIST target sum
    (``m.values["recist_sum_mm"]``) and the new-lesion count; returns the TargetLesions."""
    base_labels, base_names = lesion_labels(scene, base.visit.item, base.mask, base.ijk)
    base_lesions = target_lesions.measure(base_labels, base_names, base.ijk)
    targets, note = target_lesions.select_targets(base_lesions)
    for entry in measurements:
        if entry is base:
            lesions = base_lesions
        else:
            transform = transform_for(scene, entry.visit.item, registration)
            propagated = propagate_labels(base_labels, base.ijk, entry.shape, entry.ijk, transform)
            if entry.own_segmentation:
                visit_labels, visit_names = lesion_labels(scene, entry.visit.item, entry.mask, entry.ijk)
            else:                                   # the baseline lesions propagated are this visit's lesions
                visit_labels, visit_names = propagated, list(base_names)
            lesions = target_lesions.follow(propagated, base_names, visit_labels, visit_names, entry.ijk)
            for lesion in lesions:
                lesion.target = lesion.identity in targets
        entry.lesions = lesions
        entry.new_lesions = target_lesions.new_lesion_count(lesions)
        entry.values["recist_sum_mm"] = target_lesions.target_sum_mm(lesions, targets)
    return TargetLesions(names=targets, note=note, baseline_lesions=base_names,
                         max_targets=target_lesions.MAX_TARGETS, measurable_mm=target_lesions.MEASURABLE_MM)
