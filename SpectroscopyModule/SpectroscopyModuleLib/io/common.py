"""Small helpers shared by the spectroscopy readers: header values and clear errors."""
import os

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError


def require_file(path, what="spectroscopy file"):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{what} '{path}' does not exist")
    return path


def number(value, name, path, unit=""):
    """A float from a header field, or a MetadataError naming the field and the file."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise MetadataError(f"{os.path.basename(path)}: header field '{name}' is missing")
    try:
        return float(str(value).strip().replace(",", ".") if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise MetadataError(f"{os.path.basename(path)}: header field '{name}' = {value!r} is not a number"
                            + (f" ({unit})" if unit else "")) from None


def optional_number(value):
    try:
        return float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None


def nucleus_name(text, default="1H"):
    """'1H', 'H1', '31P', 'P31' -> canonical mass-number-first form."""
    if text is None:
        return default
    text = str(text).strip().upper()
    if not text:
        return default
    digits = "".join(c for c in text if c.isdigit())
    letters = "".join(c for c in text if c.isalpha())
    if not digits or not letters:
        return text
    return digits + letters.capitalize()


def mhz_from(value, name, path):
    """Spectrometer frequency in MHz from a value that may be in Hz or MHz."""
    value = number(value, name, path, "MHz or Hz")
    return value / 1e6 if value > 1e4 else value


# Plausible ranges: a spectrometer frequency from 1 MHz (any nucleus at very low field) to
# 1.5 GHz (1H at 35 T); a dwell time from 100 ns (10 MHz bandwidth) to 100 ms (10 Hz).
SPECTROMETER_MHZ_RANGE = (1.0, 1500.0)
DWELL_S_RANGE = (1e-7, 0.1)
# Fewer points than this cannot hold a spectrum (the shortest clinical FIDs have 256+).
MIN_POINTS = 16


def read_bytes(path, what="spectroscopy file"):
    """The whole file, or an InputError naming it (unreadable, a folder, ...)."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise InputError(f"{what} '{path}' cannot be read: {error.strerror or error}") from None


def read_text(path, what, encoding="latin-1"):
    """File text, refusing binary content (NUL bytes) with an error naming the file."""
    raw = read_bytes(path, what)
    if b"\x00" in raw[:65536]:
        raise InputError(f"{what} '{path}' is binary, not a text file")
    return raw.decode(encoding, errors="replace")


def check_value(value, name, path, low, high, unit):
    """A finite number within [low, high] or a MetadataError naming the file and the field."""
    try:
        number_value = float(value)
    except (TypeError, ValueError):
        raise MetadataError(f"{os.path.basename(path)}: {name} = {value!r} is not a number ({unit})") from None
    if not np.isfinite(number_value) or number_value <= 0:
        raise MetadataError(f"{os.path.basename(path)}: {name} = {value!r} {unit}; it must be a positive number")
    if not low <= number_value <= high:
        raise MetadataError(f"{os.path.basename(path)}: {name} = {number_value:g} {unit} is outside the plausible "
                            f"range {low:g}-{high:g} {unit}")
    return number_value


def check_spectroscopy(mrs, path):
    """Refuse what no spectrum can be: bad dwell time or frequency, too few points, NaN or empty data."""
    name = os.path.basename(os.fspath(path))
    check_value(mrs.dwell_s, "dwell time", path, DWELL_S_RANGE[0], DWELL_S_RANGE[1], "s")
    check_value(mrs.spectrometer_mhz, "spectrometer frequency", path, SPECTROMETER_MHZ_RANGE[0],
                SPECTROMETER_MHZ_RANGE[1], "MHz")
    if mrs.fid.size == 0 or mrs.n_points < MIN_POINTS:
        raise InputError(f"'{name}': {mrs.n_points} point(s) per FID; a spectrum needs at least {MIN_POINTS}")
    finite = np.isfinite(mrs.fid)
    if not finite.all():
        if not finite.any():
            raise InputError(f"'{name}': the spectroscopy data are all NaN/inf (no usable value)")
        raise InputError(f"'{name}': {int(np.count_nonzero(~finite))} of {mrs.fid.size} data points are NaN/inf "
                         "(a damaged file)")
    if not (np.abs(mrs.fid) > 0).any():
        raise InputError(f"'{name}': the spectroscopy data are all zero (no signal)")
    if mrs.te_s is not None and not (np.isfinite(mrs.te_s) and 0 <= mrs.te_s < 10):
        raise MetadataError(f"'{name}': echo time {mrs.te_s!r} s is not plausible")
    return mrs
