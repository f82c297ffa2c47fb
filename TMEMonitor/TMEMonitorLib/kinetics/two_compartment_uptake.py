"""Two-compartment uptake model (2CUM): 2CXM without backflux from the interstitium.

vp dCp/dt = Fp Ca - (Fp + PS) Cp, Ct = vp Cp + PS int Cp, so with tau = (Fp + PS)/vp and
E = PS/(Fp + PS): Ct = Fp [(1 - E) exp(-tau t) + E] conv Ca
(Sourbron & Buckley, NMR Biomed 2013, doi:10.1002/nbm.2940).
"""
import numpy as np

from .convolution import cumulative_integral, exp_conv

NAME = "2cum"
PARAMETERS = ("Fp", "PS", "vp")
LOWER = np.array([1e-3, 0.0, 1e-3])
UPPER = np.array([10.0, 5.0, 1.0])


def forward(p, t_min, cp):
    fp, ps, vp = p[:, 0], p[:, 1], p[:, 2]
    total = fp + ps
    cp_rows = np.broadcast_to(cp, (p.shape[0], np.shape(cp)[-1]))
    # Fp (1 - E) = Fp^2 / (Fp + PS) and Fp E = Fp PS / (Fp + PS)
    return (fp * fp / total)[:, None] * exp_conv(cp, t_min, total / vp) + \
        (fp * ps / total)[:, None] * cumulative_integral(cp_rows, t_min)


def jacobian(p, t_min, cp):
    """d Ct / d(Fp, PS, vp) (n, T, 3) in closed form (dE/dtau from the convolution recursion)."""
    fp, ps, vp = p[:, 0], p[:, 1], p[:, 2]
    total = fp + ps
    tau = total / vp
    e, d_e = exp_conv(cp, t_min, tau, derivative=True)
    integral = cumulative_integral(np.broadcast_to(cp, e.shape), t_min)
    w_exp = (fp * fp / total)[:, None]
    square = (total * total)[:, None]
    jac = np.empty(e.shape + (3,))
    jac[..., 0] = (fp * (fp + 2 * ps))[:, None] / square * e + w_exp * d_e / vp[:, None] + \
        (ps * ps)[:, None] / square * integral
    jac[..., 1] = -(fp * fp)[:, None] / square * e + w_exp * d_e / vp[:, None] + (fp * fp)[:, None] / square * integral
    jac[..., 2] = -w_exp * d_e * (tau / vp)[:, None]
    return jac


def starts_from_tofts(ktrans, ve, vp):
    ktrans = np.clip(np.nan_to_num(ktrans, nan=0.1), 1e-3, 4.0)
    vp = np.clip(np.nan_to_num(vp, nan=0.05), 0.005, 0.9)
    starts = []
    for flow_factor in (1.5, 4.0, 15.0):
        fp = np.clip(ktrans * flow_factor + 0.05, 0.01, 9.0)
        extraction = np.clip(ktrans / fp, 0.0, 0.95)
        ps = np.clip(fp * extraction / (1 - extraction), 0.0, 4.0)
        starts.append(np.stack([fp, ps, vp], axis=1))
    return starts


def derived(params):
    from .two_compartment_exchange import derived as exchange_derived
    return exchange_derived(params)        # Ktrans = E Fp with E = PS / (Fp + PS), as for the 2CXM
