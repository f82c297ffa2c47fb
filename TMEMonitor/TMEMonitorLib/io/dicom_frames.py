"""Sort the images of one DICOM series into frames (time points or b-values) × slices.

Slices are ordered by their position along the slice normal (row cosine × column cosine,
dotted with ImagePositionPatient). Frames are grouped by a key shared by all slices of a
frame (TemporalPositionIdentifier, TriggerTime, or b-value and direction); without one,
the n-th image (in acquisition order) at each slice position belongs to frame n.
Geometry must match between frames and no frame may miss a slice.
"""
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, MetadataError
from .geometry import ijk_to_ras_from_axes, slice_normal

POSITION_TOLERANCE_MM = 0.01
ORIENTATION_TOLERANCE = 1e-4
SLICE_SPACING_TOLERANCE = 0.01     # relative deviation allowed between slice gaps


@dataclass
class FrameLayout:
    frames: list            # frames[f][k]: record of slice k (ascending along the normal) of frame f
    mode: str               # "temporal position", "trigger time", "b-value", "echo time", "acquisition order"
    axis_name: str          # "time", "b" or "echo_time"
    order_source: str       # tag that fixed the frame order (for provenance)
    labels: list            # a short name per frame, for messages
    ijk_to_ras: np.ndarray
    notes: list = None      # facts filled in by rule (for warnings and provenance)


def _distinct(values):
    return len(set(values))


def _check_geometry_fields(records, path):
    for record in records:
        missing = [name for name, value in (("ImagePositionPatient", record.position),
                                            ("ImageOrientationPatient", record.orientation),
                                            ("PixelSpacing", record.pixel_spacing)) if value is None]
        if missing:
            raise InputError("DICOM image %s in %s lacks %s; cannot place it in space"
                             % (record.label, path, " and ".join(missing)))
        if not np.all(np.isfinite(record.position)):
            raise InputError("DICOM image %s in %s: ImagePositionPatient %s is not finite"
                             % (record.label, path, record.position.tolist()))
        if not np.all(np.isfinite(record.pixel_spacing)) or np.any(record.pixel_spacing <= 0):
            raise InputError("DICOM image %s in %s: PixelSpacing %s must be positive (mm)"
                             % (record.label, path, record.pixel_spacing.tolist()))
        row, column = record.orientation[:3], record.orientation[3:]
        if not np.all(np.isfinite(record.orientation)) or abs(np.linalg.norm(row) - 1) > 0.01 \
                or abs(np.linalg.norm(column) - 1) > 0.01 or abs(np.dot(row, column)) > 0.01:
            raise InputError("DICOM image %s in %s: ImageOrientationPatient %s is degenerate (the row and column "
                             "cosines must be perpendicular unit vectors)" % (record.label, path,
                                                                               record.orientation.tolist()))


def _check_duplicate_instances(records, path):
    seen = {}
    for record in records:
        if not record.sop_uid:
            continue
        key = (record.sop_uid, record.frame_index)
        if key in seen:
            raise InputError("DICOM series in %s: %s and %s are the same image (SOPInstanceUID %s): a file is "
                             "duplicated; remove the copy" % (path, seen[key].label, record.label, record.sop_uid))
        seen[key] = record


def fill_missing_first_trigger(records, cluster, n_slices):
    """GE-style series omit TriggerTime (0) on the first frame: set it to 0 when that is the only gap.

    Only when exactly one image per slice position lacks the tag, it is the first acquired at its
    position (acquisition time / instance number), and the others' trigger times are positive and
    increase in acquisition order. Returns a note for warnings and provenance, or None.
    """
    missing = [r for r in records if r.trigger_time_ms is None]
    if not missing or len(missing) == len(records) or len(missing) != n_slices:
        return None
    cluster_of = {id(r): int(c) for r, c in zip(records, cluster)}
    if sorted(cluster_of[id(r)] for r in missing) != list(range(n_slices)):
        return None
    by_slice = {}
    for record in records:
        by_slice.setdefault(cluster_of[id(record)], []).append(record)
    for members in by_slice.values():
        members = sorted(members, key=_acquisition_order)
        if members[0].trigger_time_ms is not None:
            return None
        times = [r.trigger_time_ms for r in members[1:]]
        if not times or min(times) <= 0 or np.any(np.diff(times) <= 0):
            return None
    for record in missing:
        record.trigger_time_ms = 0.0
        record.trigger_source = "(0018,1060) TriggerTime"
    return ("TriggerTime (0018,1060) is absent on the %d image(s) of the first frame (e.g. %s) and present, "
            "increasing, on every other frame: the first frame was taken as TriggerTime 0 ms (GE-style export)"
            % (len(missing), missing[0].label))


