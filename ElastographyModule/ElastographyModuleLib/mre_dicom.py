"""MRE phase images from DICOM (classic single-frame or enhanced multi-frame MR), with the
acquisition values the headers document, each with its source; what they do not document is left
for the command-line flags (--frequency, --offsets, --directions), and build_acquisition refuses a
missing one by naming that flag.

Conventions read (public, vendor-neutral where one exists):

* Phase vs magnitude: ImageType (0008,0008) value "P" / "PHASE" (Siemens and GE classic images) or
  ComplexImageComponent (0008,9208) = PHASE (enhanced MR, DICOM PS3.3 C.8.13.3.1.1). A folder that
  holds magnitude and phase series gives both; a single unmarked series is taken as phase.
* Phase offsets (wave time steps): the offsets are the frames of one series, ordered by
  TemporalPositionIdentifier (0020,0100) (enhanced: TemporalPositionIndex) out of
  NumberOfTemporalPositions (0020,0105) and taken as evenly spaced over one vibration period,
  2 pi (t - 1) / N — the MRE acquisition samples one period in N equal steps of the delay between
  vibration and motion encoding (Muthupillai et al., Science 1995, doi:10.1126/science.7569924;
  Hirsch, Braun & Sack, Magnetic Resonance Elastography, Wiley 2017, ch. 4). When frames are told
  apart by TriggerTime (0018,1060) instead and the frequency is known, offset = 2 pi f t mod 2 pi.
* Vibration frequency: no standard DICOM attribute exists. A frequency written as "<number> Hz" in
  ImageComments (0020,4000), SeriesDescription (0008,103E) or ProtocolName (0018,1030) — the way
  consoles label MRE series (e.g. "MRE 60Hz") — is read, its tag named in the provenance.
  Otherwise: --frequency.
* Motion-encoding direction: no standard attribute either; vendors keep it in private headers
  whose layout is not published (Siemens CSA, GE user CVs). One phase series (per frequency) is one
  component; several series of one frequency are several directions, which --directions must give
  (in ascending SeriesNumber order). GE reports gradient directions in its logical frame
  (frequency, phase, slice), not the patient's (dcm2niix/GE notes,
  https://github.com/rordenlab/dcm2niix/tree/master/GE), one more reason not to guess.
* Phase scaling, from the values after RescaleSlope/Intercept (overridable with --phase-units):
  within +-pi: rad; 0..4095 stored 12-bit phase: v pi / 2048 - pi (Philips and Siemens raw
  12-bit phase, dcm2niix issue #406); -4096..4095 (Siemens slope 2, intercept -4096; dcm2niix issue
  #406, MRtrix3 issue #3009): v pi / 4096 ("int12"); within +-3142: milliradians (Philips phase with
  RescaleIntercept -3142, dcm2niix issue #463) unless the manufacturer is Siemens.
"""
import re

import numpy as np

from TMEMonitorLib.errors import InputError

# phase unit -> (slope, intercept) to rad
PHASE_TO_RAD = {"rad": (1.0, 0.0), "deg": (np.pi / 180.0, 0.0), "mrad": (1e-3, 0.0), "int12": (np.pi / 4096.0, 0.0),
                "uint12": (np.pi / 2048.0, -np.pi)}
_HZ = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*hz\b", re.IGNORECASE)
_TEXT_TAGS = (("ImageComments", "(0020,4000) ImageComments"), ("SeriesDescription", "(0008,103E) SeriesDescription"),
              ("ProtocolName", "(0018,1030) ProtocolName"))


def _image_kind(record):
    """'phase', 'magnitude' or None (unmarked) from ImageType / ComplexImageComponent."""
    header = record.header
    component = str(header.get("ComplexImageComponent", "") or "").upper()
    if component in ("PHASE", "MAGNITUDE"):
        return component.lower()
    tokens = [str(t).upper() for t in (header.get("ImageType") or [])]
    if "P" in tokens or "PHASE" in tokens:
        return "phase"
    if "M" in tokens or "MAGNITUDE" in tokens:
        return "magnitude"
    return None


