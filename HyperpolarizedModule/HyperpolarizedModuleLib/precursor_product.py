"""Exact between-excitation solution of the precursor-product model, batched over voxels.

Pyruvate P converts to products X (lactate L, bicarbonate B, alanine A) with first-order rates
kPX and relaxes with R1P; each product relaxes with R1X (uni-directional model; Larson et al.,
MRM 2013, doi:10.1002/mrm.24645; Bankson et al., Cancer Res 2015, doi:10.1158/0008-5472.CAN-15-0171):

    dP/dt = u(t) - a P,            a = R1P + kPL + kPB + kPA
    dX/dt = kPX P - R1X X

With an input u constant over an interval of length dt (w = u/a, the level P would settle at),
the solution from P+, X+ (just after the excitation) is, exactly:

    P(dt) = w + (P+ - w) exp(-a dt)
    X(dt) = X+ exp(-r dt) + kPX [ w (1 - exp(-r dt)) / r + (P+ - w) (exp(-a dt) - exp(-r dt)) / (r - a) ]

The "inputless" model (Khegai et al., NMR Biomed 2014, doi:10.1002/nbm.3202; Bankson et al. 2015;
UCSF hyperpolarized-mri-toolbox) does not model u: for every interval it takes the u that makes
P(dt) equal the measured pyruvate Mz of the next frame, so the measured pyruvate drives the products.
No ODE stepping: one closed-form step per frame interval, vectorised over voxels.
"""
import numpy as np

_SMALL = 1e-8


def relax_integral(r, dt):
    """(1 - exp(-r dt)) / r, with its limit dt as r -> 0."""
    r = np.asarray(r, dtype=float)
    x = r * dt
    with np.errstate(divide="ignore", invalid="ignore"):
        value = -np.expm1(-x) / r
    return np.where(np.abs(x) < _SMALL, dt * (1.0 - 0.5 * x), value)


def exchange_kernel(a, r, dt):
    """(exp(-a dt) - exp(-r dt)) / (r - a), stable as r -> a (limit dt exp(-a dt))."""
    a = np.asarray(a, dtype=float)
    d = (np.asarray(r, dtype=float) - a) * dt
    small = np.abs(d) < _SMALL
    safe = np.where(small, 1.0, d)
    ratio = np.where(small, 1.0 - 0.5 * d, -np.expm1(-safe) / safe)     # (1 - exp(-d)) / d
    return dt * np.exp(-a * dt) * ratio


def step(p_plus, products_plus, a, rates, r1s, dt, w):
    """One exact step over ``dt`` with constant input level ``w``: (P(dt), [X(dt) ...]).

    ``products_plus``, ``rates`` (kPX), ``r1s`` (R1X): sequences of (n,) arrays, one per product."""
    decay = np.exp(-a * dt)
    p_next = w + (p_plus - w) * decay
    out = []
    for x_plus, k, r in zip(products_plus, rates, r1s):
        out.append(x_plus * np.exp(-r * dt) + k * (w * relax_integral(r, dt) + (p_plus - w) * exchange_kernel(a, r, dt)))
    return p_next, out


def inputless_trajectories(pyruvate_mz, pyruvate_known, pyruvate_mz_scale, dt, a, rates, r1s, initial,
                           product_mz_scales):
    """Pyruvate and product Mz (before each frame's excitations) under the inputless model.

    pyruvate_mz (n, T): measured pyruvate Mz (signal / signal scale) where ``pyruvate_known`` (T,)
    is True; elsewhere (sin theta ~ 0) the pyruvate is propagated with no input, and before its
    first known frame it is taken as 0 (it arrives with the inflow). ``dt`` (T-1,) s; ``a`` (n,)
    pyruvate loss rate; ``rates``, ``r1s``, ``initial``: per product (n,) arrays; mz scales (T,).
    Returns (P (n, T), [X (n, T) ...]).
    """
    n, n_frames = pyruvate_mz.shape
    p = np.zeros((n, n_frames))
    xs = [np.zeros((n, n_frames)) for _ in rates]
    if pyruvate_known[0]:
        p[:, 0] = pyruvate_mz[:, 0]
    for x, x0 in zip(xs, initial):
        x[:, 0] = x0
    coefficients = {}          # per distinct interval length: the exact-step coefficients (computed once)
    for t in range(n_frames - 1):
        h = float(dt[t])
        if h not in coefficients:
            decay = np.exp(-a * h)
            coefficients[h] = (decay, -np.expm1(-a * h),
                               [(np.exp(-r * h), k * relax_integral(r, h), k * exchange_kernel(a, r, h))
                                for k, r in zip(rates, r1s)])
        decay, gain, product_terms = coefficients[h]
        p_plus = p[:, t] * pyruvate_mz_scale[t]
        if pyruvate_known[t + 1]:
            w = (pyruvate_mz[:, t + 1] - p_plus * decay) / gain
            p[:, t + 1] = pyruvate_mz[:, t + 1]
        else:
            w = 0.0
            p[:, t + 1] = p_plus * decay
        for x, scale, (relax, from_level, from_excess) in zip(xs, product_mz_scales, product_terms):
            # X(h) = X+ e^{-r h} + k [w (1 - e^{-r h}) / r + (P+ - w) (e^{-a h} - e^{-r h}) / (r - a)]
            x[:, t + 1] = x[:, t] * scale[t] * relax + from_level * w + from_excess * (p_plus - w)
    return p, xs
