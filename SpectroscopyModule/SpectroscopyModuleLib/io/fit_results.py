"""Results written by other MRS fitting programs, read for comparison or import:
LCModel .TABLE, .COORD and .CSV (Provencher, LCModel user's manual) and TARQUIN text results
(Wilson et al., Magn Reson Med 2011;65:1, doi:10.1002/mrm.22579).

Each reader returns an :class:`ExternalFit`: amplitudes (metabolite -> value, in the
program's units), sd_percent (CRLB %), ratios to the program's reference, quality values
(FWHM ppm, SNR, shift ppm, phases) and, for .COORD, the spectra (ppm, data, fit, baseline,
per-metabolite curves).
"""
import os
import re
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError

from .common import require_file


@dataclass
class ExternalFit:
    program: str
    amplitudes: dict = field(default_factory=dict)
    sd_percent: dict = field(default_factory=dict)
    ratios: dict = field(default_factory=dict)
    ratio_reference: str = None
    quality: dict = field(default_factory=dict)
    spectra: dict = field(default_factory=dict)
    path: str = None

    def ratio(self, numerator, denominator):
        return self.amplitudes[numerator] / self.amplitudes[denominator]


_FLOAT = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][-+]?\d+)?"
_CONC_ROW = re.compile(rf"^\s*({_FLOAT})\s+(\d+)%\s+({_FLOAT})\s+(\S+)\s*$")


def _concentration_table(lines, start, fit):
    """Parse the concentration rows that follow the column header line at ``start``."""
    header = lines[start]
    match = re.search(r"/(\S+)", header)
    fit.ratio_reference = match.group(1) if match else None
    index = start + 1
    while index < len(lines):
        row = _CONC_ROW.match(lines[index])
        if not row:
            break
        value, sd, ratio, name = row.groups()
        fit.amplitudes[name] = float(value)
        fit.sd_percent[name] = float(sd)
        fit.ratios[name] = float(ratio)
        index += 1
    return index


def _misc(lines, fit):
    text = "\n".join(lines)
    for pattern, key in ((rf"FWHM\s*=\s*({_FLOAT})\s*ppm", "fwhm_ppm"), (rf"S/N\s*=\s*({_FLOAT})", "snr"),
                         (rf"Data shift\s*=\s*({_FLOAT})\s*ppm", "shift_ppm"),
                         (rf"Ph:\s*({_FLOAT})\s*deg\s+({_FLOAT})\s*deg/ppm", "phase")):
        match = re.search(pattern, text)
        if not match:
            continue
        if key == "phase":
            fit.quality["phase0_deg"] = float(match.group(1))
            fit.quality["phase1_deg_per_ppm"] = float(match.group(2))
        else:
            fit.quality[key] = float(match.group(1))


def read_lcmodel_table(path):
    path = require_file(path)
    with open(path, "r", encoding="latin-1") as handle:
        lines = handle.read().splitlines()
    fit = ExternalFit(program="LCModel", path=path)
    for index, line in enumerate(lines):
        if re.match(r"^\s*Conc\.\s+%SD", line):
            _concentration_table(lines, index, fit)
            break
    if not fit.amplitudes:
        raise InputError(f"'{os.path.basename(path)}' is not an LCModel .TABLE/.COORD file (no concentration table)")
    _misc(lines, fit)
    return fit


def read_lcmodel_coord(path):
    """Concentrations, quality and the plotted curves of an LCModel .COORD file."""
    fit = read_lcmodel_table(path)
    with open(path, "r", encoding="latin-1") as handle:
        lines = handle.read().splitlines()
    n_points = None
    blocks, order, current = {}, [], None
    for line in lines:
        match = re.match(r"^\s*(\d+)\s+points on ppm-axis\s*=\s*NY", line)
        if match:
            n_points = int(match.group(1))
            current = "ppm"
            blocks[current], order = [], [current]
            continue
        if n_points is None:
            continue
        if "phased data points follow" in line:
            current = "data"
        elif "points of the fit to the data follow" in line:
            current = "fit"
        elif "background values follow" in line:
            current = "baseline"
        else:
            match = re.match(r"^\s*(\S+)\s+Conc\.\s*=\s*" + _FLOAT, line)
            if match:
                current = "metabolite:" + match.group(1)
            elif re.match(r"^\s*(" + _FLOAT + r"\s+)*" + _FLOAT + r"\s*$", line) and current is not None:
                blocks[current].extend(float(v.replace("D", "E")) for v in line.split())
                continue
            else:
                if current is not None and len(blocks.get(current, ())) >= n_points:
                    current = None
                continue
        blocks[current], order = [], order + [current]
    if n_points is None:
        raise InputError(f"'{os.path.basename(path)}': no 'points on ppm-axis = NY' block (not a .COORD file)")
    for name in order:
        values = np.array(blocks[name][:n_points])
        if values.size != n_points:
            raise InputError(f"'{os.path.basename(path)}': block '{name}' has {values.size} of {n_points} points")
        if name.startswith("metabolite:"):
            fit.spectra.setdefault("components", {})[name.split(":", 1)[1]] = values
        else:
            fit.spectra[name] = values
    return fit


def read_lcmodel_csv(path):
    path = require_file(path)
    import csv
    with open(path, "r", encoding="latin-1", newline="") as handle:
        rows = [[cell.strip() for cell in row] for row in csv.reader(handle) if row]
    if len(rows) < 2 or rows[0][:2] != ["Row", "Col"]:
        raise InputError(f"'{os.path.basename(path)}' is not an LCModel .CSV file (header 'Row, Col, ...')")
    header, values = rows[0], rows[1]
    fit = ExternalFit(program="LCModel", path=path)
    for name, value in zip(header[2:], values[2:]):
        if name.endswith(" %SD"):
            fit.sd_percent[name[:-4]] = float(value)
        elif "/" in name and not name.startswith("/"):
            metabolite, reference = name.rsplit("/", 1)
            if metabolite in fit.amplitudes or metabolite not in fit.sd_percent:
                fit.ratios[metabolite] = float(value)
                fit.ratio_reference = reference
            else:
                fit.ratios[metabolite] = float(value)
        else:
            fit.amplitudes[name] = float(value)
    return fit


def read_tarquin_results(path):
    path = require_file(path)
    with open(path, "r", encoding="latin-1") as handle:
        lines = handle.read().splitlines()
    fit = ExternalFit(program="TARQUIN", path=path)
    in_table = False
    for line in lines:
        if re.match(r"^\s*Signal\s+Conc", line):
            in_table = True
            continue
        if in_table:
            if line.startswith("---"):
                continue
            parts = line.split()
            if len(parts) < 4:
                if fit.amplitudes:
                    in_table = False
                continue
            name, value, sd = parts[0], parts[1], parts[2]
            fit.amplitudes[name] = float(value)
            fit.sd_percent[name] = float("inf") if sd == "inf" else float(sd)
            continue
        match = re.match(r"^\s*([^:]+?)\s*:\s*(" + _FLOAT + r")\s*$", line)
        if match:
            key = match.group(1)
            mapping = {"Metab FWHM (PPM)": "fwhm_ppm", "Metab FWHM (Hz)": "fwhm_hz", "SNR residual": "snr",
                       "SNR max": "snr_max", "Q": "q", "Ref (ppm)": "reference_ppm", "TE (s)": "te_s"}
            if key in mapping:
                fit.quality[mapping[key]] = float(match.group(2))
    if not fit.amplitudes:
        raise InputError(f"'{os.path.basename(path)}' is not a TARQUIN results file (no 'Signal  Conc' table)")
    return fit