def _explain_unknown_axis(records, cluster, n_slices, per_position, path):
    """A message for a series whose images per position cannot be told apart, naming the actual fault."""
    counts = np.bincount(cluster, minlength=n_slices)
    if counts.min() != counts.max():
        k = int(np.argmax(counts))
        extra = [r.label for r, c in zip(records, cluster) if c == k]
        return InputError("DICOM series in %s: slice positions hold different numbers of images (%d to %d); "
                          "%d images share one position (%s): a slice is duplicated or missing"
                          % (path, counts.min(), counts.max(), counts[k], ", ".join(extra[:4])))
    trigger = [r for r in records if r.trigger_time_ms is not None]
    if 0 < len(trigger) < len(records):
        lacking = [r for r in records if r.trigger_time_ms is None]
        return MetadataError("DICOM series in %s: TriggerTime is missing on %d of %d images (e.g. %s) and present on "
                             "the others: cannot order the frames; pass axis_values= or frame_time_s="
                             % (path, len(lacking), len(records), lacking[0].label))
    return None


def _geometry_key(record):
    return (tuple(np.round(record.orientation / ORIENTATION_TOLERANCE).astype(int)),
            tuple(np.round(record.pixel_spacing, 4)), record.rows, record.cols)


def _check_same_plane_geometry(records, path, frame_label):
    groups = {}
    for record in records:
        groups.setdefault(_geometry_key(record), []).append(record)
    if len(groups) == 1:
        return
    lines = []
    for key, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        frames = sorted({frame_label(r) for r in members})
        shown = ", ".join(frames[:6]) + (", ..." if len(frames) > 6 else "")
        lines.append("%d image(s) (%s; e.g. %s) with orientation %s, pixel spacing %s, size %d x %d"
                     % (len(members), shown, members[0].label,
                        np.round(members[0].orientation, 4).tolist(), members[0].pixel_spacing.tolist(),
                        members[0].rows, members[0].cols))
    raise InputError("DICOM series in %s: geometry differs between frames: %s"
                     % (path, "; ".join(lines)))


def _cluster_offsets(offsets):
    """Cluster index of each offset (mm along the normal) and the sorted cluster centres."""
    order = np.argsort(offsets, kind="stable")
    labels = np.empty(len(offsets), dtype=int)
    centres, current = [], -1
    previous = None
    for index in order:
        if previous is None or offsets[index] - previous > POSITION_TOLERANCE_MM:
            current += 1
            centres.append(offsets[index])
        labels[index] = current
        previous = offsets[index]
    return labels, np.array(centres)


def _acquisition_order(record):
    return (record.acquisition_s if record.acquisition_s is not None else np.inf,
            record.instance_number, record.path, record.frame_index or 0)


