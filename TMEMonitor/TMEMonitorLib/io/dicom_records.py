"""Scan a DICOM folder: one record per 2D image (a classic file, or one frame of an
enhanced multi-frame file), grouped by series.

Headers are read without pixel data; pixels are read later, frame by frame
(:func:`read_pixels`). Files that are not DICOM are skipped (reported in warnings); a file
that says it is DICOM but cannot be parsed is an error naming the file.
"""
import os
from dataclasses import dataclass, field

import numpy as np
import pydicom

from ..errors import InputError
from . import dicom_bvalues, dicom_timing
from .dicom_tags import as_float_array, first_number, get_number, private_value, sequence_item

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
PHILIPS_SCALE_CREATOR = "Philips MR Imaging DD 001"


@dataclass
class SliceRecord:
    """Header facts of one 2D image; ``frame_index`` is set for a frame of a multi-frame file."""

    path: str
    frame_index: object
    header: object = field(repr=False)
    series_uid: str = ""
    position: np.ndarray = None
    orientation: np.ndarray = None
    pixel_spacing: np.ndarray = None
    rows: int = 0
    cols: int = 0
    instance_number: float = 0.0
    temporal_position: object = None
    temporal_position_source: str = None
    trigger_time_ms: object = None
    trigger_source: str = None
    acquisition_s: object = None
    acquisition_has_date: bool = False
    acquisition_source: str = None
    b: object = None
    b_source: str = None
    b_vector: object = None
    b_vector_source: str = None
    echo_time_ms: object = None
    sop_uid: str = ""
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    philips_scale_slope: object = None
    philips_scale_intercept: object = None

    @property
    def label(self):
        name = os.path.basename(self.path)
        return name if self.frame_index is None else "%s frame %d" % (name, self.frame_index + 1)


def _functional_item(dataset, frame_item, keyword):
    """A functional group macro item: per-frame first, then shared."""
    item = sequence_item(frame_item, keyword) if frame_item is not None else None
    return item if item is not None else sequence_item(dataset, "SharedFunctionalGroupsSequence", keyword)


def _common_fields(record, dataset):
    record.series_uid = str(dataset.get("SeriesInstanceUID", ""))
    record.sop_uid = str(dataset.get("SOPInstanceUID", ""))
    record.rows = int(dataset.Rows)
    record.cols = int(dataset.Columns)
    if record.rows < 1 or record.cols < 1:
        raise InputError("DICOM file %s: image size %d x %d (Rows x Columns) is empty" % (record.path, record.rows, record.cols))
    record.instance_number = get_number(dataset, "InstanceNumber") or 0.0
    record.philips_scale_slope = first_number(private_value(dataset, 0x2005, PHILIPS_SCALE_CREATOR, 0x0E), "f")
    record.philips_scale_intercept = first_number(private_value(dataset, 0x2005, PHILIPS_SCALE_CREATOR, 0x0D), "f")


def _classic_record(path, dataset):
    record = SliceRecord(path=path, frame_index=None, header=dataset)
    _common_fields(record, dataset)
    record.position = as_float_array(dataset.get("ImagePositionPatient"), 3)
    record.orientation = as_float_array(dataset.get("ImageOrientationPatient"), 6)
    record.pixel_spacing = as_float_array(dataset.get("PixelSpacing"), 2)
    tpi = get_number(dataset, "TemporalPositionIdentifier")
    if tpi is not None:
        record.temporal_position, record.temporal_position_source = tpi, "(0020,0100) TemporalPositionIdentifier"
    trigger = get_number(dataset, "TriggerTime")
    if trigger is not None:
        record.trigger_time_ms, record.trigger_source = trigger, "(0018,1060) TriggerTime"
    (record.acquisition_s, record.acquisition_has_date,
     record.acquisition_source) = dicom_timing.acquisition_seconds(dataset)
    record.b, record.b_source = dicom_bvalues.b_value(dataset)
    record.b_vector, record.b_vector_source = dicom_bvalues.b_vector(dataset)
    record.echo_time_ms = get_number(dataset, "EchoTime")
    record.rescale_slope = get_number(dataset, "RescaleSlope") or 1.0
    record.rescale_intercept = get_number(dataset, "RescaleIntercept") or 0.0
    return record


