"""Small helpers shared by the spectroscopy readers: header values and clear errors."""
import os

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