def _choose_mode(records, per_position, axis_name, path, explain=None):
    """(mode, axis_name) for this series."""
    all_b = all(r.b is not None for r in records)
    differing_b = all_b and _distinct(round(r.b, 3) for r in records) > 1
    echo_per_frame = all(r.echo_time_ms is not None for r in records) and \
        _distinct(round(r.echo_time_ms, 4) for r in records) == per_position > 1
    has_tpi = all(r.temporal_position is not None for r in records) and \
        _distinct(r.temporal_position for r in records) > 1
    all_trigger = all(r.trigger_time_ms is not None for r in records)
    trigger_per_frame = all_trigger and _distinct(r.trigger_time_ms for r in records) == per_position > 1
    differing_times = all(r.acquisition_s is not None for r in records) and \
        _distinct(r.acquisition_s for r in records) > 1
    if axis_name is None:
        if differing_b:
            axis_name = "b"
        elif echo_per_frame:
            axis_name = "echo_time"
        elif per_position > 1 and (has_tpi or trigger_per_frame or differing_times):
            axis_name = "time"
        elif per_position > 1:
            specific = explain() if explain else None
            if specific is not None:
                raise specific
            raise MetadataError(
                "DICOM series in %s has %d images per slice position but neither differing b-values "
                "nor temporal positions, trigger times or acquisition times: cannot tell the 4D axis; "
                "pass axis_name='time' (with frame_time_s= or axis_values=) or axis_name='b' "
                "(with axis_values=)" % (path, per_position))
        else:
            axis_name = "time"
    if axis_name == "b":
        if not all_b:
            return "acquisition order", "b"    # b-values must come from the user (axis_values=)
        return "b-value", "b"
    if axis_name == "echo_time":
        if not all(r.echo_time_ms is not None for r in records):
            return "acquisition order", "echo_time"
        return "echo time", "echo_time"
    if axis_name != "time":
        raise InputError("axis_name must be 'time', 'b' or 'echo_time', not %r" % (axis_name,))
    if has_tpi:
        return "temporal position", "time"
    if trigger_per_frame:
        return "trigger time", "time"
    return "acquisition order", "time"


def _frame_key(mode, record):
    if mode == "temporal position":
        return (record.temporal_position,)
    if mode == "trigger time":
        return (record.trigger_time_ms,)
    if mode == "b-value":
        vector = () if record.b_vector is None else tuple(np.round(record.b_vector, 4))
        return (round(record.b, 3), vector)
    if mode == "echo time":
        return (round(record.echo_time_ms, 4),)
    return ()


def _key_label(mode, key, index):
    if mode == "temporal position":
        return "temporal position %g" % key[0]
    if mode == "trigger time":
        return "trigger time %g ms" % key[0]
    if mode == "b-value":
        return "b=%g" % key[0] + (" dir %s" % list(key[1]) if key[1] else "")
    if mode == "echo time":
        return "echo time %g ms" % key[0]
    return "frame %d" % (index + 1)


def _split_group(group, cluster_of, n_slices, label, path, centres):
    """Frames (lists of records by slice) within one key group: the n-th image per slice."""
    by_slice = [[] for _ in range(n_slices)]
    for record in group:
        by_slice[cluster_of[id(record)]].append(record)
    counts = np.array([len(items) for items in by_slice])
    if counts.min() == 0:
        missing = np.flatnonzero(counts == 0)
        raise InputError(
            "DICOM series in %s: %s is missing %d of %d slice(s) (at %s mm along the slice normal; "
            "it has %d slices, e.g. %s)" % (path, label, len(missing), n_slices,
                                            ", ".join("%.2f" % centres[k] for k in missing[:8]),
                                            int(np.count_nonzero(counts)), group[0].label))
    if counts.min() != counts.max():
        k = int(np.argmin(counts))
        raise InputError(
            "DICOM series in %s: %s has %d image(s) at some slice positions but %d at %.2f mm (e.g. %s); "
            "a slice is missing or duplicated" % (path, label, counts.max(), counts.min(), centres[k],
                                                  by_slice[k][0].label))
    for items in by_slice:
        items.sort(key=_acquisition_order)
    return [[by_slice[k][n] for k in range(n_slices)] for n in range(counts[0])]


def _check_positions(frames, labels, path):
    reference = np.array([r.position for r in frames[0]])
    for frame, label in zip(frames[1:], labels[1:]):
        positions = np.array([r.position for r in frame])
        distance = np.linalg.norm(positions - reference, axis=1)
        if distance.max() > POSITION_TOLERANCE_MM:
            k = int(np.argmax(distance))
            raise InputError(
                "DICOM series in %s: slice positions differ between frames: %s (%s) has slice %d at %s, "
                "%s (%s) has it at %s (LPS mm)" % (path, label, frame[k].label, k, np.round(positions[k], 3).tolist(),
                                                   labels[0], frames[0][k].label, np.round(reference[k], 3).tolist()))


