"""Units and quantities as coded entries, so every map node says what it holds.

Units use UCUM codes (https://ucum.org); quantities use a private coding scheme (DICOM's
convention: designators starting with "99") whose meanings follow the OSIPI CAPLEX lexicon.
"""
import slicer

from .. import quantities

# internal unit text -> (UCUM code, human-readable meaning): one table, in the quantity registry
UNITS = quantities.UNITS

QUANTITY_SCHEME = "99TMEM"


def unit_entry(unit):
    if unit not in UNITS:
        raise ValueError(f"unknown unit '{unit}'; known: {', '.join(sorted(UNITS))}")
    code, meaning = UNITS[unit]
    entry = slicer.vtkCodedEntry()
    entry.SetValueSchemeMeaning(code, "UCUM", meaning)
    return entry


def quantity_entry(quantity):
    entry = slicer.vtkCodedEntry()
    entry.SetValueSchemeMeaning(quantity, QUANTITY_SCHEME, quantity)
    return entry


def display_unit(unit):
    return quantities.human_unit(unit)
