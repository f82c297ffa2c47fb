"""RECIST 1.1 target lesions across visits: lesion identity, per-lesion longest diameter, the
target sum and new lesions (Eisenhauer et al., Eur J Cancer 2009, doi:10.1016/j.ejca.2008.10.026).

- Baseline lesions are the baseline visit's tumour label map (one label per lesion: a segment
  of a segmentation, a label value, or a connected component). Target lesions are the largest
  measurable ones (longest diameter >= 10 mm; when none is, the largest ones anyway, flagged),
  at most 5 in all and at most 2 per organ when the organ of each lesion is known.
- At a follow-up visit the baseline lesions, propagated onto the visit's grid through the
  registration, are matched to the visit's lesions (``segmentation_tools.match_lesions``:
  overlap first, then centroid distance). A visit lesion that overlaps a baseline lesion
  already matched is a fragment of it (its diameter adds to that lesion's, RECIST for a
  lesion that splits); any other unmatched visit lesion is NEW (progressive disease). A
  baseline lesion with no partner measures 0 mm (disappeared).
- The target sum is the sum of the target lesions' longest diameters at each visit.
"""
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .lesion_measurements import longest_diameter_mm, volume_ml
from .segmentation_tools import label_lesions, match_lesions

MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2
MEASURABLE_MM = 10.0
MIN_LESION_VOXELS = 3            # connected components smaller than this are noise, not lesions


@dataclass
class LesionMeasurement:
    identity: str                # baseline lesion name ("" for a new lesion: its own name is in ``visit_name``)
    visit_name: str              # the lesion's name at this visit (segment name, label or component)
    status: str                  # "baseline", "matched", "new" or "disappeared"
    longest_diameter_mm: float
    volume_ml: float
    target: bool = False
    fragments: list = field(default_factory=list)    # further visit lesions counted with this one

    def as_dict(self):
        return {"lesion": self.identity or self.visit_name, "name_at_visit": self.visit_name, "status": self.status,
                "target": self.target, "longest_diameter_mm": self.longest_diameter_mm, "volume_ml": self.volume_ml,
                "fragments": list(self.fragments)}


def labels_from_masks(masks, shape):
    """(label map 1..n, names) from an ordered {name: mask} (later masks do not overwrite earlier ones)."""
    labels = np.zeros(tuple(shape), np.int32)
    names = []
    for name, mask in masks.items():
        mask = np.asarray(mask, bool)
        if mask.shape != tuple(shape):
            raise InputError(f"lesion '{name}': mask {mask.shape} is not on the grid {tuple(shape)}")
        if not mask.any():
            continue
        names.append(str(name))
        labels[mask & (labels == 0)] = len(names)
    return labels, names


def split_lesions(mask, prefix="lesion", min_voxels=MIN_LESION_VOXELS):
    """(label map, names): connected components of a mask, named ``prefix 1..n`` (largest first)."""
    labels, n = label_lesions(mask, min_voxels=min_voxels)
    if n == 0:
        return labels.astype(np.int32), []
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    order = np.argsort(-sizes, kind="stable")
    relabel = np.zeros(n + 1, np.int32)
    relabel[order + 1] = np.arange(1, n + 1)
    return relabel[labels], [f"{prefix} {index}" for index in range(1, n + 1)]


def measure(labels, names, ijk_to_ras, status="baseline"):
    """One :class:`LesionMeasurement` per label."""
    return [LesionMeasurement(identity=name, visit_name=name, status=status,
                              longest_diameter_mm=float(longest_diameter_mm(labels == index + 1, ijk_to_ras)),
                              volume_ml=float(volume_ml(labels == index + 1, ijk_to_ras)))
            for index, name in enumerate(names)]


def select_targets(lesions, organs=None, max_targets=MAX_TARGETS, max_per_organ=MAX_TARGETS_PER_ORGAN,
                   measurable_mm=MEASURABLE_MM):
    """Names of the target lesions among baseline measurements (largest first); sets ``target``.

    ``organs``: {lesion name: organ} when known (then at most ``max_per_organ`` per organ).
    Returns (names, note): the note says when no lesion was measurable (>= 10 mm).
    """
    ranked = sorted(lesions, key=lambda m: -m.longest_diameter_mm)
    measurable = [m for m in ranked if m.longest_diameter_mm >= measurable_mm]
    note = ""
    if not measurable and ranked:
        measurable = ranked
        note = f"no lesion is measurable (longest diameter >= {measurable_mm:g} mm); the largest ones are followed"
    chosen, per_organ = [], {}
    for lesion in measurable:
        organ = (organs or {}).get(lesion.identity)
        if organ is not None:
            if per_organ.get(organ, 0) >= max_per_organ:
                continue
            per_organ[organ] = per_organ.get(organ, 0) + 1
        chosen.append(lesion.identity)
        if len(chosen) == max_targets:
            break
    for lesion in lesions:
        lesion.target = lesion.identity in chosen
    return chosen, note


def follow(baseline_labels, baseline_names, visit_labels, visit_names, ijk_to_ras, max_centroid_distance_mm=15.0):
    """Measurements of a follow-up visit's lesions with their baseline identity.

    ``baseline_labels`` are the baseline lesions propagated onto the visit's grid (label i+1 is
    ``baseline_names[i]``); ``visit_labels`` the visit's own lesions (label j+1 is ``visit_names[j]``).
    """
    baseline_labels, visit_labels = np.asarray(baseline_labels), np.asarray(visit_labels)
    matches = match_lesions(baseline_labels, visit_labels, ijk_to_ras, max_centroid_distance_mm)
    out = {}
    new = []
    matched_to = {}
    for match in matches:
        if match.status == "matched":
            matched_to[match.follow_up_label] = match.baseline_label
    for match in matches:
        if match.status == "new":
            # A fragment: overlaps a baseline lesion that already has its partner.
            overlap = baseline_labels[visit_labels == match.follow_up_label]
            overlap = overlap[overlap > 0]
            if overlap.size:
                matched_to[match.follow_up_label] = int(np.bincount(overlap).argmax())
            else:
                new.append(match.follow_up_label)
    for b, name in enumerate(baseline_names, start=1):
        parts = sorted(f for f, base in matched_to.items() if base == b)
        if not parts:
            out[name] = LesionMeasurement(name, "", "disappeared", 0.0, 0.0)
            continue
        diameters = [float(longest_diameter_mm(visit_labels == f, ijk_to_ras)) for f in parts]
        volumes = [float(volume_ml(visit_labels == f, ijk_to_ras)) for f in parts]
        out[name] = LesionMeasurement(name, visit_names[parts[0] - 1], "matched", float(sum(diameters)),
                                      float(sum(volumes)), fragments=[visit_names[f - 1] for f in parts[1:]])
    lesions = list(out.values())
    for f in new:
        mask = visit_labels == f
        lesions.append(LesionMeasurement("", visit_names[f - 1], "new", float(longest_diameter_mm(mask, ijk_to_ras)),
                                         float(volume_ml(mask, ijk_to_ras))))
    return lesions


def target_sum_mm(lesions, targets):
    """Sum of the target lesions' longest diameters (mm)."""
    return float(sum(m.longest_diameter_mm for m in lesions if m.identity in targets and m.status != "new"))


def new_lesion_count(lesions):
    return sum(1 for m in lesions if m.status == "new")
