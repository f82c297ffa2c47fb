"""DICOM spectroscopy: Siemens classic (CSA, data in (7FE1,1010)) and MR Spectroscopy Storage
(1.2.840.10008.5.1.4.1.1.4.2; Siemens XA, Philips; data in SpectroscopyData (5600,0020)).

Sign conventions, checked on the vendored files by the positions of known resonances:
- Siemens CSA (SVS_30.IMA): already NIfTI-MRS convention; the FID equals that of SVS_30.rda.
- Siemens XA enhanced (SVS_XA60.dcm, an ethanol-like phantom): conjugated on reading (the CH3
  triplet and CH2 quartet appear at 1.0 and 3.5 ppm only after conjugation).
- Philips enhanced (MRSshortTELN): conjugated on reading (NAA-Cr-Cho at 1.02 / 0.17 ppm spacing).
Geometry: classic Siemens ImagePositionPatient is the in-plane corner of voxel (0, 0) (as in
.rda); in MR Spectroscopy Storage it is the centre of voxel (0, 0) (equal to the mid-slab
position of a single voxel in both vendor files).
"""
import os

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

from .common import nucleus_name, optional_number, require_file
from .geometry import affine_lps, to_ras
from .mrs_data import MRSData
from .siemens_csa import first, parse_csa

MRS_STORAGE = "1.2.840.10008.5.1.4.1.1.4.2"
SIEMENS_CSA_NON_IMAGE = "1.3.12.2.1107.5.9.1"
CONJUGATE_BY_MANUFACTURER = {"siemens": True, "philips": True}
# A last frame this many times stronger than the others is the unsuppressed water reference.
WATER_FRAME_RATIO = 10.0


def _dcmread(path):
    import pydicom
    try:
        return pydicom.dcmread(path)
    except Exception as error:  # pydicom raises InvalidDicomError and OSError variants
        raise InputError(f"'{os.path.basename(path)}' is not a readable DICOM file ({error})") from None


def is_spectroscopy_dicom(dataset):
    sop = str(getattr(dataset, "SOPClassUID", ""))
    return sop in (MRS_STORAGE, SIEMENS_CSA_NON_IMAGE) or "SpectroscopyData" in dataset or (0x7FE1, 0x1010) in dataset


def read_dicom_mrs(path):
    """One DICOM spectroscopy file, or a folder of them (stacked along DIM_DYN in instance order)."""
    path = require_file(path)
    if os.path.isdir(path):
        return _read_folder(path)
    dataset = _dcmread(path)
    if "SpectroscopyData" in dataset:
        return _read_enhanced(dataset, path)
    if (0x7FE1, 0x1010) in dataset:
        return _read_siemens_csa(dataset, path)
    raise InputError(f"'{os.path.basename(path)}' is a DICOM file without spectroscopy data "
                     f"(SOP class {getattr(dataset, 'SOPClassUID', 'unknown')})")


def _read_folder(folder):
    files = sorted(os.path.join(folder, name) for name in os.listdir(folder)
                   if os.path.isfile(os.path.join(folder, name)) and not name.startswith("."))
    items = []
    for name in files:
        try:
            items.append((name, read_dicom_mrs(name)))
        except InputError:
            continue
    if not items:
        raise InputError(f"folder '{folder}' holds no DICOM spectroscopy file")
    items.sort(key=lambda item: (item[1].metadata.get("InstanceNumber") or 0, item[0]))
    first_mrs = items[0][1]
    if len(items) == 1:
        return first_mrs
    shapes = {mrs.fid.shape for _, mrs in items}
    if len(shapes) > 1 or any(mrs.dim_tags for _, mrs in items):
        raise InputError(f"folder '{folder}': DICOM spectroscopy files of different shapes {sorted(shapes)}; "
                         "read them one by one")
    fid = np.stack([mrs.fid for _, mrs in items], axis=-2)
    out = first_mrs.with_fid(fid, dim_tags=["DIM_DYN"])
    out.metadata["files"] = [name for name, _ in items]
    return out


