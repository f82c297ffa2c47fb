"""Read a 4D (or 3D) series from a DICOM folder: classic single-frame MR or enhanced multi-frame MR.

A folder holding several series needs ``series=`` (SeriesInstanceUID, SeriesNumber or
description); without it the error lists the series found.
"""
import os
import re

import numpy as np

from ..errors import InputError
from . import dicom_records, dicom_timing
from .axis import resolve_axis
from .dicom_frames import layout_frames
from .dicom_metadata import series_metadata
from .plausibility import check_finite_frames, check_magnitude
from .series import Series, Volume


def _frames_estimate(records):
    positions = {tuple(np.round(r.position, 2)) for r in records if r.position is not None}
    return len(records) // max(len(positions), 1)


def _summary(uid, records):
    header = records[0].header
    number = header.get("SeriesNumber")
    return {"series_instance_uid": uid,
            "series_number": int(number) if number not in (None, "") else None,
            "series_description": str(header.get("SeriesDescription", "")),
            "modality": str(header.get("Modality", "")),
            "images": len(records),
            "frames": _frames_estimate(records),
            "rows": records[0].rows, "cols": records[0].cols}


def list_dicom_series(folder):
    """One dict per series in ``folder``: uid, number, description, modality, images, frames, rows, cols."""
    series, _ = dicom_records.scan(folder)
    return [_summary(uid, records) for uid, records in series.items()]


def _format_listing(summaries):
    return "\n".join("  series %s: '%s' (%d frame(s), %d image(s), %s) uid %s"
                     % (s["series_number"], s["series_description"], s["frames"], s["images"], s["modality"],
                        s["series_instance_uid"]) for s in summaries)


def _series_label(record):
    number = record.header.get("SeriesNumber")
    return "series %s" % (number if number not in (None, "") else record.series_uid)


def _description_stem(records):
    """Protocol name, or the description with numbers removed (ep2d_diff_b50_TRACEW → ep2d_diff_b#_tracew)."""
    header = records[0].header
    protocol = str(header.get("ProtocolName", "") or "").strip()
    description = str(header.get("SeriesDescription", "") or "").strip().lower()
    return protocol.lower() or re.sub(r"\d+", "#", description)


def _plane_signature(records):
    first = records[0]
    if first.orientation is None or first.pixel_spacing is None or any(r.position is None for r in records):
        return None
    positions = sorted({tuple(np.round(r.position, 2)) for r in records})
    return (tuple(np.round(first.orientation, 4)), tuple(np.round(first.pixel_spacing, 4)), first.rows, first.cols,
            tuple(positions))


def mergeable_b_series(series):
    """Series UIDs that differ only in b-value (one export per b, as Siemens TRACEW series): same plane
    geometry and protocol/description stem, every image with a b-value, no b-value in two series."""
    candidates = {}
    for uid, records in series.items():
        if not all(r.b is not None for r in records):
            continue
        signature = _plane_signature(records)
        if signature is None:
            continue
        candidates.setdefault((signature, _description_stem(records)), []).append(uid)
    groups = []
    for uids in candidates.values():
        if len(uids) < 2:
            continue
        b_sets = [{round(r.b, 3) for r in series[uid]} for uid in uids]
        if sum(len(b) for b in b_sets) == len(set().union(*b_sets)):
            groups.append(uids)
    return groups


def _merge(series, uids):
    """(records of several series as one, provenance text)."""
    records = [r for uid in uids for r in series[uid]]
    parts = ["%s (b=%s)" % (_series_label(series[uid][0]), ", ".join("%g" % b for b in sorted({r.b for r in series[uid]})))
             for uid in uids]
    return records, "%d series differing only in b-value merged: %s" % (len(uids), "; ".join(parts))


