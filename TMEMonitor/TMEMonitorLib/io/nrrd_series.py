"""Read a 4D NRRD: a Slicer volume sequence (.seq.nrrd), a legacy MultiVolume NRRD, or a DWI NRRD.

Slicer's vtkMRMLVolumeSequenceStorageNode writes ``kinds: domain domain domain list`` (older
versions put the list axis first), the index name in ``labels``, its unit in ``units`` and
the values in the key ``axis <A> index values:=v0 v1 ...`` with ``axis <A> index type:=numeric``.
The MultiVolume module wrote ``MultiVolume.FrameLabels`` with
``MultiVolume.FrameIdentifyingDICOMTagUnits``; DWI NRRDs (NA-MIC convention) hold
``DWMRI_b-value`` and ``DWMRI_gradient_NNNN`` with b_i = b * |g_i|^2.
"""
import numpy as np

from ..errors import InputError, MetadataError
from . import nrrd_file
from .axis import resolve_axis
from .plausibility import check_finite_frames, check_magnitude
from .series import Series

TIME_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0, "ms": 1e-3, "msec": 1e-3,
              "millisecond": 1e-3, "milliseconds": 1e-3, "min": 60.0, "minute": 60.0, "minutes": 60.0, "h": 3600.0}
B_UNITS = ("s/mm2", "s/mm^2", "s/mm²", "s*mm^-2", "smm-2")
TIME_NAMES = ("time", "t", "triggertime", "acquisitiontime", "contenttime", "frametime", "frame time",
              "trigger time", "acquisition time")
B_NAMES = ("b", "bvalue", "b-value", "b value", "b_value", "diffusionbvalue")
FLIP_NAMES = ("flip_angle", "flipangle", "flip angle", "fa")
FLIP_UNITS = ("deg", "degree", "degrees", "°")
# Acquisition values our own writers put in a .seq.nrrd header (scene attributes TMEMonitor.<key>,
# kept by Slicer's sequence storage node): read back so that a file we wrote is a complete input.
TME_PREFIX = "TMEMonitor."


def _classify(name, unit):
    """(axis_name, factor to s or s/mm2 or None when the unit is missing); (None, None) if unknown."""
    unit_key = (unit or "").strip().lower()
    name_key = (name or "").strip().lower()
    if unit_key in TIME_UNITS:
        return "time", TIME_UNITS[unit_key]
    if unit_key.replace(" ", "") in B_UNITS:
        return "b", 1.0
    if name_key in FLIP_NAMES and unit_key in FLIP_UNITS + ("",):
        return "flip_angle", 1.0
    if name_key in TIME_NAMES:
        return "time", None
    if name_key in B_NAMES:
        return "b", None
    return None, None


def _list_axis(nrrd):
    kinds = nrrd.list_field("kinds")
    directions = nrrd.list_field("space directions")
    candidates = []
    if kinds:
        candidates = [a for a, kind in enumerate(kinds) if kind.lower() in ("list", "time", "vector", "point", "covariant-vector")]
    if not candidates and directions:
        candidates = [a for a, direction in enumerate(directions) if direction is None]
    if len(candidates) != 1 or candidates[0] not in (0, 3) or (kinds and len(kinds) != 4):
        raise InputError("NRRD file %s: cannot find the single frame (list) axis among kinds %s"
                         % (nrrd.path, kinds))
    return candidates[0]


def _numeric(values_text, path, key):
    try:
        return np.array([float(x) for x in values_text.replace(",", " ").split()])
    except ValueError:
        raise MetadataError("%s: '%s' values are not numeric: %s" % (path, key, values_text[:80])) from None


def _detect_axis(nrrd, list_axis, n_frames):
    """(axis_name, values, provenance, warnings, extra_metadata); values None when unknown."""
    path, keys, warnings, extra = nrrd.path, nrrd.keys, [], {}
    labels = nrrd.list_field("labels") or [""] * 4
    units = nrrd.list_field("units") or [""] * 4
    if "DWMRI_b-value" in keys:
        b_max = _numeric(keys["DWMRI_b-value"], path, "DWMRI_b-value")
        if b_max.size != 1:
            raise MetadataError("%s: 'DWMRI_b-value' must be one number (s/mm2), got %r" % (path, keys["DWMRI_b-value"][:40]))
        b_max = float(b_max[0])
        gradients = np.array([_numeric(keys.get("DWMRI_gradient_%04d" % f, ""), path, "DWMRI_gradient")
                              for f in range(n_frames)])
        if gradients.shape != (n_frames, 3):
            raise MetadataError("%s: expected %d DWMRI_gradient_NNNN keys of 3 values" % (path, n_frames))
        norms = np.linalg.norm(gradients, axis=1)
        extra["b_vectors"] = np.divide(gradients, norms[:, None], out=np.zeros_like(gradients), where=norms[:, None] > 0)
        extra["b_vectors_frame"] = "NRRD measurement frame"
        return "b", b_max * norms ** 2, "NRRD DWMRI_b-value × |DWMRI_gradient|² (NA-MIC DWI convention)", warnings, extra
    key = "axis %d index values" % list_axis
    if key in keys:
        index_type = keys.get("axis %d index type" % list_axis, "numeric").strip().lower()
        name, unit = labels[list_axis], units[list_axis]
        axis_name, factor = _classify(name, unit)
        if index_type != "numeric" or axis_name is None:
            return None, None, "sequence index '%s' (%s, unit '%s') is neither time, b nor flip angle" % (
                name, index_type, unit), warnings, extra
        values = _numeric(keys[key], path, key)
        if factor is None:
            factor = 1.0
            warnings.append("%s: sequence index '%s' has no unit; assumed %s" % (path, name, "s" if axis_name == "time" else "s/mm2"))
        if axis_name == "flip_angle" and not unit:
            warnings.append("%s: flip angles without a unit; assumed deg" % path)
        source = "NRRD key '%s' (index '%s', unit '%s'%s)" % (key, name, unit or "none", ", × %g" % factor if factor != 1 else "")
        return axis_name, values * factor, source, warnings, extra
    if "MultiVolume.FrameLabels" in keys:
        tag = keys.get("MultiVolume.FrameIdentifyingDICOMTagName", "")
        unit = keys.get("MultiVolume.FrameIdentifyingDICOMTagUnits", "")
        axis_name, factor = _classify(tag, unit)
        if axis_name is None:
            return None, None, "MultiVolume frames identified by '%s' (unit '%s')" % (tag, unit), warnings, extra
        if factor is None:
            factor = 1.0
            warnings.append("%s: MultiVolume frame unit missing; assumed %s" % (path, "s" if axis_name == "time" else "s/mm2"))
        values = _numeric(keys["MultiVolume.FrameLabels"], path, "MultiVolume.FrameLabels") * factor
        return axis_name, values, "NRRD MultiVolume.FrameLabels (%s, %s)" % (tag, unit or "no unit"), warnings, extra
    name, unit = labels[list_axis], units[list_axis]
    return None, None, "no 'axis %d index values' or MultiVolume.FrameLabels key (axis label '%s')" % (list_axis, name), warnings, extra