def _read_siemens_csa(dataset, path):
    csa = parse_csa(dataset.get((0x0029, 0x1110)).value if (0x0029, 0x1110) in dataset else None)
    if not csa:
        raise MetadataError(f"'{os.path.basename(path)}': Siemens spectroscopy DICOM without a CSA image header")
    n_points = int(first(csa, "DataPointColumns", 0))
    columns, rows = int(first(csa, "Columns", 1)), int(first(csa, "Rows", 1))
    frames = int(first(csa, "NumberOfFrames", 1))
    raw = np.frombuffer(dataset[0x7FE1, 0x1010].value, dtype="<f4")
    expected = 2 * n_points * columns * rows * frames
    if n_points < 1 or raw.size < expected:
        raise InputError(f"'{os.path.basename(path)}': {raw.size // 2} complex points, expected {expected // 2} "
                         f"(DataPointColumns {n_points} x {columns}x{rows} x {frames} frames)")
    fid = raw[:expected].view(np.complex64).reshape(frames, rows, columns, n_points)
    fid = fid.transpose(2, 1, 0, 3).astype(np.complex128)     # (i columns, j rows, k frames/slices, t)
    dwell_ns = first(csa, "RealDwellTime")
    if dwell_ns is None:
        raise MetadataError(f"'{os.path.basename(path)}': CSA header has no RealDwellTime (dwell time)")
    mhz = first(csa, "ImagingFrequency")
    if mhz is None:
        raise MetadataError(f"'{os.path.basename(path)}': CSA header has no ImagingFrequency")
    affine = None
    position, orientation = csa.get("ImagePositionPatient"), csa.get("ImageOrientationPatient")
    spacing = csa.get("PixelSpacing")
    if position and orientation and spacing and len(orientation) == 6 and len(spacing) == 2:
        row, column = np.array(orientation[:3], float), np.array(orientation[3:], float)
        d_row_step, d_col_step = float(spacing[1]), float(spacing[0])   # along i (row dir), along j
        centre = np.array(position, float) + (row / np.linalg.norm(row) * d_row_step
                                              + column / np.linalg.norm(column) * d_col_step) / 2
        thickness = float(first(csa, "SliceThickness", first(csa, "VoiThickness", 1.0)))
        affine = to_ras(affine_lps(row, column, d_row_step, d_col_step, thickness, centre))
    te, tr = first(csa, "EchoTime"), first(csa, "RepetitionTime")
    metadata = _common_metadata(dataset, path, "Siemens DICOM (CSA)")
    metadata.update({"voi_centre_lps_mm": csa.get("VoiPosition"), "NumberOfAverages": first(csa, "NumberOfAverages"),
                     "ExcitationFlipAngle": first(csa, "FlipAngle")})
    return MRSData(fid=fid, dwell_s=float(dwell_ns) * 1e-9, spectrometer_mhz=float(mhz),
                   nucleus=nucleus_name(first(csa, "ImagedNucleus") or first(csa, "ResonantNucleus")),
                   te_s=None if te is None else float(te) * 1e-3, tr_s=None if tr is None else float(tr) * 1e-3,
                   affine=affine, metadata={k: v for k, v in metadata.items() if v is not None})


def _functional(dataset, sequence_name, item_name):
    """A value from the shared, then the first per-frame, functional group."""
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        for group in getattr(dataset, groups, None) or []:
            for item in getattr(group, sequence_name, None) or []:
                if item_name in item:
                    return item.get(item_name)
            break
    return None


