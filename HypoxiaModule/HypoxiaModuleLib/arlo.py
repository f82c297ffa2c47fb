"""ARLO: auto-regression on linear operations, a closed-form mono-exponential fit.

Pei M, Nguyen TD, Thimmappa ND, et al. Algorithm for fast monoexponential fitting based on
Auto-Regression on Linear Operations (ARLO) of data. MRM 2015;73:843-850, doi:10.1002/mrm.25137
(with the erratum doi:10.1002/mrm.27807). For equally spaced echoes (spacing dTE), Simpson's rule
gives the integrals s_i = dTE/3 (S_i + 4 S_i+1 + S_i+2) and the differences d_i = S_i - S_i+2 obey
d_i = s_i / T2*; the auto-regression estimate is

    T2* = (sum s_i^2 + dTE/3 sum s_i d_i) / (dTE/3 sum d_i^2 + sum s_i d_i).

Only echoes in the leading run ``used`` (noise floor) enter; at least 3 are needed. Simpson's
rule makes the estimate slightly biased when dTE is not small against T2* (about 0.1 % at
dTE/T2* = 0.3 on noise-free data).
"""
import numpy as np


def arlo_t2star(signal, spacing_s, used):
    """T2* (s) per row of ``signal`` (N, E) over the used echoes (N, E); NaN where < 3 echoes."""
    s_all = np.where(used, signal, 0.0)
    third = spacing_s / 3.0
    integral = third * (s_all[:, :-2] + 4.0 * s_all[:, 1:-1] + s_all[:, 2:])
    difference = s_all[:, :-2] - s_all[:, 2:]
    valid = used[:, 2:]                      # a triple counts when its last echo is used
    integral = np.where(valid, integral, 0.0)
    difference = np.where(valid, difference, 0.0)
    ss = np.sum(integral * integral, axis=1)
    sd = np.sum(integral * difference, axis=1)
    dd = np.sum(difference * difference, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t2star = (ss + third * sd) / (third * dd + sd)
    return np.where(valid.any(axis=1), t2star, np.nan)
