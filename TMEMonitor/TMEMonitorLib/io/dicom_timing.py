"""DICOM dates and times (DA, TM, DT) and the start time of each frame of a 4D series.

Frame times come, in this order, from TriggerTime (0018,1060) (ms), then
AcquisitionDateTime (0008,002A) or AcquisitionDate (0008,0022) + AcquisitionTime
(0008,0032). A frame's time is the earliest time among its slices (its start).
"""
import datetime

import numpy as np

SECONDS_PER_DAY = 86400.0


def parse_tm(value):
    """Seconds after midnight from a TM string (HHMMSS.FFFFFF, HH:MM:SS or partial), or None."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace(":", "")
    whole, _, fraction = text.partition(".")
    if not whole.isdigit() or len(whole) not in (2, 4, 6):
        return None
    hours = int(whole[0:2])
    minutes = int(whole[2:4]) if len(whole) >= 4 else 0
    seconds = int(whole[4:6]) if len(whole) >= 6 else 0
    frac = float("0." + fraction) if fraction.isdigit() else 0.0
    if hours > 23 or minutes > 59 or seconds > 60:
        return None
    return hours * 3600.0 + minutes * 60.0 + seconds + frac


def parse_da(value):
    """Days since 0001-01-01 (proleptic ordinal) from a DA string, or None."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace(".", "").replace("-", "")
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8])).toordinal()
    except ValueError:
        return None


def parse_dt(value):
    """Absolute seconds from a DT string (YYYYMMDDHHMMSS.FFFFFF&ZZXX), or None.

    A UTC offset, when present, is removed so that times from one series compare.
    """
    if value in (None, ""):
        return None
    text = str(value).strip()
    offset = 0.0
    for sign in ("+", "-"):
        if sign in text[8:]:
            text, _, zone = text.rpartition(sign)
            if len(zone) == 4 and zone.isdigit():
                offset = (int(zone[:2]) * 3600 + int(zone[2:]) * 60) * (1 if sign == "+" else -1)
            break
    days = parse_da(text[:8])
    if days is None:
        return None
    clock = text[8:]
    seconds = parse_tm(clock) if clock else 0.0
    if seconds is None:
        return None
    return days * SECONDS_PER_DAY + seconds - offset


def acquisition_seconds(dataset, frame_content=None):
    """(seconds, has_date, source) for one image or one enhanced frame; (None, False, None) if absent."""
    if frame_content is not None and frame_content.get("FrameAcquisitionDateTime"):
        value = parse_dt(frame_content.FrameAcquisitionDateTime)
        if value is not None:
            return value, True, "(0018,9074) FrameAcquisitionDateTime"
    if dataset.get("AcquisitionDateTime"):
        value = parse_dt(dataset.AcquisitionDateTime)
        if value is not None:
            return value, True, "(0008,002A) AcquisitionDateTime"
    seconds = parse_tm(dataset.get("AcquisitionTime"))
    if seconds is None:
        return None, False, None
    days = parse_da(dataset.get("AcquisitionDate"))
    if days is None:
        return seconds, False, "(0008,0032) AcquisitionTime"
    return days * SECONDS_PER_DAY + seconds, True, "(0008,0022) AcquisitionDate + (0008,0032) AcquisitionTime"


def unwrap_midnight(records):
    """Add a day to clock-only acquisition times that fall after midnight; return a warning or None.

    Without a date, a series acquired across midnight has times that jump back by ~24 h.
    Treat the largest gap on the 24 h clock as the pause between series: if it is not the
    gap that wraps over midnight, times before it belong to the next day.
    """
    clock_only = [r for r in records if r.acquisition_s is not None and not r.acquisition_has_date]
    if len(clock_only) < 2:
        return None
    times = np.unique([r.acquisition_s for r in clock_only])
    gaps = np.diff(times)
    wrap_gap = times[0] + SECONDS_PER_DAY - times[-1]
    if gaps.size == 0 or gaps.max() <= wrap_gap:
        return None
    last_before_midnight = times[int(np.argmax(gaps))]
    for record in clock_only:
        if record.acquisition_s <= last_before_midnight:
            record.acquisition_s += SECONDS_PER_DAY
    return ("acquisition times cross midnight and no acquisition date is given: "
            "times after midnight were moved to the next day")


def frame_times(frames, order_source=None):
    """Start time (s, absolute) of each frame, with its provenance; (None, None) when absent.

    ``frames`` is a list of lists of slice records in frame order. ``order_source`` names the
    tag that fixed the frame order (e.g. TemporalPositionIdentifier), for the provenance.
    """
    records = [r for frame in frames for r in frame]
    prefix = "DICOM %s (frame order) with " % order_source if order_source else "DICOM "
    if all(r.trigger_time_ms is not None for r in records):
        values = np.array([min(r.trigger_time_ms for r in frame) for frame in frames]) / 1000.0
        if len(np.unique(values)) > 1:
            return values, prefix + "%s (ms → s), earliest slice of each frame" % records[0].trigger_source
    if all(r.acquisition_s is not None for r in records):
        values = np.array([min(r.acquisition_s for r in frame) for frame in frames])
        if len(np.unique(values)) > 1:
            sources = sorted({r.acquisition_source for r in records})
            return values, prefix + " / ".join(sources) + ", earliest slice of each frame"
    return None, None
