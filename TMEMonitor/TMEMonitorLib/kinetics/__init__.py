"""Pharmacokinetic models for DCE-MRI and their voxel-wise fit.

Public API (units: t in s, concentrations in mM, Ktrans/kep/PS/Fp in 1/min, fractions 0..1):

- ``fit(model, ct_mM, t_s, cp_mM, fit_delay=False, **options)``  (voxelwise_fit.py)
- ``concentration(model, t_s, cp_mM, delay_s=None, **params)``     (forward.py)
- ``MODELS``: model name -> parameters, bounds, derived parameters and units (registry.py)
- ``select_model(ct_mM, t_s, cp_mM, models=..., criterion="aicc" | "f_test")`` (selection.py)
- ``monte_carlo(model, truth, t_s, cp_mM, noise_sd_mM, ...)``: bias and SD of noisy fits

Models, one file each: "tofts" (tofts.py), "extended_tofts" (extended_tofts.py), "patlak"
(patlak.py), "2cxm" (two_compartment_exchange.py), "2cum" (two_compartment_uptake.py); the
exact exponential convolution they share is in convolution.py. Without a fitted delay, Tofts and
extended Tofts are fitted by variable projection (tofts_projection.py: a 1-D search on kep, the
linear parameters in closed form), the bounded engine taking the voxels whose optimum lies on a bound.
"""
from .forward import concentration  # noqa: F401
from .monte_carlo import monte_carlo  # noqa: F401
from .registry import MODELS, UNITS, check_grid, model_module  # noqa: F401
from .selection import select_model  # noqa: F401
from .voxelwise_fit import DEFAULT_DELAY_BOUNDS_S, fit  # noqa: F401
