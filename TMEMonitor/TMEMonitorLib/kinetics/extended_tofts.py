"""Extended Tofts model: Ct = vp cp + Ktrans * (cp conv exp(-kep t)), kep = Ktrans / ve.

Tofts 1997 / Sourbron & Buckley, MRM 2011, doi:10.1002/mrm.22861 (naming). Linear start
(Murase, MRM 2004, doi:10.1002/mrm.20066): Ct = (Ktrans + kep vp) int cp - kep int Ct + vp cp.
"""
import numpy as np

from . import tofts
from .convolution import cumulative_integral, exp_conv

NAME = "extended_tofts"
PARAMETERS = ("Ktrans", "ve", "vp")
LOWER = np.array([0.0, 1e-3, 0.0])
UPPER = np.array([5.0, 1.0, 1.0])


def forward(p, t_min, cp):
    ktrans, ve, vp = p[:, 0], p[:, 1], p[:, 2]
    cp_rows = np.broadcast_to(cp, (p.shape[0], np.shape(cp)[-1]))
    return vp[:, None] * cp_rows + ktrans[:, None] * exp_conv(cp, t_min, ktrans / ve)


def jacobian(p, t_min, cp):
    """d Ct / d(Ktrans, ve, vp) (n, T, 3), shared with the standard Tofts model."""
    return tofts.jacobian(p, t_min, cp)


def forward_jacobian(p, t_min, cp):
    return tofts.forward_jacobian(p, t_min, cp)


def linear_start(ct, t_min, cp):
    from ..fitting.linear import solve_batched
    cp_rows = np.broadcast_to(cp, ct.shape)
    design = np.stack([np.broadcast_to(cumulative_integral(cp, t_min), ct.shape),
                       -cumulative_integral(ct, t_min), cp_rows], axis=-1)
    coefficients, _ = solve_batched(design, ct)
    a, kep, vp = coefficients[:, 0], coefficients[:, 1], coefficients[:, 2]
    ktrans = a - kep * vp
    with np.errstate(all="ignore"):
        ve = ktrans / kep
    return np.stack([ktrans, ve, vp], axis=1)


def derived(params):
    with np.errstate(all="ignore"):
        return {"kep": params["Ktrans"] / params["ve"]}
