"""Test helper: write synthetic MR DICOM series (classic single-frame files, or one enhanced
multi-frame file) from a numpy array with known geometry and per-frame tags.

Geometry is given in DICOM LPS: ``origin`` is the position of voxel (0, 0, 0),
``spacing`` is (column step i, row step j, slice step k) in mm, ``row_direction`` is the
direction of increasing column index and ``column_direction`` of increasing row index.
"""
import os

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"

# private tags: (group, creator, element offset, VR)
SIEMENS_B_VALUE = (0x0019, "SIEMENS MR HEADER", 0x0C, "IS")
SIEMENS_B_VECTOR = (0x0019, "SIEMENS MR HEADER", 0x0E, "FD")
GE_B_VALUE = (0x0043, "GEMS_PARM_01", 0x39, "IS")
PHILIPS_B_VALUE = (0x2001, "Philips Imaging DD 001", 0x03, "FL")
PHILIPS_SCALE_SLOPE = (0x2005, "Philips MR Imaging DD 001", 0x0E, "FL")
PHILIPS_SCALE_INTERCEPT = (0x2005, "Philips MR Imaging DD 001", 0x0D, "FL")


def save_as_file(ds, path):
    """Write ``ds`` as a DICOM file (preamble + file meta) on pydicom 2.4 (Slicer's) and 3.x:
    pydicom 3 replaced ``write_like_original=False`` by ``enforce_file_format=True``."""
    if int(pydicom.__version__.split(".")[0]) >= 3:
        ds.save_as(path, enforce_file_format=True)  # stack-compat: guarded
    else:
        ds.save_as(path, write_like_original=False)


def slice_normal(row_direction, column_direction):
    normal = np.cross(row_direction, column_direction)
    return normal / np.linalg.norm(normal)


def slice_position(origin, spacing, row_direction, column_direction, k):
    return np.asarray(origin, float) + k * spacing[2] * slice_normal(row_direction, column_direction)


def voxel_lps(origin, spacing, row_direction, column_direction, i, j, k):
    """LPS position of voxel (i=col, j=row, k=slice) by the DICOM equation (PS3.3 C.7.6.2.1.1)."""
    return (slice_position(origin, spacing, row_direction, column_direction, k)
            + i * spacing[0] * np.asarray(row_direction, float) + j * spacing[1] * np.asarray(column_direction, float))


def _set_tags(dataset, tags):
    """Apply {keyword: value} and {(group, creator, offset, VR): value} (private) entries."""
    for key, value in (tags or {}).items():
        if isinstance(key, tuple):
            group, creator, offset, vr = key
            dataset.private_block(group, creator, create=True).add_new(offset, vr, value)
        elif value is None:
            if key in dataset:
                delattr(dataset, key)
        else:
            setattr(dataset, key, value)


def _base_dataset(sop_class, series_uid, study_uid, series_number, description, rows, cols):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.preamble = b"\0" * 128
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = generate_uid()
    ds.Modality = "MR"
    ds.Manufacturer = "TMEMonitorTest"
    ds.PatientID = "PHANTOM"
    ds.PatientName = "Phantom^Test"
    ds.StudyDate = "20240101"
    ds.SeriesNumber = series_number
    ds.SeriesDescription = description
    ds.MagneticFieldStrength = 3
    ds.RepetitionTime = 4.5
    ds.EchoTime = 1.8
    ds.FlipAngle = 12
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1
    return ds