def frequency_from_text(header):
    """(frequency Hz, source) from '<number> Hz' in the header's text tags, or (None, None)."""
    for keyword, label in _TEXT_TAGS:
        text = str(header.get(keyword, "") or "")
        found = {float(m) for m in _HZ.findall(text)}
        if len(found) == 1:
            return found.pop(), f"DICOM {label} '{text.strip()}'"
        if len(found) > 1:
            raise InputError(f"DICOM {label} '{text.strip()}' names several frequencies {sorted(found)}: give "
                             "--frequency")
    return None, None


def phase_units_of(values, manufacturer=""):
    """(unit, why) of phase values (after RescaleSlope/Intercept); InputError when none fits."""
    finite = values[np.isfinite(values)]
    low, high = float(finite.min()), float(finite.max())
    if low >= -np.pi * 1.001 and high <= np.pi * 1.001:
        return "rad", f"values {low:.3g}..{high:.3g} within +-pi"
    integral = np.allclose(finite, np.round(finite))
    if integral and low >= 0 and high <= 4095:
        return "uint12", f"stored 12-bit values {low:g}..{high:g} (0..4095 = -pi..pi)"
    if integral and low >= -4096 and high <= 4095:
        if "SIEMENS" in manufacturer.upper() or max(-low, high) > 3142 * 1.001:
            return "int12", f"values {low:g}..{high:g} (-4096..4095 = -pi..pi)"
        return "mrad", f"values {low:g}..{high:g} within +-3142 (milliradians)"
    if low >= -3142 * 1.001 and high <= 3142 * 1.001:
        return "mrad", f"values {low:.4g}..{high:.4g} within +-3142 (milliradians)"
    raise InputError(f"DICOM phase values {low:.4g}..{high:.4g} fit no known phase scaling (rad, 12-bit, "
                     "milliradians): give --phase-units")


def _series_order(records):
    number = records[0].header.get("SeriesNumber")
    return (int(number) if number not in (None, "") else 0, records[0].series_uid)


def _offsets(layout, frequency_hz):
    """(offsets rad, source) of a series' frames, or (None, None)."""
    first = [frame[0] for frame in layout.frames]
    if layout.mode == "temporal position":
        header = first[0].header
        total = header.get("NumberOfTemporalPositions")
        count = int(total) if total not in (None, "") and int(total) >= len(first) else len(first)
        positions = np.array([float(r.temporal_position) for r in first])
        return (2 * np.pi * (positions - positions.min()) / count,
                f"DICOM TemporalPositionIdentifier of {count} positions "
                f"({'NumberOfTemporalPositions' if count != len(first) or total else 'frames counted'}), evenly "
                "spaced over one vibration period")
    if layout.mode == "trigger time" and frequency_hz:
        times = np.array([float(r.trigger_time_ms) for r in first]) * 1e-3
        return (np.mod(2 * np.pi * frequency_hz * (times - times.min()), 2 * np.pi),
                f"DICOM TriggerTime (0018,1060) x {frequency_hz:g} Hz")
    return None, None


