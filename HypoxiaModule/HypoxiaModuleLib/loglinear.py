"""Echo-major kernels of the mono-exponential fit: echoes used, log-linear estimate, fit quality.

A chunk of n voxels is laid out echo-major, (E, n): every step is then a contiguous operation
across voxels (one numpy call per echo row, or one BLAS product with a (k, E) design matrix), and
the leading-run test is a running AND over the E rows instead of a scan inside each voxel. Chunks
are sized to stay in cache (relaxometry.py).

Rule (unchanged; the module README, "The exact fit rule"): the echoes used are the leading run of
echoes that are finite, above the floor and (with field-gradient factors F) where |F| >= the
minimum factor; log-linear = weighted least squares of ln(S/F) on TE with weights S^2 (the inverse
variance of ln S for Gaussian noise on S; Veraart et al., NeuroImage 2013,
doi:10.1016/j.neuroimage.2013.05.028). The time axis is centred before the sums (less cancellation
in the determinant). RMSE and R^2 are those of S0 exp(-R2* TE) F over the used echoes; with uniformly
spaced echoes exp(-R2* TE_k) is built by repeated multiplication with exp(-R2* dTE) (exact up to
a few ulp: one exp per voxel instead of one per echo).
"""
import numpy as np


def used_run(y_t, threshold, extra_t=None):
    """(used (E, n) bool, n_used (n,) int16): the leading run of finite echoes above ``threshold``.

    ``threshold``: scalar or (n,), max(floor, 0) so that non-positive samples end the run too;
    ``extra_t``: optional (E, n) bool of further exclusions."""
    used = np.greater(y_t, threshold)
    used &= y_t < np.inf                              # +inf ends the run; NaN already fails ">"
    if extra_t is not None:
        used &= extra_t
    for k in range(1, used.shape[0]):
        np.logical_and(used[k], used[k - 1], out=used[k])
    return used, used.sum(axis=0, dtype=np.int16)


class Chunk:
    """The used echoes of one chunk, echo-major: ``y`` the magnitudes with zeros where unused,
    ``y_fit`` the same divided by F (``y`` itself without factors), ``used`` (E, n) bool or None
    when every echo of every voxel is used (then no masking is done anywhere), ``n_used``."""

    def __init__(self, y_t, threshold, factors_t=None, min_factor=0.0):
        """``y_t``: the caller's scratch copy of the magnitudes, echo-major; zeroed in place where
        unused (NaN/inf after the run too), the used echoes unchanged (half the memory traffic of a
        new array)."""
        extra = None if factors_t is None else np.abs(factors_t) >= min_factor
        used, self.n_used = used_run(y_t, threshold, extra)
        self.used = None if used.all() else used
        if self.used is not None:
            np.copyto(y_t, 0.0, where=~used)
        self.y = y_t
        if factors_t is None:
            self.y_fit = self.y
        else:
            self.y_fit = self.y / np.where(used, factors_t, 1.0)
        self.factors = factors_t
        self.sum_yy = None                    # sum of y^2 over the used echoes, once known


