"""Standard Tofts model: Ct = Ktrans * (cp conv exp(-kep t)), kep = Ktrans / ve.

Tofts et al., JMRI 1999, doi:10.1002/(SICI)1522-2586(199909)10:3<223::AID-JMRI2>3.0.CO;2-S.
Linear start (Murase, MRM 2004, doi:10.1002/mrm.20066): Ct = Ktrans int cp - kep int Ct.
Times inside the models are in minutes so rates come out in 1/min.
"""
import numpy as np

from .convolution import cumulative_integral, exp_conv

NAME = "tofts"
PARAMETERS = ("Ktrans", "ve")
LOWER = np.array([0.0, 1e-3])
UPPER = np.array([5.0, 1.0])


def forward(p, t_min, cp):
    ktrans, ve = p[:, 0], p[:, 1]
    return ktrans[:, None] * exp_conv(cp, t_min, ktrans / ve)


def jacobian(p, t_min, cp):
    """d Ct / d(Ktrans, ve[, vp]) (n, T, P) for Ct = Ktrans E(kep) [+ vp cp], kep = Ktrans / ve,
    with dE/dkep from the convolution's own recursion. Shared with the extended Tofts model,
    whose third column (vp) is cp itself."""
    ktrans, ve = p[:, 0], p[:, 1]
    kep = ktrans / ve
    e, d_e = exp_conv(cp, t_min, kep, derivative=True)
    jac = np.empty(e.shape + (p.shape[1],))
    jac[..., 0] = e + kep[:, None] * d_e
    jac[..., 1] = -(kep * kep)[:, None] * d_e
    if p.shape[1] == 3:
        jac[..., 2] = np.broadcast_to(cp, e.shape)
    return jac


def linear_start(ct, t_min, cp):
    from ..fitting.linear import solve_batched
    int_cp = np.broadcast_to(cumulative_integral(cp, t_min), ct.shape)
    design = np.stack([int_cp, -cumulative_integral(ct, t_min)], axis=-1)
    coefficients, _ = solve_batched(design, ct)
    ktrans = coefficients[:, 0]
    kep = coefficients[:, 1]
    with np.errstate(all="ignore"):
        ve = ktrans / kep
    return np.stack([ktrans, ve], axis=1)


def derived(params):
    with np.errstate(all="ignore"):
        return {"kep": params["Ktrans"] / params["ve"]}