def select_series(series, selector, path, allow_merge=True):
    """(uid, records, merge note) of the chosen series.

    ``selector`` matches a UID, a SeriesNumber or a description; a list (or "3001+3002") of
    several selects series to merge by b-value. Without a selector, a folder whose series all
    differ only in b-value (one series per b) is read as one multi-b series.
    """
    summaries = [_summary(uid, records) for uid, records in series.items()]
    if selector is None:
        if len(series) == 1:
            uid = next(iter(series))
            return uid, series[uid], None
        groups = mergeable_b_series(series) if allow_merge else []
        if len(groups) == 1 and len(groups[0]) == len(series):
            records, note = _merge(series, groups[0])
            return groups[0][0], records, note
        hint = ""
        if groups:
            hint = ("\nseries that differ only in b-value can be read together with series=[...]: " +
                    "; ".join("+".join(str(_summary(u, series[u])["series_number"]) for u in g) for g in groups))
        raise InputError("%s holds %d DICOM series; choose one with series= (SeriesInstanceUID, SeriesNumber "
                         "or description):\n%s%s" % (path, len(series), _format_listing(summaries), hint))
    if isinstance(selector, (list, tuple)) or (isinstance(selector, str) and "+" in selector):
        parts = list(selector) if isinstance(selector, (list, tuple)) else selector.split("+")
        uids = []
        for part in parts:
            uid, _, _ = select_series(series, part, path, allow_merge=False)
            if uid not in uids:
                uids.append(uid)
        if len(uids) == 1:
            return uids[0], series[uids[0]], None
        chosen = {uid: series[uid] for uid in uids}
        groups = mergeable_b_series(chosen)
        if not (len(groups) == 1 and len(groups[0]) == len(uids)):
            raise InputError("%s: series=%r: these series cannot be merged; only series with the same geometry and "
                             "protocol that differ in b-value are" % (path, selector))
        records, note = _merge(series, groups[0])
        return groups[0][0], records, note
    text = str(selector).strip()
    matches = [s for s in summaries if s["series_instance_uid"] == text]
    if not matches and text.lstrip("-").isdigit():
        matches = [s for s in summaries if s["series_number"] == int(text)]
    if not matches:
        matches = [s for s in summaries if s["series_description"].lower() == text.lower()]
    if not matches:
        matches = [s for s in summaries if text.lower() in s["series_description"].lower()]
    if len(matches) != 1:
        problem = "no series matches" if not matches else "%d series match" % len(matches)
        raise InputError("%s: %s series=%r; series found:\n%s"
                         % (path, problem, selector, _format_listing(matches or summaries)))
    uid = matches[0]["series_instance_uid"]
    return uid, series[uid], None


def _pixel_scale(record, philips_floating_point):
    """(slope, intercept) turning stored values into output values."""
    if philips_floating_point and record.philips_scale_slope:
        # Philips floating-point value FP = (SV - SI) / SS with SI (2005,100D), SS (2005,100E)
        # (Chenevert et al., Transl Oncol 2014;7:65-71, doi:10.1593/tlo.13811).
        intercept = record.philips_scale_intercept or 0.0
        return 1.0 / record.philips_scale_slope, -intercept / record.philips_scale_slope
    return record.rescale_slope, record.rescale_intercept