def _enhanced_records(path, dataset):
    """One record per frame of an enhanced (multi-frame) image."""
    per_frame = dataset.get("PerFrameFunctionalGroupsSequence") or []
    n_frames = int(dataset.get("NumberOfFrames", 1) or 1)
    if len(per_frame) != n_frames:
        raise InputError("DICOM file %s: multi-frame image with %d frames but %d per-frame functional groups"
                         % (path, n_frames, len(per_frame)))
    records = []
    for index, item in enumerate(per_frame):
        record = SliceRecord(path=path, frame_index=index, header=dataset)
        _common_fields(record, dataset)
        position = _functional_item(dataset, item, "PlanePositionSequence")
        orientation = _functional_item(dataset, item, "PlaneOrientationSequence")
        measures = _functional_item(dataset, item, "PixelMeasuresSequence")
        record.position = as_float_array(position.get("ImagePositionPatient") if position else None, 3)
        record.orientation = as_float_array(orientation.get("ImageOrientationPatient") if orientation else None, 6)
        record.pixel_spacing = as_float_array(measures.get("PixelSpacing") if measures else None, 2)
        content = _functional_item(dataset, item, "FrameContentSequence")
        if content is not None and content.get("TemporalPositionIndex") is not None:
            record.temporal_position = float(content.TemporalPositionIndex)
            record.temporal_position_source = "(0020,9128) TemporalPositionIndex"
        cardiac = _functional_item(dataset, item, "CardiacSynchronizationSequence")
        if cardiac is not None and cardiac.get("NominalCardiacTriggerDelayTime") is not None:
            record.trigger_time_ms = float(cardiac.NominalCardiacTriggerDelayTime)
            record.trigger_source = "(0020,9153) NominalCardiacTriggerDelayTime"
        (record.acquisition_s, record.acquisition_has_date,
         record.acquisition_source) = dicom_timing.acquisition_seconds(dataset, content)
        record.b, record.b_source = dicom_bvalues.b_value(dataset, item)
        record.b_vector, record.b_vector_source = dicom_bvalues.b_vector(dataset, item)
        echo = _functional_item(dataset, item, "MREchoSequence")
        record.echo_time_ms = get_number(echo, "EffectiveEchoTime") if echo is not None else None
        transform = _functional_item(dataset, item, "PixelValueTransformationSequence")
        holder = transform if transform is not None else dataset
        record.rescale_slope = get_number(holder, "RescaleSlope") or 1.0
        record.rescale_intercept = get_number(holder, "RescaleIntercept") or 0.0
        records.append(record)
    return records


MAX_RESCALE = 1e6      # a slope or intercept beyond this turns 16-bit data into nonsense values


def check_rescale(record):
    for name, value in (("RescaleSlope", record.rescale_slope), ("RescaleIntercept", record.rescale_intercept)):
        if not np.isfinite(value) or abs(value) > MAX_RESCALE or (name == "RescaleSlope" and value == 0):
            raise InputError("DICOM file %s: %s = %r is not a usable rescale value" % (record.label, name, value))


def _parse_all(dataset):
    """Decode every element now (pydicom decodes lazily), so a damaged one fails here, named."""
    for holder in (getattr(dataset, "file_meta", None), dataset):
        if holder is not None:
            for _ in holder.iterall():
                pass


