"""Standard errors of the inputless fit that include the noise of the driving pyruvate.

The inputless model takes the *measured* pyruvate as its input, so the noise of the pyruvate
samples propagates into kPL (an errors-in-variables problem). Linearised about the fit
(Seber & Wild, Nonlinear Regression, Wiley 1989, ch. 10, errors in the regressors), with product
data y = f(theta, p_true) + e_y and measured pyruvate p = p_true + e_p:

    residual r = y - f(theta, p) ~ e_y - J dtheta - G e_p,    J = df/dtheta, G = df/dp (at the fit)
    least squares: dtheta = (J^T J)^-1 J^T (e_y - G e_p)
    Cov(theta) = (J^T J)^-1 J^T (sigma_X^2 I + sigma_P^2 G G^T) J (J^T J)^-1

One noise level sigma for the pyruvate and the product channels (the same receiver and
bandwidth; the flip angles change the signal, not the noise). sigma is estimated per voxel from
the residuals, whose expectation now carries the pyruvate term too:

    E[RSS] = sigma^2 [(N - P) + tr(G G^T) - tr((J^T J)^-1 J^T G G^T J)]

so sigma^2 = RSS / that denominator (reduces to RSS / (N - P) when G = 0, the lactate-only SE).
J and G by forward differences of the same model the fit uses (G through the whole chain:
Rician de-flooring, division by the pyruvate signal scale; frames with no pyruvate excitation
have zero columns). The Monte-Carlo test (test_hp_uncertainty.py) checks SE ~ empirical SD."""
import numpy as np

_REL_STEP = 1e-6


def _forward_jacobian(model, params, args_fn, base, variable, rel_step=_REL_STEP, floor=None):
    """d model / d variable[:, i] for every column i of ``variable`` (n, K) -> (n, M, K)."""
    n, k = variable.shape
    out = np.empty((n, base.shape[1], k))
    floor = np.full(n, 1e-8) if floor is None else floor
    for i in range(k):
        step = rel_step * np.maximum(np.abs(variable[:, i]), floor)
        moved = variable.copy()
        moved[:, i] += step
        out[:, :, i] = (args_fn(moved) - base) / step[:, None]
    return out


def _pyruvate_jacobian(model, params, pyruvate, pyruvate_to_mz, base, floor, rel_step=_REL_STEP):
    """d model / d pyruvate[:, t] for every frame t, (n, M, T): all T perturbed copies in one batched model
    call (the model steps through the frames once for n x T rows instead of T times for n rows)."""
    n, n_frames = pyruvate.shape
    step = rel_step * np.maximum(np.abs(pyruvate), floor[:, None])            # (n, T)
    moved = np.repeat(pyruvate[None], n_frames, axis=0)                        # (T, n, T): copy t moves frame t
    index = np.arange(n_frames)
    moved[index, :, index] += step.T
    stacked = model(np.tile(params, (n_frames, 1)), pyruvate_to_mz(moved.reshape(n_frames * n, n_frames)))
    diff = stacked.reshape(n_frames, n, -1) - base[None]                      # (T, n, M)
    return np.transpose(diff / step.T[:, :, None], (1, 2, 0))


def propagated_covariance(model, params, measured, pyruvate, pyruvate_to_mz):
    """Covariances of the fitted parameters with and without the driving pyruvate's noise.

    ``model(params, pyruvate_mz) -> (n, M)``; ``params`` (n, P) at the fit; ``measured`` (n, M) product
    data; ``pyruvate`` (n, T) the measured pyruvate signal; ``pyruvate_to_mz(pyruvate) -> (n, T)`` the
    fit's own conversion (de-flooring, signal scale). Returns (cov (n, P, P), cov_products_only
    (n, P, P), sigma (n,)): both with the sigma estimated above; NaN where J^T J is singular."""
    params = np.asarray(params, dtype=float)
    pyruvate = np.asarray(pyruvate, dtype=float)
    n, n_params = params.shape
    pyr_mz = pyruvate_to_mz(pyruvate)
    base = model(params, pyr_mz)
    jac = _forward_jacobian(model, params, lambda p: model(p, pyr_mz), base, params, floor=np.full(n, 1e-3))
    scale = np.maximum(np.max(np.abs(pyruvate), axis=1), 1e-30)
    g = _pyruvate_jacobian(model, params, pyruvate, pyruvate_to_mz, base, 1e-3 * scale)
    n_res = base.shape[1]
    jtj = np.einsum("nmp,nmq->npq", jac, jac)
    singular = ~np.all(np.isfinite(jtj), axis=(1, 2))
    jtj = np.where(singular[:, None, None], np.eye(n_params), jtj)
    conditioned = np.linalg.cond(jtj) < 1e14
    inverse = np.linalg.pinv(jtj)
    c = np.einsum("nmp,nmt->npt", jac, g)                        # J^T G
    sandwich = inverse @ c @ np.swapaxes(c, 1, 2) @ inverse       # (J^T J)^-1 J^T G G^T J (J^T J)^-1
    rss = np.sum((np.asarray(measured, float) - base) ** 2, axis=1)
    trace_ggt = np.sum(g * g, axis=(1, 2))
    trace_projected = np.einsum("npq,nqp->n", inverse, c @ np.swapaxes(c, 1, 2))
    dof = max(n_res - n_params, 1)
    sigma2 = rss / np.maximum(dof + trace_ggt - trace_projected, dof)
    sigma2_products = rss / dof
    cov = sigma2[:, None, None] * (inverse + sandwich)
    cov_products = sigma2_products[:, None, None] * inverse
    bad = singular | ~conditioned | ~np.isfinite(rss)
    cov[bad] = np.nan
    cov_products[bad] = np.nan
    return cov, cov_products, np.sqrt(sigma2)


def standard_errors(cov):
    """(n, P, P) covariances -> (n, P) standard errors (NaN where a variance is negative or NaN)."""
    var = np.diagonal(cov, axis1=1, axis2=2)
    with np.errstate(invalid="ignore"):
        return np.where(var >= 0, np.sqrt(np.where(var >= 0, var, 0.0)), np.nan)
