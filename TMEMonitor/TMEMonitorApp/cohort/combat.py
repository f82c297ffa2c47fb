"""ComBat harmonisation of site (batch) effects: location and scale per feature, covariate effects
preserved, empirical-Bayes shrinkage across features.

Model (Johnson, Li & Rabinovic, Biostatistics 2007;8:118-127, doi:10.1093/biostatistics/kxj037):
    y_ijg = alpha_g + X_ij beta_g + gamma_ig + delta_ig eps_ijg
for site i, sample j, feature g. Steps, as in the published implementation (sva::ComBat) and its
neuroimaging port (Fortin et al., NeuroImage 2017, doi:10.1016/j.neuroimage.2017.08.047;
NeuroImage 2018, doi:10.1016/j.neuroimage.2017.11.024):
1. OLS of y on [site indicators, covariates] -> B_hat; alpha_g = sum_i (n_i/n) B_hat_ig (or the
   reference site's coefficient); sigma2_g = mean over samples of the squared residuals (over the
   reference site's samples with a reference site).
2. Standardise: z = (y - alpha_g - X beta_g) / sigma_g.
3. gamma_hat_ig = mean of z over site i; delta2_hat_ig = its variance (n_i - 1 denominator).
4. Priors over features: gamma_ig ~ N(gamma_bar_i, tau2_i), delta2_ig ~ InvGamma(a_i, b_i) with
   gamma_bar, tau2 the mean and variance of gamma_hat and a = (2 s2 + m^2)/s2, b = (m s2 + m^3)/s2
   (m, s2: mean and variance of delta2_hat) (method of moments, Johnson et al. 2007 section 3.1).
5. Posterior means, iterated to convergence (relative change < 1e-4):
   gamma* = (n_i tau2 gamma_hat + delta2* gamma_bar) / (n_i tau2 + delta2*),
   delta2* = (b + sum_j (z - gamma*)^2 / 2) / (n_i / 2 + a - 1).
6. Adjust: y* = sigma_g (z - gamma*_ig) / sqrt(delta2*_ig) + alpha_g + X beta_g.
With a reference site its samples are left unchanged (gamma* = 0, delta2* = 1). Without
empirical Bayes (or with fewer than two features) gamma* = gamma_hat, delta2* = delta2_hat.
Estimates are plain JSON (no pickle) and can be applied to new data from the same sites.
"""
import json

import numpy as np

from TMEMonitorLib.errors import InputError

CONVERGENCE = 1e-4
CITATION = ("Johnson WE, Li C, Rabinovic A. Biostatistics 2007;8:118-127, doi:10.1093/biostatistics/kxj037; "
            "Fortin J-P et al. NeuroImage 2017 doi:10.1016/j.neuroimage.2017.08.047 and 2018 "
            "doi:10.1016/j.neuroimage.2017.11.024")


def encode_covariates(covariates, specs=None):
    """(matrix n x p, specs) from {name: [values per sample]}: numbers as they are, text one-hot
    with the first level dropped. ``specs`` (from a fit) fixes the encoding for new data."""
    covariates = covariates or {}
    n = len(next(iter(covariates.values()))) if covariates else 0
    columns, out_specs = [], []
    names = [s["name"] for s in specs] if specs is not None else sorted(covariates)
    for index, name in enumerate(names):
        if name not in covariates:
            raise InputError(f"harmonisation: covariate '{name}' is missing")
        values = covariates[name]
        spec = specs[index] if specs is not None else None
        numeric = _all_numbers(values) if spec is None else spec["kind"] == "numeric"
        if numeric:
            try:
                columns.append(np.asarray([float(v) for v in values]))
            except (TypeError, ValueError):
                raise InputError(f"harmonisation: covariate '{name}' must be numeric") from None
            out_specs.append({"name": name, "kind": "numeric"})
        else:
            levels = spec["levels"] if spec is not None else sorted({str(v) for v in values})
            unknown = sorted({str(v) for v in values} - set(levels))
            if unknown:
                raise InputError(f"harmonisation: covariate '{name}' has level(s) {', '.join(unknown)} "
                                 f"not seen when the estimates were made ({', '.join(levels)})")
            for level in levels[1:]:
                columns.append(np.asarray([1.0 if str(v) == level else 0.0 for v in values]))
            out_specs.append({"name": name, "kind": "categorical", "levels": levels})
    matrix = np.column_stack(columns) if columns else np.zeros((n, 0))
    return matrix, out_specs


