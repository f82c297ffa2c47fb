"""Units and quantities as coded entries, so every map node says what it holds.

Units use UCUM codes (https://ucum.org); quantities use a private coding scheme (DICOM's
convention: designators starting with "99") whose meanings follow the OSIPI CAPLEX lexicon.
"""
import slicer

# internal unit text -> (UCUM code, human-readable meaning)
UNITS = {
    "1/min": ("/min", "1/min"),
    "1/s": ("/s", "1/s"),
    "mL/min/mL": ("mL/min/mL", "mL/min/mL"),
    "mm2/s": ("mm2/s", "mm²/s"),
    "s": ("s", "s"),
    "ms": ("ms", "ms"),
    "mM": ("mmol/L", "mM"),
    "mM*s": ("mmol.s/L", "mM·s"),
    "mM/s": ("mmol/(L.s)", "mM/s"),
    "1/(mM s)": ("L/(mmol.s)", "1/(mM·s)"),
    "": ("1", "unitless"),
    "1": ("1", "unitless"),
    "%": ("%", "%"),
    "mm": ("mm", "mm"),
    "mL": ("mL", "mL"),
    "deg": ("deg", "°"),
    "ppm": ("[ppm]", "ppm"),
    "Hz": ("Hz", "Hz"),
    "a.u.": ("[arb'U]", "arbitrary units"),
    "kPa": ("kPa", "kPa"),
    "1/s per s": ("/s2", "1/s²"),
    "code": ("{code}", "category code"),
}

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
    return UNITS.get(unit, (unit, unit))[1]
