"""Two-compartment exchange model (2CXM): plasma flow Fp, permeability-surface product PS,
plasma and interstitial volumes vp, ve.

vp dCp/dt = Fp (Ca - Cp) - PS (Cp - Ce),  ve dCe/dt = PS (Cp - Ce),  Ct = vp Cp + ve Ce.
Solving in the Laplace domain gives the impulse response
Ct = Fp [A exp(-alpha t) + (1 - A) exp(-beta t)] conv Ca, with alpha + beta = S = PS/ve + (Fp+PS)/vp,
alpha beta = P = Fp PS / (vp ve), A = (c - alpha)/(beta - alpha), c = PS (vp + ve)/(vp ve)
(Sourbron & Buckley, NMR Biomed 2013, doi:10.1002/nbm.2940).
"""
import numpy as np

from .convolution import cumulative_integral, exp_conv

NAME = "2cxm"
PARAMETERS = ("Fp", "PS", "ve", "vp")
LOWER = np.array([1e-3, 1e-4, 1e-3, 1e-3])
UPPER = np.array([10.0, 5.0, 1.0, 1.0])


def rates(fp, ps, ve, vp):
    """alpha, beta (1/min) and the weight A of exp(-alpha t)."""
    total = ps / ve + (fp + ps) / vp
    product = fp * ps / (vp * ve)
    root = np.sqrt(np.maximum(total * total - 4.0 * product, 0.0))
    alpha = 0.5 * (total - root)
    beta = 0.5 * (total + root)
    c = ps * (vp + ve) / (vp * ve)
    distinct = root > 1e-12 * beta
    a = np.where(distinct, (c - alpha) / np.where(distinct, root, 1.0), 0.5)
    return alpha, beta, a


def _rate_derivatives(fp, ps, ve, vp):
    """d(alpha, beta, A)/d(Fp, PS, ve, vp), each (n, 4), by the chain rule through S, P, c."""
    total = ps / ve + (fp + ps) / vp
    product = fp * ps / (vp * ve)
    root = np.sqrt(np.maximum(total * total - 4.0 * product, 1e-300))
    alpha = 0.5 * (total - root)
    c = ps / ve + ps / vp
    d_total = np.stack([1 / vp, 1 / ve + 1 / vp, -ps / ve ** 2, -(fp + ps) / vp ** 2], axis=1)
    d_product = np.stack([ps / (vp * ve), fp / (vp * ve), -product / ve, -product / vp], axis=1)
    d_c = np.stack([np.zeros_like(fp), 1 / ve + 1 / vp, -ps / ve ** 2, -ps / vp ** 2], axis=1)
    d_root = (total[:, None] * d_total - 2 * d_product) / root[:, None]
    d_alpha = 0.5 * (d_total - d_root)
    d_beta = 0.5 * (d_total + d_root)
    d_a = ((d_c - d_alpha) * root[:, None] - (c - alpha)[:, None] * d_root) / (root * root)[:, None]
    return d_alpha, d_beta, d_a


def forward(p, t_min, cp):
    fp, ps, ve, vp = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    alpha, beta, a = rates(fp, ps, ve, vp)
    return fp[:, None] * (a[:, None] * exp_conv(cp, t_min, alpha) + (1 - a)[:, None] * exp_conv(cp, t_min, beta))


def jacobian(p, t_min, cp):
    """d Ct / d(Fp, PS, ve, vp) (n, T, 4): Ct = Fp [A E(alpha) + (1 - A) E(beta)]."""
    return forward_jacobian(p, t_min, cp)[1]


