"""What a written map holds, carried in the file: quantity, unit, display unit and scale, map name.

NRRD maps get key/value fields (``TMEMonitor.MapName:=Ktrans``, ``TMEMonitor.Quantity:=Ktrans``,
``TMEMonitor.Unit:=1/min``, ``TMEMonitor.UnitUCUM:=/min``, ``TMEMonitor.DisplayUnit``,
``TMEMonitor.DisplayScale``; label maps their codes), NIfTI maps a BIDS-style JSON sidecar
beside them (``Units``, ``Description``, plus the same fields), so a map read back by another
tool or by ``tme-monitor`` says what it is. The names come from the registry of quantities
(:mod:`TMEMonitorLib.quantities`), one naming for the command line, the demo and the scene:
a map file is called after its registry name (``Ktrans.nrrd``, ``se_Ktrans.nrrd``).
No slicer import: nodes are read through ``GetAttribute`` only.
"""
import json
import os

from .. import quantities
from ..errors import InputError

PREFIX = "TMEMonitor."
# Node attributes carried into the file (scene/attribute_names.py spells them the same way).
NODE_ATTRIBUTES = ("MapName", "Quantity", "Unit", "DisplayUnit", "DisplayScale", "StatusCodes", "ModelCodes",
                   "Biomarker")


def fields_for_map(map_name):
    """The fields of a registry map name."""
    entry = quantities.lookup(map_name)
    fields = {"MapName": map_name, "Quantity": entry.quantity, "Unit": entry.unit,
              "UnitUCUM": quantities.UNITS.get(entry.unit, (entry.unit, entry.unit))[0],
              "DisplayUnit": entry.display_unit, "DisplayScale": repr(float(entry.display_scale))}
    if entry.kind == quantities.LABEL and entry.description:
        fields["Codes"] = entry.description
    return fields


def map_name_by_quantity(quantity, unit=None):
    """The registry map name whose quantity (and unit) a node carries ('standard error of Ktrans' ->
    'se_Ktrans'), for nodes written before the map name was stored; None when none or several match."""
    candidates = []
    for name, entry in quantities.REGISTRY.items():
        for candidate in (name, "se_" + name):
            found = quantities.lookup(candidate)
            if found.quantity == quantity and (unit is None or found.unit == unit):
                candidates.append(candidate)
    names = {quantities.lookup(c).quantity: c for c in candidates}
    return candidates[0] if len(names) == 1 else None


def fields_for_node(node):
    """Fields of a map node from its TMEMonitor attributes (registry entry first, node attributes win);
    {} when the node carries none (an anatomy image, a label map of tissues)."""
    attributes = {name: node.GetAttribute(PREFIX + name) for name in NODE_ATTRIBUTES}
    attributes = {k: v for k, v in attributes.items() if v}
    map_name = attributes.get("MapName")
    if not map_name and attributes.get("Quantity"):
        map_name = map_name_by_quantity(attributes["Quantity"], attributes.get("Unit"))
        if map_name:
            attributes["MapName"] = map_name
    if map_name:
        fields = fields_for_map(map_name)
    elif "Quantity" in attributes:
        fields = {}
    else:
        return {}
    fields.update(attributes)
    unit = fields.get("Unit")
    if unit is not None and "UnitUCUM" not in fields and unit in quantities.UNITS:
        fields["UnitUCUM"] = quantities.UNITS[unit][0]
    return fields


def file_stem(map_name):
    """File name (without extension) of a map: its registry name with characters unsafe in file names
    replaced ('tCho/tCr' -> 'tCho_tCr', 'fit status' -> 'fit_status')."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(map_name)).strip("_") or "map"


def _clean(text):
    return str(text).replace("\n", " ").replace("\r", " ")


def annotate_nrrd(path, fields):
    """Add (or replace) ``TMEMonitor.<field>:=value`` lines in the header of the NRRD file at ``path``.

    The header is text up to the first blank line; the data (attached, possibly gzip) follows
    untouched, so rewriting the header keeps the file valid."""
    if not fields:
        return path
    with open(path, "rb") as handle:
        content = handle.read()
    if not content.startswith(b"NRRD000"):
        raise InputError(f"{path} is not a NRRD file (no NRRD000x magic line)")
    end = content.find(b"\n\n")
    if end < 0:
        raise InputError(f"NRRD file {path}: no blank line ends the header")
    lines = content[:end].decode("latin-1").split("\n")
    keys = {PREFIX + name for name in fields}
    lines = [line for line in lines if line.partition(":=")[0] not in keys]
    lines += [f"{PREFIX}{name}:={_clean(value)}" for name, value in fields.items()]
    with open(path, "wb") as handle:
        handle.write("\n".join(lines).encode("latin-1", "replace") + content[end:])
    return path


def read_nrrd_fields(path):
    """{field: text} of the TMEMonitor key/value pairs of a NRRD header (the acquisition values too)."""
    from .nrrd_file import read_header
    return {key[len(PREFIX):]: value for key, value in read_header(path).keys.items() if key.startswith(PREFIX)}


def write_json_sidecar(nifti_path, fields):
    """A BIDS-style JSON beside a NIfTI map: Units and Description as BIDS names them, plus the fields."""
    stem = nifti_path[:-7] if nifti_path.endswith(".nii.gz") else os.path.splitext(nifti_path)[0]
    sidecar = {"Units": fields.get("Unit", ""), "Description": fields.get("Quantity", "")}
    sidecar.update({f"TMEMonitor{name}": value for name, value in fields.items()})
    path = stem + ".json"
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(sidecar, handle, indent=1)
    return path


def annotate_map_file(path, fields):
    """Carry ``fields`` in a written map: NRRD header fields, or a JSON sidecar beside a NIfTI file."""
    if not fields:
        return path
    lower = path.lower()
    if lower.endswith(".nrrd") or lower.endswith(".nhdr"):
        return annotate_nrrd(path, fields)
    if lower.endswith((".nii", ".nii.gz")):
        write_json_sidecar(path, fields)
        return path
    return path
