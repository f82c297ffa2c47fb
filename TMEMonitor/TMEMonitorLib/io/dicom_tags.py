"""Robust reads of numeric DICOM values, including private tags stored as raw bytes (UN).

Private tags lose their VR in implicit-VR files or after anonymisation, so pydicom may hand
back ``bytes``; these helpers decode text numbers (IS/DS) and binary floats (FD/FL).
"""
import struct

import numpy as np


_TEXT_NUMBER_BYTES = frozenset(b"0123456789+-.eE \\")


def _looks_like_text(raw):
    """True for IS/DS strings ("1000 ", "0.5\\0.5"), False for binary floats."""
    body = raw.rstrip(b"\x00 ")
    return bool(body) and all(byte in _TEXT_NUMBER_BYTES for byte in body)


def _text_numbers(raw):
    text = raw.decode("ascii", errors="ignore").replace("\x00", " ").strip()
    return [float(part) for part in text.replace("\\", " ").split() if part]


def numbers(value, binary_format=None):
    """List of floats from a DICOM value (number, multi-value, str or bytes), or None.

    ``binary_format`` ("d" for FD, "f" for FL) decodes bytes that are not text.
    """
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        if _looks_like_text(raw):
            try:
                return _text_numbers(raw) or None
            except ValueError:
                return None
        if binary_format is None:
            return None
        size = struct.calcsize("<" + binary_format)
        if len(raw) == 0 or len(raw) % size:
            return None
        return list(struct.unpack("<%d%s" % (len(raw) // size, binary_format), raw))
    if isinstance(value, str):
        try:
            return _text_numbers(value.encode("ascii", errors="ignore")) or None
        except ValueError:
            return None
    try:
        return [float(v) for v in value]
    except TypeError:
        try:
            return [float(value)]
        except (TypeError, ValueError):
            return None
    except ValueError:
        return None


def first_number(value, binary_format=None):
    values = numbers(value, binary_format)
    return values[0] if values else None


def get_number(dataset, keyword):
    """Float value of a standard keyword, or None when absent or empty."""
    element = dataset.get(keyword)
    return None if element in (None, "") else first_number(element)


def private_value(dataset, group, creator, offset):
    """Raw value of a private element found through its private creator, or None.

    Falls back to the conventional block 0x10 when the creator element is missing (some
    anonymisers drop it but keep the data).
    """
    try:
        block = dataset.private_block(group, creator)
        tag = block.get_tag(offset)
    except (KeyError, ValueError):
        tag = (group << 16) | 0x1000 | offset
        creator_tag = (group << 16) | 0x0010
        if creator_tag in dataset:
            return None    # block 0x10 belongs to another creator
    if tag not in dataset:
        return None
    return dataset[tag].value


def sequence_item(dataset, *keywords):
    """First item of nested sequences, e.g. ``sequence_item(ds, "MRDiffusionSequence")``; None if absent."""
    item = dataset
    for keyword in keywords:
        seq = item.get(keyword) if item is not None else None
        if not seq:
            return None
        item = seq[0]
    return item


def as_float_array(value, length):
    values = numbers(value)
    if values is None or len(values) != length:
        return None
    return np.array(values, dtype=float)
