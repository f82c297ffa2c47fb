"""Valid seed inputs for the reader fuzz suite: one small file (or folder) per format, with the
reader that takes it and the check of a returned result."""
import json
import os
import shutil
from dataclasses import dataclass, field

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
RDA = os.path.join(ROOT, "Testing", "Data", "mrs-formats", "suspect_testdata", "siemens", "SVS_30.rda")


@dataclass
class Seed:
    name: str
    target: str                  # the file that is mutated
    read: object                 # callable(path_of_input) -> result
    input_path: str              # what the reader is given (the target, or its folder)
    kind: str                    # "binary" or "text"
    has_length: bool = True      # the format states how much data follows (truncation is detectable)
    header_bytes: int = 512      # where header bit flips land
    extra: dict = field(default_factory=dict)


def _sitk_write(path, array, spacing=(1.5, 1.5, 3.0)):
    import SimpleITK as sitk
    image = sitk.GetImageFromArray(array, isVector=False)
    image.SetSpacing(tuple(spacing) + (1.0,) * (image.GetDimension() - 3))
    sitk.WriteImage(image, path)


def _fid(n=64, dwell=5e-4, mhz=123.2):
    t = np.arange(n) * dwell
    return 100 * np.exp(2j * np.pi * (4.65 - 2.01) * mhz * t - t / 0.05) + 50 * np.exp(2j * np.pi * 1.6 * mhz * t - t / 0.05)