def _read_enhanced(dataset, path):
    n_points = int(getattr(dataset, "DataPointColumns", 0) or 0)
    columns, rows = int(getattr(dataset, "Columns", 1) or 1), int(getattr(dataset, "Rows", 1) or 1)
    frames = int(getattr(dataset, "NumberOfFrames", 1) or 1)
    raw = np.frombuffer(dataset.SpectroscopyData, dtype="<f4")
    expected = 2 * n_points * columns * rows * frames
    if n_points < 1 or raw.size != expected:
        raise InputError(f"'{os.path.basename(path)}': SpectroscopyData holds {raw.size // 2} complex points, "
                         f"expected {expected // 2} ({n_points} points x {columns}x{rows} x {frames} frames)")
    fid = raw.view(np.complex64).reshape(frames, rows, columns, n_points).astype(np.complex128)
    manufacturer = str(getattr(dataset, "Manufacturer", "")).lower()
    if any(name in manufacturer for name, conj in CONJUGATE_BY_MANUFACTURER.items() if conj):
        fid = np.conj(fid)
    width = getattr(dataset, "SpectralWidth", None)
    if not width:
        raise MetadataError(f"'{os.path.basename(path)}': SpectralWidth (0018,9052) is missing: no dwell time")
    mhz = getattr(dataset, "TransmitterFrequency", None)
    if not mhz:
        raise MetadataError(f"'{os.path.basename(path)}': TransmitterFrequency (0018,9098) is missing")
    # Frames: a single-voxel file with several frames holds repeated acquisitions (dynamics);
    # Philips appends the unsuppressed water reference as the last frame (tens of times larger).
    water = None
    if rows * columns == 1 and frames >= 2:
        amplitude = np.abs(fid.reshape(frames, n_points)[:, :4]).mean(axis=1)
        if amplitude[-1] > WATER_FRAME_RATIO * np.median(amplitude[:-1]):
            water = fid[-1:].copy()
            fid, frames = fid[:-1], frames - 1
    if rows * columns == 1:
        fid = fid.reshape(frames, n_points)
        if frames > 1:
            fid = fid.reshape(1, 1, 1, frames, n_points)
            tags = ["DIM_DYN"]
        else:
            fid = fid.reshape(1, 1, 1, n_points)
            tags = []
    else:
        if frames != 1:
            raise InputError(f"'{os.path.basename(path)}': MRSI with {frames} frames is not supported; "
                             "convert it with spec2nii")
        fid = fid[0].transpose(1, 0, 2)[:, :, None, :]        # (i columns, j rows, 1, t)
        tags = []
    position = _functional(dataset, "PlanePositionSequence", "ImagePositionPatient")
    orientation = _functional(dataset, "PlaneOrientationSequence", "ImageOrientationPatient")
    spacing = _functional(dataset, "PixelMeasuresSequence", "PixelSpacing")
    thickness = _functional(dataset, "PixelMeasuresSequence", "SliceThickness")
    if thickness is None:
        # Philips puts only the in-plane spacing in Pixel Measures; the slab gives the thickness.
        slabs = getattr(dataset, "VolumeLocalizationSequence", None) or []
        thickness = min((float(s.SlabThickness) for s in slabs if "SlabThickness" in s), default=None)
    affine = None
    if position is not None and orientation is not None and spacing is not None:
        orientation = [float(v) for v in orientation]
        affine = to_ras(affine_lps(orientation[:3], orientation[3:], float(spacing[1]), float(spacing[0]),
                                   float(thickness or 1.0), [float(v) for v in position]))
    te = _functional(dataset, "MREchoSequence", "EffectiveEchoTime")
    tr = _functional(dataset, "MRTimingAndRelatedParametersSequence", "RepetitionTime")
    metadata = _common_metadata(dataset, path, "DICOM MR Spectroscopy Storage")
    metadata.update({"ChemicalShiftReference_ppm": optional_number(getattr(dataset, "ChemicalShiftReference", None)),
                     "VolumeLocalizationTechnique": getattr(dataset, "VolumeLocalizationTechnique", None),
                     "NumberOfAverages": optional_number(_functional(dataset, "MRAveragesSequence",
                                                                     "NumberOfAverages"))})
    mrs = MRSData(fid=fid, dwell_s=1.0 / float(width), spectrometer_mhz=float(mhz),
                  nucleus=nucleus_name(getattr(dataset, "ResonantNucleus", None)),
                  te_s=None if te is None else float(te) * 1e-3, tr_s=None if tr is None else float(tr) * 1e-3,
                  affine=affine, metadata={k: v for k, v in metadata.items() if v is not None}, dim_tags=tags)
    if water is not None:
        mrs.water_reference = mrs.with_fid(water.reshape(1, 1, 1, n_points), dim_tags=[])
        mrs.metadata["water_reference"] = "last DICOM frame (unsuppressed water)"
    return mrs


def _common_metadata(dataset, path, source):
    return {"source_format": source, "path": path,
            "Manufacturer": str(getattr(dataset, "Manufacturer", "")) or None,
            "ManufacturersModelName": str(getattr(dataset, "ManufacturerModelName", "")) or None,
            "SeriesDescription": str(getattr(dataset, "SeriesDescription", "")) or None,
            "ProtocolName": str(getattr(dataset, "ProtocolName", "")) or None,
            "InstanceNumber": int(dataset.InstanceNumber) if getattr(dataset, "InstanceNumber", None) not in
            (None, "") else None,
            "SOPClassUID": str(getattr(dataset, "SOPClassUID", "")) or None}