def read_dicom(path, series=None, phase_units=None):
    """:class:`~.mre_files.PhaseFile` (phase in rad) from a DICOM folder or file.

    ``series``: SeriesNumber(s) / description of the phase series to use (default: every phase
    series); ``phase_units``: override the scaling rule ('rad', 'deg', 'mrad', 'int12', 'uint12')."""
    from TMEMonitorLib.io import dicom_records
    from TMEMonitorLib.io.dicom_frames import layout_frames
    from TMEMonitorLib.io.dicom_series import _fill_array

    from .phase_file import PhaseFile
    found, _ = dicom_records.scan(path)
    groups = sorted(found.values(), key=_series_order)
    kinds = [{_image_kind(r) for r in records} for records in groups]
    phase_groups = [g for g, k in zip(groups, kinds) if "phase" in k]
    magnitude_groups = [g for g, k in zip(groups, kinds) if k == {"magnitude"}]
    if not phase_groups:
        unmarked = [g for g, k in zip(groups, kinds) if k == {None}]
        if len(unmarked) != 1:
            raise InputError(f"DICOM input {path}: no series is marked as phase (ImageType P / PHASE or "
                             f"ComplexImageComponent PHASE) among {len(groups)} series; give one phase series")
        phase_groups, note = unmarked, "series not marked as phase or magnitude: taken as phase"
    else:
        note = "ImageType / ComplexImageComponent: phase"
    if series is not None:
        wanted = {str(s) for s in (series if isinstance(series, (list, tuple)) else [series])}
        phase_groups = [g for g in phase_groups if str(g[0].header.get("SeriesNumber")) in wanted
                        or str(g[0].header.get("SeriesDescription", "")) in wanted]
        if not phase_groups:
            raise InputError(f"DICOM input {path}: no phase series matches {sorted(wanted)}")
    arrays, frequencies, offsets_list, offset_sources, frequency_sources, geometry = [], [], [], [], [], None
    manufacturer = str(phase_groups[0][0].header.get("Manufacturer", "") or "")
    for records in phase_groups:
        records = [r for r in records if _image_kind(r) in ("phase", None)]
        layout = layout_frames(records, path, "time")
        frequency, frequency_source = frequency_from_text(records[0].header)
        offsets, offset_source = _offsets(layout, frequency)
        array = _fill_array(layout.frames, np.float64, False)
        if geometry is None:
            geometry = layout.ijk_to_ras
        elif arrays and array.shape[1:] != arrays[0].shape[1:] or not np.allclose(layout.ijk_to_ras, geometry, atol=1e-3):
            raise InputError(f"DICOM input {path}: the phase series do not share one image grid")
        arrays.append(array)
        frequencies.append(frequency)
        frequency_sources.append(frequency_source)
        offsets_list.append(offsets)
        offset_sources.append(offset_source)
    counts = {a.shape[0] for a in arrays}
    if len(counts) != 1:
        raise InputError(f"DICOM input {path}: the phase series hold different numbers of phase offsets "
                         f"({sorted(counts)}); give series of one acquisition")
    phase = np.concatenate(arrays)
    values, sources = {}, {"voxel_size": "DICOM PixelSpacing / slice positions", "phase_images": note}
    unit, why = (phase_units, "--phase-units") if phase_units else phase_units_of(phase, manufacturer)
    if unit not in PHASE_TO_RAD:
        raise InputError(f"phase units '{unit}' are not one of {', '.join(PHASE_TO_RAD)} (--phase-units)")
    slope, intercept = PHASE_TO_RAD[unit]
    phase = phase * slope + intercept
    sources["phase_units"] = f"{unit} ({why})"
    if all(f is not None for f in frequencies):
        distinct = sorted(set(frequencies))
        # Series order: frequency (slowest), then direction; series of one frequency are its directions.
        order = sorted(range(len(arrays)), key=lambda i: (frequencies[i], i))
        n_offsets = arrays[0].shape[0]
        phase = np.concatenate([phase[i * n_offsets:(i + 1) * n_offsets] for i in order])
        values["frequencies_hz"] = distinct
        sources["frequencies_hz"] = "; ".join(sorted({s for s in frequency_sources if s}))
        per_frequency = [frequencies.count(f) for f in distinct]
        if len(set(per_frequency)) != 1:
            raise InputError(f"DICOM input {path}: {dict(zip(distinct, per_frequency))} phase series per frequency: "
                             "each frequency needs the same encoding directions (--directions)")
        if per_frequency[0] > 1:
            sources["directions_needed"] = (f"{per_frequency[0]} phase series per frequency (motion-encoding "
                                            "directions not documented in DICOM): give --directions")
        offsets_list = [offsets_list[i] for i in order]
        offset_sources = [offset_sources[i] for i in order]
    elif len(arrays) > 1:
        sources["directions_needed"] = (f"{len(arrays)} phase series without a frequency in their text: give "
                                        "--frequency and --directions")
    if all(o is not None for o in offsets_list):
        if any(not np.allclose(o, offsets_list[0], atol=1e-6) for o in offsets_list):
            raise InputError(f"DICOM input {path}: the phase series sample different phase offsets; give --offsets")
        values["offsets"] = offsets_list[0].tolist()
        sources["offsets"] = offset_sources[0]
    magnitude = None
    if magnitude_groups:
        layout = layout_frames(magnitude_groups[0], path, "time")
        magnitude = _fill_array(layout.frames, np.float64, False)[0]
    if magnitude is not None and magnitude.shape != phase.shape[1:]:
        magnitude = None                   # not on the phase grid: no mask from it
    return PhaseFile(phase, geometry, values, sources, magnitude)
