"""Reading dynamic 13C spectra (slab MRS or MRSI, a spectrum per frame) into amplitude series.

* NIfTI-MRS (and the other formats of the Spectroscopy module's reader, SpectroscopyModuleLib.io.read_mrs)
  with a dynamic dimension DIM_DYN: data (x, y, z, points, ..., dyn, ...) -> frames. Other higher
  dimensions must have size 1 (combine coils / average in the Spectroscopy module first). Dwell time and
  spectrometer frequency from the header; the geometry from its affine.
* MATLAB v5 ``.mat`` (no UCSF layout for spectra is documented; this one is ours; names can be
  overridden with ``names={"spectra": "fids", ...}``):
    spectra / fids          complex time-domain FIDs (frames, [x, y, z,] points): frame first, spectral last
    dwell_s                 s between FID points, or spectral_width_hz (1 / dwell)
    spectrometer_mhz        13C frequency (MHz)
    centre_ppm              ppm at the receiver frequency (else --centre-ppm)
    TR, flips, flip_*, flip_unit, voxel_size_mm, origin_mm   as the amplitude .mat (inputs_hp.py)

The centre ppm (the ppm of the receiver frequency) is not a standard header field: it comes from
``centre_ppm`` (command line --centre-ppm) or the .mat, and is recorded with its source.
"""
import os

import numpy as np

from TMEMonitorLib.errors import InputError

from . import dynamic_spectra
from .inputs_hp import ALIASES, HyperpolarizedInputs, _get, mat_acquisition

SPECTRA_ALIASES = {"spectra": ("spectra", "fids", "fid"), "dwell_s": ("dwell_s", "dwell"),
                   "spectral_width_hz": ("spectral_width_hz", "sw_hz", "SW"),
                   "spectrometer_mhz": ("spectrometer_mhz", "frequency_mhz", "f0_mhz"),
                   "centre_ppm": ("centre_ppm", "center_ppm")}


def _number(value, name):
    try:
        number = float(np.asarray(value, dtype=float).ravel()[0])
    except (TypeError, ValueError, IndexError):
        raise InputError(f".mat variable '{name}' is not a number") from None
    return number


def read_nifti_spectra(path):
    """(fid (frames, i, j, k, points), dwell_s, spectrometer_mhz, ijk_to_ras, tr_s or None, provenance, notes)."""
    from SpectroscopyModuleLib.io.read import read_mrs
    mrs = read_mrs(path)
    name = os.path.basename(path)
    dyn = mrs.axis_of("DIM_DYN")
    if dyn is None:
        raise InputError(f"--spectra {name}: no dynamic dimension (DIM_DYN) in the header (dimension tags "
                         f"{mrs.dim_tags or 'none'}); dynamic 13C spectra need one spectrum per frame")
    fid = np.moveaxis(mrs.fid, dyn, 0)                     # (frames, x, y, z, extra..., points)
    extra = fid.shape[4:-1]
    if any(size > 1 for size in extra):
        others = [t for t in mrs.dim_tags if t != "DIM_DYN"]
        raise InputError(f"--spectra {name}: higher dimensions {others} of sizes {extra} besides DIM_DYN; combine "
                         "coils / average in the Spectroscopy module first")
    fid = fid.reshape(fid.shape[:4] + (fid.shape[-1],))
    nucleus = str(mrs.metadata.get("ResonantNucleus", mrs.nucleus) or "")
    notes = []
    if "ResonantNucleus" in mrs.metadata and "13C" not in nucleus:
        raise InputError(f"--spectra {name}: ResonantNucleus is {nucleus}, not 13C")
    if "ResonantNucleus" not in mrs.metadata:
        notes.append(f"{name}: no ResonantNucleus in the header; read as 13C")
    ijk_to_ras = np.asarray(mrs.affine, dtype=float) if mrs.affine is not None else np.eye(4)
    provenance = {"spectra": f"{name} ({mrs.metadata.get('source_format', 'spectroscopy reader')}, DIM_DYN "
                             f"{fid.shape[0]} frames)",
                  "dwell_s": f"{name} header", "spectrometer_mhz": f"{name} header SpectrometerFrequency"}
    tr_s = None
    if mrs.tr_s is not None and fid.shape[1:4] == (1, 1, 1):
        # slab / single-voxel dynamic MRS: one excitation per frame, so RepetitionTime is the frame interval
        tr_s = float(mrs.tr_s)
        provenance["TR"] = f"{name} header RepetitionTime (one excitation per frame: slab dynamic MRS)"
    return fid, float(mrs.dwell_s), float(mrs.spectrometer_mhz), ijk_to_ras, tr_s, provenance, notes