def _all_numbers(values):
    try:
        [float(v) for v in values]
        return True
    except (TypeError, ValueError):
        return False


def fit(data, sites, covariates=None, reference_site=None, empirical_bayes=True, features=None):
    """Estimate site effects. ``data``: features x samples (no missing values); ``sites``: one
    label per sample; ``covariates``: {name: values per sample}. Returns (estimates dict, adjusted)."""
    y = np.asarray(data, dtype=float)
    if y.ndim != 2:
        raise InputError("harmonisation: data must be features x samples")
    if not np.all(np.isfinite(y)):
        raise InputError("harmonisation: data hold missing or non-finite values")
    sites = [str(s) for s in sites]
    if len(sites) != y.shape[1]:
        raise InputError(f"harmonisation: {len(sites)} site labels for {y.shape[1]} samples")
    levels = sorted(set(sites))
    if len(levels) < 2:
        raise InputError(f"harmonisation needs at least two sites (found {', '.join(levels)})")
    counts = np.array([sites.count(level) for level in levels])
    if np.any(counts < 2):
        small = [level for level, count in zip(levels, counts) if count < 2]
        raise InputError(f"harmonisation: site(s) {', '.join(small)} have fewer than two samples")
    if reference_site is not None and str(reference_site) not in levels:
        raise InputError(f"harmonisation: reference site '{reference_site}' is not one of {', '.join(levels)}")
    covariate_matrix, specs = encode_covariates(covariates)
    n_features, n_samples = y.shape
    site_index = np.array([levels.index(s) for s in sites])
    batch = np.zeros((n_samples, len(levels)))
    batch[np.arange(n_samples), site_index] = 1.0
    design = np.hstack([batch, covariate_matrix])
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise InputError("harmonisation: the covariates are confounded with the sites (design not of full rank)")
    b_hat = np.linalg.solve(design.T @ design, design.T @ y.T)           # (sites + p) x features
    ref = levels.index(str(reference_site)) if reference_site is not None else None
    if ref is None:
        grand_mean = (counts / n_samples) @ b_hat[:len(levels)]
    else:
        grand_mean = b_hat[ref]
    residuals = y - (design @ b_hat).T
    variance_samples = site_index == ref if ref is not None else np.ones(n_samples, bool)
    var_pooled = (residuals[:, variance_samples] ** 2).mean(axis=1)
    if np.any(var_pooled <= 0):
        raise InputError("harmonisation: a feature has no residual variance")
    beta = b_hat[len(levels):]
    stand_mean = grand_mean[:, None] + (covariate_matrix @ beta).T
    z = (y - stand_mean) / np.sqrt(var_pooled)[:, None]
    gamma_hat = np.array([z[:, site_index == i].mean(axis=1) for i in range(len(levels))])
    delta_hat = np.array([z[:, site_index == i].var(axis=1, ddof=1) for i in range(len(levels))])
    use_eb = bool(empirical_bayes) and n_features >= 2
    gamma_bar = gamma_hat.mean(axis=1)
    tau2 = gamma_hat.var(axis=1, ddof=1) if n_features >= 2 else np.full(len(levels), np.nan)
    a_prior, b_prior = _inverse_gamma_priors(delta_hat) if n_features >= 2 else (np.full(len(levels), np.nan),) * 2
    gamma_star, delta_star, iterations = gamma_hat.copy(), delta_hat.copy(), [0] * len(levels)
    if use_eb:
        for i in range(len(levels)):
            gamma_star[i], delta_star[i], iterations[i] = _posterior(
                z[:, site_index == i], gamma_hat[i], delta_hat[i], gamma_bar[i], tau2[i], a_prior[i], b_prior[i])
    if ref is not None:
        gamma_star[ref], delta_star[ref] = 0.0, 1.0
    estimates = {
        "method": "ComBat (empirical Bayes)" if use_eb else "ComBat (location/scale, no empirical Bayes)",
        "citation": CITATION, "features": list(features) if features is not None else
        [f"feature {g}" for g in range(n_features)], "sites": levels, "samples_per_site": counts.tolist(),
        "reference_site": levels[ref] if ref is not None else None, "covariates": specs,
        "empirical_bayes": use_eb, "grand_mean": grand_mean.tolist(), "beta_covariates": beta.tolist(),
        "var_pooled": var_pooled.tolist(), "gamma_hat": gamma_hat.tolist(), "delta_hat": delta_hat.tolist(),
        "gamma_bar": _list(gamma_bar), "tau2": _list(tau2), "a_prior": _list(a_prior), "b_prior": _list(b_prior),
        "gamma_star": gamma_star.tolist(), "delta_star": delta_star.tolist(), "iterations": iterations}
    adjusted = apply(estimates, y, sites, covariates)
    return estimates, adjusted


