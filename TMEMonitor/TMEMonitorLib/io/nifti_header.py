"""Check a NIfTI-1/NIfTI-2 file before SimpleITK reads it.

SimpleITK fills a truncated file with zeros, reads data from wherever ``vox_offset`` points, and
replaces zero or NaN voxel spacing by 1 mm. This reads the header (layout from the NIfTI-1 and
NIfTI-2 specifications, nifti.nimh.nih.gz) and refuses, with the field named: a file shorter
than the header says (or, for .nii, longer: a damaged vox_offset), a vox_offset inside the
header, non-positive or non-finite voxel sizes, a non-finite origin or orientation matrix,
and an unknown data type.
"""
import gzip
import os
import struct
import zlib

import numpy as np

from ..errors import InputError

_BITS = {2: 8, 4: 16, 8: 32, 16: 32, 32: 64, 64: 64, 128: 24, 256: 8, 512: 16, 768: 32, 1024: 64, 1280: 64,
         1536: 128, 1792: 128, 2048: 256, 2304: 32}
_CHUNK = 1 << 20


def _open(path):
    return gzip.open(path, "rb") if str(path).lower().endswith(".gz") else open(path, "rb")


def read_header(path):
    """dict of the fields checked here, or an InputError naming the file and the fault."""
    try:
        with _open(path) as handle:
            raw = handle.read(540)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError("NIfTI file %s cannot be read: %s" % (path, getattr(error, "strerror", None) or error)) from None
    for endian in ("<", ">"):
        if len(raw) >= 348 and struct.unpack(endian + "i", raw[:4])[0] == 348:
            dims = struct.unpack(endian + "8h", raw[40:56])
            return {"version": 1, "endian": endian, "dims": dims,
                    "datatype": struct.unpack(endian + "h", raw[70:72])[0],
                    "bitpix": struct.unpack(endian + "h", raw[72:74])[0],
                    "pixdim": struct.unpack(endian + "8f", raw[76:108]),
                    "vox_offset": struct.unpack(endian + "f", raw[108:112])[0],
                    "qform_code": struct.unpack(endian + "h", raw[252:254])[0],
                    "sform_code": struct.unpack(endian + "h", raw[254:256])[0],
                    "quatern": struct.unpack(endian + "6f", raw[256:280]),
                    "srow": struct.unpack(endian + "12f", raw[280:328]), "header_size": 352}
        if len(raw) >= 540 and struct.unpack(endian + "i", raw[:4])[0] == 540:
            return {"version": 2, "endian": endian, "dims": struct.unpack(endian + "8q", raw[16:80]),
                    "datatype": struct.unpack(endian + "h", raw[12:14])[0],
                    "bitpix": struct.unpack(endian + "h", raw[14:16])[0],
                    "pixdim": struct.unpack(endian + "8d", raw[104:168]),
                    "vox_offset": struct.unpack(endian + "q", raw[168:176])[0],
                    "qform_code": struct.unpack(endian + "i", raw[344:348])[0],
                    "sform_code": struct.unpack(endian + "i", raw[348:352])[0],
                    "quatern": struct.unpack(endian + "6d", raw[352:400]),
                    "srow": struct.unpack(endian + "12d", raw[400:496]), "header_size": 544}
    if len(raw) < 348:
        raise InputError("NIfTI file %s is truncated: %d bytes, shorter than a NIfTI header" % (path, len(raw)))
    raise InputError("%s is not a NIfTI file (sizeof_hdr is neither 348 nor 540)" % path)


def _data_length(path, start):
    """Bytes after ``start`` (decompressing a .gz stream); InputError when the stream is cut."""
    if not str(path).lower().endswith(".gz"):
        return os.path.getsize(path) - start
    total = 0
    try:
        with gzip.open(path, "rb") as handle:
            while True:
                block = handle.read(_CHUNK)
                if not block:
                    break
                total += len(block)
    except (EOFError, zlib.error, OSError) as error:
        raise InputError("NIfTI file %s is truncated or damaged: the gzip stream ends early (%s)" % (path, error)) from None
    return total - start


def check_nifti(path):
    """Raise InputError if the header and the file size disagree or the geometry is impossible."""
    path = str(path)
    header = read_header(path)
    dims = [int(d) for d in header["dims"]]
    n_dims = dims[0]
    if not 1 <= n_dims <= 7 or any(d < 1 for d in dims[1:n_dims + 1]):
        raise InputError("NIfTI file %s: dim %s is not a valid image size" % (path, dims[:n_dims + 1] if 0 < n_dims < 8 else dims))
    bits = _BITS.get(header["datatype"])
    if bits is None:
        raise InputError("NIfTI file %s: unknown datatype code %d" % (path, header["datatype"]))
    offset = header["vox_offset"]
    single_file = not path.lower().endswith((".hdr", ".img"))
    if single_file and not (np.isfinite(offset) and offset >= header["header_size"]):
        raise InputError("NIfTI file %s: vox_offset %r points inside the header (must be at least %d)"
                         % (path, offset, header["header_size"]))
    needed = int(np.prod(dims[1:n_dims + 1], dtype=np.int64)) * bits // 8
    if single_file:
        offset = int(offset)
        available = _data_length(path, offset)
        if available < needed:
            raise InputError("NIfTI file %s is truncated: the header (dim %s, %d-bit, vox_offset %d) needs %d bytes of "
                             "voxel data, the file holds %d" % (path, dims[1:n_dims + 1], bits, offset, needed,
                                                                max(available, 0)))
        if available > needed and not path.lower().endswith(".gz") and available - needed >= 16:
            raise InputError("NIfTI file %s: %d bytes more than the header (dim %s, vox_offset %d) describes: "
                             "vox_offset or dim is damaged" % (path, available - needed, dims[1:n_dims + 1], offset))
    spatial = np.array(header["pixdim"][1:min(n_dims, 3) + 1], dtype=float)
    if not np.all(np.isfinite(spatial)) or np.any(spatial <= 0):
        raise InputError("NIfTI file %s: voxel size pixdim %s must be positive and finite (mm)"
                         % (path, spatial.tolist()))
    if header["qform_code"] > 0 and not np.all(np.isfinite(header["quatern"])):
        raise InputError("NIfTI file %s: qform (quatern_b/c/d, qoffset_x/y/z) %s holds non-finite values"
                         % (path, list(header["quatern"])))
    if header["sform_code"] > 0:
        srow = np.array(header["srow"], dtype=float).reshape(3, 4)
        if not np.all(np.isfinite(srow)):
            raise InputError("NIfTI file %s: sform (srow_x/y/z) holds non-finite values: the origin or axes are "
                             "undefined" % path)
        if abs(np.linalg.det(srow[:, :3])) < 1e-12:
            raise InputError("NIfTI file %s: sform axes (srow_x/y/z) are degenerate (zero voxel size or "
                             "parallel axes)" % path)
    return header
