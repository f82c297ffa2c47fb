"""Philips SPAR/SDAT: a text parameter file (.SPAR, 'key : value' lines, '!' comments) and the
data file (.SDAT): complex (real, imaginary) VAX F floats, ``rows`` FIDs of ``samples`` points.

Philips stores the spectrum with the opposite frequency sign to NIfTI-MRS, so the FID is
conjugated on reading (as spec2nii and FSL-MRS do). Frequencies in the SPAR are in Hz, times in
ms; geometry: voxel sizes (lr/ap/cc_size, mm), offsets (lr/ap/cc_off_center, mm, LPS) and
angulations (degrees). Rows beyond the first are separate acquisitions (DIM_DYN).
"""
import os

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

from .common import (DWELL_S_RANGE, SPECTROMETER_MHZ_RANGE, check_value, nucleus_name, number, optional_number,
                     read_bytes, read_text, require_file)
from .geometry import LPS_TO_RAS, rotation_from_angulations_deg
from .mrs_data import MRSData
from .vax import float32_to_vax, vax_to_float32


def sibling(path, extensions):
    """The companion file with one of ``extensions`` (any case) beside ``path``, or None."""
    stem = os.path.splitext(path)[0]
    for extension in extensions:
        for candidate in (stem + extension.lower(), stem + extension.upper()):
            if os.path.exists(candidate):
                return candidate
    return None


def read_spar(path):
    header = {}
    for line in read_text(path, "Philips .SPAR file").splitlines():
        line = line.strip()
        if not line or line.startswith("!") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        header[key.strip().lower()] = value.strip()
    return header


def read_sdat(path):
    """``path`` may be the .SDAT or the .SPAR; the other must sit beside it."""
    path = require_file(path)
    if path.lower().endswith(".spar"):
        spar_path, sdat_path = path, sibling(path, [".sdat"])
    else:
        sdat_path, spar_path = path, sibling(path, [".spar"])
    if sdat_path is None or spar_path is None:
        raise InputError(f"Philips '{os.path.basename(path)}': the .SPAR and .SDAT files must both be present "
                         "with the same name")
    header = read_spar(spar_path)
    n_points = _count(header, "samples", spar_path, required=True)
    rows = _count(header, "rows", spar_path)
    raw = read_bytes(sdat_path, "Philips .SDAT file")
    if len(raw) % 8:
        raise InputError(f"Philips '{os.path.basename(sdat_path)}': {len(raw)} bytes is not a whole number of "
                         "complex VAX float values (8 bytes each): the file is truncated or not an SDAT")
    values = vax_to_float32(raw)
    expected = 2 * n_points * rows
    if values.size != expected:
        raise InputError(f"Philips '{os.path.basename(sdat_path)}': {values.size // 2} complex points, expected "
                         f"{expected // 2} (samples {n_points} x rows {rows} in the .SPAR)")
    fid = np.conj(values.reshape(rows, n_points, 2) @ np.array([1.0, 1j])).astype(np.complex128)
    fid = fid.reshape((1, 1, 1) + ((rows,) if rows > 1 else ()) + (n_points,))
    sample_hz = check_value(number(header.get("sample_frequency"), "sample_frequency", spar_path, "Hz"),
                            "sample_frequency", spar_path, 1.0 / DWELL_S_RANGE[1], 1.0 / DWELL_S_RANGE[0], "Hz")
    mhz = check_value(number(header.get("synthesizer_frequency"), "synthesizer_frequency", spar_path, "Hz"),
                      "synthesizer_frequency", spar_path, SPECTROMETER_MHZ_RANGE[0] * 1e6,
                      SPECTROMETER_MHZ_RANGE[1] * 1e6, "Hz") / 1e6
    te, tr = optional_number(header.get("echo_time")), optional_number(header.get("repetition_time"))
    metadata = {"source_format": "Philips SPAR/SDAT", "path": sdat_path, "Manufacturer": "Philips",
                "ProtocolName": header.get("scan_id"), "NumberOfAverages": optional_number(header.get("averages")),
                "spar": header}
    return MRSData(fid=fid, dwell_s=1.0 / sample_hz, spectrometer_mhz=mhz, nucleus=nucleus_name(header.get("nucleus")),
                   te_s=None if te is None else te * 1e-3, tr_s=None if tr is None else tr * 1e-3,
                   affine=_affine(header), metadata=metadata, dim_tags=["DIM_DYN"] if rows > 1 else [])


def _count(header, name, path, required=False):
    """A positive whole number from the .SPAR (1 when an optional field is absent)."""
    if header.get(name) in (None, "") and not required:
        return 1
    value = number(header.get(name), name, path)
    if not np.isfinite(value) or value < 1 or value != int(value) or value > 2 ** 24:
        raise MetadataError(f"Philips '{os.path.basename(path)}': field '{name}' = {header.get(name)!r} is not a "
                            "positive whole number")
    return int(value)


def _affine(header):
    sizes = [optional_number(header.get(f"{axis}_size")) for axis in ("lr", "ap", "cc")]
    offsets = [optional_number(header.get(f"{axis}_off_center")) for axis in ("lr", "ap", "cc")]
    if any(v is None for v in sizes + offsets):
        return None
    angles = [optional_number(header.get(f"{axis}_angulation")) or 0.0 for axis in ("lr", "ap", "cc")]
    affine = np.eye(4)
    affine[:3, :3] = rotation_from_angulations_deg(*angles) @ np.diag(sizes)
    affine[:3, 3] = offsets
    return LPS_TO_RAS @ affine


def _spar_number(value):
    """Integers as Philips writes them ('2000', not '2000.000000': some readers parse them as int)."""
    return str(int(round(value))) if abs(value - round(value)) < 1e-6 else f"{value:.6f}"


def write_sdat(path_stem, fid, dwell_s, spectrometer_mhz, te_s=None, tr_s=None, geometry=None):
    """Write a .SPAR/.SDAT pair (used to test the reader; the FID is in NIfTI-MRS convention).

    ``geometry``: optional {lr_size, ap_size, cc_size, lr_off_center, ..., lr_angulation, ...}."""
    fid = np.atleast_2d(np.asarray(fid))
    rows, n_points = fid.shape
    stored = np.conj(fid)
    interleaved = np.stack([stored.real, stored.imag], axis=-1).astype(np.float32)
    with open(path_stem + ".SDAT", "wb") as handle:
        handle.write(float32_to_vax(interleaved))
    lines = ["!-------------------------------------------------------------",
             "! Spectroscopy parameters (written by TME Monitor for testing)",
             "examination_name : test", "scan_id : PRESS_test", f"samples : {n_points}", f"rows : {rows}",
             f"synthesizer_frequency : {int(round(spectrometer_mhz * 1e6))}",
             f"sample_frequency : {_spar_number(1.0 / dwell_s)}", "nucleus : 1H"]
    if te_s is not None:
        lines.append(f"echo_time : {_spar_number(te_s * 1e3)}")
    if tr_s is not None:
        lines.append(f"repetition_time : {_spar_number(tr_s * 1e3)}")
    for key, value in (geometry or {}).items():
        lines.append(f"{key} : {value}")
    with open(path_stem + ".SPAR", "w", encoding="latin-1") as handle:
        handle.write("\r\n".join(lines) + "\r\n")
    return path_stem + ".SDAT"