def forward_jacobian(p, t_min, cp):
    """(Ct, d Ct / d(Fp, PS, ve, vp)) from one pass of the two convolutions."""
    fp, ps, ve, vp = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    alpha, beta, a = rates(fp, ps, ve, vp)
    d_alpha, d_beta, d_a = _rate_derivatives(fp, ps, ve, vp)
    e_alpha, de_alpha = exp_conv(cp, t_min, alpha, derivative=True)
    e_beta, de_beta = exp_conv(cp, t_min, beta, derivative=True)
    fp_, a_ = fp[:, None], a[:, None]
    mixed = a_ * e_alpha + (1 - a_) * e_beta
    # Terms shared by all four columns, each (n, T): Fp (E_alpha - E_beta), Fp A dE_alpha, Fp (1 - A) dE_beta.
    gap = fp_ * (e_alpha - e_beta)
    slope_alpha = (fp_ * a_) * de_alpha
    slope_beta = (fp_ * (1 - a_)) * de_beta
    jac = np.empty((p.shape[0], 4, e_alpha.shape[1]))
    for j in range(4):
        jac[:, j] = d_a[:, j:j + 1] * gap + d_alpha[:, j:j + 1] * slope_alpha + d_beta[:, j:j + 1] * slope_beta
    jac[:, 0] += mixed
    return fp_ * mixed, np.swapaxes(jac, 1, 2)


def linear_start(ct, t_min, cp):
    """(Fp, PS, ve, vp) per voxel from one linear least-squares fit (NaN where it has no 2CXM reading).

    The impulse response Fp (s + c) / (s^2 + S s + P) in the Laplace domain (c = PS (vp + ve) /
    (vp ve); S, P as in :func:`rates`) is the ODE Ct'' + S Ct' + P Ct = Fp (Ca' + c Ca); integrated
    twice from rest, Ct = -S int Ct - P iint Ct + Fp int Ca + Fp c iint Ca, linear in (S, P, Fp, Fp c)
    (Flouri, Lesnic & Sourbron, MRM 2016, doi:10.1002/mrm.25991). Then S - c = Fp / vp and
    P / (S - c) = PS / ve give vp, PS and ve.
    """
    from ..fitting.linear import solve_batched
    int_ct = cumulative_integral(ct, t_min)
    int_cp = cumulative_integral(cp, t_min)
    design = np.stack([-int_ct, -cumulative_integral(int_ct, t_min),
                       np.broadcast_to(int_cp, ct.shape), np.broadcast_to(cumulative_integral(int_cp, t_min), ct.shape)],
                      axis=-1)
    coefficients, _ = solve_batched(design, ct)
    total, product, fp, fp_c = coefficients.T
    with np.errstate(all="ignore"):
        c = fp_c / fp
        fp_over_vp = total - c
        vp = fp / fp_over_vp
        ps_over_ve = product / fp_over_vp
        ps = vp * (c - ps_over_ve)
        ve = ps / ps_over_ve
        params = np.stack([fp, ps, ve, vp], axis=1)
        valid = np.all(np.isfinite(params) & (params > 0), axis=1)
    params[~valid] = np.nan
    return params


def starts_from_tofts(ktrans, ve, vp):
    """A few plausible starting points (flow regimes) from an extended-Tofts estimate."""
    ktrans = np.clip(np.nan_to_num(ktrans, nan=0.1), 1e-3, 4.0)
    ve = np.clip(np.nan_to_num(ve, nan=0.2), 0.02, 0.95)
    vp = np.clip(np.nan_to_num(vp, nan=0.05), 0.005, 0.9)
    starts = []
    # Flow-limited (Fp close to Ktrans, high extraction) to PS-limited (Fp >> Ktrans) regimes.
    for flow_factor, offset in ((1.05, 0.0), (1.5, 0.05), (4.0, 0.05), (15.0, 0.05)):
        fp = np.clip(ktrans * flow_factor + offset, 0.005, 9.0)
        extraction = np.clip(ktrans / fp, 0.01, 0.97)
        ps = np.clip(-fp * np.log1p(-extraction), 1e-3, 4.0)
        starts.append(np.stack([fp, ps, ve, vp], axis=1))
    return starts


def derived(params):
    fp, ps = params["Fp"], params["PS"]
    with np.errstate(all="ignore"):
        extraction = ps / (fp + ps)
    return {"Ktrans": extraction * fp, "E": extraction}