def _ijk_to_ras(first_frame, path):
    first = first_frame[0]
    row_cosine, column_cosine = first.orientation[:3], first.orientation[3:]
    column_spacing, row_spacing = first.pixel_spacing[1], first.pixel_spacing[0]
    positions = np.array([r.position for r in first_frame])
    if len(first_frame) > 1:
        gaps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
        if gaps.max() - gaps.min() > SLICE_SPACING_TOLERANCE * gaps.mean():
            raise InputError("DICOM series in %s: slice spacing is uneven (%.4g to %.4g mm); "
                             "a slice may be missing" % (path, gaps.min(), gaps.max()))
        k_step = (positions[-1] - positions[0]) / (len(first_frame) - 1)
    else:
        header = first.header
        thickness = header.get("SpacingBetweenSlices") or header.get("SliceThickness") or 1.0
        k_step = slice_normal(first.orientation) * float(thickness)
    return ijk_to_ras_from_axes(positions[0], [row_cosine * column_spacing, column_cosine * row_spacing, k_step])


def _check_shifted_frames(groups, ordered_keys, cluster, records, mode, path):
    """A frame whose slices sit at other positions than the others' (same count) is a geometry error."""
    cluster_of = {id(r): int(c) for r, c in zip(records, cluster)}
    sets = {key: frozenset(cluster_of[id(r)] for r in groups[key]) for key in ordered_keys}
    counts = {}
    for value in sets.values():
        counts[value] = counts.get(value, 0) + 1
    common = max(counts, key=counts.get)
    for key in ordered_keys:
        if sets[key] != common and len(sets[key]) == len(common):
            label = _key_label(mode, key, 0)
            raise InputError(
                "DICOM series in %s: slice positions differ between frames: %s (e.g. %s) has its %d slices "
                "at other positions than the other frames" % (path, label, groups[key][0].label, len(common)))


def layout_frames(records, path, axis_name=None):
    """Arrange a series' records into a :class:`FrameLayout`."""
    _check_geometry_fields(records, path)
    _check_duplicate_instances(records, path)
    normal = slice_normal(records[0].orientation)
    offsets = np.array([float(np.dot(normal, r.position)) for r in records])
    cluster, centres = _cluster_offsets(offsets)
    n_slices = len(centres)
    per_position = len(records) / n_slices
    notes = []
    note = fill_missing_first_trigger(records, cluster, n_slices) if axis_name in (None, "time") else None
    if note:
        notes.append(note)
    mode, axis_name = _choose_mode(records, per_position, axis_name, path,
                                   lambda: _explain_unknown_axis(records, cluster, n_slices, per_position, path))
    groups = {}
    for record in records:
        groups.setdefault(_frame_key(mode, record), []).append(record)
    ordered_keys = sorted(groups, key=lambda key: (key, min(_acquisition_order(r) for r in groups[key])))
    if mode == "b-value":    # within one b, keep acquisition order of the directions
        ordered_keys = sorted(groups, key=lambda key: (key[0], min(_acquisition_order(r) for r in groups[key])))
    if mode == "acquisition order":
        _check_same_plane_geometry(records, path, lambda r: r.label)
    else:
        _check_same_plane_geometry(records, path, lambda r: _key_label(mode, _frame_key(mode, r), 0))
        _check_shifted_frames(groups, ordered_keys, cluster, records, mode, path)
    cluster_of = {id(r): int(c) for r, c in zip(records, cluster)}
    frames, labels = [], []
    for key in ordered_keys:
        label = _key_label(mode, key, len(frames))
        split = _split_group(groups[key], cluster_of, n_slices, label, path, centres)
        for n, frame in enumerate(split):
            frames.append(frame)
            labels.append(label if len(split) == 1 else "%s (repeat %d)" % (label, n + 1))
    if mode == "acquisition order":
        labels = ["frame %d" % (f + 1) for f in range(len(frames))]
    _check_positions(frames, labels, path)
    order_source = {"temporal position": frames[0][0].temporal_position_source,
                    "trigger time": frames[0][0].trigger_source}.get(mode)
    return FrameLayout(frames=frames, mode=mode, axis_name=axis_name, order_source=order_source,
                       labels=labels, ijk_to_ras=_ijk_to_ras(frames[0], path), notes=notes)
