"""Read an arterial input function from a two-column text table (time, concentration).

The header states the units, e.g. ``time_s,conc_mM`` or ``time (min); Cb [uM]``.
Separators: comma, semicolon, tab or spaces. Without a header (or without a time unit
in it) the caller must pass ``time_unit``: units are never guessed.
"""
import re
import warnings

import numpy as np

from TMEMonitorLib.errors import InputError

_TIME_UNITS = (  # (pattern on the lower-case header, factor to seconds); order matters
    (re.compile(r"(?<![a-z])(ms|msec|millisec\w*)(?![a-z])"), 1e-3),
    (re.compile(r"(?<![a-z])(min|mins|minutes?)(?![a-z])"), 60.0),
    (re.compile(r"(?<![a-z])(s|sec|secs|seconds?)(?![a-z])"), 1.0),
)
_CONC_UNITS = (  # factor to mM
    (re.compile(r"(?<![a-z])(um|µm|umol/l|µmol/l|micromolar)(?![a-z])"), 1e-3),
    (re.compile(r"(?<![a-z])(mm|mmol/l|mmol|millimolar)(?![a-z])"), 1.0),
)
MAX_SPAN_S = 4 * 3600.0          # one dynamic series lasts minutes, at most a few hours
MAX_CONCENTRATION_MM = 100.0     # first-pass blood Gd peaks are ~5-20 mM; 100 is far beyond any dose
NEGATIVE_TOLERANCE = 0.2         # baseline noise may dip below zero by a fraction of the peak

_NAMED_UNITS = {"s": 1.0, "sec": 1.0, "seconds": 1.0, "min": 60.0, "minutes": 60.0, "ms": 1e-3}
_NAMED_CONC_UNITS = {"mm": 1.0, "um": 1e-3, "µm": 1e-3}


def _split(line, delimiter):
    cells = line.split(delimiter) if delimiter else line.split()
    return [c.strip().strip('"').strip("'") for c in cells]


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _unit_in(header, table):
    # the unit is what follows the name: "time_s", "time (s)", "t[min]"
    text = header.lower().replace("-", "_")
    for pattern, factor in table:
        if pattern.search(re.sub(r"^(time|conc[a-z]*|cb|cp|ca|aif|c|t)", "", text)):
            return factor
    return None


def _column(headers, names, default):
    for i, h in enumerate(headers):
        word = re.split(r"[\s_(\[]", h.lower(), maxsplit=1)[0]
        if word in names:
            return i
    return default


def read_aif_csv(path, time_unit=None, concentration_unit=None):
    """Read ``path`` and return ``(t_s, concentration_mM)`` as float arrays.

    ``time_unit`` ("s", "min", "ms") and ``concentration_unit`` ("mM", "uM") override or
    supply what the header does not state. A missing concentration unit is taken as mM
    with a warning; a missing time unit is an InputError.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise InputError(f"AIF file '{path}': cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise InputError(f"AIF file '{path}': is a binary file, not a text table (time, concentration)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheet exports on Windows are often Latin-1 (e.g. 'µM' as byte 0xB5).
        text = raw.decode("latin-1")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"AIF file '{path}': is empty")
    first = lines[0]
    delimiter = next((d for d in (",", ";", "\t") if d in first), None)
    headers = None
    if not all(_is_number(c) for c in _split(first, delimiter) if c):
        headers = _split(first, delimiter)
        lines = lines[1:]
    rows = [[c for c in _split(ln, delimiter) if c != ""] for ln in lines]
    if len(rows) < 2:
        raise InputError(f"AIF file '{path}': needs at least two time points, found {len(rows)}")
    n_cols = min(len(r) for r in rows)
    if n_cols < 2:
        raise InputError(f"AIF file '{path}': needs two columns (time, concentration)")
    t_col, c_col = 0, 1
    if headers is not None:
        t_col = _column(headers, {"time", "t", "times"}, 0)
        c_col = _column(headers, {"conc", "concentration", "c", "cb", "cp", "ca", "aif"},
                        1 if t_col == 0 else 0)
    try:
        data = np.array([[float(r[t_col]), float(r[c_col])] for r in rows])
    except (ValueError, IndexError):
        raise InputError(f"AIF file '{path}': every data row needs numeric time and concentration") from None

    if time_unit is not None:
        t_factor = _NAMED_UNITS.get(str(time_unit).strip().lower())
        if t_factor is None:
            raise InputError(f"time_unit: unknown unit {time_unit!r} (use 's', 'min' or 'ms')")
    else:
        t_factor = _unit_in(headers[t_col], _TIME_UNITS) if headers is not None else None
        if t_factor is None:
            raise InputError(f"AIF file '{path}': the time unit is not stated in the header "
                             "(e.g. 'time_s' or 'time_min'); pass time_unit='s' or 'min'")
    if concentration_unit is not None:
        c_factor = _NAMED_CONC_UNITS.get(str(concentration_unit).strip().lower())
        if c_factor is None:
            raise InputError(f"concentration_unit: unknown unit {concentration_unit!r} (use 'mM' or 'uM')")
    else:
        c_factor = _unit_in(headers[c_col], _CONC_UNITS) if headers is not None else None
        if c_factor is None:
            warnings.warn(f"AIF file '{path}': concentration unit not stated; assuming mM", stacklevel=2)
            c_factor = 1.0

    t_s, conc = data[:, 0] * t_factor, data[:, 1] * c_factor
    if not (np.all(np.isfinite(t_s)) and np.all(np.isfinite(conc))):
        raise InputError(f"AIF file '{path}': contains non-finite values")
    if np.any(np.diff(t_s) <= 0):
        raise InputError(f"AIF file '{path}': times must increase strictly")
    span = t_s[-1] - t_s[0]
    if span > MAX_SPAN_S:
        raise InputError(f"AIF file '{path}': times span {span / 3600:.1f} h; an arterial input function covers one "
                         f"dynamic series (at most {MAX_SPAN_S / 3600:g} h): check the time unit")
    if np.any(np.abs(t_s) > MAX_SPAN_S):
        raise InputError(f"AIF file '{path}': time {t_s[np.argmax(np.abs(t_s))]:g} s is implausible")
    tolerance = NEGATIVE_TOLERANCE * max(float(np.max(np.abs(conc))), 1e-12)
    if np.any(conc < -tolerance):
        worst = int(np.argmin(conc))
        raise InputError(f"AIF file '{path}': negative concentration {conc[worst]:g} mM at t = {t_s[worst]:g} s "
                         "(beyond noise around zero)")
    if np.max(conc) > MAX_CONCENTRATION_MM:
        raise InputError(f"AIF file '{path}': concentration up to {np.max(conc):g} mM is implausible (blood gadolinium "
                         f"peaks below {MAX_CONCENTRATION_MM:g} mM): check the unit")
    return t_s, conc
