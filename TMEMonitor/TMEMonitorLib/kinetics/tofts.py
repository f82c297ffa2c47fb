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
    return forward_jacobian(p, t_min, cp)[1]


def forward_jacobian(p, t_min, cp):
    """(Ct, d Ct / d parameters) from one convolution pass, for the standard and extended
    Tofts models (a third column of ``p`` is vp)."""
    ktrans, ve = p[:, 0], p[:, 1]
    kep = ktrans / ve
    e, d_e = exp_conv(cp, t_min, kep, derivative=True)
    jac = np.empty((p.shape[0], p.shape[1], e.shape[1]))       # (n, P, T): rows written whole
    np.multiply(kep[:, None], d_e, out=jac[:, 0])
    np.multiply(-kep[:, None], jac[:, 0], out=jac[:, 1])        # -kep^2 dE
    jac[:, 0] += e
    ct = ktrans[:, None] * e
    if p.shape[1] == 3:
        jac[:, 2] = cp
        ct += p[:, 2:3] * cp
    return ct, np.swapaxes(jac, 1, 2)


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
