"""Checks on frame times, b-values and frame contents: refuse the impossible, warn on the unusual.

Uneven frame spacing is kept as acquired (models integrate on the real time grid); it is
only reported.
"""
import numpy as np

from ..errors import InputError, MetadataError

MAX_SPAN_S = 86400.0          # a 4D series spanning more than a day is an error
LONG_SPAN_S = 7200.0          # more than 2 h is unusual for one dynamic series
UNEVEN_RELATIVE = 0.01        # spacing deviating by >1% of the median is reported
UNEVEN_ABSOLUTE_S = 0.001     # ...and by more than 1 ms (DICOM times have 1 µs-1 ms precision)
HIGH_B = 10000.0              # b above 10000 s/mm2 is beyond clinical and most research protocols


def check_time_axis(values, source):
    """Validate absolute or relative frame times (s); return warnings. Raises MetadataError."""
    values = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(values)):
        raise MetadataError("%s: frame times contain non-finite values: %s" % (source, values.tolist()))
    if values.size < 2:
        return []
    steps = np.diff(values)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        f = int(bad[0])
        what = "the same time as" if steps[f] == 0 else "an earlier time than"
        raise MetadataError("%s: frame times must increase strictly, but frame %d (%.6g s) has %s frame %d (%.6g s)"
                            % (source, f + 2, values[f + 1] - values[0], what, f + 1, values[f] - values[0]))
    span = values[-1] - values[0]
    if span > MAX_SPAN_S:
        raise MetadataError("%s: frames span %.1f h, more than a day: the frame times are implausible"
                            % (source, span / 3600.0))
    warnings = []
    if span > LONG_SPAN_S:
        warnings.append("%s: frames span %.2f h, unusually long for one series" % (source, span / 3600.0))
    median = float(np.median(steps))
    if steps.max() - steps.min() > max(UNEVEN_RELATIVE * median, UNEVEN_ABSOLUTE_S):
        warnings.append("%s: frame spacing is uneven (min %.4g s, max %.4g s, median %.4g s); kept as acquired, "
                        "not resampled" % (source, steps.min(), steps.max(), median))
    return warnings


def check_b_axis(values, source):
    """Validate b-values (s/mm2); return warnings. Raises MetadataError."""
    values = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(values)):
        raise MetadataError("%s: b-values contain non-finite values: %s" % (source, values.tolist()))
    if np.any(values < 0):
        raise MetadataError("%s: negative b-values %s" % (source, values[values < 0].tolist()))
    warnings = []
    if values.max() > HIGH_B:
        warnings.append("%s: b-values up to %g s/mm2 are unusually high; check the unit (s/mm2 expected)"
                        % (source, values.max()))
    if np.unique(values).size < 2:
        warnings.append("%s: all frames have the same b-value (%g s/mm2)" % (source, values[0]))
    return warnings


MAX_ECHO_S = 1.0        # echo times of gradient/spin-echo series are below a second


def check_echo_axis(values, source):
    """Validate echo times (s, sorted ascending by the reader); return warnings. Raises MetadataError."""
    values = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise MetadataError("%s: echo times must be positive and finite (s): %s" % (source, values.tolist()))
    same = np.flatnonzero(np.diff(values) == 0)
    if same.size:
        raise MetadataError("%s: two echoes have the same echo time %.6g s (echoes %d and %d): duplicate echo "
                            "times cannot be told apart" % (source, values[same[0]], same[0] + 1, same[0] + 2))
    if np.any(np.diff(values) < 0):
        raise MetadataError("%s: echo times must increase: %s" % (source, values.tolist()))
    if values.max() > MAX_ECHO_S:
        raise MetadataError("%s: echo time %.6g s is implausible (over %g s); echo times are in seconds"
                            % (source, values.max(), MAX_ECHO_S))
    return []


def check_finite_frames(array, source, labels=None):
    """Refuse frames that are entirely NaN/inf; warn about scattered non-finite voxels."""
    finite = np.isfinite(array).reshape(array.shape[0], -1)
    counts = finite.sum(axis=1)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        names = [labels[f] if labels else "frame %d" % (f + 1) for f in empty]
        raise InputError("%s: %d frame(s) contain only NaN/inf values: %s" % (source, empty.size, ", ".join(names)))
    bad = finite.shape[1] - counts
    if bad.sum():
        frames = np.flatnonzero(bad)
        return ["%s: %d non-finite voxel value(s) in %d frame(s) (first: frame %d); they are kept as NaN"
                % (source, int(bad.sum()), frames.size, int(frames[0]) + 1)]
    return []


MAX_MAGNITUDE = 1e30      # no MR intensity or parameter comes near this; such values are corrupt bytes


def check_magnitude(array, source):
    """Refuse values of absurd size (random bytes read as floats, a wrong byte order, a wild rescale)."""
    finite = np.isfinite(array)
    if finite.any():
        largest = float(np.abs(array[finite]).max())
        if largest > MAX_MAGNITUDE:
            raise InputError("%s: voxel values up to %.3g: the data are corrupt (or read with the wrong byte "
                             "order or scaling)" % (source, largest))
