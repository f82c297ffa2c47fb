"""Diffusion b-value (s/mm2) and gradient direction of one DICOM image or enhanced frame.

Order: DiffusionBValue (0018,9087) (in MRDiffusionSequence for enhanced MR), then vendor
private tags: Siemens (0019,100C) B_value, GE (0043,1039) first value, Philips (2001,1003).
Directions: DiffusionGradientOrientation (0018,9089), then Siemens (0019,100E), Philips
(2005,10B0-10B2). Directions are in the DICOM patient frame (LPS), as the tags store them.
"""
import numpy as np

from .dicom_tags import first_number, numbers, private_value, sequence_item

SIEMENS_CREATOR = "SIEMENS MR HEADER"
GE_CREATOR = "GEMS_PARM_01"
PHILIPS_B_CREATOR = "Philips Imaging DD 001"
PHILIPS_VECTOR_CREATOR = "Philips MR Imaging DD 001"

# GE adds 1e9 to the b-value in (0043,1039) on some software versions (as dcm2niix and
# mrtrix3 handle it); the true b is the value modulo 1e9.
GE_B_OFFSET = 1_000_000_000


def _ge_b_value(value):
    b = first_number(value)
    if b is None:
        return None
    return float(b % GE_B_OFFSET) if b >= GE_B_OFFSET else float(b)


def b_value(dataset, frame_item=None):
    """(b in s/mm2, source) or (None, None)."""
    diffusion = sequence_item(frame_item, "MRDiffusionSequence") if frame_item is not None else None
    if diffusion is None:
        diffusion = sequence_item(dataset, "SharedFunctionalGroupsSequence", "MRDiffusionSequence")
    for holder, label in ((diffusion, "(0018,9087) DiffusionBValue in MRDiffusionSequence"),
                          (dataset, "(0018,9087) DiffusionBValue")):
        if holder is not None and holder.get("DiffusionBValue") not in (None, ""):
            b = first_number(holder.DiffusionBValue, "d")
            if b is not None:
                return float(b), label
    b = first_number(private_value(dataset, 0x0019, SIEMENS_CREATOR, 0x0C))
    if b is not None:
        return float(b), "Siemens private (0019,100C) B_value"
    b = _ge_b_value(private_value(dataset, 0x0043, GE_CREATOR, 0x39))
    if b is not None:
        return b, "GE private (0043,1039) first value (modulo 1e9)"
    b = first_number(private_value(dataset, 0x2001, PHILIPS_B_CREATOR, 0x03), "f")
    if b is not None:
        return float(b), "Philips private (2001,1003) Diffusion B-Factor"
    return None, None


def b_vector(dataset, frame_item=None):
    """(unit-or-zero 3-vector in LPS, source) or (None, None)."""
    diffusion = sequence_item(frame_item, "MRDiffusionSequence") if frame_item is not None else None
    direction_item = sequence_item(diffusion, "DiffusionGradientDirectionSequence") if diffusion else None
    for holder, label in ((direction_item, "(0018,9089) DiffusionGradientOrientation in MRDiffusionSequence"),
                          (dataset, "(0018,9089) DiffusionGradientOrientation")):
        if holder is not None and holder.get("DiffusionGradientOrientation") is not None:
            vector = numbers(holder.DiffusionGradientOrientation, "d")
            if vector is not None and len(vector) == 3:
                return np.array(vector, dtype=float), label
    vector = numbers(private_value(dataset, 0x0019, SIEMENS_CREATOR, 0x0E), "d")
    if vector is not None and len(vector) == 3:
        return np.array(vector, dtype=float), "Siemens private (0019,100E) DiffusionGradientDirection"
    parts = [first_number(private_value(dataset, 0x2005, PHILIPS_VECTOR_CREATOR, offset), "f")
             for offset in (0xB0, 0xB1, 0xB2)]
    if all(part is not None for part in parts):
        return np.array(parts, dtype=float), "Philips private (2005,10B0-10B2) diffusion direction"
    return None, None
