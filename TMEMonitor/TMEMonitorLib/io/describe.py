"""Human-readable summary of a read series or volume (for ``tme-monitor info PATH``)."""
import numpy as np

from .geometry import describe_orientation
from .series import Series


def _format_values(values, unit, limit=12):
    values = np.asarray(values, dtype=float)
    shown = ", ".join("%.6g" % v for v in values[:limit])
    if values.size > limit:
        shown += ", ... (%d more), %.6g" % (values.size - limit - 1, values[-1])
    return "[%s] %s" % (shown, unit)


def _format_metadata_value(value):
    if isinstance(value, np.ndarray):
        return "array %s" % (value.shape,)
    if isinstance(value, dict):
        return "%d entries" % len(value)
    if isinstance(value, list) and len(value) > 8:
        return "%d values" % len(value)
    return str(value)


def describe(item):
    """Multi-line text: source, size, axis values and where they came from, geometry, metadata, warnings."""
    lines = ["Source: %s" % (item.source or "(in memory)")]
    if isinstance(item, Series):
        frames, slices, rows, cols = item.array.shape
        lines.append("4D series: %d frame(s) along %s; each frame %d x %d x %d (i x j x k = cols x rows x slices)"
                     % (frames, item.axis_name, cols, rows, slices))
        lines.append("%s values: %s" % ({"time": "Frame times", "b": "b-values"}.get(item.axis_name, "Echo times"),
                                        _format_values(item.axis_values, item.axis_unit)))
        if item.axis_name == "time" and frames > 1:
            steps = np.diff(item.axis_values)
            lines.append("Frame spacing: min %.4g s, max %.4g s, total %.4g s" % (steps.min(), steps.max(), item.axis_values[-1]))
    else:
        slices, rows, cols = item.array.shape
        lines.append("3D volume: %d x %d x %d (i x j x k = cols x rows x slices)" % (cols, rows, slices))
    finite = item.array[np.isfinite(item.array)]
    if finite.size:
        lines.append("Values: min %.6g, max %.6g, dtype %s" % (finite.min(), finite.max(), item.array.dtype))
    lines.append("Spacing (mm): %s" % ", ".join("%.5g" % s for s in item.spacing))
    lines.append("Origin (RAS mm): %s" % ", ".join("%.5g" % s for s in item.origin))
    lines.append("Orientation of i, j, k: %s" % describe_orientation(item.ijk_to_ras))
    lines.append("IJK to RAS:")
    lines += ["  " + " ".join("%10.4f" % v for v in row) for row in np.asarray(item.ijk_to_ras)]
    if item.provenance:
        lines.append("Provenance:")
        lines += ["  %s: %s" % (key, value) for key, value in item.provenance.items()]
    if item.metadata:
        lines.append("Metadata:")
        lines += ["  %s: %s" % (key, _format_metadata_value(value)) for key, value in item.metadata.items()
                  if key != "nrrd_keys"]
    if item.warnings:
        lines.append("Warnings:")
        lines += ["  - %s" % warning for warning in item.warnings]
    return "\n".join(lines)
