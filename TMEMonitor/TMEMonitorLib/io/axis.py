"""Settle a series' 4D axis: detected values, or the user's overrides, then plausibility checks."""
import numpy as np

from ..errors import InputError, MetadataError
from .plausibility import check_b_axis, check_echo_axis, check_time_axis

AXIS_NAMES = ("time", "b", "echo_time", "flip_angle")
_WHAT = {"time": "frame times", "b": "b-values", "echo_time": "echo times", "flip_angle": "flip angles"}
ALLOWED_OVERRIDES = ("series", "axis_name", "axis_values", "frame_time_s", "dtype", "philips_floating_point")


def check_overrides(overrides):
    unknown = sorted(set(overrides) - set(ALLOWED_OVERRIDES))
    if unknown:
        raise TypeError("read_series got unknown option(s) %s; known: %s" % (unknown, ", ".join(ALLOWED_OVERRIDES)))
    if overrides.get("axis_name") not in (None,) + AXIS_NAMES:
        raise InputError("axis_name must be 'time', 'b', 'echo_time' or 'flip_angle', not %r" % (overrides["axis_name"],))
    for name in ("frame_time_s",):
        value = overrides.get(name)
        if value is not None:
            try:
                ok = np.isfinite(float(value)) and float(value) > 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise InputError("%s must be a positive number of seconds, got %r" % (name, value))
    values = overrides.get("axis_values")
    if values is not None:
        try:
            array = np.asarray(values, dtype=float).ravel()
        except (TypeError, ValueError):
            raise InputError("axis_values must be numbers (one per frame), got %r" % (values,)) from None
        if array.size == 0 or not np.all(np.isfinite(array)):
            raise InputError("axis_values must be finite numbers (one per frame), got %r" % (values,))
    if overrides.get("axis_values") is not None and overrides.get("frame_time_s") is not None:
        raise InputError("give either axis_values= or frame_time_s=, not both")
    if overrides.get("frame_time_s") is not None and overrides.get("axis_name") == "b":
        raise InputError("frame_time_s= sets frame times; it cannot be used with axis_name='b'")


def resolve_axis(axis_name, values, provenance, n_frames, source, overrides, missing_hint=""):
    """(axis_name, axis_values, provenance, warnings) after overrides and checks.

    Time values are returned relative to the first frame.
    """
    warnings = []
    user_values = overrides.get("axis_values")
    frame_time = overrides.get("frame_time_s")
    axis_name = overrides.get("axis_name") or axis_name
    if frame_time is not None:
        axis_name = "time"
        if not float(frame_time) > 0:
            raise InputError("frame_time_s must be positive, got %r" % (frame_time,))
        user_values = np.arange(n_frames) * float(frame_time)
        user_provenance = "user override (frame_time_s=%g s, uniform)" % float(frame_time)
    else:
        user_provenance = "user override (axis_values=)"
    if user_values is not None:
        user_values = np.asarray(user_values, dtype=float).ravel()
        if user_values.size != n_frames:
            raise InputError("%s: axis_values has %d value(s) but the series has %d frame(s)"
                             % (source, user_values.size, n_frames))
        if values is not None:
            warnings.append("%s: %s from %s replaced by the user override"
                            % (source, _WHAT[axis_name], provenance))
        values, provenance = user_values, user_provenance
    what = _WHAT[axis_name]
    if values is None:
        option = "frame_time_s= (uniform spacing, s) or axis_values=" if axis_name == "time" else "axis_values="
        raise MetadataError("%s: no %s found%s; pass %s (one value per frame, %d frames)"
                            % (source, what, (" (" + missing_hint + ")") if missing_hint else "", option, n_frames))
    values = np.asarray(values, dtype=float).ravel()
    if axis_name == "time":
        warnings += check_time_axis(values, source)
        values = values - values[0]
    elif axis_name == "echo_time":
        warnings += check_echo_axis(values, source)
    elif axis_name == "flip_angle":
        if not np.all(np.isfinite(values)) or np.any(values <= 0) or np.any(values >= 180):
            raise MetadataError("%s: flip angles %s deg are not all between 0 and 180" % (source, values.tolist()))
    else:
        warnings += check_b_axis(values, source)
    return axis_name, values, provenance, warnings
