"""Find NaN voxels in a floating-point NIfTI file.

SimpleITK's NIfTI reader returns NaN voxels as 0, so a NaN-filled frame would pass as a
frame of zeros. This reads the raw voxel data (NIfTI-1 or NIfTI-2 header layout, from the
NIfTI specifications at nifti.nimh.nih.gov), one frame at a time, to put the NaNs back.
"""
import gzip
import struct
import zlib

import numpy as np

from ..errors import InputError

_FLOAT_TYPES = {16: "f4", 64: "f8"}      # NIfTI datatype codes FLOAT32, FLOAT64


def _header(handle):
    raw = handle.read(540)
    for endian in ("<", ">"):
        size = struct.unpack(endian + "i", raw[:4])[0]
        if size == 348:
            dims = struct.unpack(endian + "8h", raw[40:56])
            datatype = struct.unpack(endian + "h", raw[70:72])[0]
            offset = int(struct.unpack(endian + "f", raw[108:112])[0])
            return endian, dims, datatype, offset
        if size == 540:
            datatype = struct.unpack(endian + "h", raw[12:14])[0]
            dims = struct.unpack(endian + "8q", raw[16:80])
            offset = struct.unpack(endian + "q", raw[168:176])[0]
            return endian, dims, datatype, offset
    return None


def nan_masks(path, frame_shape, n_frames):
    """{frame index: boolean NaN mask shaped like ``frame_shape`` (k, j, i)} for frames holding NaN.

    Empty for integer data (which cannot hold NaN) or an unrecognised header.
    """
    try:
        return _nan_masks(path, frame_shape, n_frames)
    except (EOFError, OSError, zlib.error) as error:
        raise InputError("NIfTI file %s cannot be read to the end: %s" % (path, error)) from None


def _nan_masks(path, frame_shape, n_frames):
    opener = gzip.open if str(path).endswith(".gz") else open
    masks = {}
    with opener(path, "rb") as handle:
        header = _header(handle)
        if header is None or header[2] not in _FLOAT_TYPES:
            return masks
        endian, dims, datatype, offset = header
        if tuple(int(d) for d in dims[1:4]) != tuple(int(s) for s in frame_shape[::-1]):
            return masks
        dtype = np.dtype(endian + _FLOAT_TYPES[datatype])
        handle.seek(max(offset, 352))
        frame_bytes = int(np.prod(frame_shape)) * dtype.itemsize
        for frame in range(n_frames):
            block = handle.read(frame_bytes)
            if len(block) < frame_bytes:
                break
            mask = np.isnan(np.frombuffer(block, dtype=dtype)).reshape(frame_shape)
            if mask.any():
                masks[frame] = mask
    return masks
