"""The kinetic models by name, their parameters, bounds and units, and input checks."""
import numpy as np

from ..errors import InputError
from ..quantities import unit_of
from . import extended_tofts, patlak, tofts, two_compartment_exchange, two_compartment_uptake

MODULES = {m.NAME: m for m in (tofts, extended_tofts, patlak, two_compartment_exchange, two_compartment_uptake)}
# Units from the quantity registry (DESIGN.md: Fp in mL/min/mL, numerically 1/min; OSIPI CAPLEX names).
UNITS = {name: unit_of(name) for name in ("Ktrans", "kep", "ve", "vp", "Fp", "PS", "E", "delay_s")}
DERIVED = {"tofts": ("kep",), "extended_tofts": ("kep",), "patlak": ("PS",), "2cxm": ("Ktrans", "E"),
           "2cum": ("Ktrans", "E")}
MODELS = {name: {"parameters": module.PARAMETERS, "lower": module.LOWER, "upper": module.UPPER,
                 "derived": DERIVED[name],
                 "units": {p: UNITS[p] for p in module.PARAMETERS + DERIVED[name]}}
          for name, module in MODULES.items()}


def model_module(model):
    if model not in MODULES:
        raise InputError(f"unknown kinetic model '{model}'; choose one of {', '.join(MODULES)}")
    return MODULES[model]


def check_grid(t_s, cp_mM, n_frames):
    """Frame times (s) and plasma AIF (mM) as float arrays, after checking they fit the series."""
    t = np.asarray(t_s, dtype=float)
    cp = np.asarray(cp_mM, dtype=float)
    if t.ndim != 1 or t.size != n_frames:
        raise InputError(f"time grid t_s: {t.size} times for {n_frames} frames")
    if t.size < 4:
        raise InputError(f"time grid t_s: {t.size} frames are too few for a kinetic fit")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise InputError("time grid t_s: times must be finite and increase strictly")
    if cp.ndim != 1 or cp.size != t.size:
        raise InputError(f"AIF cp_mM: {cp.size} samples for a series of {t.size} frames "
                         "(the AIF must be on the series' time grid and as long)")
    if not np.all(np.isfinite(cp)):
        raise InputError("AIF cp_mM: contains NaN or infinite values")
    return t, cp
