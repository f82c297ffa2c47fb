"""Validated command-line option types: each option declares its kind and range once.

Every function here returns an ``argparse`` ``type=`` callable. A value that is not of the kind
or outside the range raises ``argparse.ArgumentTypeError``; argparse then stops before any work
with ``tme-monitor <command>: error: argument --flag: <what is wrong, the allowed range>`` and
exit code 2. Numbers must be finite: 'nan', 'inf' and '1e309' are refused for every option.

Used by every ``tme-monitor`` sub-command (the app's and each technique's ``<Module>Lib/cli.py``).
No Qt, no Slicer: plain Python and ``os`` (the layer rule: importable from any Lib).
"""
import argparse
import math
import os

# Largest magnitude of a value in image-signal units (thresholds, noise levels): scanner images
# (16-bit integers, or floats rescaled to physical units) stay far below 1e12; a larger number is
# a typing error, and beyond float32's range (3.4e38) it could not even compare with a sample.
SIGNAL_LIMIT = 1e12

# Largest integer any count/size option accepts: far above every real value, far below what
# would overflow a C int or allocate terabytes.
INT_LIMIT = 2 ** 31 - 1


def _range_text(low, high, low_open=False, high_open=False, unit=""):
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}{unit}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}{unit}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}{unit}"
    return f"any finite number{unit}"


def _finite(text, kind_text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"'{_shown(text)}' is not a number ({kind_text})") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{_shown(text)}' is not a finite number ({kind_text})")
    return value


def _shown(text, limit=40):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


def _check_range(value, low, high, low_open, high_open, unit, what="value"):
    allowed = _range_text(low, high, low_open, high_open, unit)
    if low is not None and (value < low or (low_open and value == low)):
        raise argparse.ArgumentTypeError(f"{what} {value:g} is out of range (allowed: {allowed})")
    if high is not None and (value > high or (high_open and value == high)):
        raise argparse.ArgumentTypeError(f"{what} {value:g} is out of range (allowed: {allowed})")
    return value


def number(low=None, high=None, unit="", low_open=False, high_open=False):
    """A finite float in [low, high] (an open end with ``low_open`` / ``high_open``)."""
    allowed = _range_text(low, high, low_open, high_open, unit)

    def parse(text):
        return _check_range(_finite(text, allowed), low, high, low_open, high_open, unit)
    parse.__name__ = "number"
    parse.allowed = allowed
    return parse


def positive(high=None, unit=""):
    """A finite float > 0 (and <= ``high``)."""
    return number(0.0, high, unit, low_open=True)


def non_negative(high=None, unit=""):
    """A finite float >= 0 (and <= ``high``)."""
    return number(0.0, high, unit)


def integer(low=None, high=INT_LIMIT, unit=""):
    """A whole number in [low, high] ('3.0' and '1e3' are refused: counts are written as integers)."""
    allowed = _range_text(low, high, unit=unit)

    def parse(text):
        try:
            value = int(str(text).strip(), 10)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"'{_shown(text)}' is not a whole number (allowed: {allowed})") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{_shown(value)} is out of range (allowed: {allowed})")
        return value
    parse.__name__ = "integer"
    parse.allowed = allowed
    return parse


def number_list(low=None, high=None, unit="", low_open=False, min_count=1, max_count=10000, allow_none=False):
    """Numbers separated by commas (also ';' or spaces), each finite and in range; a tuple.

    ``allow_none``: the word 'none' gives an empty tuple."""
    allowed = _range_text(low, high, low_open, False, unit)

    def parse(text):
        text = str(text)
        if allow_none and text.strip().lower() == "none":
            return ()
        parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
        if not min_count <= len(parts) <= max_count:
            count = f"{min_count}" if min_count == max_count else f"{min_count} to {max_count}"
            raise argparse.ArgumentTypeError(f"'{_shown(text)}' gives {len(parts)} value(s); expected {count} "
                                             f"numbers separated by commas ({allowed})")
        values = []
        for part in parts:
            value = _finite(part.strip(), f"numbers separated by commas, each {allowed}")
            values.append(_check_range(value, low, high, low_open, False, unit))
        return tuple(values)
    parse.__name__ = "number_list"
    parse.allowed = allowed
    return parse


