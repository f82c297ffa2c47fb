"""Simulated basis sets: density-matrix line lists per metabolite, turned into FIDs.

Simulation cost is paid once per (metabolite, field, sequence, timing): line lists are
cached with functools.lru_cache and FIDs are generated from them for any dwell/n_points.
"""
from functools import lru_cache

import numpy as np

from TMEMonitorLib.errors import InputError

from .basis_set import Basis
from .density_matrix import lines_to_fid, normalise_sequence, simulate_group_lines
from .macromolecules import is_macromolecule, macromolecule_fid
from .spin_systems import DEFAULT_METABOLITES, WATER_PPM, canonical_name, get_metabolite

DEFAULT_STEAM_TM_S = 0.010


def _key(value, digits=9):
    return None if value is None else round(float(value), digits)


@lru_cache(maxsize=512)
def _cached_lines(name, spectrometer_mhz, sequence, te_s, te1_s, tm_s):
    freqs, amps = [], []
    for group in get_metabolite(name).groups:
        f, a = simulate_group_lines(group, spectrometer_mhz, sequence, te_s, te1_s, tm_s, WATER_PPM)
        freqs.append(f)
        amps.append(a)
    f, a = np.concatenate(freqs), np.concatenate(amps)
    f.setflags(write=False)
    a.setflags(write=False)
    return f, a


def metabolite_lines(name, spectrometer_mhz, te_s, sequence="PRESS", te1_s=None, tm_s=None):
    """(frequencies Hz, complex amplitudes) of a catalogue metabolite; NIfTI-MRS convention."""
    sequence = normalise_sequence(sequence)
    tm_s = DEFAULT_STEAM_TM_S if tm_s is None else tm_s
    return _cached_lines(canonical_name(name), _key(spectrometer_mhz, 6), sequence, _key(te_s),
                         _key(te1_s), _key(tm_s))


@lru_cache(maxsize=256)
def _cached_fid(name, spectrometer_mhz, sequence, te_s, te1_s, tm_s, n_points, dwell_s, linewidth_hz):
    if is_macromolecule(name):
        fid = macromolecule_fid(name, spectrometer_mhz, n_points, dwell_s)
        if linewidth_hz:
            fid = fid * np.exp(-np.pi * linewidth_hz * np.arange(n_points) * dwell_s)
    else:
        f, a = metabolite_lines(name, spectrometer_mhz, te_s, sequence, te1_s, tm_s)
        fid = lines_to_fid(f, a, n_points, dwell_s, linewidth_hz)
    fid.setflags(write=False)
    return fid


def _check_acquisition(spectrometer_mhz, te_s, n_points, dwell_s):
    if not np.isfinite(spectrometer_mhz) or spectrometer_mhz <= 0:
        raise InputError(f"spectrometer_mhz must be positive (got {spectrometer_mhz})")
    if not np.isfinite(te_s) or te_s < 0 or te_s > 2.0:
        raise InputError(f"te_s must be between 0 and 2 s (got {te_s}); TE is in seconds")
    if int(n_points) != n_points or n_points < 16:
        raise InputError(f"n_points must be an integer >= 16 (got {n_points})")
    if not np.isfinite(dwell_s) or dwell_s <= 0 or dwell_s > 0.01:
        raise InputError(f"dwell_s must be between 0 and 0.01 s (got {dwell_s}); dwell is in seconds")


def simulate_basis(spectrometer_mhz, te_s, sequence="PRESS", metabolites=None, n_points=2048,
                   dwell_s=2.5e-4, te1_s=None, tm_s=None, linewidth_hz=0.0, progress=None):
    """Simulate a basis set with ideal pulses (see ``density_matrix`` for the sequence model).

    metabolites: catalogue names or aliases (``spin_systems``) and/or macromolecule/lipid
        names (``macromolecules``); default: every catalogue metabolite except water.
    linewidth_hz: optional Lorentzian broadening of the basis itself (0 = ideal lines).
    progress: optional ``progress(fraction, message)``, called before each metabolite (a
        metabolite takes well under a second; Cancel raises from it).
    Returns a :class:`Basis` keyed by the names as requested.
    """
    _check_acquisition(spectrometer_mhz, te_s, n_points, dwell_s)
    sequence = normalise_sequence(sequence)
    names = list(DEFAULT_METABOLITES if metabolites is None else metabolites)
    if len(set(names)) != len(names):
        raise InputError(f"metabolite list has duplicates: {names}")
    fids = {}
    for index, name in enumerate(names):
        if progress is not None:
            progress(index / len(names), f"simulating {name}")
        key = name if is_macromolecule(name) else canonical_name(name)
        fids[name] = _cached_fid(key, _key(spectrometer_mhz, 6), sequence, _key(te_s), _key(te1_s),
                                 _key(tm_s), int(n_points), _key(dwell_s, 12),
                                 _key(linewidth_hz)).copy()
    metadata = {"source": "simulated (density matrix, ideal pulses)", "te1_s": te1_s,
                "tm_s": (DEFAULT_STEAM_TM_S if tm_s is None else tm_s) if sequence == "STEAM" else None,
                "linewidth_hz": float(linewidth_hz), "simulated": True}
    return Basis(fids, spectrometer_mhz, dwell_s, te_s=te_s, sequence=sequence, nucleus="1H",
                 ppm_reference=WATER_PPM, metadata=metadata)
