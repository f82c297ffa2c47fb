"""Siemens .rda spectroscopy export: a latin-1 text header between '>>> Begin of header <<<'
and '>>> End of header <<<', then complex float64 (real, imaginary) little-endian, one FID per
voxel with columns varying fastest.

Conventions checked on the vendored SVS_30.rda (same acquisition as SVS_30.IMA): the FID is
already in the NIfTI-MRS sign convention (NAA, Cr, Cho at 1.96, 2.97, 3.16 ppm before
referencing: 1.01 ppm NAA-Cr spacing, no conjugation). PositionVector is the in-plane corner of
voxel (0, 0) at mid-slab: the voxel centre is PositionVector + (RowVector x PixelSpacingCol +
ColumnVector x PixelSpacingRow) / 2 (this reproduces VOIPosition of the file to 0.01 mm).
"""
import os

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

from .common import DWELL_S_RANGE, SPECTROMETER_MHZ_RANGE, check_value, mhz_from, read_bytes, nucleus_name, number, optional_number, require_file
from .geometry import affine_lps, to_ras
from .mrs_data import MRSData

BEGIN = b">>> Begin of header <<<"
END = b">>> End of header <<<"


def read_rda_header(raw, path):
    start, end = raw.find(BEGIN), raw.find(END)
    if start < 0:
        raise InputError(f"'{os.path.basename(path)}' is not a Siemens .rda file (no '>>> Begin of header <<<')")
    if end < 0:
        raise InputError(f"Siemens .rda '{os.path.basename(path)}': the header is truncated (no "
                         "'>>> End of header <<<' line): the file is incomplete")
    header = {}
    for line in raw[start + len(BEGIN):end].decode("latin-1").splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            header[key.strip()] = value.strip()
    data_start = end + len(END)
    while data_start < len(raw) and raw[data_start:data_start + 1] in (b"\r", b"\n"):
        data_start += 1
    return header, data_start


def _count(header, name, path, required=False):
    """A positive whole number from the header (1 when an optional field is absent)."""
    if header.get(name) in (None, "") and not required:
        return 1
    value = number(header.get(name), name, path)
    if not np.isfinite(value) or value < 1 or value != int(value) or value > 2 ** 24:
        raise MetadataError(f"'{os.path.basename(path)}': header field '{name}' = {header.get(name)!r} is not a "
                            "positive whole number")
    return int(value)


def _vector(header, name, path):
    return np.array([number(header.get(f"{name}[{i}]"), f"{name}[{i}]", path) for i in range(3)])


def read_rda(path):
    path = require_file(path)
    raw = read_bytes(path, "Siemens .rda file")
    header, data_start = read_rda_header(raw, path)
    n_points = _count(header, "VectorSize", path, required=True)
    columns = _count(header, "CSIMatrixSize[0]", path)
    rows = _count(header, "CSIMatrixSize[1]", path)
    slices = _count(header, "CSIMatrixSize[2]", path)
    data = raw[data_start:]
    expected = 2 * n_points * columns * rows * slices
    if len(data) < 8 * expected:
        raise InputError(f"Siemens .rda '{os.path.basename(path)}' is truncated: {len(data)} bytes of data after the "
                         f"header, {8 * expected} expected (VectorSize {n_points} x CSI {columns}x{rows}x{slices} "
                         "complex float64)")
    values = np.frombuffer(data, dtype="<f8", count=expected)
    fid = values[:expected].view(np.complex128).reshape(slices, rows, columns, n_points)
    fid = np.ascontiguousarray(fid.transpose(2, 1, 0, 3))
    dwell_s = check_value(number(header.get("DwellTime"), "DwellTime", path, "us") * 1e-6, "DwellTime (in s)", path,
                          DWELL_S_RANGE[0], DWELL_S_RANGE[1], "s")
    affine = None
    try:
        row, column = _vector(header, "RowVector", path), _vector(header, "ColumnVector", path)
        position = _vector(header, "PositionVector", path)
        d_col = number(header.get("PixelSpacingCol"), "PixelSpacingCol", path)
        d_row = number(header.get("PixelSpacingRow"), "PixelSpacingRow", path)
        d_3d = number(header.get("PixelSpacing3D"), "PixelSpacing3D", path)
        centre = position + (row / np.linalg.norm(row) * d_col + column / np.linalg.norm(column) * d_row) / 2
        affine = to_ras(affine_lps(row, column, d_col, d_row, d_3d, centre))
    except Exception:  # geometry is optional: the spectrum is still usable without it
        affine = None
    metadata = {"source_format": "Siemens RDA", "path": path,
                "Manufacturer": "SIEMENS", "ManufacturersModelName": header.get("ModelName"),
                "SoftwareVersions": header.get("SoftwareVersion[0]"), "SequenceName": header.get("SequenceName"),
                "ProtocolName": header.get("ProtocolName"), "PatientPosition": header.get("PatientPosition"),
                "ExcitationFlipAngle": optional_number(header.get("FlipAngle")),
                "NumberOfAverages": optional_number(header.get("NumberOfAverages")),
                "voi_centre_lps_mm": [optional_number(header.get(k)) for k in ("VOIPositionSag", "VOIPositionCor",
                                                                             "VOIPositionTra")]}
    te = optional_number(header.get("TE"))
    tr = optional_number(header.get("TR"))
    return MRSData(fid=fid, dwell_s=dwell_s, spectrometer_mhz=check_value(
                       mhz_from(header.get("MRFrequency"), "MRFrequency", path), "MRFrequency", path,
                       SPECTROMETER_MHZ_RANGE[0], SPECTROMETER_MHZ_RANGE[1], "MHz"),
                   nucleus=nucleus_name(header.get("Nucleus")), te_s=None if te is None else te * 1e-3,
                   tr_s=None if tr is None else tr * 1e-3, affine=affine,
                   metadata={k: v for k, v in metadata.items() if v is not None})
