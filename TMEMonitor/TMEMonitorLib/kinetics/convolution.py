"""Exact convolution of a sampled input with exponentials, on an arbitrary time grid.

The input is taken as piecewise linear between its samples, so that
E(t_i) = integral_0^t_i c(u) exp(-k (t_i - u)) du obeys the exact recursion
E_i = E_{i-1} exp(-k dt) + dt (c_{i-1} (a - b) + c_i b), with x = k dt,
a = (1 - e^-x) / x and b = (x - 1 + e^-x) / x^2 = (1 - a) / x (series near x = 0).
O(T) per voxel and exact for any k and uneven sampling, where a plain discrete convolution
errs by tens of percent at high k (Flouri et al., MRM 2016, doi:10.1002/mrm.25991, discuss
the error). The derivative dE/dk follows the same recursion, so Jacobians need no extra
convolution.

For many voxels the recursion runs frame by frame on vectors of voxels, with the
exponentials computed once per distinct frame spacing; for few voxels and long series it
runs in closed form over blocks of frames.
"""
import numpy as np
from scipy.linalg.blas import daxpy as _axpy

# Below these x = k dt the closed forms lose digits (errors ~ eps/x^2 for b, eps/x^3 for b'),
# so truncated Taylor series are used instead (truncation < 1e-12 relative).
_SMALL_X = 1e-2
_SMALL_X_DERIVATIVE = 2e-2


def _weights(x, e):
    """a and b of the recursion for x = k dt, e = exp(-x)."""
    small = x < _SMALL_X
    # 1/x with 1 in place of small x: finite everywhere, and wherever it is not 1/x the series
    # below replace the result (no division by zero, so no errstate on every call).
    inv_x = 1.0 / np.where(small, 1.0, x)
    a = (1.0 - e) * inv_x
    b = (1.0 - a) * inv_x
    if small.any():
        xs = x[small]
        a[small] = 1.0 - xs * (0.5 - xs * (1.0 / 6.0 - xs * (1.0 / 24.0 - xs / 120.0)))
        b[small] = 0.5 - xs * (1.0 / 6.0 - xs * (1.0 / 24.0 - xs * (1.0 / 120.0 - xs / 720.0)))
    return a, b, inv_x


def _weight_derivatives(x, e, a, b, inv_x):
    """da/dx and db/dx, by their closed forms or, for small x, by series."""
    da = (e - a) * inv_x                      # replaced by the series where x is small
    db = -(da + b) * inv_x
    small = x < _SMALL_X_DERIVATIVE
    if small.any():
        xs = x[small]
        da[small] = -0.5 + xs * (1.0 / 3.0 - xs * (1.0 / 8.0 - xs * (1.0 / 30.0 - xs / 144.0)))
        db[small] = -1.0 / 6.0 + xs * (1.0 / 12.0 - xs * (1.0 / 40.0 - xs * (1.0 / 180.0 - xs / 1008.0)))
    return da, db


_STEPS_CACHE = {}


def _distinct_steps(dt):
    """Distinct frame spacings (equal to 1e-12 relative) and each interval's index into them:
    the exponentials are then computed once per distinct spacing, not once per frame.
    A fit asks for the same grid at every iteration, so the answer is cached per grid."""
    cache_key = dt.tobytes()
    cached = _STEPS_CACHE.get(cache_key)
    if cached is not None:
        return cached
    key = np.round(dt / dt.max() * 1e12)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    result = (dt[first], inverse.ravel())
    if len(_STEPS_CACHE) > 64:                # bounded: a handful of grids per session
        _STEPS_CACHE.clear()
    _STEPS_CACHE[cache_key] = result
    return result


def exp_conv_frame_major(c, t, k, derivative=False):
    """:func:`exp_conv` in the recursion's own frame-major layout: E (T, N), or (E, dE/dk) when
    ``derivative``; no transposing copy (for callers that reduce over frames themselves)."""
    t = np.asarray(t, dtype=float)
    k = np.atleast_1d(np.asarray(k, dtype=float))
    c = np.asarray(c, dtype=float)
    n = k.shape[0]
    if t.size < 2:
        zeros = np.zeros((t.size, n))
        return (zeros, zeros.copy()) if derivative else zeros
    dt = np.diff(t)
    steps, which = _distinct_steps(dt)
    x = steps[:, None] * k[None, :]                         # (distinct spacings, N)
    e = np.exp(-x)
    a, b, inv_x = _weights(x, e)
    weights = [a - b, b]
    if derivative:
        da, db = _weight_derivatives(x, e, a, b, inv_x)
        weights += [da - db, db]
    ct = np.ascontiguousarray(c.T) if c.ndim == 2 else c[:, None]     # (T, N) or (T, 1)
    run = _recursion_by_blocks if n < _FEW_VOXELS else _recursion_by_rows
    out, d_out = run(ct, dt, which, k, t - t[0], e, weights, derivative)
    return (out, d_out) if derivative else out


