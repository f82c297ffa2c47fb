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


def arlo_t2star(signal_t, spacing_s, used_t=None):
    """T2* (s) per voxel of ``signal_t`` laid out echo-major (E, n), over the used echoes ``used_t``
    (E, n; None: every echo); NaN where fewer than 3 echoes are used. Unused samples must be 0."""
    third = spacing_s / 3.0
    head, middle, tail = signal_t[:-2], signal_t[1:-1], signal_t[2:]
    integral = middle * 4.0
    integral += head
    integral += tail
    integral *= third
    difference = head - tail
    if used_t is not None:                   # a triple counts when its last echo is used
        valid = used_t[2:]
        integral *= valid
        difference *= valid
    ss = np.einsum("ij,ij->j", integral, integral)
    sd = np.einsum("ij,ij->j", integral, difference)
    dd = np.einsum("ij,ij->j", difference, difference)
    with np.errstate(divide="ignore", invalid="ignore"):
        t2star = (ss + third * sd) / (third * dd + sd)
    if used_t is None:
        return t2star
    return np.where(used_t[2], t2star, np.nan)
