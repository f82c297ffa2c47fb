"""Minimal NRRD reader: header fields, key/value pairs and the data array (raw, gzip, bzip2, ascii).

Follows the NRRD format specification (teem.sourceforge.net/nrrd/format.html): axis 0 is
the fastest-varying one, so the C-ordered array has shape ``sizes[::-1]``.
"""
import bz2
import gzip
import os
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

_TYPES = {
    "int8": ["signed char", "int8", "int8_t"], "uint8": ["uchar", "unsigned char", "uint8", "uint8_t"],
    "int16": ["short", "short int", "signed short", "signed short int", "int16", "int16_t"],
    "uint16": ["ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t"],
    "int32": ["int", "signed int", "int32", "int32_t"], "uint32": ["uint", "unsigned int", "uint32", "uint32_t"],
    "int64": ["longlong", "long long", "long long int", "signed long long", "signed long long int", "int64", "int64_t"],
    "uint64": ["ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t"],
    "float32": ["float"], "float64": ["double"],
}
NRRD_TYPES = {name: np.dtype(dtype) for dtype, names in _TYPES.items() for name in names}

# RAS sign of each axis of a NRRD "space"
SPACE_TO_RAS = {
    "right-anterior-superior": (1, 1, 1), "ras": (1, 1, 1),
    "left-anterior-superior": (-1, 1, 1), "las": (-1, 1, 1),
    "left-posterior-superior": (-1, -1, 1), "lps": (-1, -1, 1),
}


@dataclass
class NrrdFile:
    path: str
    fields: dict = field(default_factory=dict)       # standard fields, keys lower-case
    keys: dict = field(default_factory=dict)         # key:=value pairs, as written
    data_offset: int = 0

    def integer(self, name, default=None, minimum=0):
        """A whole-number field (dimension, byte skip, line skip), or an InputError naming it."""
        text = self.fields.get(name)
        if text is None:
            return default
        try:
            value = int(text.strip())
        except ValueError:
            raise InputError("NRRD file %s: field '%s: %s' is not a whole number" % (self.path, name, text[:40])) from None
        if value < minimum:
            raise InputError("NRRD file %s: field '%s' is %d; it must be at least %d" % (self.path, name, value, minimum))
        return value

    def sizes(self):
        text = self.fields["sizes"]
        try:
            sizes = [int(x) for x in text.split()]
        except ValueError:
            raise InputError("NRRD file %s: field 'sizes: %s' must be whole numbers" % (self.path, text[:60])) from None
        dimension = self.integer("dimension", minimum=1)
        if len(sizes) != dimension or any(size < 1 for size in sizes):
            raise InputError("NRRD file %s: 'sizes: %s' must hold %d positive numbers (dimension %d)"
                             % (self.path, text[:60], dimension, dimension))
        return sizes

    def vector(self, text, name):
        """A '(x,y,z)' vector of finite numbers, or an InputError naming the field."""
        try:
            values = np.array([float(x) for x in text.strip().strip("()").split(",")])
        except ValueError:
            raise InputError("NRRD file %s: '%s' holds '%s', not a (x,y,z) vector of numbers"
                             % (self.path, name, text[:40])) from None
        if values.size != 3 or not np.all(np.isfinite(values)):
            raise InputError("NRRD file %s: '%s' holds '%s', not 3 finite numbers" % (self.path, name, text[:40]))
        return values

    def list_field(self, name):
        """Per-axis field split into items ("labels", "units", "kinds", "space directions")."""
        value = self.fields.get(name)
        if value is None:
            return None
        if name in ("labels", "units"):
            return _quoted_items(value)
        if name == "space directions":
            return [None if item == "none" else self.vector(item, name) for item in value.split()]
        return value.split()


def _quoted_items(text):
    items, current, inside = [], "", False
    for char in text:
        if char == '"':
            if inside:
                items.append(current)
                current = ""
            inside = not inside
        elif inside:
            current += char
    return items


def read_header(path):
    try:
        with open(path, "rb") as handle:
            magic = handle.readline()
            if not magic.startswith(b"NRRD000"):
                raise InputError("%s is not a NRRD file (no NRRD000x magic line)" % path)
            nrrd = NrrdFile(path=str(path))
            while True:
                line = handle.readline()
                if not line or not line.strip():
                    break
                text = line.decode("latin-1").rstrip("\r\n")
                if text.startswith("#"):
                    continue
                if ":=" in text:
                    key, _, value = text.partition(":=")
                    nrrd.keys[key] = value
                elif ": " in text:
                    key, _, value = text.partition(": ")
                    nrrd.fields[key.strip().lower()] = value.strip()
            nrrd.data_offset = handle.tell()
    except OSError as error:
        raise InputError("NRRD file %s cannot be read: %s" % (path, error.strerror or error)) from None
    for required in ("type", "dimension", "sizes", "encoding"):
        if required not in nrrd.fields:
            raise InputError("NRRD file %s lacks the required field '%s'" % (path, required))
    return nrrd


