"""Run one fuzz case with a timeout and classify its outcome."""
import os
import signal

import numpy as np

CLEAR_ERROR = "clear error"
CORRECT = "correct result"
PLAUSIBLE = "accepted, plausible"
SHORTER = "accepted, shorter data (format states no length)"
FAILURES = ("FAILURE: bare exception", "FAILURE: error not naming the input", "FAILURE: invalid result",
            "FAILURE: silent acceptance of truncated data", "FAILURE: timeout")


class CaseTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CaseTimeout()


def _arrays(result):
    """Comparable arrays of a reader result."""
    if isinstance(result, tuple):
        return [np.asarray(x) for x in result]
    if isinstance(result, np.ndarray):
        return [result]
    for name in ("array", "fid"):
        if hasattr(result, name):
            return [np.asarray(getattr(result, name))]
    if hasattr(result, "names"):      # Basis
        return [np.asarray(result[n]) for n in result.names]
    return []


def invalid(result):
    """A reason the returned result is unusable, or None."""
    if hasattr(result, "ijk_to_ras"):
        matrix = np.asarray(result.ijk_to_ras)
        if not np.all(np.isfinite(matrix)) or np.any(result.spacing <= 0):
            return "geometry not finite/positive"
        if hasattr(result, "axis_values") and not np.all(np.isfinite(result.axis_values)):
            return "axis values not finite"
        if not np.any(np.isfinite(result.array)):
            return "no finite voxel"
        finite = result.array[np.isfinite(result.array)]
        if finite.size and np.abs(finite).max() > 1e30:
            return "absurd voxel values"
    if hasattr(result, "dwell_s"):
        if not (np.isfinite(result.dwell_s) and result.dwell_s > 0 and np.isfinite(result.spectrometer_mhz)
                and result.spectrometer_mhz > 0):
            return "dwell/frequency not positive"
        data = result.fid if hasattr(result, "fid") else np.stack([result[n] for n in result.names])
        if not np.all(np.isfinite(data)) or not np.any(np.abs(data) > 0):
            return "data not finite or all zero"
    if isinstance(result, tuple):
        if not all(np.all(np.isfinite(np.asarray(x))) for x in result):
            return "values not finite"
    if isinstance(result, np.ndarray) and not np.all(np.isfinite(result)):
        return "values not finite"
    return None


def same(result, reference):
    a, b = _arrays(result), _arrays(reference)
    if len(a) != len(b):
        return False
    return all(x.shape == y.shape and np.allclose(x, y, equal_nan=True, rtol=1e-6, atol=0) for x, y in zip(a, b))


def run_case(seed, label, reference, timeout_s=10.0):
    """(outcome class, detail)."""
    from TMEMonitorLib.errors import InputError
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = seed.read(seed.input_path)
    except CaseTimeout:
        return FAILURES[4], "over %g s" % timeout_s
    except InputError as error:
        message = str(error)
        names = {os.path.basename(seed.target), os.path.basename(seed.input_path), seed.input_path, seed.target}
        if any(name and name in message for name in names):
            return CLEAR_ERROR, message.splitlines()[0][:160]
        return FAILURES[1], message[:160]
    except Exception as error:  # noqa: BLE001 - the point is to catch every bare exception
        return FAILURES[0], "%s: %s" % (type(error).__name__, str(error)[:160])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    reason = invalid(result)
    if reason:
        return FAILURES[2], reason
    if same(result, reference):
        return CORRECT, ""
    if label.startswith(("cut", "empty")):
        return (SHORTER, "") if not seed.has_length else (FAILURES[3], "truncated file read without error")
    return PLAUSIBLE, ""
