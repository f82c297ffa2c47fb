"""DCE acquisition parameters (TR, flip angle, field strength, relaxivity, haematocrit) with
where each value came from; refuses when one is missing or implausible."""
import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

from . import agents


def resolve_acquisition(metadata, provenance, settings):
    """TR, flip angle, field strength and relaxivity with where each came from; refuses when missing."""
    provenance = provenance or {}
    resolved = {}
    for key, override, label in (("TR_s", settings.tr_s, "repetition time TR (s)"),
                                 ("flip_angle_deg", settings.flip_angle_deg, "flip angle (deg)"),
                                 ("field_strength_T", settings.field_strength_T, "field strength (T)")):
        if override is not None:
            resolved[key] = (float(override), "user setting")
        elif metadata_number(metadata.get(key)) is not None:
            resolved[key] = (metadata_number(metadata[key]), provenance.get(key, "acquisition metadata"))
        elif key == "field_strength_T" and settings.relaxivity_per_mM_s is not None:
            continue
        else:
            raise MetadataError(f"DCE series: the {label} is missing from the acquisition metadata; "
                                f"give it as a setting")
    tr, _ = resolved["TR_s"]
    if not 0 < tr < 1.0:
        raise MetadataError(f"DCE series: TR = {tr:g} s is implausible for a spoiled gradient echo (is it in ms?)")
    flip, _ = resolved["flip_angle_deg"]
    if not 0 < flip < 90:
        raise MetadataError(f"DCE series: flip angle {flip:g} deg is implausible for DCE")
    if "field_strength_T" in resolved and not 0 < resolved["field_strength_T"][0] <= 21:
        raise MetadataError(f"DCE series: field strength {resolved['field_strength_T'][0]:g} T is implausible")
    if settings.relaxivity_per_mM_s is not None:
        if not settings.relaxivity_per_mM_s > 0:
            raise InputError(f"relaxivity: {settings.relaxivity_per_mM_s:g} 1/(mM s) must be positive")
        resolved["r1_per_mM_s"] = (float(settings.relaxivity_per_mM_s), "user setting")
    else:
        field_T = resolved["field_strength_T"][0]
        resolved["r1_per_mM_s"] = (float(agents.relaxivity(settings.agent, field_T)),
                                   f"preset for {settings.agent} at {field_T:g} T ({agents.source()})")
    resolved["hematocrit"] = hematocrit_entry(settings)
    return resolved


def hematocrit_entry(settings):
    return (float(settings.hematocrit), "user setting" if settings.hematocrit != 0.42
            else "default large-vessel haematocrit")


def metadata_number(value):
    """A finite float from a metadata value (numbers or numeric text), else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None