def _raw_bytes(nrrd):
    data_file = nrrd.fields.get("data file", nrrd.fields.get("datafile"))
    if data_file:
        if data_file.startswith("LIST") or len(data_file.split()) > 1:
            raise InputError("NRRD file %s: multi-file data ('data file: %s') is not supported" % (nrrd.path, data_file))
        source, offset = os.path.join(os.path.dirname(nrrd.path), data_file), 0
    else:
        source, offset = nrrd.path, nrrd.data_offset
    try:
        with open(source, "rb") as handle:
            handle.seek(offset)
            for _ in range(nrrd.integer("line skip", 0)):
                handle.readline()
            return handle.read()
    except OSError as error:
        raise InputError("NRRD data %s cannot be read: %s" % (source, error)) from None


def read_data(nrrd):
    """The data as a C-ordered numpy array of shape ``sizes[::-1]``."""
    type_name = nrrd.fields["type"].strip().lower()
    if type_name not in NRRD_TYPES:
        raise InputError("NRRD file %s: unsupported type '%s'" % (nrrd.path, type_name))
    dtype = NRRD_TYPES[type_name]
    if dtype.itemsize > 1:
        endian = nrrd.fields.get("endian", "little").lower()
        dtype = dtype.newbyteorder("<" if endian == "little" else ">")
    sizes = nrrd.sizes()
    count = int(np.prod(sizes))
    encoding = nrrd.fields["encoding"].lower()
    raw = _raw_bytes(nrrd)
    try:
        if encoding in ("gzip", "gz"):
            raw = gzip.decompress(raw)
        elif encoding in ("bzip2", "bz2"):
            raw = bz2.decompress(raw)
        elif encoding in ("ascii", "text", "txt"):
            values = np.array(raw.decode("ascii").split(), dtype=float)
            if values.size < count:
                raise InputError("NRRD file %s: ascii data holds %d values, %d needed" % (nrrd.path, values.size, count))
            values = values[:count]
            return values.astype(dtype.newbyteorder("=")).reshape(sizes[::-1])
        elif encoding != "raw":
            raise InputError("NRRD file %s: unsupported encoding '%s'" % (nrrd.path, encoding))
    except (OSError, EOFError, ValueError, UnicodeDecodeError) as error:
        raise InputError("NRRD file %s: cannot decode %s data: %s" % (nrrd.path, encoding, error)) from None
    byte_skip = nrrd.integer("byte skip", 0, minimum=-1)
    needed = count * dtype.itemsize
    start = len(raw) - needed if byte_skip == -1 else byte_skip
    if start < 0 or len(raw) - start < needed:
        raise InputError("NRRD file %s: data is truncated (%d bytes, %d needed)" % (nrrd.path, len(raw) - max(start, 0), needed))
    return np.frombuffer(raw, dtype=dtype, count=count, offset=start).reshape(sizes[::-1])


def ijk_to_ras(nrrd, domain_axes):
    """4x4 voxel→RAS matrix from 'space directions' of the three ``domain_axes`` and 'space origin'."""
    space = nrrd.fields.get("space", "").lower()
    if space not in SPACE_TO_RAS:
        raise InputError("NRRD file %s: unsupported or missing space '%s' (need RAS, LAS or LPS)" % (nrrd.path, space))
    directions = nrrd.list_field("space directions")
    if directions is None or len(directions) <= max(domain_axes) or any(directions[a] is None for a in domain_axes):
        raise InputError("NRRD file %s: missing space directions for the image axes" % nrrd.path)
    if len(directions) <= max(domain_axes):
        raise InputError("NRRD file %s: 'space directions' has %d entries for %d axes" % (nrrd.path, len(directions),
                                                                                          max(domain_axes) + 1))
    origin = nrrd.vector(nrrd.fields.get("space origin", "(0,0,0)"), "space origin")
    signs = np.array(SPACE_TO_RAS[space], dtype=float)
    matrix = np.eye(4)
    matrix[:3, :3] = np.column_stack([directions[a] * signs for a in domain_axes])
    if abs(np.linalg.det(matrix[:3, :3])) < 1e-12:
        raise InputError("NRRD file %s: 'space directions' are degenerate (zero voxel size or parallel axes)" % nrrd.path)
    matrix[:3, 3] = origin * signs
    return matrix