def exp_conv(c, t, k, derivative=False):
    """Convolution of ``c`` with exp(-k t), and optionally its derivative with respect to k.

    ``c``: input (T,) shared or (N, T) per voxel; ``t``: times (T,) (any units, any
    spacing); ``k``: rates (N,) in the inverse unit of ``t`` (k >= 0).
    Returns E (N, T), or (E, dE/dk) when ``derivative``.
    """
    out, d_out = exp_conv_frame_major(c, t, k, derivative=True) if derivative else \
        (exp_conv_frame_major(c, t, k), None)
    # The recursion runs frame-major (T, N); the result is returned voxel-major and C-ordered:
    # one transposing copy here is several times cheaper than the mixed-order arithmetic that
    # a transposed view causes downstream (model - data, Jacobian assembly).
    if derivative:
        return np.ascontiguousarray(out.T), np.ascontiguousarray(d_out.T)
    return np.ascontiguousarray(out.T)


# Below this many voxels the recursion runs in blocks of frames (vectorised over time),
# above it frame by frame (vectorised over voxels): each keeps numpy's per-call cost small.
_FEW_VOXELS = 256
_MAX_EXPONENT = 600.0


def _recursion_by_rows(ct, dt, which, k, elapsed, e, weights, derivative):
    """E_i = e_i E_{i-1} + u_i frame by frame, u_i = dt (c_{i-1} (a - b) + c_i b)."""
    n = k.shape[0]
    out = np.zeros((dt.size + 1, n))
    d_out = np.zeros((dt.size + 1, n)) if derivative else None
    per_voxel = ct.shape[1] > 1 or n == 1
    if not per_voxel:
        _shared_input_rows(ct[:, 0], dt, which, e, weights, out, d_out)
        return out, d_out
    for i in range(dt.size):
        j, h = which[i], dt[i]
        c0, c1 = ct[i], ct[i + 1]
        if per_voxel:
            u = h * (c0 * weights[0][j] + c1 * weights[1][j])
        else:
            u = (h * c0) * weights[0][j] + (h * c1) * weights[1][j]
        if derivative:
            # dE_i/dk = e dE_{i-1}/dk - dt e E_{i-1} + du_i/dk, du/dk = dt du/dx
            if per_voxel:
                du = (h * h) * (c0 * weights[2][j] + c1 * weights[3][j])
            else:
                du = (h * h * c0) * weights[2][j] + (h * h * c1) * weights[3][j]
            np.multiply(d_out[i] - h * out[i], e[j], out=d_out[i + 1])
            d_out[i + 1] += du
        np.multiply(out[i], e[j], out=out[i + 1])
        out[i + 1] += u
    return out, d_out


def _shared_input_rows(c, dt, which, e, weights, out, d_out):
    """The frame-by-frame recursion for one input shared by all voxels, written as in-place
    scaled vector additions (BLAS daxpy: y += alpha x, no temporaries), which halves the passes
    over memory of the plain expression; frames where the input is zero add nothing."""
    for i in range(dt.size):
        j, h = which[i], dt[i]
        c0, c1 = float(c[i]), float(c[i + 1])
        row = np.multiply(out[i], e[j], out=out[i + 1])                     # e E_{i-1}
        if d_out is not None:
            # dE_i/dk = e dE_{i-1}/dk - dt e E_{i-1} + dt^2 (c_{i-1} d(a-b)/dx + c_i db/dx)
            d_row = np.multiply(d_out[i], e[j], out=d_out[i + 1])
            _axpy(row, d_row, a=-h)
            if c0 != 0.0:
                _axpy(weights[2][j], d_row, a=h * h * c0)
            if c1 != 0.0:
                _axpy(weights[3][j], d_row, a=h * h * c1)
        if c0 != 0.0:
            _axpy(weights[0][j], row, a=h * c0)
        if c1 != 0.0:
            _axpy(weights[1][j], row, a=h * c1)


