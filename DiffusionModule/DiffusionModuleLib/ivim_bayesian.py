"""Bayesian IVIM: posterior mean of (f, D, D*) per voxel under an empirical population prior.

The prior is a Gaussian over the latent (scaled-logit) values of (f, D, D*), so it respects
the bounds; its mean and covariance are learnt from the voxels the full fit found well
(Orton et al., MRM 2014, doi:10.1002/mrm.24649, learn the prior from the population too).
S0 has a flat prior and is integrated out analytically (the model is linear in it); without
a known noise SD, sigma is integrated out too under the Jeffreys prior 1/sigma (Neil &
Bretthorst, MRM 1993;29:642-647), which leaves the likelihood
(RSS(theta))^(-(n-1)/2) / sqrt(g'g).

The posterior mean is an integral over three dimensions, done for all voxels at once by
adaptive Gauss-Hermite quadrature: the grid is centred on each voxel's posterior mode (a
batched MAP fit) and shaped by the Laplace covariance there (Liu & Pierce, Biometrika 1994,
doi:10.1093/biomet/81.3.624), then re-centred once on the first pass's mean and covariance.
Work is chunked so memory stays bounded for whole volumes.
"""
import numpy as np

from TMEMonitorLib.fitting import levenberg_marquardt
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from .signal_models import ivim_jacobian, ivim_rows_and_jacobian
from .signal_models import ivim_rows as ivim_model

NODES_PER_AXIS = 5        # Gauss-Hermite nodes per parameter: 125 grid points per voxel
INFLATION = 1.3           # widen the Laplace covariance: posteriors have heavier tails than Gaussians
CHUNK = 256               # voxels per quadrature chunk: (CHUNK, 125, n_b) arrays stay a few MB
LATENT_LIMIT = 12.0       # |latent| bound: logit 12 is 6e-6 of the range from a bound
MIN_GOOD_VOXELS = 10      # fewer well-fitted voxels than this: a weak prior instead of a learnt one
MIN_EFFECTIVE_NODES = 2.0  # fewer: the quadrature grid missed the posterior (status FAILED)
NOISE_FLOOR = 1e-5         # noise SD relative to S(b_min) assumed at least: no MRI reaches SNR 1e5
PASSES = 2                # quadrature passes: the Laplace grid, then one re-centred on its moments


def to_latent(p, lower, upper):
    """Bounded values -> scaled logit."""
    x = np.clip((p - lower) / (upper - lower), 1e-6, 1 - 1e-6)
    return np.log(x / (1 - x))


def from_latent(z, lower, upper):
    return lower + (upper - lower) / (1 + np.exp(-z))


def population_prior(z, good):
    """(mean, covariance) of latent (f, D, D*) over well-fitted voxels; a weak prior when too few."""
    if np.count_nonzero(good) < MIN_GOOD_VOXELS:
        return np.zeros(3), 9.0 * np.eye(3)
    zg = z[good]
    mean = np.median(zg, axis=0)
    covariance = np.cov(zg.T) + 0.05 * np.eye(3)   # a floor so one homogeneous tissue gives no spike
    return mean, covariance