def build(folder):
    """Write every seed into ``folder``; returns a list of Seed."""
    from DCEModuleLib.aif_csv import read_aif_csv
    from DiffusionModuleLib.b_values import read_b_value_file
    from SpectroscopyModuleLib import io as mrs_io
    from SpectroscopyModuleLib.basis import read_basis
    from TMEMonitorLib.io import read_series, read_volume

    seeds = []
    rng = np.random.default_rng(7)

    def sub(name):
        path = os.path.join(folder, name)
        os.makedirs(path, exist_ok=True)
        return path

    # NIfTI 4D + BIDS sidecar, uncompressed and gzip
    for suffix in (".nii", ".nii.gz"):
        base = sub("nifti4d" + suffix.replace(".", "_"))
        path = os.path.join(base, "dce" + suffix)
        _sitk_write(path, rng.normal(100, 5, (3, 2, 3, 4)).astype(np.float32))
        with open(os.path.join(base, "dce.json"), "w") as handle:
            json.dump({"FrameTimesStart": [0.0, 5.0, 10.0], "RepetitionTime": 0.004, "FlipAngle": 15}, handle)
        seeds.append(Seed("nifti4d" + suffix, path, read_series, path, "binary"))
        seeds.append(Seed("bids-json" + suffix, os.path.join(base, "dce.json"), read_series, path, "text",
                          has_length=False))
    # NIfTI 3D int16
    base = sub("nifti3d")
    path = os.path.join(base, "t1.nii")
    _sitk_write(path, rng.integers(0, 3000, (4, 8, 8)).astype(np.int16))
    seeds.append(Seed("nifti3d-int16", path, read_volume, path, "binary"))
    # multi-echo NIfTI folder: mutate one echo's sidecar
    base = sub("echoes")
    for number, te in ((1, 0.005), (2, 0.010), (3, 0.020)):
        stem = os.path.join(base, "t2s_e%d" % number)
        _sitk_write(stem + ".nii.gz", (1000 * np.exp(-te / 0.03) * np.ones((2, 3, 4))).astype(np.float32))
        with open(stem + ".json", "w") as handle:
            json.dump({"EchoTime": te, "EchoNumber": number}, handle)
    seeds.append(Seed("echo-json", os.path.join(base, "t2s_e2.json"), read_series, base, "text", has_length=False))
    seeds.append(Seed("echo-nifti", os.path.join(base, "t2s_e2.nii.gz"), read_series, base, "binary"))
    # NRRD volume sequence (text header, raw data)
    base = sub("nrrd")
    path = os.path.join(base, "dwi.seq.nrrd")
    data = rng.normal(100, 5, (3, 2, 3, 4)).astype("<f4")      # frames, k, j, i
    header = ("NRRD0004\ntype: float\ndimension: 4\nspace: right-anterior-superior\nsizes: 4 3 2 3\n"
              "space directions: (1.5,0,0) (0,1.5,0) (0,0,3) none\nkinds: domain domain domain list\n"
              "labels: \"\" \"\" \"\" \"b\"\nunits: \"\" \"\" \"\" \"s/mm2\"\nendian: little\nencoding: raw\n"
              "space origin: (0,0,0)\naxis 3 index type:=numeric\naxis 3 index values:=0 500 1000\n\n")
    with open(path, "wb") as handle:
        handle.write(header.encode() + np.moveaxis(data, 0, -1).tobytes())
    seeds.append(Seed("nrrd-seq", path, read_series, path, "binary", header_bytes=len(header)))
    # DICOM folder, 2 time points x 2 slices
    import sys
    sys.path.insert(0, os.path.join(ROOT, "TMEMonitor", "Testing", "Python"))
    import dicom_writer
    base = sub("dicom")
    paths = dicom_writer.write_series(base, rng.integers(0, 1000, (2, 2, 4, 4)),
                                      frame_tags=[{"TemporalPositionIdentifier": f + 1, "TriggerTime": 3000.0 * f}
                                                  for f in range(2)])
    seeds.append(Seed("dicom-folder", paths[1][0], read_series, base, "binary", header_bytes=1200))
    # Siemens .rda
    base = sub("rda")
    path = os.path.join(base, "svs.rda")
    shutil.copy(RDA, path)
    with open(path, "rb") as handle:
        raw = handle.read()
    seeds.append(Seed("rda", path, mrs_io.read_mrs, path, "binary", header_bytes=raw.find(b">>> End of header")))
    # Philips SPAR/SDAT
    base = sub("sdat")
    stem = os.path.join(base, "svs")
    mrs_io.write_sdat(stem, _fid(), 5e-4, 123.2, te_s=0.03, tr_s=2.0)
    seeds.append(Seed("sdat", stem + ".SDAT", mrs_io.read_mrs, stem + ".SDAT", "binary", header_bytes=0))
    seeds.append(Seed("spar", stem + ".SPAR", mrs_io.read_mrs, stem + ".SDAT", "text", has_length=False,
                      header_bytes=4096))
    # LCModel .RAW
    base = sub("raw")
    path = mrs_io.write_lcmodel_raw(os.path.join(base, "svs.RAW"), _fid(), 5e-4, 123.2, te_s=0.03)
    with open(path, "rb") as handle:
        header_end = handle.read().upper().rfind(b"$END")
    seeds.append(Seed("lcmodel-raw", path, mrs_io.read_mrs, path, "text", has_length=False, header_bytes=header_end))
    # jMRUI text
    base = sub("jmrui")
    path = mrs_io.write_jmrui_text(os.path.join(base, "svs.txt"), _fid(), 5e-4, 123.2)
    with open(path, "rb") as handle:
        header_end = handle.read().find(b"Signal 1")
    seeds.append(Seed("jmrui-text", path, mrs_io.read_mrs, path, "text", header_bytes=header_end))
    # NIfTI-MRS
    base = sub("niftimrs")
    path = mrs_io.write_nifti_mrs(mrs_io.MRSData(fid=_fid().reshape(1, 1, 1, -1), dwell_s=5e-4, spectrometer_mhz=123.2),
                                  os.path.join(base, "svs.nii"))
    seeds.append(Seed("nifti-mrs", path, mrs_io.read_mrs, path, "binary", header_bytes=600))
    # LCModel .basis (hand-written layout) and FSL-MRS JSON basis
    base = sub("basis")
    spectrum = np.fft.fft(_fid())
    lines = [" $SEQPAR", " ECHOT = 30.0,", " HZPPPM = 123.2", " $END", " $BASIS1", " IDBASI = 'fuzz',",
             " FMTBAS = '(2E15.6)',", " BADELT = 5.0E-04,", " NDATAB = 64", " $END", " $BASIS", " ID = 'NAA',",
             " METABO = 'NAA',", " CONC = 1.,", " ISHIFT = 0", " $END"]
    lines += ["%15.6E%15.6E" % (v.real, v.imag) for v in spectrum]
    path = os.path.join(base, "fuzz.basis")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    seeds.append(Seed("lcmodel-basis", path, read_basis, path, "text", has_length=True,
                      header_bytes=len("\n".join(lines[:16]))))
    fid = _fid()
    path = os.path.join(base, "NAA.json")
    with open(path, "w") as handle:
        json.dump({"basis": {"basis_re": fid.real.tolist(), "basis_im": fid.imag.tolist(), "basis_dwell": 5e-4,
                             "basis_centre": 123.2, "basis_width": 2.0, "basis_name": "NAA"}}, handle)
    seeds.append(Seed("json-basis", path, read_basis, path, "text"))
    # AIF CSV and --bvals file
    base = sub("aif")
    path = os.path.join(base, "aif.csv")
    t = np.arange(0, 300, 5.0)
    conc = 5 * (t / 30) * np.exp(1 - t / 30)
    with open(path, "w") as handle:
        handle.write("time_s,conc_mM\n" + "".join("%g,%.5f\n" % (a, b) for a, b in zip(t, conc)))
    seeds.append(Seed("aif-csv", path, read_aif_csv, path, "text", has_length=False))
    base = sub("bval")
    path = os.path.join(base, "dwi.bval")
    with open(path, "w") as handle:
        handle.write("0 50 400 800 1000\n")
    seeds.append(Seed("bvals", path, read_b_value_file, path, "text", has_length=False))
    return seeds