def write_series(folder, array, origin=(0.0, 0.0, 0.0), spacing=(1.0, 1.0, 1.0),
                 row_direction=(1.0, 0.0, 0.0), column_direction=(0.0, 1.0, 0.0),
                 frame_tags=None, slice_tags=None, series_uid=None, study_uid=None, series_number=1,
                 description="dynamic", rescale=(1.0, 0.0), prefix="IM", shuffle_seed=0):
    """Write ``array`` (frames, slices, rows, cols) of stored int16 values as classic MR files.

    ``frame_tags[f]``: tags of every file of frame f; ``slice_tags(f, k)`` -> tags of one file.
    Files are written in a shuffled order of names so that readers cannot rely on them.
    Returns the list of paths, indexed [f][k].
    """
    array = np.asarray(array)
    n_frames, n_slices, rows, cols = array.shape
    os.makedirs(folder, exist_ok=True)
    series_uid = series_uid or generate_uid()
    study_uid = study_uid or generate_uid()
    names = np.random.default_rng(shuffle_seed).permutation(n_frames * n_slices)
    paths = []
    for f in range(n_frames):
        frame_paths = []
        for k in range(n_slices):
            ds = _base_dataset(MR_IMAGE_STORAGE, series_uid, study_uid, series_number, description, rows, cols)
            ds.InstanceNumber = f * n_slices + k + 1
            ds.ImagePositionPatient = [float(x) for x in slice_position(origin, spacing, row_direction, column_direction, k)]
            ds.ImageOrientationPatient = [float(x) for x in list(row_direction) + list(column_direction)]
            ds.PixelSpacing = [float(spacing[1]), float(spacing[0])]   # row spacing, column spacing
            ds.SliceThickness = float(spacing[2])
            ds.RescaleSlope, ds.RescaleIntercept = rescale
            _set_tags(ds, (frame_tags or [{}] * n_frames)[f])
            if slice_tags is not None:
                _set_tags(ds, slice_tags(f, k))
            ds.PixelData = np.ascontiguousarray(array[f, k], dtype="<i2").tobytes()
            path = os.path.join(folder, "%s%05d.dcm" % (prefix, names[f * n_slices + k]))
            save_as_file(ds, path)
            frame_paths.append(path)
        paths.append(frame_paths)
    return paths


def write_enhanced(path, array, origin=(0.0, 0.0, 0.0), spacing=(1.0, 1.0, 1.0),
                   row_direction=(1.0, 0.0, 0.0), column_direction=(0.0, 1.0, 0.0),
                   b_values=None, frame_datetimes=None, rescale=(1.0, 0.0), description="enhanced"):
    """Write ``array`` (frames, slices, rows, cols) as one enhanced MR multi-frame file.

    Frames are stored slice-fastest in reverse slice order, so readers must use the
    per-frame positions. ``b_values`` adds MRDiffusionSequence; ``frame_datetimes`` (DT
    strings per frame) adds FrameAcquisitionDateTime and TemporalPositionIndex.
    """
    array = np.asarray(array)
    n_frames, n_slices, rows, cols = array.shape
    ds = _base_dataset(ENHANCED_MR_IMAGE_STORAGE, generate_uid(), generate_uid(), 1, description, rows, cols)
    ds.InstanceNumber = 1
    ds.NumberOfFrames = n_frames * n_slices
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [float(spacing[1]), float(spacing[0])]
    measures.SliceThickness = float(spacing[2])
    orientation = Dataset()
    orientation.ImageOrientationPatient = [float(x) for x in list(row_direction) + list(column_direction)]
    transform = Dataset()
    transform.RescaleSlope, transform.RescaleIntercept = rescale
    transform.RescaleType = "US"
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PlaneOrientationSequence = Sequence([orientation])
    shared.PixelValueTransformationSequence = Sequence([transform])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    items, pixels = [], []
    for f in range(n_frames):
        for k in reversed(range(n_slices)):
            item = Dataset()
            position = Dataset()
            position.ImagePositionPatient = [float(x) for x in slice_position(origin, spacing, row_direction, column_direction, k)]
            item.PlanePositionSequence = Sequence([position])
            content = Dataset()
            content.InStackPositionNumber = k + 1
            if frame_datetimes is not None:
                content.TemporalPositionIndex = f + 1
                content.FrameAcquisitionDateTime = frame_datetimes[f]
            item.FrameContentSequence = Sequence([content])
            if b_values is not None:
                diffusion = Dataset()
                diffusion.DiffusionBValue = float(b_values[f])
                diffusion.DiffusionDirectionality = "NONE" if b_values[f] == 0 else "ISOTROPIC"
                item.MRDiffusionSequence = Sequence([diffusion])
            items.append(item)
            pixels.append(np.asarray(array[f, k], dtype="<i2"))
    ds.PerFrameFunctionalGroupsSequence = Sequence(items)
    ds.PixelData = np.ascontiguousarray(np.stack(pixels)).tobytes()
    save_as_file(ds, path)
    return path