def _list(values):
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, float)]


def _inverse_gamma_priors(delta_hat):
    m = delta_hat.mean(axis=1)
    s2 = delta_hat.var(axis=1, ddof=1)
    return (2 * s2 + m ** 2) / s2, (m * s2 + m ** 3) / s2


def _posterior(z, gamma_hat, delta_hat, gamma_bar, tau2, a, b):
    n = z.shape[1]
    gamma_old, delta_old = gamma_hat.copy(), delta_hat.copy()
    for count in range(1, 10001):
        gamma_new = (tau2 * n * gamma_hat + delta_old * gamma_bar) / (tau2 * n + delta_old)
        sum2 = ((z - gamma_new[:, None]) ** 2).sum(axis=1)
        delta_new = (0.5 * sum2 + b) / (n / 2.0 + a - 1.0)
        change = max(np.max(np.abs(gamma_new - gamma_old) / np.abs(gamma_old)),
                     np.max(np.abs(delta_new - delta_old) / delta_old))
        gamma_old, delta_old = gamma_new, delta_new
        if change < CONVERGENCE:
            return gamma_new, delta_new, count
    raise RuntimeError("ComBat: the empirical-Bayes estimates did not converge")


def apply(estimates, data, sites, covariates=None):
    """Harmonise ``data`` (features x samples) from known sites with fitted ``estimates``;
    samples of the reference site are returned unchanged."""
    y = np.asarray(data, dtype=float)
    levels = estimates["sites"]
    unknown = sorted({str(s) for s in sites} - set(levels))
    if unknown:
        raise InputError(f"harmonisation: site(s) {', '.join(unknown)} were not in the data the estimates were "
                         f"made from ({', '.join(levels)})")
    if y.shape[0] != len(estimates["features"]):
        raise InputError(f"harmonisation: {y.shape[0]} features, the estimates have {len(estimates['features'])}")
    covariate_matrix, _ = encode_covariates(covariates if estimates["covariates"] else {},
                                            estimates["covariates"] or None)
    if covariate_matrix.shape[0] == 0:
        covariate_matrix = np.zeros((y.shape[1], 0))
    site_index = np.array([levels.index(str(s)) for s in sites], dtype=int)
    grand_mean = np.asarray(estimates["grand_mean"])
    beta = np.asarray(estimates["beta_covariates"]).reshape(covariate_matrix.shape[1], y.shape[0])
    sigma = np.sqrt(np.asarray(estimates["var_pooled"]))
    stand_mean = grand_mean[:, None] + (covariate_matrix @ beta).T
    gamma = np.asarray(estimates["gamma_star"])[site_index].T
    delta = np.asarray(estimates["delta_star"])[site_index].T
    z = (y - stand_mean) / sigma[:, None]
    adjusted = sigma[:, None] * (z - gamma) / np.sqrt(delta) + stand_mean
    if estimates.get("reference_site") is not None:
        keep = site_index == levels.index(estimates["reference_site"])
        adjusted[:, keep] = y[:, keep]
    return adjusted


def save(estimates, path):
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(estimates, stream, indent=1)
    return path


def load(path):
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)
