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

from TMEMonitorLib.errors import InputError

from .common import mhz_from, nucleus_name, number, optional_number, require_file
from .geometry import affine_lps, to_ras
from .mrs_data import MRSData

BEGIN = b">>> Begin of header <<<"
END = b">>> End of header <<<"


def read_rda_header(raw, path):
    start, end = raw.find(BEGIN), raw.find(END)
    if start < 0 or end < 0:
        raise InputError(f"'{os.path.basename(path)}' is not a Siemens .rda file (no '>>> Begin of header <<<')")
    header = {}
    for line in raw[start + len(BEGIN):end].decode("latin-1").splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            header[key.strip()] = value.strip()
    data_start = end + len(END)
    while data_start < len(raw) and raw[data_start:data_start + 1] in (b"\r", b"\n"):
        data_start += 1
    return header, data_start


def _vector(header, name, path):
    return np.array([number(header.get(f"{name}[{i}]"), f"{name}[{i}]", path) for i in range(3)])


def read_rda(path):
    path = require_file(path)
    with open(path, "rb") as handle:
        raw = handle.read()
    header, data_start = read_rda_header(raw, path)
    n_points = int(number(header.get("VectorSize"), "VectorSize", path))
    columns = int(optional_number(header.get("CSIMatrixSize[0]")) or 1)
    rows = int(optional_number(header.get("CSIMatrixSize[1]")) or 1)
    slices = int(optional_number(header.get("CSIMatrixSize[2]")) or 1)
    values = np.frombuffer(raw[data_start:], dtype="<f8")
    expected = 2 * n_points * columns * rows * slices
    if values.size < expected:
        raise InputError(f"'{os.path.basename(path)}': {values.size // 2} complex points after the header, "
                         f"expected {expected // 2} (VectorSize {n_points} x CSI {columns}x{rows}x{slices})")
    fid = values[:expected].view(np.complex128).reshape(slices, rows, columns, n_points)
    fid = np.ascontiguousarray(fid.transpose(2, 1, 0, 3))
    dwell_s = number(header.get("DwellTime"), "DwellTime", path, "us") * 1e-6
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
    return MRSData(fid=fid, dwell_s=dwell_s, spectrometer_mhz=mhz_from(header.get("MRFrequency"), "MRFrequency", path),
                   nucleus=nucleus_name(header.get("Nucleus")), te_s=None if te is None else te * 1e-3,
                   tr_s=None if tr is None else tr * 1e-3, affine=affine,
                   metadata={k: v for k, v in metadata.items() if v is not None})
