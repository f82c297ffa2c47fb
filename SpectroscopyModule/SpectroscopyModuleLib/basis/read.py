"""Read and write basis sets: LCModel ``.basis`` files and FSL-MRS style JSON folders.

LCModel ``.basis`` (text; S. Provencher, LCModel manual, "makebasis" output):
    $SEQPAR  FWHMBA (ppm), HZPPPM (MHz), ECHOT (ms), SEQ          $END
    $BASIS1  IDBASI, FMTBAS (Fortran format of the data), BADELT (dwell s), NDATAB  $END
    then per metabolite: optional $NMUSED ... $END, then
    $BASIS   ID, METABO, CONC, TRAMP, VOLUME, ISHIFT              $END
    followed by NDATAB complex numbers (real, imaginary pairs in FMTBAS format).
The data block is the *frequency-domain* basis spectrum: the plain (not fftshift-ed) DFT of
the FID in LCModel's time-domain convention (that of its .RAW files, which is the NIfTI-MRS
convention: see SpectroscopyModuleLib/io/lcmodel_raw.py and Testing/Data/lcmodel-sign/),
circularly shifted by ISHIFT points. So: fid_nifti = ifft(roll(data, -ISHIFT)) / CONC. A negative BADELT marks an encrypted
basis, which is refused. Namelist groups may also be written ``&NAME ... /``.

JSON folder (FSL-MRS style): one ``<name>.json`` per metabolite holding
    {"basis": {"basis_re": [...], "basis_im": [...], "basis_dwell": s, "basis_centre": MHz,
               "basis_width": Hz, "basis_name": str}, "meta": {...}}
with FIDs in the NIfTI-MRS convention (no conjugation).
"""
import glob
import json
import os
import re

import numpy as np

from TMEMonitorLib.errors import InputError

from .basis_set import Basis
from .spin_systems import WATER_PPM

_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[EeDd][-+]?\d+)?")
_PAIR = re.compile(r"(\w+)(?:\(\s*\d+\s*\))?\s*=\s*('(?:[^']*)'|\"(?:[^\"]*)\"|[^,\s]+)")
_SECTION_START = re.compile(r"^\s*[$&](\w+)")
_SECTION_END = re.compile(r"^\s*(?:[$&]END\b|/\s*$)", re.IGNORECASE)


def _value(text):
    text = text.strip()
    if text[:1] in "'\"":
        return text[1:-1].strip()
    try:
        return float(text.replace("D", "E").replace("d", "e").rstrip(","))
    except ValueError:
        return text


def _parse_lcmodel(path):
    """Sections as (NAME, {KEY: value}) in file order; data floats attached to $BASIS sections."""
    sections = []
    current = None
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise InputError(f"LCModel basis '{path}' cannot be read: {error.strerror or error}") from None
    if b"\x00" in raw[:65536]:
        raise InputError(f"LCModel basis '{path}' is a binary file, not an LCModel .basis text file")
    for line in raw.decode("latin-1").splitlines(keepends=True):
        if current is not None:
            if _SECTION_END.match(line) or re.search(r"[$&]END\b", line, re.IGNORECASE):
                body = re.split(r"[$&]END\b", line, flags=re.IGNORECASE)[0]
                current[1].update({k.upper(): _value(v) for k, v in _PAIR.findall(body)})
                sections.append(current)
                current = None
            else:
                current[1].update({k.upper(): _value(v) for k, v in _PAIR.findall(line)})
            continue
        start = _SECTION_START.match(line)
        if start and start.group(1).upper() != "END":
            current = (start.group(1).upper(), {}, [])
            rest = line[start.end():]
            if re.search(r"[$&]END\b", rest, re.IGNORECASE):
                current[1].update({k.upper(): _value(v) for k, v in _PAIR.findall(rest)})
                sections.append(current)
                current = None
            else:
                current[1].update({k.upper(): _value(v) for k, v in _PAIR.findall(rest)})
            continue
        if sections and sections[-1][0] == "BASIS":
            sections[-1][2].extend(float(x.replace("D", "E").replace("d", "e"))
                                   for x in _FLOAT.findall(line))
    if current is not None:
        raise InputError(f"LCModel basis '{path}': section ${current[0]} has no $END")
    return sections