def _log_ratio(y, used, single):
    """ln(S_k / S_1) (E, n), finite where used (``y`` is 0 where unused). ``single``: the
    logarithm in float32 (returned as float32).

    Why float32: it is 3-4x faster than float64 (SIMD) and the log is most of the fit's work. On
    the ratio to the first echo its rounding (2^-24 relative, on values of order R2* x TE) moves R2*
    by < 3e-7 relative on noise-free float64 data (measured, README) -- less than the float32
    storage of the images themselves -- and S0 is the intercept times S_1, in float64."""
    first = y[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(first > 0, 1.0 / first, 1.0)
    if not single:
        return np.log(y * scale if used is None else np.where(used, y * scale, 1.0))
    ratio = np.empty(y.shape, np.float32)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        np.multiply(y, scale, out=ratio, casting="same_kind")
        if used is not None:               # unused samples are 0 (Chunk): ln of the smallest float32, x weight 0
            np.fmax(ratio, np.finfo(np.float32).tiny, out=ratio)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(ratio, out=ratio)


def loglinear(chunk, te, single=True):
    """(R2* (1/s), S0) of the weighted log-linear fit per voxel; NaN where fewer than 2 echoes.

    Voxels whose float32 logarithm is not finite (ratios beyond float32's range: decays of more
    than e^-87 over the echo train, possible only without a noise floor) are refitted in float64."""
    y = chunk.y_fit
    w = y * y
    t_mean = float(te.mean())
    t_c = te - t_mean
    design = np.stack([np.ones(te.size), t_c, t_c * t_c])
    s_w, s_wt, s_wtt = design @ w
    if chunk.factors is None:
        chunk.sum_yy = s_w
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_w = np.multiply(_log_ratio(y, chunk.used, single), w, out=w)   # w's buffer: less memory traffic
        s_wy, s_wty = design[:2] @ log_w
        slope = (s_w * s_wty - s_wt * s_wy) / (s_w * s_wtt - s_wt * s_wt)
        ok = chunk.n_used >= 2
        if single:
            redo = np.flatnonzero(ok & ~np.isfinite(slope))
            if redo.size:
                y_r = y[:, redo]
                used_r = None if chunk.used is None else chunk.used[:, redo]
                s_wy[redo], s_wty[redo] = design[:2] @ (_log_ratio(y_r, used_r, False) * (y_r * y_r))
                slope[redo] = (s_w[redo] * s_wty[redo] - s_wt[redo] * s_wy[redo]) / (
                    s_w[redo] * s_wtt[redo] - s_wt[redo] * s_wt[redo])
        # ln(S0 / S_1) from the intercept at TE = 0, so S0 = S_1 exp(.) needs no logarithm of S_1
        s0 = np.exp((s_wy - slope * s_wt) / s_w - slope * t_mean)
        s0 *= y[0]
        return np.where(ok, -slope, np.nan), np.where(ok, s0, np.nan)


def uniform_step(te, rtol=1e-9):
    """The echo spacing (s) when the echo times are uniformly spaced (to ``rtol``), else None."""
    steps = np.diff(te)
    step = float(steps.mean()) if steps.size else 0.0
    return step if step > 0 and np.all(np.abs(steps - step) <= rtol * step) else None


def decay_matrix(te, rate, step=None):
    """exp(-rate TE_k) as an (E, n) array; with a uniform ``step`` row k is row k-1 x exp(-rate step)."""
    with np.errstate(over="ignore"):
        if step is None:
            return np.exp(np.multiply.outer(-te, rate))
        out = np.empty((te.size, rate.size))
        np.exp(-rate * te[0], out=out[0])
        ratio = np.exp(-rate * step)
        for k in range(1, te.size):
            np.multiply(out[k - 1], ratio, out=out[k])
    return out


def amplitude(chunk, te, r2star, step=None):
    """S0 by linear least squares given R2*, over the used echoes (ARLO's second step)."""
    rate = np.where(np.isfinite(r2star), r2star, 0.0)
    decay = decay_matrix(te, rate, step)
    if chunk.used is not None:
        decay *= chunk.used
    with np.errstate(divide="ignore", invalid="ignore"):
        s0 = np.einsum("ij,ij->j", decay, chunk.y_fit) / np.einsum("ij,ij->j", decay, decay)
    return np.where(np.isfinite(r2star), s0, np.nan)


def _sse_uniform(chunk, te, rate, s0, step):
    """Sum of squared residuals of S0 exp(-rate TE) over the used echoes, for uniformly spaced echoes
    and no field-gradient factors, without forming the model: SSE = sum y^2 - 2 S0 sum y e + S0^2 sum e^2
    with e_k = e_0 q^k, q = exp(-rate dTE); sum y e by Horner's rule (y is 0 after the used run) and
    sum e^2 over the n used echoes as the geometric series e_0^2 (1 - q^2n) / (1 - q^2). Two passes
    over the echoes instead of five; the cancellation costs ~1e-16 of sum y^2, far below any noise."""
    n = chunk.n_used
    # q, e_0 and q^2n (= exp(-2 rate dTE n)) from one exp call over a (3, n) array
    powers = np.multiply.outer(np.array([-step, -te[0], -2.0 * step]), rate)
    powers[2] *= n
    with np.errstate(over="ignore"):
        q, e0, q2n = np.exp(powers, out=powers)
    acc = chunk.y[-1].copy()
    for k in range(te.size - 2, -1, -1):
        acc *= q
        acc += chunk.y[k]
    q2 = q * q
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        series = np.where(np.abs(1.0 - q2) > 1e-12, (1.0 - q2n) / (1.0 - q2), n)   # q -> 1: n terms of 1
    sum_yy = np.einsum("ij,ij->j", chunk.y, chunk.y) if chunk.sum_yy is None else chunk.sum_yy
    sse = sum_yy - 2.0 * s0 * e0 * acc + (s0 * e0) ** 2 * series
    return np.maximum(sse, 0.0), sum_yy


def quality(chunk, te, r2star, s0, step=None):
    """(rmse, r2) of S0 exp(-R2* TE) [x F] over the used echoes (raw magnitudes); ``step``: the
    uniform echo spacing (uniform_step) or None."""
    if step is not None and chunk.factors is None:
        sse, sum_yy = _sse_uniform(chunk, te, np.where(np.isfinite(r2star), r2star, 0.0), s0, step)
        sum_y = np.ones(te.size) @ chunk.y
        with np.errstate(divide="ignore", invalid="ignore"):
            sst = sum_yy - sum_y * sum_y / chunk.n_used
            return np.sqrt(sse / chunk.n_used), np.where(sst > 0, 1.0 - sse / sst, np.nan)
    resid = decay_matrix(te, np.where(np.isfinite(r2star), r2star, 0.0), step)
    with np.errstate(invalid="ignore", over="ignore"):
        resid *= s0
        if chunk.factors is not None:
            resid *= chunk.factors
        np.subtract(chunk.y, resid, out=resid)
        if chunk.used is not None:
            resid *= chunk.used
        sse = np.einsum("ij,ij->j", resid, resid)
    sum_y = np.ones(te.size) @ chunk.y
    sum_yy = np.einsum("ij,ij->j", chunk.y, chunk.y) if chunk.sum_yy is None else chunk.sum_yy
    with np.errstate(divide="ignore", invalid="ignore"):
        sst = sum_yy - sum_y * sum_y / chunk.n_used              # sum of squares about the mean
        rmse = np.sqrt(sse / chunk.n_used)
        r2 = np.where(sst > 0, 1.0 - sse / sst, np.nan)
    return rmse, r2
