"""Exact convolution of a sampled input with exponentials, on an arbitrary time grid.

The input is taken as piecewise linear between its samples, so that
E(t_i) = integral_0^t_i c(u) exp(-k (t_i - u)) du obeys the exact recursion
E_i = E_{i-1} exp(-k dt) + c_{i-1} A + (c_i - c_{i-1}) B, with x = k dt,
A = dt (1 - e^-x) / x and B = dt (x - 1 + e^-x) / x^2 (series near x = 0). O(T) per voxel
and exact for any k and uneven sampling, where a plain discrete convolution errs by tens of
percent at high k (Flouri et al., MRM 2016, doi:10.1002/mrm.25991, discuss the error).
"""
import numpy as np


def _coefficients(x, e):
    """A/dt and B/dt for x = k dt and e = exp(-x), with series where x is tiny."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (1.0 - e) / x
        b = (x - 1.0 + e) / (x * x)
    small = x < 1e-3
    if np.any(small):
        xs = x[small]
        a[small] = 1.0 - xs / 2.0 + xs * xs / 6.0
        b[small] = 0.5 - xs / 6.0 + xs * xs / 24.0
    return a, b


def exp_conv(c, t, k):
    """Convolution of ``c`` with exp(-k t).

    ``c``: input (T,) shared or (N, T) per voxel; ``t``: times (T,) starting at the first
    sample (any units); ``k``: rates (N,) in the inverse unit of ``t`` (k >= 0).
    Returns (N, T).

    The recursion E_i = d_i E_{i-1} + u_i is evaluated in closed form,
    E_i = D_i cumsum(u_j / D_j) with D_i = exp(-k (t_i - t_0)), for the voxels where
    exp(k (t_end - t_0)) cannot overflow, and step by step for the others.
    """
    t = np.asarray(t, dtype=float)
    k = np.atleast_1d(np.asarray(k, dtype=float))
    c = np.asarray(c, dtype=float)
    n = k.shape[0]
    out = np.zeros((n, t.size))
    if t.size < 2:
        return out
    dt = np.diff(t)
    x = k[:, None] * dt[None, :]
    e = np.exp(-x)
    a, b = _coefficients(x, e)
    c0, c1 = c[..., :-1], c[..., 1:]
    u = dt * (c0 * a + (c1 - c0) * b)                       # (N, T-1)
    elapsed = t[1:] - t[0]
    closed = k * elapsed[-1] < 600.0
    if np.all(closed):
        decay = np.exp(-k[:, None] * elapsed[None, :])
        out[:, 1:] = decay * np.cumsum(u / decay, axis=1)
        return out
    if np.any(closed):
        decay = np.exp(-k[closed, None] * elapsed[None, :])
        out[closed, 1:] = decay * np.cumsum(u[closed] / decay, axis=1)
    stepwise = np.flatnonzero(~closed)
    decay_steps = e[stepwise]
    previous = np.zeros(stepwise.size)
    us = u[stepwise]
    for i in range(dt.size):
        previous = previous * decay_steps[:, i] + us[:, i]
        out[stepwise, i + 1] = previous
    return out


def cumulative_integral(c, t):
    """Running trapezoid integral of ``c`` (T,) or (N, T) over ``t``, starting at 0."""
    c = np.asarray(c, dtype=float)
    dt = np.diff(np.asarray(t, dtype=float))
    increments = 0.5 * (c[..., 1:] + c[..., :-1]) * dt
    return np.concatenate([np.zeros(c.shape[:-1] + (1,)), np.cumsum(increments, axis=-1)], axis=-1)


def shift(c, t, delay):
    """``c`` delayed by ``delay`` (scalar or (N,)) on grid ``t``: c(t - delay), zero before."""
    c = np.asarray(c, dtype=float)
    t = np.asarray(t, dtype=float)
    delay = np.asarray(delay, dtype=float)
    if delay.ndim == 0:
        return np.interp(t - float(delay), t, c, left=0.0)
    shifted_t = t[None, :] - delay[:, None]
    index = np.clip(np.searchsorted(t, shifted_t, side="right") - 1, 0, t.size - 2)
    t0, t1 = t[index], t[index + 1]
    weight = np.clip((shifted_t - t0) / (t1 - t0), 0.0, 1.0)
    values = c[index] * (1 - weight) + c[index + 1] * weight
    return np.where(shifted_t < t[0], 0.0, values)
