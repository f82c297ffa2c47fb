"""Turn fitted nonlinear parameters into everything a result reports (arrays over voxels)."""
import numpy as np

from TMEMonitorLib.fitting import status as fit_status


def summarise(model, theta, scale, y, noise_sd, ok, keep_components):
    """Everything a result needs, as arrays over voxels (amplitudes in data units)."""
    state = model.solve(theta, y)
    amps = state["amps"] * scale[:, None]
    baseline = model.baseline(state) * scale[:, None]
    spectrum = state["yp"] * scale[:, None]
    comps = state["cols"] * amps[:, :, None]
    fit = comps.sum(axis=1) + baseline
    residual = spectrum - fit
    cov_a, cov_nl = model.fisher_covariance(theta, state, noise_sd / scale)
    cov_a = cov_a * (scale ** 2)[:, None, None]
    crlb_abs = np.sqrt(np.maximum(np.diagonal(cov_a, axis1=1, axis2=2), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        crlb_pct = np.where(amps > 0, 100.0 * crlb_abs / amps, np.inf)
    res_stack = np.concatenate([residual.real, residual.imag], axis=1)
    dat_stack = np.concatenate([spectrum.real, spectrum.imag], axis=1)
    ss_res = np.sum(res_stack ** 2, axis=1)
    ss_tot = np.sum((dat_stack - dat_stack.mean(axis=1, keepdims=True)) ** 2, axis=1)
    lw_l = theta[:, 3]
    lw_g = np.sqrt(np.maximum(theta[:, 4], 0.0))
    # Voigt FWHM (Olivero & Longbothum, JQSRT 1977;17:233, doi:10.1016/0022-4073(77)90161-3)
    fwhm_hz = 0.5346 * lw_l + np.sqrt(0.2166 * lw_l ** 2 + lw_g ** 2)
    peak = comps.real.max(axis=2).max(axis=1)
    status = np.full(theta.shape[0], fit_status.OK, dtype=fit_status.DTYPE)
    free = model.free
    span = model.upper - model.lower
    tol = 1e-4 * np.where(np.isfinite(span), span, 1.0)
    at_upper = (theta >= model.upper - tol) & np.isfinite(model.upper) & free
    at_lower = (theta <= model.lower + tol) & np.isfinite(model.lower) & free
    at_lower[:, 3:5] = False          # zero extra broadening is a legitimate optimum
    status[np.any(at_upper | at_lower, axis=1)] = fit_status.HIT_BOUND
    finite = np.all(np.isfinite(amps), axis=1) & np.all(np.isfinite(theta), axis=1)
    status[~finite | ~ok | (amps.sum(axis=1) <= 0)] = fit_status.FAILED
    out = dict(
        amplitudes=amps, crlb_abs=crlb_abs, crlb_percent=crlb_pct, covariance=cov_a,
        nonlinear_covariance=cov_nl, phase0_deg=np.rad2deg(np.angle(np.exp(1j * theta[:, 0]))),
        phase1_deg_per_ppm=np.rad2deg(theta[:, 1]), shift_hz=theta[:, 2],
        group_shift_hz=theta[:, 5:], linewidth_hz=lw_l, gaussian_linewidth_hz=lw_g,
        fwhm_hz=fwhm_hz, fwhm_ppm=fwhm_hz / model.mhz, noise_sd=noise_sd,
        snr=peak / noise_sd, rmse=np.sqrt(ss_res / res_stack.shape[1]),
        r2=1.0 - ss_res / np.maximum(ss_tot, 1e-300), status=status, theta=theta)
    if keep_components:
        out.update(spectrum=spectrum, fit_spectrum=fit, baseline=baseline, residual=residual,
                   components=comps)
    return out
