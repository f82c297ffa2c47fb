"""Contrast-agent T1 relaxivity presets (1/(mM s)) and the default haematocrit.

Sources (37 degC):
- plasma: Rohrer M, et al. Comparison of magnetic properties of MRI contrast media
  solutions at different magnetic field strengths. Invest Radiol 2005;40:715-724,
  doi:10.1097/01.rli.0000184756.66360.d3 (1.5 T and 3 T columns).
- blood: Shen Y, et al. T1 relaxivities of gadolinium-based MR contrast agents in human
  whole blood at 1.5, 3, and 7 T. Invest Radiol 2015;50:330-338,
  doi:10.1097/RLI.0000000000000132.
Check the value against your own protocol: relaxivity depends on medium, field and
temperature, and the choice of r1 scales every concentration (and Ktrans) directly.
"""
import warnings

from TMEMonitorLib.errors import InputError

# Typical adult large-vessel haematocrit, the value conventionally paired with the
# Parker population AIF to convert blood to plasma concentration (Parker et al.,
# MRM 2006, doi:10.1002/mrm.21066). Small-vessel haematocrit is lower.
HEMATOCRIT_LARGE_VESSEL = 0.42
DEFAULT_HEMATOCRIT = HEMATOCRIT_LARGE_VESSEL

_ROHRER = "Rohrer et al. Invest Radiol 2005, doi:10.1097/01.rli.0000184756.66360.d3"
_SHEN = "Shen et al. Invest Radiol 2015, doi:10.1097/RLI.0000000000000132"

# generic name -> medium -> {field_T: r1 in 1/(mM s)}
RELAXIVITY = {
    "gadopentetate": {"plasma": {1.5: 4.1, 3.0: 3.7}, "blood": {1.5: 4.3, 3.0: 3.8, 7.0: 3.1}},
    "gadoterate": {"plasma": {1.5: 3.6, 3.0: 3.5}, "blood": {1.5: 3.9, 3.0: 3.4, 7.0: 2.8}},
    "gadobutrol": {"plasma": {1.5: 5.2, 3.0: 5.0}, "blood": {1.5: 4.6, 3.0: 4.5, 7.0: 4.2}},
    "gadoteridol": {"plasma": {1.5: 4.1, 3.0: 3.7}, "blood": {1.5: 4.4, 3.0: 3.5, 7.0: 3.4}},
    "gadodiamide": {"plasma": {1.5: 4.3, 3.0: 4.0}, "blood": {1.5: 4.5, 3.0: 3.9, 7.0: 3.7}},
    "gadobenate": {"plasma": {1.5: 6.3, 3.0: 5.5}, "blood": {1.5: 6.2, 3.0: 5.4, 7.0: 4.7}},
    "gadoxetate": {"plasma": {1.5: 6.9, 3.0: 6.2}, "blood": {1.5: 7.2, 3.0: 5.5, 7.0: 4.9}},
    "gadoversetamide": {"plasma": {1.5: 4.7, 3.0: 4.5}},
    "gadofosveset": {"plasma": {1.5: 19.0, 3.0: 9.9}},
}

SOURCES = {"plasma": _ROHRER, "blood": _SHEN}

# other spellings (chemical and brand names) -> generic name
ALIASES = {
    "gd-dtpa": "gadopentetate", "magnevist": "gadopentetate", "gadopentetic acid": "gadopentetate",
    "gd-dota": "gadoterate", "dotarem": "gadoterate", "clariscan": "gadoterate",
    "gadoteric acid": "gadoterate",
    "gd-bt-do3a": "gadobutrol", "gadovist": "gadobutrol", "gadavist": "gadobutrol",
    "gd-hp-do3a": "gadoteridol", "prohance": "gadoteridol",
    "gd-dtpa-bma": "gadodiamide", "omniscan": "gadodiamide",
    "gd-bopta": "gadobenate", "multihance": "gadobenate",
    "gd-eob-dtpa": "gadoxetate", "primovist": "gadoxetate", "eovist": "gadoxetate",
    "gd-dtpa-bmea": "gadoversetamide", "optimark": "gadoversetamide",
    "ms-325": "gadofosveset", "vasovist": "gadofosveset", "ablavar": "gadofosveset",
}

# a preset is used for a field this far (tesla) from a tabulated one, with a warning
MAX_FIELD_MISMATCH_T = 0.75


def canonical_agent(agent):
    """Generic name for ``agent`` (generic, chemical or brand name, any case)."""
    key = str(agent).strip().lower()
    key = ALIASES.get(key, key)
    for suffix in (" dimeglumine", " meglumine", " disodium", " trisodium"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    if key not in RELAXIVITY:
        raise InputError(
            f"contrast agent '{agent}': no relaxivity preset; known agents are "
            f"{', '.join(sorted(RELAXIVITY))} (or give r1 explicitly)")
    return key


def relaxivity(agent, field_T, medium="plasma"):
    """T1 relaxivity r1 in 1/(mM s) of ``agent`` at ``field_T`` tesla in ``medium``.

    ``medium`` is "plasma" (Rohrer 2005) or "blood" (Shen 2015). A field that is not
    tabulated uses the nearest tabulated one with a warning, if within
    MAX_FIELD_MISMATCH_T; otherwise InputError.
    """
    name = canonical_agent(agent)
    try:
        field = float(field_T)
    except (TypeError, ValueError):
        raise InputError(f"field_T: expected a field strength in tesla, got {field_T!r}") from None
    if not field > 0:
        raise InputError(f"field_T: field strength must be positive, got {field_T!r}")
    table = RELAXIVITY[name].get(medium)
    if table is None:
        media = ", ".join(sorted(RELAXIVITY[name]))
        raise InputError(f"medium '{medium}': no {name} preset for this medium (available: {media})")
    nearest = min(table, key=lambda f: abs(f - field))
    if abs(nearest - field) > MAX_FIELD_MISMATCH_T:
        raise InputError(
            f"field_T {field:g} T: no {name} {medium} relaxivity near this field "
            f"(tabulated: {', '.join(f'{f:g} T' for f in sorted(table))}); give r1 explicitly")
    if abs(nearest - field) > 1e-6:
        warnings.warn(f"{name} r1 at {field:g} T not tabulated; using the {nearest:g} T value "
                      f"({table[nearest]} /mM/s, {SOURCES[medium]})", stacklevel=2)
    return table[nearest]


def source(medium="plasma"):
    """Citation of the relaxivity table for ``medium``."""
    return SOURCES[medium]
