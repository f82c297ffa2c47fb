"""Acquisition metadata of a DICOM series (in project units: s, degrees, T)."""
from .dicom_tags import get_number, sequence_item


def _shared(dataset, *keywords):
    return sequence_item(dataset, "SharedFunctionalGroupsSequence", *keywords) or \
        sequence_item(dataset, "PerFrameFunctionalGroupsSequence", *keywords)


def series_metadata(dataset):
    """Dict with the fields that are present: TR_s, TE_s, TI_s, flip_angle_deg, field_strength_T, ..."""
    timing = _shared(dataset, "MRTimingAndRelatedParametersSequence")
    echo = _shared(dataset, "MREchoSequence")
    modifier = _shared(dataset, "MRModifierSequence")
    measures = _shared(dataset, "PixelMeasuresSequence")
    values = {
        "TR_s": get_number(dataset, "RepetitionTime") or (get_number(timing, "RepetitionTime") if timing else None),
        "TE_s": get_number(dataset, "EchoTime") or (get_number(echo, "EffectiveEchoTime") if echo else None),
        "TI_s": get_number(dataset, "InversionTime") or (get_number(modifier, "InversionTimes") if modifier else None),
    }
    metadata = {key: value / 1000.0 for key, value in values.items() if value is not None}   # ms → s
    flip = get_number(dataset, "FlipAngle") or (get_number(timing, "FlipAngle") if timing else None)
    if flip is not None:
        metadata["flip_angle_deg"] = flip
    for key, keyword in (("field_strength_T", "MagneticFieldStrength"), ("slice_thickness_mm", "SliceThickness")):
        value = get_number(dataset, keyword)
        if value is None and keyword == "SliceThickness" and measures is not None:
            value = get_number(measures, keyword)
        if value is not None:
            metadata[key] = value
    for key, keyword in (("manufacturer", "Manufacturer"), ("manufacturer_model", "ManufacturerModelName"),
                         ("series_description", "SeriesDescription"), ("series_instance_uid", "SeriesInstanceUID"),
                         ("study_instance_uid", "StudyInstanceUID"), ("study_date", "StudyDate"),
                         ("patient_id", "PatientID"), ("modality", "Modality"),
                         ("sequence_name", "SequenceName"), ("protocol_name", "ProtocolName")):
        value = dataset.get(keyword)
        if value not in (None, ""):
            metadata[key] = str(value)
    number = get_number(dataset, "SeriesNumber")
    if number is not None:
        metadata["series_number"] = int(number)
    return metadata
