"""What a processing step leaves behind: its parameters checked, a NIfTI-MRS
``ProcessingApplied``-style history entry, a short summary of per-transient values, and the new
MRSData (the input object is never changed)."""
import copy
import datetime

import numpy as np

from TMEMonitorLib.errors import InputError

from .data_axes import tags_of

PROGRAM = "TME Monitor"


def checked_number(value, name, what, minimum, inclusive=True):
    """``value`` as a finite float at or above (``inclusive``) or above ``minimum``, or InputError."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: {name} must be a number (got {value!r})") from None
    if not np.isfinite(number) or number < minimum or (not inclusive and number == minimum):
        raise InputError(f"{what}: {name} must be {'>=' if inclusive else '>'} {minimum:g} (got {value})")
    return number


def make_step(method, details, /, **parameters):
    """A NIfTI-MRS ProcessingApplied entry; numeric results are kept under 'Parameters'."""
    step = {"Time": datetime.datetime.now().isoformat(timespec="seconds"), "Program": PROGRAM,
            "Method": method, "Details": details}
    if parameters:
        step["Parameters"] = {k: _plain(v) for k, v in parameters.items()}
    return step


def _plain(value):
    """JSON-friendly copy: arrays to (nested) lists, numpy scalars to Python numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def summary(values, unit, digits=3):
    """'x unit' for one value, else 'mean m, SD s, range a..b unit' (for Details strings)."""
    values = np.asarray(values, float).ravel()
    if values.size == 1:
        return f"{values[0]:.{digits}f} {unit}"
    return (f"mean {values.mean():.{digits}f}, SD {values.std():.{digits}f}, range {values.min():.{digits}f}.."
            f"{values.max():.{digits}f} {unit} over {values.size}")


def result(mrs, fid, step, dim_tags=None, **changes):
    """A new MRSData holding ``fid`` with ``step`` appended to the history of ``mrs``."""
    from ..io.mrs_data import MRSData
    fid = np.asarray(fid)
    if isinstance(mrs, MRSData):
        return mrs.with_fid(fid, step=step, dim_tags=dim_tags, **changes)
    fields = {"fid": fid, "dwell_s": float(mrs.dwell_s), "spectrometer_mhz": float(mrs.spectrometer_mhz),
              "nucleus": getattr(mrs, "nucleus", None) or "1H", "te_s": getattr(mrs, "te_s", None),
              "tr_s": getattr(mrs, "tr_s", None), "affine": getattr(mrs, "affine", None),
              "metadata": copy.deepcopy(dict(getattr(mrs, "metadata", None) or {})),
              "dim_tags": list(tags_of(mrs) if dim_tags is None else dim_tags),
              "history": list(getattr(mrs, "history", None) or []),
              "ppm_reference": getattr(mrs, "ppm_reference", None)}
    fields.update(changes)
    out = MRSData(**fields)
    out.history.append(step)
    return out
