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
doi:10.1093/biomet/81.3.624). That first grid is coarse (CENTRING_NODES per axis): its mean and
covariance centre and shape the grid of NODES_PER_AXIS per axis that gives the result. Against a
converged reference (9 nodes per axis, re-centred 4 times) this is closer than two passes of the
fine grid were (median |error| 0.6-1.4 % of the posterior SD against 0.9-2.5 %; posterior SD
0.96 of the reference's against 0.93-0.94; 20,000 voxels, SNR 50) and 11 % faster. Work is
chunked so memory stays bounded for whole volumes.

Speed (issue 19): ivim.fit_ivim learns the prior from full fits of a sample of at most
ivim.PRIOR_SAMPLE voxels and starts the mode search from the segmented fits elsewhere; the mode
only centres the grid, so its search stops at MAP_FTOL and its last model and Jacobian give the
Laplace covariance; the latent moments and the prior term are products with node tables, since the
grid is linear in the nodes; exponentials, logarithms and the log weights are taken in single
precision, every sum over b-values and every moment in double.
"""
import numpy as np

from TMEMonitorLib.fitting import levenberg_marquardt
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from .signal_models import ivim_rows as ivim_model

CENTRING_NODES = 3        # Gauss-Hermite nodes per parameter of the first grid: 27 points per voxel
NODES_PER_AXIS = 5        # ... of the grids after it: 125 points per voxel
INFLATION = 1.3           # widen the Laplace covariance: posteriors have heavier tails than Gaussians
CHUNK = 512               # voxels per quadrature chunk: (CHUNK, 25, n_b) and (CHUNK, 125) arrays stay in cache
LATENT_LIMIT = 12.0       # |latent| bound: logit 12 is 6e-6 of the range from a bound
MIN_GOOD_VOXELS = 10      # fewer well-fitted voxels than this: a weak prior instead of a learnt one
MIN_EFFECTIVE_NODES = 2.0  # fewer: the quadrature grid missed the posterior (status FAILED)
NOISE_FLOOR = 1e-5         # noise SD relative to S(b_min) assumed at least: no MRI reaches SNR 1e5
PASSES = 2                # quadrature passes: the coarse Laplace grid, then the fine grid on its moments
# The mode only centres the first grid, whose moments re-centre the second: its search stops
# when a step lowers the negative log posterior (about n_b + 3 at the mode, in units where one
# posterior SD costs ~1/2) by less than this fraction. 1e-2 and 1e-3 give the same bias/SD table
# to the last digit printed (Testing/benchmarks/validation_ivim_bias.py); 1e-2 takes a third fewer
# iterations (issue 19).
MAP_FTOL = 1e-2


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


def population_prior_of(params, status, lower, upper):
    """:func:`population_prior` of fitted (S0, f, D, D*) rows (n, 4) with their fit status."""
    z = to_latent(params[:, 1:], lower[1:], upper[1:])
    return population_prior(z, (status == fit_status.OK) & np.all(np.isfinite(z), axis=1))


def _hermite_rule(n):
    """Probabilists' Gauss-Hermite nodes (n,) and weights (n,) summing to 1."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / w.sum()


def _map_fit(b, v, w, start, lower, upper, mean, whitening, sigma, refine_sigma=False):
    """Posterior mode over (S0, latent f, D, D*) by the batched engine on data + prior residuals."""
    lo, hi = lower[1:], upper[1:]

    def to_params(q):
        return np.column_stack([q[:, :1], from_latent(q[:, 1:], lo, hi)])

    def residual_model(q, sig, wt):
        return np.concatenate([ivim_model(to_params(q), b) * wt / sig[:, None], q[:, 1:] @ whitening.T], axis=1)

    b32 = b.astype(np.float32)
    n_b = b.size

    def residual_both(q, sig, wt):
        """residual_model and its Jacobian from one evaluation of the exponentials, taken in
        single precision (:func:`_decay`): the search only centres the grid and stops at MAP_FTOL."""
        s = 1 / (1 + np.exp(-q[:, 1:]))
        p = lo + (hi - lo) * s                                # (f, D, D*)
        s0, f = q[:, :1], p[:, :1]
        chain = s0 * (hi - lo) * s * (1 - s)                  # S0 d(f, D, D*)/d latent
        e_star, e_d = _decay(p[:, 2], b32), _decay(p[:, 1], b32)
        scale = wt / sig[:, None]
        both = np.empty((q.shape[0], 4, n_b + 3))             # (n, P, residuals): J transposed
        difference = e_star - e_d
        np.multiply(difference, f, out=both[:, 0, :n_b])      # f e* + (1 - f) e_d
        both[:, 0, :n_b] += e_d
        both[:, 0, :n_b] *= scale
        np.multiply(difference, chain[:, :1] * scale, out=both[:, 1, :n_b])
        np.multiply(e_d, (-(1 - f) * chain[:, 1:2]) * b * scale, out=both[:, 2, :n_b])
        np.multiply(e_star, (-f * chain[:, 2:3]) * b * scale, out=both[:, 3, :n_b])
        both[:, 0, n_b:] = 0.0
        both[:, 1:, n_b:] = whitening.T
        return np.concatenate([both[:, 0, :n_b] * s0, q[:, 1:] @ whitening.T], axis=1), np.swapaxes(both, 1, 2)

    y = np.concatenate([v * w / sigma[:, None], np.broadcast_to(whitening @ mean, (v.shape[0], 3))], axis=1)
    q0 = np.column_stack([start[:, :1], to_latent(start[:, 1:], lo, hi)])
    q_lower = np.concatenate([[0.0], np.full(3, -LATENT_LIMIT)])
    q_upper = np.concatenate([[np.inf], np.full(3, LATENT_LIMIT)])
    fit = levenberg_marquardt.fit(residual_model, q0, y, q_lower, q_upper,
                                  args=(sigma, w), max_iter=100, ftol=MAP_FTOL, standard_errors=False,
                                  evaluate=residual_both, keep_model=True)
    found = np.all(np.isfinite(fit["params"]), axis=1)
    q = np.where(found[:, None], fit["params"], q0)
    # The residuals and Jacobian at the mode come from the search's last accepted step; rows it
    # did not fit are evaluated at their start.
    model, jac = fit["model"], fit["jacobian"]
    redo = np.flatnonzero(~found | ~np.all(np.isfinite(jac), axis=(1, 2)))
    if redo.size:
        model[redo], jac[redo] = residual_both(q[redo], sigma[redo], w[redo])
    if refine_sigma:
        # The noise SD from the residual at the mode (the start's residual overstates it when the
        # start is a segmented fit), for the Laplace covariance that shapes the quadrature grid.
        # The model's data rows are the signal x w / sigma.
        residual = model[:, :n_b] * sigma[:, None] - v * w
        n_used = np.count_nonzero(w, axis=1)
        at_mode = np.sqrt(np.einsum("ij,ij->i", residual, residual) / np.maximum(n_used - 4, 1))
        refined = np.maximum(np.where(np.isfinite(at_mode), at_mode, sigma), NOISE_FLOOR)
        jac[:, :n_b] *= (sigma / refined)[:, None, None]
        sigma = refined
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
    """Cholesky factors (n, 3, 3) per voxel, written out for 3x3 as vector operations across the
    voxels (LAPACK per 3x3 matrix costs more than the arithmetic); the fallback covariance's
    factor where a matrix is not finite or not positive definite."""
    c = 0.5 * (covariance + np.swapaxes(covariance, 1, 2)) + 1e-10 * np.eye(3)
    with np.errstate(all="ignore"):
        l00 = np.sqrt(c[:, 0, 0])
        l10, l20 = c[:, 1, 0] / l00, c[:, 2, 0] / l00
        p11 = c[:, 1, 1] - l10 * l10
        l11 = np.sqrt(p11)
        l21 = (c[:, 2, 1] - l20 * l10) / l11
        p22 = c[:, 2, 2] - l20 * l20 - l21 * l21
        l22 = np.sqrt(p22)
    out = np.zeros_like(c)
    out[:, 0, 0], out[:, 1, 0], out[:, 2, 0], out[:, 1, 1], out[:, 2, 1], out[:, 2, 2] = l00, l10, l20, l11, l21, l22
    ok = (c[:, 0, 0] > 0) & (p11 > 0) & (p22 > 0) & np.all(np.isfinite(out), axis=(1, 2))
    if not ok.all():
        out[~ok] = np.linalg.cholesky(0.5 * (fallback + fallback.T) + 1e-10 * np.eye(3))
    return out


_NODE_CACHE = {}


def _tensor_nodes(nodes, node_weights):
    """The tensor grid's node tables, computed once: [u_i, u_i u_j, -2 log_node] (13, m^3) in single
    precision, with log_node = log(product of weights) + |u|^2 / 2, and [u_i, u_i u_j] (m^3, 12) in
    double."""
    key = (nodes.tobytes(), node_weights.tobytes())
    if key not in _NODE_CACHE:
        u = np.stack(np.meshgrid(nodes, nodes, nodes, indexing="ij"), axis=-1).reshape(-1, 3)
        log_w = np.log(np.stack(np.meshgrid(node_weights, node_weights, node_weights, indexing="ij"),
                                axis=-1).reshape(-1, 3)).sum(1)
        log_node = log_w + 0.5 * np.sum(u * u, axis=1)
        table = np.concatenate([u, (u[:, :, None] * u[:, None, :]).reshape(-1, 9)], axis=1)
        by_node = np.concatenate([table.T, -2.0 * log_node[None, :]])
        _NODE_CACHE[key] = (np.ascontiguousarray(by_node, dtype=np.float32), np.ascontiguousarray(table))
    return _NODE_CACHE[key]


# Single precision: numpy's float32 exp and log are about 4x faster than float64 (vectorised) and
# the quadrature's cost is in them; their 6e-8 relative error perturbs the model far below the
# noise floor, while every sum over b-values and every moment stays in double precision.


def _decay(rate, b32):
    """exp(-b rate) (..., n_b) in double, the product and exp done in single precision (see above)."""
    x = np.multiply(rate.astype(np.float32)[..., None], -b32)
    return np.exp(x, out=x).astype(float)


def _from_latent_fast(z, lower, upper):
    """:func:`from_latent` with a single-precision exponential; z is clipped to a safe range in place."""
    limit = LATENT_LIMIT + 4
    np.clip(z, -limit, limit, out=z)
    denominator = np.negative(z, out=np.empty(z.shape, np.float32), casting="same_kind")
    np.exp(denominator, out=denominator)
    denominator += 1
    out = np.divide(upper - lower, denominator, out=np.empty(z.shape))
    out += lower
    return out


def _weighted_moments(weight, values):
    """Mean and SD of ``values`` (shaped as ``weight``, (n, ...)) under normalised ``weight``."""
    weight, values = weight.reshape(weight.shape[0], -1), values.reshape(values.shape[0], -1)
    first = np.einsum("nk,nk->n", weight, values)
    second = np.einsum("nk,nk->n", weight, values * values)
    return first, np.sqrt(np.maximum(second - first * first, 0.0))


def _sum_last(a):
    """Sum over a short last axis as m - 1 vector additions: numpy's reduction over 5 elements is
    several times slower."""
    out = a[..., 0].copy()
    for k in range(1, a.shape[-1]):
        out += a[..., k]
    return out


def _prior_energy(transform, delta, by_node):
    """-2 log(node weight) - |u|^2 + |W (z - mean)|^2 on the tensor grid (n, m^3), in single
    precision, up to a constant per voxel (the weights are normalised afterwards).

    With z = centre + P L u and M = W P L: |W (z - mean)|^2 = |delta|^2 + 2 (M' delta) u + u' M'M u,
    a product of 12 coefficients per voxel (and a 13th, 1, for the node term) with the node table.
    |delta|^2 is the per-voxel constant left out, so the terms that remain are of the order of the
    grid's spread and the product is taken in single precision (error ~1e-5 in a log weight): numpy's
    double product of this thin shape goes to threaded BLAS, which took 5-8x longer than the
    single-precision one (on 2 cores, OpenBLAS 0.3.27-0.3.29) and stalls on a busy machine."""
    n = delta.shape[0]
    coefficients = np.empty((n, 13), np.float32)
    coefficients[:, :3] = 2.0 * np.einsum("nij,ni->nj", transform, delta)                # 2 M' delta
    coefficients[:, 3:12] = np.matmul(np.swapaxes(transform, 1, 2), transform).reshape(n, 9)  # M'M
    coefficients[:, 12] = 1.0
    return np.matmul(coefficients, by_node)


def _quadrature(b, v, w, centre, cov, fallback, lower, upper, mean, whitening, sigma, nodes, node_weights):
    """Posterior moments on the grid z = centre + L u, L L' = cov, u on tensor Gauss-Hermite nodes.

    Latent order inside is (D*, D, f) so that, L being lower triangular, D* varies with
    the first node index only and D with the first two: exp(-b D*) and exp(-b D) are then
    computed on m and m^2 points instead of m^3. z is linear in the shared nodes u, so the prior
    term, the latent mean and covariance are small matrix products with node tables, and
    the parameter moments use the marginal weights of D* and D. Returns (mean of (S0, f, D, D*),
    their SDs, latent mean (f, D, D*), latent covariance, effective number of nodes
    1 / sum(weight^2)).
    """
    order = [2, 1, 0]
    m = nodes.size
    n = v.shape[0]
    c0 = centre[:, order]
    L = _safe_cholesky(cov[:, order][:, :, order], fallback[order][:, order])
    lo, hi = lower[1:][order], upper[1:][order]
    by_node, by_term = _tensor_nodes(nodes, node_weights)
    z_star = c0[:, 0, None] + L[:, 0, 0, None] * nodes                               # (n, m)
    z_d = (c0[:, 1, None, None] + L[:, 1, 0, None, None] * nodes[:, None]
           + L[:, 1, 1, None, None] * nodes[None, :])                                # (n, m, m)
    z_f = (c0[:, 2, None, None] + L[:, 2, 0, None, None] * nodes[:, None]
           + L[:, 2, 1, None, None] * nodes[None, :])[..., None] + L[:, 2, 2, None, None, None] * nodes
    dstar = _from_latent_fast(z_star, lo[0], hi[0])
    d = _from_latent_fast(z_d, lo[1], hi[1])
    f = _from_latent_fast(z_f, lo[2], hi[2])                                         # (n, m, m, m)
    # g = e_d + f (e_star - e_d) (S0 = 1) is linear in f, which alone varies with the last node
    # index: the sums over b of g^2 and g v are quadratics in f whose coefficients need only the
    # m^2 (D*, D) points, so no (n, m^3, n_b) array is formed; the sums with e_star - e_d are
    # taken apart into sums with e_star (m points) and with e_d.
    b32 = b.astype(np.float32)
    e_star = _decay(dstar, b32)                                                      # (n, m, n_b)
    e_d = _decay(d, b32)                                                             # (n, m, m, n_b)
    if w is None:                                                                    # every sample used
        e_dw, e_starw = e_d, e_star
        q = np.einsum("nb,nb->n", v, v)[:, None]
        n_used = np.full((n, 1), b.size)
    else:                                                                            # weights are 0/1
        e_dw, e_starw = e_d * w[:, None, None, :], e_star * w[:, None, :]
        q = np.einsum("nb,nb->n", v * w, v)[:, None]
        n_used = np.count_nonzero(w, axis=1)[:, None]
    a0 = np.einsum("nabk,nabk->nab", e_dw, e_d)                                      # e_d.e_d (n, m, m)
    cross = np.einsum("nabk,nak->nab", e_dw, e_star)                                 # e_d.e_star
    v0 = np.einsum("nabk,nk->nab", e_dw, v)                                          # e_d.v
    star_star = np.einsum("nak,nak->na", e_starw, e_star)[:, :, None]                # (n, m, 1)
    star_v = np.einsum("nak,nk->na", e_starw, v)[:, :, None]
    a1, a2, v1 = cross - a0, star_star - 2.0 * cross + a0, star_v - v0               # with e_star - e_d
    a = f * a2[..., None]
    a += 2.0 * a1[..., None]
    a *= f
    a += a0[..., None]
    c = f * v1[..., None]
    c += v0[..., None]
    a, c = a.reshape(n, m ** 3), c.reshape(n, m ** 3)
    # RSS at the best S0 = c / a, floored at the noise floor (noise-free input stays well posed).
    with np.errstate(all="ignore"):
        s0 = c / a
    rss = np.maximum(q - c * s0, n_used * NOISE_FLOOR ** 2)
    # -2 log(posterior x node weight), in single precision like the exponentials: its
    # terms are at most ~10^2, so the error is ~10^-5 in a log weight.
    # Prior: |W (z - mean)|^2 with z (f, D, D*) = centre + P L u, M = W P L.
    transform = np.matmul(whitening, L[:, order, :])                                 # (n, 3, 3)
    delta = (centre - mean) @ whitening.T                                            # (n, 3)
    energy = _prior_energy(transform, delta, by_node)
    energy += np.log(a.astype(np.float32))
    if sigma is None:
        # S0 and sigma integrated out (flat and Jeffreys priors): likelihood RSS^(-(n-1)/2) / sqrt(a).
        log_rss = np.log(rss.astype(np.float32))
        log_rss *= (n_used - 1).astype(np.float32)
        energy += log_rss
    else:
        energy += (rss / sigma[:, None] ** 2).astype(np.float32)
    energy -= energy.min(axis=1, keepdims=True)
    energy *= -0.5
    weight = np.exp(energy, out=energy).astype(float)
    weight /= weight.sum(axis=1, keepdims=True)
    effective_nodes = 1.0 / np.einsum("nk,nk->n", weight, weight)
    # Parameter moments: f on every node, D and D* on their marginal weights.
    cube = weight.reshape(n, m, m, m)
    marginal_d = _sum_last(cube)                                                     # (n, m, m)
    marginal_star = _sum_last(marginal_d)                                            # (n, m)
    mean_p, sd_p = np.empty((n, 4)), np.empty((n, 4))
    for index, (wt, values) in enumerate(((weight, s0), (cube, f), (marginal_d, d), (marginal_star, dstar))):
        mean_p[:, index], sd_p[:, index] = _weighted_moments(wt, values)
    # Latent moments from those of u: mean c0 + L E[u], covariance L Cov[u] L'.
    moments_u = weight @ by_term                                                     # E[u], E[u u'] (n, 12)
    mean_u = moments_u[:, :3]
    cov_u = moments_u[:, 3:].reshape(n, 3, 3) - mean_u[:, :, None] * mean_u[:, None, :]
    mean_z = (c0 + np.einsum("nij,nj->ni", L, mean_u))[:, order]
    cov_z = np.matmul(np.matmul(L, cov_u), np.swapaxes(L, 1, 2))[:, order][:, :, order]
    return mean_p, sd_p, mean_z, cov_z, effective_nodes


def posterior_mean(b, v, w, start, start_status, lower, upper, prior=None, sigma=None, progress=None):
    """Posterior means (n, 4) of (S0, f, D, D*) for normalised signals ``v`` with 0/1 weights ``w``.

    ``start``: estimates (n, 4) where the posterior mode search starts (full or segmented fits);
    ``start_status``: their fit status (the voxels with OK give the population prior when ``prior``
    is None); ``lower``/``upper``: bounds (4,); ``prior``: optional
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
    mode, laplace = _map_fit(b, v, w, start, lower, upper, mean, whitening, sigma_map, refine_sigma=sigma is None)
    known_sigma = None if sigma is None else sigma_map
    # One rule per pass: the coarse centring grid first, the fine grid after it.
    rules = [_hermite_rule(CENTRING_NODES if index == 0 and PASSES > 1 else NODES_PER_AXIS) for index in range(PASSES)]
    n = v.shape[0]
    params = np.full((n, 4), np.nan)
    spread = np.full((n, 4), np.nan)
    state = np.full(n, fit_status.OK, fit_status.DTYPE)
    all_used = bool(np.all(w == 1))
    for first in range(0, n, CHUNK):
        rows = slice(first, min(first + CHUNK, n))
        centre, cov = mode[rows], laplace[rows] * INFLATION ** 2
        for nodes, node_weights in rules:   # each grid centred and shaped by the previous one's moments
            mean_p, sd_p, new_centre, moments, effective = _quadrature(
                b, v[rows], None if all_used else w[rows], centre, cov, covariance, lower, upper, mean, whitening,
                None if known_sigma is None else known_sigma[rows], nodes, node_weights)
            # Re-shape the grid from the moments only where enough nodes carried weight.
            cov = np.where((effective >= 5)[:, None, None], moments * INFLATION ** 2, cov)
            centre = new_centre
        params[rows], spread[rows] = mean_p, sd_p
        # The grid missed the posterior when nearly all weight sits on one node.
        state[rows] = np.where((effective >= MIN_EFFECTIVE_NODES) & np.all(np.isfinite(mean_p), axis=1),
                               fit_status.OK, fit_status.FAILED)
        report(progress, 0.3 + 0.7 * min(1.0, (first + CHUNK) / max(n, 1)), "IVIM posterior mean")
    return params, spread, state