def read_mat_spectra(path, names=None):
    """(fid (frames, i, j, k, points), dwell_s, spectrometer_mhz, centre_ppm or None, the .mat variables,
    provenance); the acquisition (TR, flips, geometry) is read from the variables by inputs_hp.mat_acquisition."""
    from scipy import io as sio
    try:
        variables = sio.loadmat(path, squeeze_me=True)
    except (OSError, ValueError, NotImplementedError) as error:
        raise InputError(f"--spectra '{path}': cannot be read as MATLAB v5 ({error}); save with -v7 or earlier, "
                         "not -v7.3") from None
    aliases = dict(ALIASES, **SPECTRA_ALIASES)

    def get(role):
        return _get(variables, role, names, aliases)

    spectra_name, spectra = get("spectra")
    if spectra is None:
        raise InputError(f"--spectra '{path}': no 'spectra' (or 'fids') variable; found "
                         f"{sorted(k for k in variables if not k.startswith('__'))}")
    fid = np.asarray(spectra)
    if fid.ndim < 2:
        raise InputError(f"--spectra .mat variable '{spectra_name}': expected (frames, [x, y, z,] points), got "
                         f"shape {fid.shape} (no spectral axis)")
    fid = fid.reshape(fid.shape[:-1] + (1,) * (5 - fid.ndim) + fid.shape[-1:]) if fid.ndim < 5 else fid
    provenance = {"spectra": f".mat variable '{spectra_name}'"}
    dwell_name, dwell = get("dwell_s")
    width_name, width = get("spectral_width_hz")
    if dwell is not None:
        dwell_s = _number(dwell, dwell_name)
        provenance["dwell_s"] = f".mat variable '{dwell_name}' (s)"
    elif width is not None:
        width_hz = _number(width, width_name)
        if not width_hz > 0:
            raise InputError(f".mat variable '{width_name}': spectral width {width_hz:g} Hz must be positive")
        dwell_s = 1.0 / width_hz
        provenance["dwell_s"] = f"1 / .mat variable '{width_name}' (Hz)"
    else:
        raise InputError(f"--spectra '{path}': no dwell_s or spectral_width_hz variable (the spectral axis is "
                         "undefined)")
    mhz_name, mhz = get("spectrometer_mhz")
    if mhz is None:
        raise InputError(f"--spectra '{path}': no spectrometer_mhz variable (13C frequency, MHz)")
    provenance["spectrometer_mhz"] = f".mat variable '{mhz_name}' (MHz)"
    centre_name, centre = get("centre_ppm")
    centre_ppm = None
    if centre is not None:
        centre_ppm = _number(centre, centre_name)
        provenance["centre_ppm"] = f".mat variable '{centre_name}' (ppm)"
    return fid, dwell_s, _number(mhz, mhz_name), centre_ppm, variables, provenance


def read_spectra(path, centre_ppm=None, metabolites=("pyruvate", "lactate"), names=None, flip_unit="deg",
                 flip_unit_source="--flip-unit default (deg)", progress=None):
    """HyperpolarizedInputs (amplitude series per metabolite, (frames, k, j, i)) from a dynamic spectra file,
    with ``extras['spectral_quality']`` (frames, k, j, i) and ``extras['amplitude_sd']``."""
    if not os.path.exists(path):
        raise InputError(f"--spectra {path}: no such file")
    if path.lower().endswith(".mat"):
        fid, dwell_s, mhz, file_centre, variables, provenance = read_mat_spectra(path, names)
        tr_s, flips, ijk_to_ras, more, notes = mat_acquisition(variables, names, fid.shape[0], metabolites, flip_unit,
                                                               flip_unit_source)
        provenance.update(more)
    else:
        fid, dwell_s, mhz, ijk_to_ras, tr_s, provenance, notes = read_nifti_spectra(path)
        file_centre, flips = None, {}
    if centre_ppm is not None:
        provenance["centre_ppm"] = "command line --centre-ppm"
    elif file_centre is not None:
        centre_ppm = file_centre
    else:
        raise InputError(f"--spectra {os.path.basename(path)}: the ppm at the receiver (centre) frequency is not in "
                         "the file; give --centre-ppm (e.g. 171 when centred on pyruvate)")
    fitted = dynamic_spectra.fit_dynamic_spectra(fid, dwell_s, mhz, centre_ppm, metabolites=metabolites,
                                                 progress=progress)
    provenance.update({m: f"amplitudes of the {m} line fitted in {provenance['spectra']}" for m in metabolites})
    out = HyperpolarizedInputs(series=fitted.amplitudes, ijk_to_ras=ijk_to_ras, tr_s=tr_s, flips_deg=flips,
                               provenance=provenance, notes=notes + fitted.notes)
    out.extras = {"spectral_quality": fitted.quality, "amplitude_sd": fitted.amplitude_sd,
                  "poor_frames": fitted.poor_frames}
    return out