def _read_header(path):
    """(dataset, why_skipped). Raises InputError for a DICOM file that cannot be parsed."""
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            has_magic = handle.read(4) == b"DICM"
    except OSError as error:
        return None, "unreadable (%s)" % error
    if has_magic:
        try:
            dataset = pydicom.dcmread(path, stop_before_pixels=True)
            _parse_all(dataset)
        except Exception as error:  # pydicom raises many types on corrupt files
            raise InputError("DICOM file %s is corrupted: %s" % (path, error)) from None
        if "SOPClassUID" not in dataset and "Rows" not in dataset:
            raise InputError("DICOM file %s is corrupted: it ends after the file meta header" % path)
    else:
        try:
            dataset = pydicom.dcmread(path, stop_before_pixels=True, force=True)
            _parse_all(dataset)
        except Exception:
            return None, "not DICOM"
        if "SOPClassUID" not in dataset or "SeriesInstanceUID" not in dataset:
            return None, "not DICOM"
    if str(dataset.get("MediaStorageSOPClassUID", getattr(dataset.get("file_meta"), "MediaStorageSOPClassUID", ""))) == DICOMDIR_SOP_CLASS \
            or "DirectoryRecordSequence" in dataset:
        return None, "DICOMDIR"
    if "Rows" not in dataset or "Columns" not in dataset:
        return None, "DICOM without an image"
    return dataset, None


def records_from_file(path, dataset):
    try:
        if int(dataset.get("NumberOfFrames", 1) or 1) > 1 or "PerFrameFunctionalGroupsSequence" in dataset:
            return _enhanced_records(path, dataset)
        return [_classic_record(path, dataset)]
    except InputError:
        raise
    except Exception as error:  # a damaged header element (wrong VR, unparsable value)
        raise InputError("DICOM file %s: a header element cannot be read (%s: %s)"
                         % (path, type(error).__name__, error)) from None


def _summarise_skipped(skipped):
    warnings = []
    for reason in sorted(skipped):
        names = skipped[reason]
        shown = ", ".join(names[:5]) + (" and %d more" % (len(names) - 5) if len(names) > 5 else "")
        if reason != "DICOMDIR":
            warnings.append("skipped %d file(s) (%s): %s" % (len(names), reason, shown))
    return warnings


def scan(path):
    """Records grouped by SeriesInstanceUID (dict, in order of first appearance) and warnings.

    ``path`` is a folder (searched recursively) or one DICOM file.
    """
    if os.path.isdir(path):
        paths = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            paths.extend(os.path.join(root, name) for name in sorted(files))
    elif os.path.isfile(path):
        paths = [path]
    else:
        raise InputError("DICOM input %s does not exist" % path)
    series, skipped = {}, {}
    for file_path in paths:
        dataset, why = _read_header(file_path)
        if dataset is None:
            skipped.setdefault(why, []).append(os.path.relpath(file_path, path) if os.path.isdir(path) else file_path)
            continue
        for record in records_from_file(file_path, dataset):
            check_rescale(record)
            series.setdefault(record.series_uid, []).append(record)
    if not series:
        raise InputError("no DICOM images found in %s (%d file(s) looked at)" % (path, len(paths)))
    return series, _summarise_skipped(skipped)


def iter_pixels(records):
    """Yield the stored pixel values (rows, cols) of each record, reading each file once.

    Multi-frame files stay cached while their frames are needed, since frames of one file
    may be requested in any order.
    """
    remaining = {}
    for record in records:
        remaining[record.path] = remaining.get(record.path, 0) + 1
    cache = {}
    for record in records:
        pixels = cache.get(record.path)
        if pixels is None:
            try:
                pixels = pydicom.dcmread(record.path).pixel_array
            except Exception as error:  # truncated or undecodable pixel data
                raise InputError("DICOM file %s: cannot read its pixel data (%s)" % (record.path, error)) from None
            if record.frame_index is not None:
                cache[record.path] = pixels
        image = pixels if record.frame_index is None else pixels[record.frame_index]
        if image.shape != (record.rows, record.cols):
            raise InputError("DICOM file %s: pixel data has shape %s, header says %d x %d"
                             % (record.label, image.shape, record.rows, record.cols))
        remaining[record.path] -= 1
        if remaining[record.path] == 0:
            cache.pop(record.path, None)
        yield image