def _multivolume_metadata(keys, path):
    metadata = {}
    for key, name, factor in (("TR_s", "MultiVolume.DICOM.RepetitionTime", 1e-3),
                              ("TE_s", "MultiVolume.DICOM.EchoTime", 1e-3),       # DICOM ms → s
                              ("flip_angle_deg", "MultiVolume.DICOM.FlipAngle", 1.0)):
        if keys.get(name, "").strip():
            values = _numeric(keys[name], path, name)
            if values.size != 1 or not np.isfinite(values[0]):
                raise MetadataError("%s: '%s' must be one number, got %r" % (path, name, keys[name][:40]))
            metadata[key] = float(values[0]) * factor
    return metadata


def _tme_metadata(keys):
    """(metadata, provenance) of the ``TMEMonitor.<key>:=value`` pairs: numbers as floats, text kept;
    node descriptors (Role, AxisSource, Source.*) are not acquisition values."""
    metadata, provenance = {}, {}
    for key, text in keys.items():
        if not key.startswith(TME_PREFIX):
            continue
        name = key[len(TME_PREFIX):]
        if not name or "." in name or (name[0].isupper() and "_" not in name):   # Role, AxisSource, Source.TR_s
            continue
        try:
            value = float(text)
        except ValueError:
            value = text.strip()
        metadata[name] = value
        provenance[name] = "NRRD key '%s'" % key
    return metadata, provenance


def read_nrrd_series(path, **overrides):
    path = str(path)
    nrrd = nrrd_file.read_header(path)
    if nrrd.integer("dimension", minimum=1) != 4:
        raise InputError("NRRD file %s is %sD, not a 4D series" % (path, nrrd.fields["dimension"]))
    nrrd.sizes()
    list_axis = _list_axis(nrrd)
    domain_axes = [a for a in range(4) if a != list_axis]
    data = nrrd_file.read_data(nrrd)     # C order: sizes reversed
    array = data if list_axis == 3 else np.moveaxis(data, -1, 0)
    array = np.ascontiguousarray(array, dtype=overrides.get("dtype", np.float64))
    n_frames = array.shape[0]
    axis_name, values, source, warnings, extra = _detect_axis(nrrd, list_axis, n_frames)
    if values is not None and values.size != n_frames:
        raise MetadataError("%s: %d axis values for %d frames (%s)" % (path, values.size, n_frames, source))
    if overrides.get("axis_name") and overrides["axis_name"] != axis_name and values is not None:
        warnings.append("%s: axis '%s' in the file ignored: axis_name='%s' given" % (path, axis_name, overrides["axis_name"]))
        values = None
    if axis_name is None and not overrides.get("axis_name") and overrides.get("frame_time_s") is None:
        raise MetadataError("%s: cannot tell the 4D axis: %s; pass axis_name='time' or 'b' with axis_values= "
                            "(or frame_time_s=)" % (path, source))
    axis_name, axis_values, axis_source, axis_warnings = resolve_axis(
        axis_name or "time", values, source, n_frames, path, overrides, source if values is None else "")
    metadata, acquisition_sources = _tme_metadata(nrrd.keys)
    metadata.update(_multivolume_metadata(nrrd.keys, path))
    metadata.update(extra)
    metadata["nrrd_keys"] = dict(nrrd.keys)
    provenance = {"geometry": "NRRD space directions / space origin (%s → RAS)" % nrrd.fields.get("space"),
                  "axis_values": axis_source}
    if "b_vectors" in extra:
        provenance["b_vectors"] = "NRRD DWMRI_gradient_NNNN keys"
    provenance.update({key: source for key, source in acquisition_sources.items() if key in metadata})
    warnings += axis_warnings
    warnings += check_finite_frames(array, path)
    check_magnitude(array, path)
    return Series(array=array, axis_name=axis_name, axis_values=axis_values,
                  ijk_to_ras=nrrd_file.ijk_to_ras(nrrd, domain_axes), metadata=metadata,
                  provenance=provenance, warnings=warnings, source=path)
