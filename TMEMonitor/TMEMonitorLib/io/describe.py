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
        lines.append("%s values: %s" % ({"time": "Frame times", "b": "b-values", "flip_angle": "Flip angles"}.get(
                                            item.axis_name, "Echo times"),
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


# Reader options (Python keyword arguments) and the ``tme-monitor info`` flags that set them.
COMMAND_LINE_FLAGS = (
    ("axis_name='time' or 'b' with axis_values=", "--axis time|b with --axis-values"),
    ("axis_name='time' or 'b'", "--axis time|b"),
    ("frame_time_s= (uniform spacing, s)", "--frame-time SECONDS (uniform spacing)"),
    ("(or frame_time_s=)", "(or --frame-time SECONDS)"),
    ("frame_time_s=", "--frame-time"),
    ("axis_values=", "--axis-values"),
    ("axis_name=", "--axis"),
    ("series=", "--series"),
)


def for_command_line(message):
    """A reader's error text with its Python keyword arguments replaced by the ``info`` flags."""
    for python, flag in COMMAND_LINE_FLAGS:
        message = message.replace(python, flag)
    return message


def _nifti_intent_name(path):
    """The intent_name of a NIfTI-1/2 header ('' when not NIfTI)."""
    import gzip
    opener = gzip.open if str(path).lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            header = handle.read(540)
    except OSError:
        return ""
    if len(header) >= 348 and int.from_bytes(header[:4], "little") in (348, 540) or \
            len(header) >= 348 and int.from_bytes(header[:4], "big") in (348, 540):
        size = int.from_bytes(header[:4], "little")
        if size not in (348, 540):
            size = int.from_bytes(header[:4], "big")
        start = 328 if size == 348 else 508
        return header[start:start + 16].split(b"\0")[0].decode("latin-1", "replace")
    return ""


def is_nifti_mrs(path):
    """True for a NIfTI-MRS file (intent_name 'mrs_v<major>_<minor>', Clarke et al. MRM 2022)."""
    return str(path).lower().endswith((".nii", ".nii.gz")) and _nifti_intent_name(path).startswith("mrs_v")


def describe_spectrum(path):
    """Multi-line text of a NIfTI-MRS file: grid, spectral points, dwell time and bandwidth, the
    acquisition fields of its JSON header extension (code 44), the higher dimensions' tags."""
    import json

    from ..dependencies import require
    nibabel = require("nibabel")
    image = nibabel.load(str(path))
    header = image.header
    shape = tuple(int(n) for n in image.shape)
    dwell = float(header["pixdim"][4])
    lines = ["Source: %s" % path, "NIfTI-MRS spectrum (%s): data shape %s (x, y, z, spectral points, ...)"
             % (_nifti_intent_name(path), shape)]
    voxels = int(np.prod(shape[:3])) if len(shape) >= 3 else 1
    lines.append("Voxels: %d (%s); spectral points: %d" % (voxels, "single voxel" if voxels == 1 else "MRSI grid",
                                                             shape[3] if len(shape) > 3 else 0))
    if dwell > 0:
        lines.append("Dwell time: %.6g s (spectral width %.6g Hz)" % (dwell, 1.0 / dwell))
    lines.append("Voxel size (mm): %s" % ", ".join("%.5g" % v for v in header["pixdim"][1:4]))
    extension = None
    for item in header.extensions:
        if item.get_code() == 44:
            content = item.get_content()
            extension = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)
    if extension is None:
        lines.append("Warnings:\n  - no NIfTI-MRS JSON header extension (code 44)")
        return "\n".join(lines)
    lines.append("Header extension:")
    for key in ("SpectrometerFrequency", "ResonantNucleus", "EchoTime", "RepetitionTime", "Manufacturer"):
        if key in extension:
            lines.append("  %s: %s" % (key, extension[key]))
    for dim in (5, 6, 7):
        tag = extension.get("dim_%d" % dim)
        if tag and len(shape) >= dim:
            lines.append("  dim_%d: %s (%d)" % (dim, tag, shape[dim - 1]))
    if extension.get("ProcessingApplied"):
        lines.append("  ProcessingApplied: %d step(s)" % len(extension["ProcessingApplied"]))
    return "\n".join(lines)