def read_lcmodel_basis(path, ppm_reference=WATER_PPM):
    """Read an LCModel ``.basis`` file into a :class:`Basis` (NIfTI-MRS convention FIDs)."""
    path = os.fspath(path)
    sections = _parse_lcmodel(path)
    header = {}
    for name, values, _ in sections:
        if name != "BASIS":
            for key, value in values.items():
                header.setdefault(key, value)
    if not any(name == "BASIS1" or name == "SEQPAR" for name, _, _ in sections):
        raise InputError(f"'{path}' is not an LCModel .basis file (no $BASIS1 or $SEQPAR namelist)")
    for key in ("BADELT", "NDATAB", "HZPPPM"):
        if not isinstance(header.get(key), float) or not np.isfinite(header[key]):
            raise InputError(f"LCModel basis '{path}' lacks a numeric {key} in its header "
                             f"($SEQPAR/$BASIS1)" + (f" (found {header[key]!r})" if key in header else ""))
    dwell, n_points, mhz = header["BADELT"], header["NDATAB"], header["HZPPPM"]
    if dwell < 0:
        raise InputError(f"LCModel basis '{path}' is encrypted (negative BADELT); use an "
                         "unencrypted basis for this sequence")
    if not 1e-7 <= dwell <= 0.1:
        raise InputError(f"LCModel basis '{path}': dwell time BADELT = {dwell:g} s is not plausible "
                         "(1e-7 to 0.1 s)")
    if not 1.0 <= mhz <= 1500.0:
        raise InputError(f"LCModel basis '{path}': spectrometer frequency HZPPPM = {mhz:g} MHz is not plausible "
                         "(1 to 1500 MHz)")
    if n_points != int(n_points) or not 16 <= n_points <= 2 ** 20:
        raise InputError(f"LCModel basis '{path}': NDATAB = {n_points:g} points is not plausible (16 to 2^20)")
    n_points = int(n_points)
    fids, shifts = {}, {}
    for name, values, data in sections:
        if name != "BASIS":
            continue
        label = str(values.get("METABO", values.get("ID", f"metabolite{len(fids) + 1}")))
        if len(data) != 2 * n_points:
            raise InputError(f"LCModel basis '{path}', metabolite '{label}': {len(data) // 2} "
                             f"complex points, header NDATAB says {n_points}")
        values_c = np.asarray(data[0::2]) + 1j * np.asarray(data[1::2])
        if not np.all(np.isfinite(values_c)):
            raise InputError(f"LCModel basis '{path}', metabolite '{label}': NaN/inf values in the data")
        ishift, conc = values.get("ISHIFT", 0.0), values.get("CONC", 1.0)
        if not isinstance(ishift, float) or not np.isfinite(ishift) or ishift != int(ishift) \
                or not isinstance(conc, float) \
                or not np.isfinite(conc) or conc <= 0:
            raise InputError(f"LCModel basis '{path}', metabolite '{label}': ISHIFT = {ishift!r} must be a whole "
                             f"number and CONC = {conc!r} a positive number")
        ishift = int(ishift)
        fids[label] = np.fft.ifft(np.roll(values_c, -ishift)) / conc
        shifts[label] = ishift
    if not fids:
        raise InputError(f"LCModel basis '{path}' holds no $BASIS sections")
    echo = header.get("ECHOT")
    metadata = {"source": os.path.abspath(path), "format": "LCModel .basis",
                "id": header.get("IDBASI"), "fwhmba_ppm": header.get("FWHMBA"), "ishift": shifts}
    return Basis(fids, mhz, dwell, te_s=None if not isinstance(echo, float) else echo / 1000.0,
                 sequence=header.get("SEQ"), ppm_reference=ppm_reference, metadata=metadata)


def write_lcmodel_basis(basis, path, identifier="TME Monitor basis"):
    """Write ``basis`` as an LCModel ``.basis`` text file (ISHIFT 0, CONC 1, format 2E15.6)."""
    te_ms = 0.0 if basis.te_s is None else basis.te_s * 1000.0
    fwhm = float(basis.metadata.get("linewidth_hz", 0.0) or 0.0) / basis.spectrometer_mhz
    lines = [" $SEQPAR", f" FWHMBA = {fwhm:.6f},", f" HZPPPM = {basis.spectrometer_mhz:.6e},",
             f" ECHOT = {te_ms:.4f},", f" SEQ = '{basis.sequence or ''}'", " $END",
             " $BASIS1", f" IDBASI = '{identifier}',", " FMTBAS = '(2E15.6)',",
             f" BADELT = {basis.dwell_s:.8e},", f" NDATAB = {basis.n_points}", " $END"]
    for name, fid in basis.items():
        spec = np.fft.fft(fid)
        lines += [" $NMUSED", f" FILRAW = '{name}.RAW',", " $END",
                  " $BASIS", f" ID = '{name}',", f" METABO = '{name}',", " CONC = 1.,",
                  " TRAMP = 1.,", " VOLUME = 1.,", " ISHIFT = 0", " $END"]
        lines += [f"{v.real:15.6E}{v.imag:15.6E}" for v in spec]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def _te_from_meta(meta):
    for key in ("TE_s", "te_s", "EchoTime", "TE", "te"):
        if key in meta and meta[key] is not None:
            value = float(meta[key])
            # FSL-MRS writes TE in ms; NIfTI-MRS EchoTime is in s
            return value / 1000.0 if (key in ("TE", "te") and value > 2.0) else value
    return None


