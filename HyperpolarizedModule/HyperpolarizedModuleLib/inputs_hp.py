"""Reading hyperpolarized inputs: per-metabolite dynamic series (DICOM / NIfTI+JSON / NRRD through
TMEMonitorLib.io.read_series) and MATLAB v5 ``.mat`` files (scipy.io.loadmat), with the TR and the
flip schedules and where each came from.

``.mat`` variables (names can be overridden with ``names={"pyruvate": "Spyr", "tr": "TR", ...}``):
  pyruvate, lactate, bicarbonate, alanine   one array per metabolite, time on the LAST axis:
                                            (t,), (x, t), (x, y, t) or (x, y, z, t)   [also pyr, lac, bic, ala]
  S                                         or all together, UCSF hyperpolarized-mri-toolbox layout
                                            (x, y, z, metabolites, t), metabolites in the order
                                            pyruvate, lactate, bicarbonate, alanine
  TR                                        s between frames
  flips                                     (metabolites, t * excitations) as the UCSF toolbox; or
  flip_pyruvate, flip_lactate, ...          per metabolite: scalar, (t,) or (t, excitations)
  flip_unit                                 "deg" or "rad" (the UCSF toolbox uses radians); else the caller's
  voxel_size_mm                             (3,) voxel size (x, y, z); else 1 mm with a note
  origin_mm                                 (3,) RAS position (mm) of the first voxel's centre; else 0
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

from . import flip_angles

ALIASES = {"pyruvate": ("pyruvate", "pyr"), "lactate": ("lactate", "lac"),
           "bicarbonate": ("bicarbonate", "bicarb", "bic"), "alanine": ("alanine", "ala"),
           "combined": ("S",), "tr": ("TR", "tr", "TR_s"), "flips": ("flips", "flip_angles"),
           "flip_unit": ("flip_unit", "flips_unit"), "voxel_size_mm": ("voxel_size_mm", "voxel_size"),
           "origin_mm": ("origin_mm", "origin")}
METABOLITE_ORDER = ("pyruvate", "lactate", "bicarbonate", "alanine")


@dataclass
class HyperpolarizedInputs:
    series: dict                          # metabolite -> (T, k, j, i)
    ijk_to_ras: np.ndarray
    frame_times_s: np.ndarray = None
    tr_s: float = None
    flips_deg: dict = field(default_factory=dict)     # metabolite -> schedule (deg)
    provenance: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    extras: dict = field(default_factory=dict)        # e.g. the per-frame quality of spectra fits


def frames_first(array, name):
    """A MATLAB-ordered array with time last, (x[, y[, z]], t), as (t, z, y, x)."""
    array = np.asarray(array)
    if array.ndim == 1:
        return array.reshape(-1, 1, 1, 1)
    if array.ndim > 4:
        raise InputError(f"{name}: {array.ndim} dimensions; expected (t,), (x, t), (x, y, t) or (x, y, z, t)")
    spatial = array.shape[:-1] + (1,) * (4 - array.ndim)
    return np.transpose(array.reshape(spatial + (array.shape[-1],)), (3, 2, 1, 0))


def _get(variables, role, names, aliases=None):
    candidates = (names[role],) if names and role in names else (aliases or ALIASES)[role]
    for name in candidates:
        if name in variables:
            return name, variables[name]
    if names and role in names:
        raise InputError(f".mat: variable '{names[role]}' (given for {role}) is not in the file")
    return None, None


def _text(value):
    array = np.asarray(value)
    if array.dtype.kind in "US":
        return "".join(array.ravel().tolist()).strip()
    return str(value)


def read_mat(path, names=None, flip_unit="deg", flip_unit_source="--flip-unit default (deg)"):
    """HyperpolarizedInputs from a MATLAB v5 .mat file (layout in the module docstring)."""
    from scipy import io as sio
    try:
        variables = sio.loadmat(path, squeeze_me=True)
    except (OSError, ValueError, NotImplementedError) as error:
        raise InputError(f".mat '{path}': cannot be read as MATLAB v5 ({error}); save with -v7 or earlier, "
                         "not -v7.3") from None
    provenance, notes = {}, []
    series = {}
    combined_name, combined = _get(variables, "combined", names)
    for metabolite in METABOLITE_ORDER:
        name, value = _get(variables, metabolite, names)
        if value is not None:
            series[metabolite] = frames_first(np.asarray(value), f".mat variable '{name}'")
            provenance[metabolite] = f".mat variable '{name}'"
    if not series and combined is not None:
        s = np.asarray(combined)
        if s.ndim < 2:
            raise InputError(f".mat variable '{combined_name}': expected (..., metabolites, t)")
        for index in range(min(s.shape[-2], len(METABOLITE_ORDER))):
            metabolite = METABOLITE_ORDER[index]
            series[metabolite] = frames_first(s[..., index, :], f"'{combined_name}'[..., {index}, :]")
            provenance[metabolite] = f".mat variable '{combined_name}' (metabolite {index + 1}, UCSF order)"
    if "pyruvate" not in series or "lactate" not in series:
        raise InputError(f".mat '{path}': no pyruvate and lactate variables (pyruvate/pyr, lactate/lac, or S); "
                         f"found {sorted(k for k in variables if not k.startswith('__'))}")
    tr_s, flips, ijk_to_ras, more, notes = mat_acquisition(variables, names, series["pyruvate"].shape[0], series,
                                                           flip_unit, flip_unit_source)
    provenance.update(more)
    return HyperpolarizedInputs(series=series, ijk_to_ras=ijk_to_ras, tr_s=tr_s, flips_deg=flips,
                                provenance=provenance, notes=notes)


def mat_acquisition(variables, names, n_frames, metabolites, flip_unit, flip_unit_source):
    """(TR s or None, {metabolite: flips deg}, ijk_to_ras, provenance, notes) from .mat variables (layout above)."""
    provenance, notes = {}, []
    series = tuple(metabolites)
    tr_name, tr = _get(variables, "tr", names)
    tr_s = None
    if tr is not None:
        tr_s = float(np.asarray(tr, dtype=float).ravel()[0])
        provenance["TR"] = f".mat variable '{tr_name}' (s)"
    unit_name, unit_value = _get(variables, "flip_unit", names)
    if unit_value is not None:
        flip_unit, flip_unit_source = _text(unit_value), f".mat variable '{unit_name}'"
    flips = {}
    flips_name, all_flips = _get(variables, "flips", names)
    if all_flips is not None:
        table = np.atleast_2d(np.asarray(all_flips, dtype=float))
        if table.shape[1] % n_frames:
            raise InputError(f".mat variable '{flips_name}': {table.shape[1]} columns is not a multiple of the "
                             f"{n_frames} frames")
        for index, metabolite in enumerate(METABOLITE_ORDER[:table.shape[0]]):
            if metabolite in series:
                flips[metabolite] = flip_angles.to_degrees(table[index].reshape(n_frames, -1), flip_unit, flips_name)
                provenance[f"flip_{metabolite}"] = f".mat variable '{flips_name}' row {index + 1}, unit {flip_unit} " \
                                                   f"(from {flip_unit_source})"
    for metabolite in series:
        key = f"flip_{metabolite}"
        if key in variables:
            flips[metabolite] = flip_angles.to_degrees(np.asarray(variables[key], dtype=float), flip_unit, key)
            provenance[key] = f".mat variable '{key}', unit {flip_unit} (from {flip_unit_source})"
    size_name, size = _get(variables, "voxel_size_mm", names)
    ijk_to_ras = np.eye(4)
    if size is not None:
        spacing = np.asarray(size, dtype=float).ravel()
        if spacing.size != 3 or np.any(spacing <= 0):
            raise InputError(f".mat variable '{size_name}': expected three positive voxel sizes (mm)")
        ijk_to_ras[:3, :3] = np.diag(spacing)
    else:
        notes.append(".mat file has no voxel_size_mm: 1 mm voxels assumed (geometry unknown)")
    origin_name, origin = _get(variables, "origin_mm", names)
    if origin is not None:
        position = np.asarray(origin, dtype=float).ravel()
        if position.size != 3 or not np.all(np.isfinite(position)):
            raise InputError(f".mat variable '{origin_name}': expected three numbers (RAS mm of voxel (0, 0, 0))")
        ijk_to_ras[:3, 3] = position
    return tr_s, flips, ijk_to_ras, provenance, notes


def read_metabolite_files(paths, frame_time_s=None):
    """HyperpolarizedInputs from one file or folder per metabolite ({metabolite: path}).

    Frame times come from the reader (DICOM timing / BIDS sidecar / NRRD axis); a series without them
    needs ``frame_time_s``. The flip angle in the metadata (DICOM FlipAngle, BIDS FlipAngle: degrees
    by those standards) is used as a constant schedule unless the caller gives one."""
    from TMEMonitorLib import io
    out = HyperpolarizedInputs(series={}, ijk_to_ras=None)
    for metabolite, path in paths.items():
        if path is None:
            continue
        try:
            series = io.read_series(path)
        except MetadataError:
            if frame_time_s is None:
                raise MetadataError(f"--{metabolite} {path}: no frame times found; give the time between frames "
                                    "with --tr (s)") from None
            series = io.read_series(path, frame_time_s=frame_time_s)
        if series.axis_name != "time":
            raise InputError(f"--{metabolite} {path}: frames are indexed by '{series.axis_name}', not by time")
        if out.ijk_to_ras is None:
            out.ijk_to_ras, out.frame_times_s = series.ijk_to_ras, np.asarray(series.axis_values, dtype=float)
            out.provenance["frame_times"] = f"{path}: {series.provenance.get('axis_values', 'reader')}"
        else:
            reference = out.series["pyruvate"] if "pyruvate" in out.series else next(iter(out.series.values()))
            if series.array.shape[0] != reference.shape[0]:
                raise InputError(f"--{metabolite} {path}: {series.array.shape[0]} frames, the pyruvate series has "
                                 f"{reference.shape[0]}")
            if series.array.shape[1:] != reference.shape[1:] or not np.allclose(series.ijk_to_ras, out.ijk_to_ras,
                                                                                 atol=1e-3):
                raise InputError(f"--{metabolite} {path}: on another grid ({series.array.shape[1:]}) than the "
                                 f"pyruvate series ({reference.shape[1:]}); metabolite images must share one grid")
        out.series[metabolite] = series.array
        out.notes += [f"{metabolite}: {w}" for w in series.warnings]
        flip = series.metadata.get("flip_angle_deg")
        if isinstance(flip, (int, float)) and flip > 0:
            out.flips_deg[metabolite] = float(flip)
            out.provenance[f"flip_{metabolite}"] = f"{path} metadata FlipAngle (degrees by the DICOM/BIDS standard)"
    return out