def _fill_array(frames, dtype, philips_floating_point):
    n_frames, n_slices = len(frames), len(frames[0])
    first = frames[0][0]
    array = np.empty((n_frames, n_slices, first.rows, first.cols), dtype=dtype)
    flat = [r for frame in frames for r in frame]
    # read files in path order so each multi-frame file is decoded once
    order = sorted(range(len(flat)), key=lambda i: (flat[i].path, flat[i].frame_index or 0))
    for index, image in zip(order, dicom_records.iter_pixels([flat[i] for i in order])):
        record = flat[index]
        slope, intercept = _pixel_scale(record, philips_floating_point)
        array[index // n_slices, index % n_slices] = image * slope + intercept
    return array


def _scaling_metadata(records, philips_floating_point):
    metadata = {}
    slopes = {(r.rescale_slope, r.rescale_intercept) for r in records}
    metadata["rescale_applied"] = not philips_floating_point and slopes != {(1.0, 0.0)}
    philips = {(r.philips_scale_slope, r.philips_scale_intercept) for r in records if r.philips_scale_slope}
    if philips:
        metadata["philips_scale_slope"] = sorted({p[0] for p in philips})
        metadata["philips_scale_intercept"] = sorted({p[1] or 0.0 for p in philips})
        metadata["philips_floating_point_applied"] = bool(philips_floating_point)
    return metadata


def _b_vectors(frames):
    vectors = [frame[0].b_vector for frame in frames]
    if all(v is None for v in vectors):
        return None, None
    sources = sorted({frame[0].b_vector_source for frame in frames if frame[0].b_vector is not None})
    return np.array([v if v is not None else np.full(3, np.nan) for v in vectors]), " / ".join(sources)


def _load(path, overrides, want_4d):
    if not os.path.exists(path):
        raise InputError("DICOM input %s does not exist" % path)
    series, warnings = dicom_records.scan(path)
    uid, records, merged = select_series(series, overrides.get("series"), path, allow_merge=want_4d)
    time_warning = dicom_timing.unwrap_midnight(records)
    if time_warning:
        warnings.append("%s: %s" % (path, time_warning))
    layout = layout_frames(records, path, overrides.get("axis_name") if want_4d else "time")
    return uid, records, layout, warnings, merged


def read_dicom_series(path, **overrides):
    """:class:`Series` from a DICOM folder (or a multi-frame DICOM file)."""
    uid, records, layout, warnings, merged = _load(path, overrides, want_4d=True)
    frames, n_frames = layout.frames, len(layout.frames)
    if n_frames < 2 and overrides.get("axis_values") is None:
        raise InputError("DICOM series %s in %s has a single frame (%d slices): it is a 3D volume, not a 4D series "
                         "(use read_volume)" % (uid, path, len(frames[0])))
    provenance = {"geometry": "DICOM ImagePositionPatient / ImageOrientationPatient / PixelSpacing (LPS → RAS)",
                  "frame_grouping": layout.mode + (" (%s)" % layout.order_source if layout.order_source else "")}
    source = "DICOM series in %s" % path
    if layout.axis_name == "echo_time":
        values = [frame[0].echo_time_ms for frame in frames]
        detected = None if any(v is None for v in values) else np.array(values, dtype=float) / 1000.0
        detected_source = "DICOM EchoTime (0018,0081) / EffectiveEchoTime (0018,9082) (ms → s), sorted by echo time"
        hint = "no EchoTime"
    elif layout.axis_name == "b":
        values = [frame[0].b for frame in frames]
        detected = None if any(v is None for v in values) else np.array(values, dtype=float)
        detected_source = "DICOM " + " / ".join(sorted({frame[0].b_source for frame in frames if frame[0].b_source}))
        hint = "no DiffusionBValue or vendor b-value tag"
    else:
        detected, detected_source = dicom_timing.frame_times(frames, layout.order_source)
        hint = "no TriggerTime, AcquisitionDateTime or AcquisitionTime that differs between frames"
    axis_name, axis_values, axis_source, axis_warnings = resolve_axis(
        layout.axis_name, detected, detected_source, n_frames, source, overrides, hint)
    provenance["axis_values"] = axis_source + ("; " + " ".join(layout.notes) if layout.notes else "")
    warnings += ["%s: %s" % (source, note) for note in layout.notes or []]
    if merged:
        provenance["series_merged"] = merged
        metadata_extra = {"frame_series": [_series_label(frame[0]) for frame in frames]}
    else:
        metadata_extra = {}
    philips = bool(overrides.get("philips_floating_point"))
    array = _fill_array(frames, overrides.get("dtype", np.float64), philips)
    metadata = series_metadata(records[0].header)
    metadata.update(_scaling_metadata(records, philips))
    metadata["frame_labels"] = list(layout.labels)
    metadata.update(metadata_extra)
    if axis_name == "b":
        vectors, vector_source = _b_vectors(frames)
        if vectors is not None:
            metadata["b_vectors"] = vectors
            metadata["b_vectors_frame"] = "DICOM patient coordinates (LPS)"
            provenance["b_vectors"] = "DICOM " + vector_source
    if any(r.philips_scale_slope for r in records) and not philips:
        warnings.append("%s: Philips private scale slope (2005,100E) present but not applied (values are the "
                        "rescaled display values); pass philips_floating_point=True to apply it" % source)
    warnings += axis_warnings
    warnings += check_finite_frames(array, source, layout.labels)
    check_magnitude(array, source)
    return Series(array=array, axis_name=axis_name, axis_values=axis_values, ijk_to_ras=layout.ijk_to_ras,
                  metadata=metadata, provenance=provenance, warnings=warnings, source=str(path))


def read_dicom_volume(path, series=None, dtype=np.float64):
    """:class:`Volume` from a DICOM folder holding one 3D series (or ``series=`` chosen)."""
    uid, records, layout, warnings, _ = _load(path, {"series": series}, want_4d=False)
    if len(layout.frames) > 1:
        raise InputError("DICOM series %s in %s has %d frames (%s): it is 4D; use read_series"
                         % (uid, path, len(layout.frames), layout.mode))
    array = _fill_array(layout.frames, dtype, False)[0]
    check_magnitude(array, "DICOM series in %s" % path)
    metadata = series_metadata(records[0].header)
    metadata.update(_scaling_metadata(records, False))
    provenance = {"geometry": "DICOM ImagePositionPatient / ImageOrientationPatient / PixelSpacing (LPS → RAS)"}
    return Volume(array=array, ijk_to_ras=layout.ijk_to_ras, metadata=metadata, provenance=provenance,
                  warnings=warnings, source=str(path))