def _read_json_file(file):
    try:
        with open(file, "rb") as handle:
            content = json.loads(handle.read().decode("utf-8"))
    except OSError as error:
        raise InputError(f"basis file '{file}' cannot be read: {error.strerror or error}") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise InputError(f"basis file '{file}' is not valid JSON text: {error}") from None
    if not isinstance(content, dict) or not isinstance(content.get("basis"), dict):
        raise InputError(f"basis file '{file}' has no 'basis' object (FSL-MRS format)")
    b = content["basis"]
    try:
        fid = np.asarray(b["basis_re"], float) + 1j * np.asarray(b["basis_im"], float)
        dwell = float(b["basis_dwell"])
        centre = float(b["basis_centre"])
    except KeyError as error:
        raise InputError(f"basis file '{file}' lacks {error}") from None
    except (TypeError, ValueError):
        raise InputError(f"basis file '{file}': basis_re, basis_im, basis_dwell and basis_centre must be numbers "
                         "(basis_re/basis_im lists of equal length)") from None
    if fid.ndim != 1 or fid.size < 16 or not np.all(np.isfinite(fid)):
        raise InputError(f"basis file '{file}': the FID must be at least 16 finite points (got {fid.size})")
    if not (np.isfinite(dwell) and 1e-7 <= dwell <= 0.1):
        raise InputError(f"basis file '{file}': basis_dwell = {dwell!r} s is not a plausible dwell time")
    if not (np.isfinite(centre) and (1.0 <= centre <= 1500.0 or 1e6 <= centre <= 1.5e9)):
        raise InputError(f"basis file '{file}': basis_centre = {centre!r} is not a plausible frequency (MHz)")
    if centre > 1e4:   # given in Hz rather than MHz
        centre /= 1e6
    name = str(b.get("basis_name") or os.path.splitext(os.path.basename(file))[0])
    return name, fid, dwell, centre, b.get("basis_width"), content.get("meta", {}) or {}


def _json_files_to_basis(files, source):
    fids, widths, dwell, centre, te, sequence = {}, {}, None, None, None, None
    for file in files:
        name, fid, this_dwell, this_centre, width, meta = _read_json_file(file)
        if dwell is not None and (not np.isclose(this_dwell, dwell, rtol=1e-6)
                                  or not np.isclose(this_centre, centre, rtol=1e-6)):
            raise InputError(f"basis file '{file}' has dwell {this_dwell} s / {this_centre} MHz, "
                             f"others {dwell} s / {centre} MHz")
        if name in fids:
            raise InputError(f"basis file '{file}': metabolite '{name}' appears twice")
        dwell, centre = this_dwell, this_centre
        fids[name] = fid
        widths[name] = width
        te = _te_from_meta(meta) if te is None else te
        sequence = meta.get("sequence", meta.get("Sequence", sequence))
    return Basis(fids, centre, dwell, te_s=te, sequence=sequence,
                 metadata={"source": os.path.abspath(source), "format": "FSL-MRS JSON",
                           "basis_width_hz": widths})


def read_json_basis_folder(path):
    """Read an FSL-MRS style folder of ``<name>.json`` basis files."""
    files = sorted(glob.glob(os.path.join(path, "*.json")))
    if not files:
        raise InputError(f"basis folder '{path}' holds no .json basis files")
    return _json_files_to_basis(files, path)


def write_basis_json_folder(basis, folder):
    """Write one FSL-MRS style ``<name>.json`` per metabolite (round trip with read_basis)."""
    os.makedirs(folder, exist_ok=True)
    width = float(basis.metadata.get("linewidth_hz", 0.0) or 0.0)
    paths = []
    for name, fid in basis.items():
        content = {"basis": {"basis_re": np.real(fid).tolist(), "basis_im": np.imag(fid).tolist(),
                             "basis_dwell": basis.dwell_s, "basis_centre": basis.spectrometer_mhz,
                             "basis_width": width, "basis_name": name},
                   "meta": {"TE_s": basis.te_s, "sequence": basis.sequence,
                            "nucleus": basis.nucleus, "ppm_reference": basis.ppm_reference,
                            "generator": "TME Monitor SpectroscopyModuleLib.basis"}}
        safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", name)
        path = os.path.join(folder, f"{safe}.json")
        with open(path, "w") as handle:
            json.dump(content, handle)
        paths.append(path)
    return paths


def read_basis(path, ppm_reference=WATER_PPM):
    """Read a basis set: an LCModel ``.basis`` file, a folder of FSL-MRS JSON files, or one JSON
    (``path`` a str or os.PathLike)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return read_json_basis_folder(path)
    if not os.path.isfile(path):
        raise InputError(f"basis path '{path}' does not exist")
    if path.lower().endswith(".json"):
        return _json_files_to_basis([path], path)
    return read_lcmodel_basis(path, ppm_reference)
