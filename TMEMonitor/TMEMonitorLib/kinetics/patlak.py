"""Patlak model: Ct = vp cp + Ktrans int cp (irreversible uptake; PS-limited regime Ktrans ~ PS).

Patlak et al., J Cereb Blood Flow Metab 1983, doi:10.1038/jcbfm.1983.1. Linear in its
parameters, so the linear fit is exact; the nonlinear step only applies bounds and delay.
"""
import numpy as np

from .convolution import cumulative_integral

NAME = "patlak"
PARAMETERS = ("Ktrans", "vp")
LOWER = np.array([0.0, 0.0])
UPPER = np.array([5.0, 1.0])


def forward(p, t_min, cp):
    cp_rows = np.broadcast_to(cp, (p.shape[0], np.shape(cp)[-1]))
    return p[:, 1:2] * cp_rows + p[:, 0:1] * cumulative_integral(cp_rows, t_min)


def jacobian(p, t_min, cp):
    cp_rows = np.broadcast_to(cp, (p.shape[0], np.shape(cp)[-1]))
    return np.stack([cumulative_integral(cp_rows, t_min), cp_rows], axis=-1)


def linear_start(ct, t_min, cp):
    from ..fitting.linear import solve_batched
    cp_rows = np.broadcast_to(cp, ct.shape)
    design = np.stack([cumulative_integral(cp_rows, t_min), cp_rows], axis=-1)
    coefficients, _ = solve_batched(design, ct)
    return coefficients


def derived(params):
    # In the Patlak regime the transfer constant is the permeability-surface area product.
    return {"PS": params["Ktrans"]}