def _hermite_rule(n):
    """Probabilists' Gauss-Hermite nodes (n,) and weights (n,) summing to 1."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / w.sum()


def _map_fit(b, v, w, start, lower, upper, mean, whitening, sigma):
    """Posterior mode over (S0, latent f, D, D*) by the batched engine on data + prior residuals."""
    lo, hi = lower[1:], upper[1:]

    def to_params(q):
        return np.column_stack([q[:, :1], from_latent(q[:, 1:], lo, hi)])

    def residual_model(q, sig, wt):
        return np.concatenate([ivim_model(to_params(q), b) * wt / sig[:, None], q[:, 1:] @ whitening.T], axis=1)

    def residual_jacobian(q, sig, wt):
        p = to_params(q)
        jac = ivim_jacobian(p, b)
        s = 1 / (1 + np.exp(-q[:, 1:]))
        jac[..., 1:] *= ((hi - lo) * s * (1 - s))[:, None, :]
        jac *= (wt / sig[:, None])[..., None]
        prior_rows = np.zeros((q.shape[0], 3, 4))
        prior_rows[:, :, 1:] = whitening
        return np.concatenate([jac, prior_rows], axis=1)

    def residual_both(q, sig, wt):
        """residual_model and residual_jacobian from one evaluation of the exponentials."""
        model, jac = ivim_rows_and_jacobian(to_params(q), b)
        scale = wt / sig[:, None]
        s = 1 / (1 + np.exp(-q[:, 1:]))
        both = np.empty((q.shape[0], 4, b.size + 3))          # (n, P, residuals): J transposed
        np.multiply(np.swapaxes(jac, 1, 2), scale[:, None, :], out=both[:, :, :b.size])
        both[:, 1:, :b.size] *= ((hi - lo) * s * (1 - s))[:, :, None]
        both[:, 0, b.size:] = 0.0
        both[:, 1:, b.size:] = whitening.T
        return np.concatenate([model * scale, q[:, 1:] @ whitening.T], axis=1), np.swapaxes(both, 1, 2)

    y = np.concatenate([v * w / sigma[:, None], np.broadcast_to(whitening @ mean, (v.shape[0], 3))], axis=1)
    q0 = np.column_stack([start[:, :1], to_latent(start[:, 1:], lo, hi)])
    q_lower = np.concatenate([[0.0], np.full(3, -LATENT_LIMIT)])
    q_upper = np.concatenate([[np.inf], np.full(3, LATENT_LIMIT)])
    fit = levenberg_marquardt.fit(residual_model, q0, y, q_lower, q_upper, jacobian=residual_jacobian,
                                  args=(sigma, w), max_iter=100, ftol=1.49e-8, standard_errors=False,
                                  evaluate=residual_both)
    q = np.where(np.isfinite(fit["params"]), fit["params"], q0)
    jac = residual_jacobian(q, sigma, w)
    precision = np.matmul(np.swapaxes(jac, 1, 2), jac)
    with np.errstate(all="ignore"):
        # S0 marginalised: the latent block of the inverse. The pseudo-inverse (an SVD per voxel)
        # only where the plain inverse fails.
        try:
            inverse = np.linalg.inv(precision)
        except np.linalg.LinAlgError:
            inverse = np.full(precision.shape, np.nan)
        bad = ~np.all(np.isfinite(inverse), axis=(1, 2))
        if bad.any():
            inverse[bad] = np.linalg.pinv(precision[bad])
        covariance = inverse[:, 1:, 1:]
    return q[:, 1:], covariance


def _safe_cholesky(covariance, fallback):
    """Cholesky factors per voxel; the fallback covariance where a matrix is not positive definite."""
    c = np.where(np.all(np.isfinite(covariance), axis=(1, 2))[:, None, None], covariance, fallback)
    c = 0.5 * (c + np.swapaxes(c, 1, 2)) + 1e-10 * np.eye(3)
    eigen = np.linalg.eigvalsh(c)
    c = np.where((eigen[:, :1] > 0)[:, :, None], c, fallback)
    return np.linalg.cholesky(c)


_NODE_CACHE = {}


def _tensor_nodes(nodes, node_weights):
    """Tensor-grid nodes u (m^3, 3) and log(product of weights) + |u|^2 / 2 (m^3,), computed once."""
    key = (nodes.tobytes(), node_weights.tobytes())
    if key not in _NODE_CACHE:
        u = np.stack(np.meshgrid(nodes, nodes, nodes, indexing="ij"), axis=-1).reshape(-1, 3)
        log_w = np.log(np.stack(np.meshgrid(node_weights, node_weights, node_weights, indexing="ij"),
                                axis=-1).reshape(-1, 3)).sum(1)
        _NODE_CACHE[key] = (u, log_w + 0.5 * np.sum(u * u, axis=1))
    return _NODE_CACHE[key]


def _quadrature(b, v, w, centre, cov, fallback, lower, upper, mean, whitening, sigma, nodes, node_weights):
    """Posterior moments on the grid z = centre + L u, L L' = cov, u on tensor Gauss-Hermite nodes.

    Latent order inside is (D*, D, f) so that, L being lower triangular, D* varies with
    the first node index only and D with the first two: exp(-b D*) and exp(-b D) are then
    computed on m and m^2 points instead of m^3. Returns (mean of (S0, f, D, D*), their SDs,
    latent mean (f, D, D*), latent covariance, effective number of nodes 1 / sum(weight^2)).
    """
    order = [2, 1, 0]
    m = nodes.size
    c0 = centre[:, order]
    L = _safe_cholesky(cov[:, order][:, :, order], fallback[order][:, order])
    lo, hi = lower[1:][order], upper[1:][order]
    u, log_node = _tensor_nodes(nodes, node_weights)                                 # (m^3, 3), (m^3,)
    z = c0[:, None, :] + np.matmul(u, np.swapaxes(L, 1, 2))                          # (n, m^3, 3)
    z = np.clip(z, -LATENT_LIMIT - 4, LATENT_LIMIT + 4, out=z).reshape(-1, m, m, m, 3)
    dstar = from_latent(z[:, :, 0, 0, 0], lo[0], hi[0])                              # (n, m)
    d = from_latent(z[:, :, :, 0, 1], lo[1], hi[1])                                  # (n, m, m)
    f = from_latent(z[..., 2], lo[2], hi[2])                                         # (n, m, m, m)
    # g = e_d + f (e_star - e_d) (S0 = 1) is linear in f, which alone varies with the last node
    # index: the sums over b of g^2 and g v are quadratics in f whose coefficients need only the
    # m^2 (D*, D) points, so no (n, m^3, n_b) array is formed.
    e_star = np.exp(-b * dstar[..., None])[:, :, None, :]                            # (n, m, 1, n_b)
    e_d = np.exp(-b * d[..., None])                                                  # (n, m, m, n_b)
    diff = e_star - e_d
    e_dw, diff_w = e_d * w[:, None, None, :], diff * w[:, None, None, :]             # weights are 0/1
    a0 = np.einsum("nabk,nabk->nab", e_dw, e_d)[..., None]                           # (n, m, m, 1)
    a1 = np.einsum("nabk,nabk->nab", e_dw, diff)[..., None]
    a2 = np.einsum("nabk,nabk->nab", diff_w, diff)[..., None]
    v0 = np.einsum("nabk,nk->nab", e_dw, v)[..., None]
    v1 = np.einsum("nabk,nk->nab", diff_w, v)[..., None]
    a = (a0 + f * (2.0 * a1 + f * a2)).reshape(v.shape[0], m ** 3)
    c = (v0 + f * v1).reshape(v.shape[0], m ** 3)
    q = np.einsum("nb,nb->n", v * w, v)[:, None]
    n_used = np.count_nonzero(w, axis=1)[:, None]
    # RSS at the best S0 = c / a, floored at the noise floor (noise-free input stays well posed).
    rss = np.maximum(q - c * c / a, n_used * NOISE_FLOOR ** 2)
    if sigma is None:
        # S0 and sigma integrated out (flat and Jeffreys priors): RSS^(-(n-1)/2) / sqrt(a).
        log_like = -0.5 * np.log(a) - 0.5 * (n_used - 1) * np.log(rss)
    else:
        log_like = -0.5 * np.log(a) - rss / (2 * sigma[:, None] ** 2)
    z = z.reshape(v.shape[0], m ** 3, 3)[:, :, order]                                # back to (f, D, D*)
    white = np.matmul(z - mean, whitening.T)
    log_weight = log_like - 0.5 * np.sum(white * white, axis=2) + log_node
    log_weight -= log_weight.max(axis=1, keepdims=True)
    weight = np.exp(log_weight)
    weight /= weight.sum(axis=1, keepdims=True)
    values = np.concatenate([(c / a)[..., None], f.reshape(-1, m ** 3, 1),
                             np.broadcast_to(d[:, :, :, None], f.shape).reshape(-1, m ** 3, 1),
                             np.broadcast_to(dstar[:, :, None, None], f.shape).reshape(-1, m ** 3, 1)], axis=-1)
    row = weight[:, None, :]                                                          # (n, 1, m^3)
    mean_p = np.matmul(row, values)[:, 0]
    spread = values - mean_p[:, None, :]
    sd_p = np.sqrt(np.maximum(np.matmul(row, spread * spread)[:, 0], 0.0))
    mean_z = np.matmul(row, z)[:, 0]
    dz = z - mean_z[:, None, :]
    cov_z = np.matmul(np.swapaxes(dz * weight[..., None], 1, 2), dz)
    effective_nodes = 1.0 / np.sum(weight * weight, axis=1)
    return mean_p, sd_p, mean_z, cov_z, effective_nodes


def posterior_mean(b, v, w, start, start_status, lower, upper, prior=None, sigma=None, progress=None):
    """Posterior means (n, 4) of (S0, f, D, D*) for normalised signals ``v`` with 0/1 weights ``w``.

    ``start``: full-fit estimates (n, 4); ``lower``/``upper``: bounds (4,); ``prior``: optional
    (mean, covariance) of latent (f, D, D*); ``sigma``: optional noise SD per voxel (normalised
    units), else sigma is integrated out. Returns (mean, posterior SD, status) per voxel.
    """
    lo, hi = lower[1:], upper[1:]
    z_start = to_latent(start[:, 1:], lo, hi)
    good = (start_status == fit_status.OK) & np.all(np.isfinite(z_start), axis=1)
    mean, covariance = (np.asarray(x, dtype=float) for x in prior) if prior is not None \
        else population_prior(z_start, good)
    whitening = np.linalg.cholesky(np.linalg.inv(covariance)).T       # W' W = covariance^-1
    n_used = np.count_nonzero(w, axis=1)
    residual = (ivim_model(start, b) - v) * w
    sigma_map = np.sqrt(np.einsum("ij,ij->i", residual, residual) / np.maximum(n_used - 4, 1))
    sigma_map = np.maximum(np.nan_to_num(sigma_map, nan=1.0) if sigma is None else sigma, NOISE_FLOOR)
    report(progress, 0.0, "IVIM posterior mode")
    mode, laplace = _map_fit(b, v, w, start, lower, upper, mean, whitening, sigma_map)
    known_sigma = None if sigma is None else sigma_map
    nodes, node_weights = _hermite_rule(NODES_PER_AXIS)
    n = v.shape[0]
    params = np.full((n, 4), np.nan)
    spread = np.full((n, 4), np.nan)
    state = np.full(n, fit_status.OK, fit_status.DTYPE)
    for first in range(0, n, CHUNK):
        rows = slice(first, min(first + CHUNK, n))
        centre, cov = mode[rows], laplace[rows] * INFLATION ** 2
        for _ in range(PASSES):    # Laplace grid, then again on the previous pass's moments
            mean_p, sd_p, centre, moments, effective = _quadrature(
                b, v[rows], w[rows], centre, cov, covariance, lower, upper, mean, whitening,
                None if known_sigma is None else known_sigma[rows], nodes, node_weights)
            # Re-shape the grid from the moments only where enough nodes carried weight.
            cov = np.where((effective >= 5)[:, None, None], moments * INFLATION ** 2, cov)
        params[rows], spread[rows] = mean_p, sd_p
        # The grid missed the posterior when nearly all weight sits on one node.
        state[rows] = np.where((effective >= MIN_EFFECTIVE_NODES) & np.all(np.isfinite(mean_p), axis=1),
                               fit_status.OK, fit_status.FAILED)
        report(progress, 0.3 + 0.7 * min(1.0, (first + CHUNK) / max(n, 1)), "IVIM posterior mean")
    return params, spread, state
