"""jMRUI text export (.txt): 'Key: value' header lines, then 'Signal k out of n in file' blocks of
four columns (FID real, FID imaginary, spectrum real, spectrum imaginary). jMRUI's frequency sign
is the opposite of NIfTI-MRS: the FID is conjugated on reading (as spec2nii does).
SamplingInterval is in ms; TransmitterFrequency in Hz (or MHz in some exports).
"""
import os
import re

import numpy as np

from TMEMonitorLib.errors import InputError

from .common import mhz_from, nucleus_name, number, optional_number, read_text, require_file
from .mrs_data import MRSData

_SIGNAL = re.compile(r"^\s*Signal\s+(\d+)\s+out\s+of\s+(\d+)\s+in\s+file", re.IGNORECASE)
_HEADER = re.compile(r"^\s*(\w+)\s*:\s*(.*)$")


def is_jmrui_text(path):
    try:
        with open(path, "r", encoding="latin-1") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return "PointsInDataset" in head or "jMRUI" in head


def read_jmrui_text(path):
    path = require_file(path)
    header, signals, current = {}, [], None
    for line in read_text(path, "jMRUI text file").splitlines():
        if _SIGNAL.match(line):
            current = []
            signals.append(current)
            continue
        if current is None:
            match = _HEADER.match(line)
            if match:
                header[match.group(1)] = match.group(2).strip()
            continue
        parts = line.split()
        if len(parts) >= 2:
            try:
                current.append((float(parts[0]), float(parts[1])))
            except ValueError:
                continue
    if not signals or not signals[0]:
        raise InputError(f"'{os.path.basename(path)}' is not a jMRUI text file (no 'Signal 1 out of n' block)")
    lengths = {len(s) for s in signals}
    if len(lengths) != 1:
        raise InputError(f"'{os.path.basename(path)}': signals of different lengths {sorted(lengths)}")
    data = np.array(signals, dtype=float)
    fid = np.conj(data[..., 0] + 1j * data[..., 1])
    declared = header.get("PointsInDataset")
    if declared is not None and optional_number(declared) != fid.shape[-1]:
        raise InputError(f"'{os.path.basename(path)}': PointsInDataset {declared} but {fid.shape[-1]} rows per signal")
    dwell = number(header.get("SamplingInterval"), "SamplingInterval", path, "ms") * 1e-3
    mhz = mhz_from(header.get("TransmitterFrequency"), "TransmitterFrequency", path)
    nucleus = header.get("TypeOfNucleus")
    if nucleus is not None and nucleus.strip().lstrip("-").isdigit():
        nucleus = {1: "1H", 2: "31P", 3: "13C", 4: "19F", 5: "23Na"}.get(int(nucleus), "1H")
    many = fid.shape[0] > 1
    fid = fid.reshape((1, 1, 1) + ((fid.shape[0],) if many else ()) + (fid.shape[-1],))
    return MRSData(fid=fid, dwell_s=dwell, spectrometer_mhz=mhz, nucleus=nucleus_name(nucleus),
                   metadata={"source_format": "jMRUI text", "path": path, "jmrui_header": header},
                   dim_tags=["DIM_DYN"] if many else [])


def write_jmrui_text(path, fid, dwell_s, spectrometer_mhz, nucleus="1H"):
    """Write FIDs (NIfTI-MRS convention, shape (n_points,) or (n_signals, n_points)) as jMRUI text."""
    fids = np.atleast_2d(np.asarray(fid))
    lines = ["jMRUI Data Textfile", "", f"Filename: {os.path.basename(path)}", "",
             f"PointsInDataset: {fids.shape[-1]}", f"DatasetsInFile: {fids.shape[0]}",
             f"SamplingInterval: {dwell_s * 1e3:.6E}", "ZeroOrderPhase: 0E0", "BeginTime: 0E0",
             f"TransmitterFrequency: {spectrometer_mhz * 1e6:.6E}", f"MagneticField: {spectrometer_mhz / 42.577:.6E}",
             f"TypeOfNucleus: {nucleus}", "NameOfPatient: ", "DateOfExperiment: ", "Spectrometer: ",
             "AdditionalInfo: ", "", "", "Signal and FFT", "sig(real)\tsig(imag)\tfft(real)\tfft(imag)"]
    for index, signal in enumerate(fids):
        stored = np.conj(signal)
        spectrum = np.fft.fftshift(np.fft.fft(stored))
        lines.append(f"Signal {index + 1} out of {fids.shape[0]} in file")
        lines += [f"{a.real:.6E}\t{a.imag:.6E}\t{b.real:.6E}\t{b.imag:.6E}" for a, b in zip(stored, spectrum)]
    with open(path, "w", encoding="latin-1") as handle:
        handle.write("\n".join(lines) + "\n")
    return path