def name_list(choices=None, min_count=1):
    """Names separated by commas (lower-cased, stripped); each one of ``choices`` when given."""
    def parse(text):
        names = [p.strip() for p in str(text).split(",") if p.strip()]
        if len(names) < min_count:
            hint = f" from {', '.join(choices)}" if choices else ""
            raise argparse.ArgumentTypeError(f"'{_shown(text)}' names nothing; give at least {min_count} "
                                             f"name(s){hint}, separated by commas")
        if choices is not None:
            lowered = [n.lower() for n in names]
            unknown = [n for n, low in zip(names, lowered) if low not in choices]
            if unknown:
                raise argparse.ArgumentTypeError(f"unknown: {', '.join(_shown(u, 20) for u in unknown)} "
                                                 f"(choose from {', '.join(choices)})")
            return tuple(lowered)
        return tuple(names)
    parse.__name__ = "name_list"
    return parse


def text(max_length=1000):
    """Non-empty text (a name, a series selector)."""
    def parse(value):
        value = str(value)
        if not value.strip():
            raise argparse.ArgumentTypeError("is empty")
        if len(value) > max_length or "\x00" in value:
            raise argparse.ArgumentTypeError(f"'{_shown(value)}' is not a usable name (at most {max_length} "
                                             "characters, no NUL)")
        return value
    parse.__name__ = "text"
    return parse


def _path_text(value):
    value = str(value)
    if not value.strip():
        raise argparse.ArgumentTypeError("is empty (a path is needed)")
    if "\x00" in value:
        raise argparse.ArgumentTypeError("holds a NUL character (not a usable path)")
    return value


def existing_file(what="file"):
    """A path to an existing, readable regular file."""
    def parse(value):
        value = _path_text(value)
        if os.path.isdir(value):
            raise argparse.ArgumentTypeError(f"'{_shown(value, 200)}' is a folder; a {what} is needed here")
        if not os.path.exists(value):
            raise argparse.ArgumentTypeError(f"'{_shown(value, 200)}' does not exist (a {what} is needed)")
        if not os.path.isfile(value):
            raise argparse.ArgumentTypeError(f"'{_shown(value, 200)}' is not a regular file (a {what} is needed)")
        if not os.access(value, os.R_OK):
            raise argparse.ArgumentTypeError(f"'{_shown(value, 200)}' cannot be read (permission denied)")
        return value
    parse.__name__ = "existing_file"
    return parse


def existing_path(what="file or folder"):
    """A path to an existing, readable file or folder (a DICOM folder, a NIfTI file, ...)."""
    def parse(value):
        value = _path_text(value)
        if not os.path.exists(value):
            raise argparse.ArgumentTypeError(f"'{_shown(value, 200)}' does not exist (a {what} is needed)")
        if not (os.path.isfile(value) or os.path.isdir(value)):
            raise argparse.ArgumentTypeError(f"'{_shown(value, 200)}' is neither a file nor a folder")
        if not os.access(value, os.R_OK):
            raise argparse.ArgumentTypeError(f"'{_shown(value, 200)}' cannot be read (permission denied)")
        return value
    parse.__name__ = "existing_path"
    return parse


def output_folder():
    """A folder for the outputs: existing (and writable) or creatable (its nearest existing parent
    is a writable folder). Checked at parse time, before any input is read or anything fitted."""
    def parse(value):
        value = _path_text(value)
        path = os.path.abspath(value)
        if os.path.exists(path) and not os.path.isdir(path):
            raise argparse.ArgumentTypeError(f"'{_shown(value, 200)}' is an existing file; the output must be a "
                                             "folder (give a new or existing folder)")
        probe = path
        while not os.path.exists(probe):
            parent = os.path.dirname(probe)
            if parent == probe:
                break
            probe = parent
        if not os.path.isdir(probe):
            raise argparse.ArgumentTypeError(f"'{_shown(value, 200)}' cannot be created: '{probe}' is a file")
        if not os.access(probe, os.W_OK | os.X_OK):
            where = "is not writable" if probe == path else f"cannot be created ('{probe}' is not writable)"
            raise argparse.ArgumentTypeError(f"'{_shown(value, 200)}' {where}")
        return value
    parse.__name__ = "output_folder"
    return parse