def _blocks(u, k, elapsed):
    """Solve y_i = exp(-k (t_i - t_{i-1})) y_{i-1} + u_i (y_0 = 0) in closed form over blocks
    of frames short enough that exp(k * block duration) cannot overflow:
    y_i = exp(-L_i) (y_ref + cumsum_j u_j exp(L_j)), L_j = k (t_j - t_ref)."""
    n_frames = elapsed.size
    y = np.zeros((n_frames, k.shape[0]))
    span = _MAX_EXPONENT / max(float(k.max()), 1e-300)
    i = 1
    while i < n_frames:
        stop = int(np.searchsorted(elapsed, elapsed[i - 1] + span, side="right"))
        stop = min(max(stop, i + 1), n_frames)
        if stop == i + 1:                   # one frame: the plain step (k dt may be huge)
            y[i] = y[i - 1] * np.exp(-k * (elapsed[i] - elapsed[i - 1])) + u[i - 1]
            i = stop
            continue
        growth = np.exp(k[None, :] * (elapsed[i:stop] - elapsed[i - 1])[:, None])
        y[i:stop] = (y[i - 1] + np.cumsum(u[i - 1:stop - 1] * growth, axis=0)) / growth
        i = stop
    return y


def _recursion_by_blocks(ct, dt, which, k, elapsed, e, weights, derivative):
    h = dt[:, None]
    c0, c1 = ct[:-1], ct[1:]
    out = _blocks(h * (c0 * weights[0][which] + c1 * weights[1][which]), k, elapsed)
    if not derivative:
        return out, None
    # dE/dk obeys the same recursion with input du_i/dk - dt_i e_i E_{i-1}.
    du = (h * h) * (c0 * weights[2][which] + c1 * weights[3][which])
    return out, _blocks(du - h * e[which] * out[:-1], k, elapsed)


def cumulative_integral(c, t):
    """Running trapezoid integral of ``c`` (T,) or (N, T) over ``t``, starting at 0
    (exact for the piecewise-linear input that the convolution assumes)."""
    c = np.asarray(c, dtype=float)
    dt = np.diff(np.asarray(t, dtype=float))
    increments = 0.5 * (c[..., 1:] + c[..., :-1]) * dt
    return np.concatenate([np.zeros(c.shape[:-1] + (1,)), np.cumsum(increments, axis=-1)], axis=-1)


def _segments(t, delay):
    shifted_t = t[None, :] - delay[:, None]
    index = np.clip(np.searchsorted(t, shifted_t, side="right") - 1, 0, t.size - 2)
    return shifted_t, index


def shift(c, t, delay):
    """``c`` delayed by ``delay`` (scalar or (N,)) on grid ``t``: c(t - delay), zero before
    the first sample, linear interpolation between samples."""
    c = np.asarray(c, dtype=float)
    t = np.asarray(t, dtype=float)
    delay = np.asarray(delay, dtype=float)
    if delay.ndim == 0:
        return np.interp(t - float(delay), t, c, left=0.0)
    shifted_t, index = _segments(t, delay)
    t0, t1 = t[index], t[index + 1]
    weight = np.clip((shifted_t - t0) / (t1 - t0), 0.0, 1.0)
    values = c[index] * (1 - weight) + c[index + 1] * weight
    return np.where(shifted_t < t[0], 0.0, values)


def shift_derivative(c, t, delay):
    """d/d(delay) of ``shift(c, t, delay)`` for delays (N,): minus the slope of the
    interpolated ``c`` at t - delay (zero before the first sample), shaped (N, T)."""
    c = np.asarray(c, dtype=float)
    t = np.asarray(t, dtype=float)
    delay = np.atleast_1d(np.asarray(delay, dtype=float))
    shifted_t, index = _segments(t, delay)
    slope = (c[index + 1] - c[index]) / (t[index + 1] - t[index])
    # Before the first sample the shifted curve is 0; beyond the last it is extrapolated flat.
    inside = (shifted_t >= t[0]) & (shifted_t <= t[-1])
    return np.where(inside, -slope, 0.0)
