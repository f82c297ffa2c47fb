"""Linear-combination model (LCM) fitting of MR spectra: single voxel and vectorised MRSI.

``fit_lcm(mrs, basis)`` fits one spectrum; ``fit_lcm_grid(fids, basis)`` fits every voxel of
an MRSI grid in batches that share the basis preprocessing (see ``lcm_model``).

Procedure (both): normalise each spectrum; initial frequency shift from the cross-correlation
of magnitude spectra with the summed basis (phase independent); initial zero-order phase
from a 12-step grid evaluated by variable projection; then nonlinear least squares over
phases, shift(s) and Voigt line broadening with amplitudes (NNLS) and baseline solved
exactly at every step. The single voxel uses scipy.optimize.least_squares (trust-region
reflective, bounds); the grid uses the project's shared batched Levenberg-Marquardt
(TMEMonitorLib.fitting.levenberg_marquardt.fit_residuals) on the same residual and Jacobian. CRLBs come from the Fisher information of the full model (amplitudes, baseline,
nonlinear parameters) with the noise SD measured in a signal-free region.
"""
import numpy as np
from scipy.optimize import least_squares

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.progress import report

from ..basis.resample import resample_basis
from .lcm_model import CombinationModel
from .lcm_result import LCMGridResult, LCMResult
from .lcm_summary import summarise
from .noise import NOISE_REGION_PPM, spectral_noise_sd

_PHASE_GRID = np.deg2rad(np.arange(0, 360, 30))


def _select_basis(basis, include, exclude):
    names = list(basis.names) if include is None else list(include)
    missing = [n for n in names if n not in basis]
    if missing:
        raise InputError(f"include names {missing} are not in the basis ({', '.join(basis.names)})")
    names = [n for n in names if n not in set(exclude or ())]
    if not names:
        raise InputError("no basis spectra left to fit after include/exclude")
    return basis.subset(names) if names != list(basis.names) else basis


def _prepare(basis, n_points, dwell_s, mhz, ppm_range, include, exclude, options):
    if not np.isfinite(dwell_s) or dwell_s <= 0:
        raise InputError(f"data dwell time must be positive (got {dwell_s} s)")
    if not np.isfinite(mhz) or mhz <= 0:
        raise InputError(f"data spectrometer frequency must be positive (got {mhz} MHz)")
    basis = _select_basis(basis, include, exclude)
    basis = resample_basis(basis, dwell_s, n_points, mhz)
    return CombinationModel(basis, n_points, dwell_s, mhz, ppm_range, **options)


def _initial_theta(model, y_full_abs, y_fit):
    """Shift from magnitude cross-correlation, then phase0 from a VARPRO grid."""
    n_vox = y_fit.shape[0]
    theta = np.repeat(model.default_theta[None], n_vox, axis=0)
    template_fid = (model.fids * model._decay(theta[:1])).sum(axis=0)
    template = np.abs(np.fft.fftshift(np.fft.fft(template_fid)))
    template = template[model.idx] - template[model.idx].mean()
    df = 1.0 / (model.n_points * model.dwell_s)
    max_lag = int(np.ceil(model.upper[2] / df))
    lags = np.arange(-max_lag, max_lag + 1)
    scores = np.stack([(y_full_abs[:, np.clip(model.idx + lag, 0, model.n_points - 1)]
                        * template[None]).sum(axis=1) for lag in lags], axis=1)
    theta[:, 2] = np.clip(-lags[scores.argmax(axis=1)] * df, model.lower[2], model.upper[2])
    costs = []
    for phi in _PHASE_GRID:
        theta[:, 0] = phi
        costs.append(np.sum(model.solve(theta, y_fit)["resid"] ** 2, axis=1))
    theta[:, 0] = _PHASE_GRID[np.argmin(np.stack(costs, axis=1), axis=1)]
    return theta


class _ProjectedResidual:
    """Variable-projection residual and its Kaufman Jacobian over rows of a batch.

    ``residual(x, rows)`` and ``jacobian(x, rows)`` are the model/jacobian pair of the shared
    engine (rows: the batch rows being evaluated). The Jacobian needs the linear solve at the
    same parameters; the engine asks for it only at accepted steps, which the last residual
    call has just solved, so that solve is reused instead of repeated."""

    def __init__(self, model, y, theta_fixed):
        self.model, self.y, self.theta_fixed = model, y, theta_fixed
        self.free = model.free
        self._last = None          # (rows, x, state) of the last residual evaluation

    def theta(self, x, rows):
        theta = self.theta_fixed[rows].copy()
        theta[:, self.free] = x
        return theta

    def residual(self, x, rows):
        state = self.model.solve(self.theta(x, rows), self.y[rows])
        self._last = (rows, x.copy(), state)
        return state["resid"]

    def _cached_state(self, x, rows):
        if self._last is None:
            return None
        last_rows, last_x, state = self._last
        where = np.searchsorted(last_rows, rows)
        if np.any(where >= last_rows.size) or not np.array_equal(last_rows[np.minimum(where, last_rows.size - 1)],
                                                                 rows):
            return None
        if not np.array_equal(last_x[where], x):
            return None
        return {key: value[where] for key, value in state.items()}

    def jacobian(self, x, rows):
        theta = self.theta(x, rows)
        state = self._cached_state(x, rows)
        if state is None:
            state = self.model.solve(theta, self.y[rows])
        return self.model.residual_jacobian(theta, state)[:, :, self.free]


def _fit_batch(model, fids, noise_sd, use_scipy):
    """Fit (V, N) FIDs; returns theta (V, P), scale (V,), normalised spectra and a success flag."""
    spectra = model.data_spectrum(fids)
    scale = np.abs(spectra).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    y = spectra / scale[:, None]
    full_abs = np.abs(np.fft.fftshift(np.fft.fft(fids, axis=-1), axes=-1)) / scale[:, None]
    theta = _initial_theta(model, full_abs, y)
    free = model.free
    lower, upper = model.lower[free], model.upper[free]
    problem = _ProjectedResidual(model, y, theta)
    ok = np.ones(fids.shape[0], bool)
    if use_scipy:
        cache = {}

        def both(x):
            key = x.tobytes()
            if key not in cache:
                cache.clear()
                rows = np.arange(1)
                cache[key] = (problem.residual(x[None], rows)[0], problem.jacobian(x[None], rows)[0])
            return cache[key]
        x0 = np.clip(theta[0, free], lower, upper)
        solution = least_squares(lambda x: both(x)[0], x0, jac=lambda x: both(x)[1],
                                 bounds=(lower, upper), method="trf", x_scale="jac",
                                 ftol=1e-9, xtol=1e-9, gtol=1e-10, max_nfev=200)
        theta[0, free] = solution.x
        ok[0] = solution.status > 0
    else:
        rows = np.arange(fids.shape[0])
        result = levenberg_marquardt.fit_residuals(problem.residual, theta[:, free], 2 * model.K, lower, upper,
                                                   jacobian=problem.jacobian, args=(rows,), max_iter=50,
                                                   xtol=1e-6, ftol=1e-6, standard_errors=False)
        theta[:, free] = result["params"]
        ok = result["status"] != fit_status.FAILED
    return theta, scale, y, ok


def _options(kwargs):
    allowed = {"baseline", "baseline_knot_spacing_ppm", "baseline_order", "shift_groups", "lineshape",
               "fit_phase1", "max_shift_ppm", "max_group_shift_ppm", "max_linewidth_hz",
               "max_phase1_deg_per_ppm"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise InputError(f"unknown fit option(s): {', '.join(sorted(unknown))}; "
                         f"allowed: {', '.join(sorted(allowed))}")
    return kwargs


def _mrs_fields(mrs):
    try:
        return np.asarray(mrs.fid), float(mrs.dwell_s), float(mrs.spectrometer_mhz)
    except AttributeError as error:
        raise InputError(f"mrs must provide fid, dwell_s and spectrometer_mhz (MRSData): {error}") from None


def fit_lcm(mrs, basis, ppm_range=(0.2, 4.2), include=None, exclude=None,
            noise_region_ppm=NOISE_REGION_PPM, crlb_threshold_percent=20.0,
            fwhm_threshold_ppm=0.1, **options):
    """Fit one spectrum (MRSData-like: fid (n_points,), dwell_s, spectrometer_mhz) with ``basis``.

    options: baseline ('spline' | 'poly' | None), baseline_knot_spacing_ppm (1.0),
    baseline_order (3, for 'poly'), shift_groups ({name: [metabolites]}: extra shift per
    group), lineshape ('voigt' | 'lorentzian' | 'gaussian'), fit_phase1 (True),
    max_shift_ppm (0.1), max_group_shift_ppm (0.03), max_linewidth_hz (40),
    max_phase1_deg_per_ppm (30).
    Returns an :class:`LCMResult`."""
    fid, dwell, mhz = _mrs_fields(mrs)
    fid = np.squeeze(fid)
    if fid.ndim != 1:
        raise InputError(f"fit_lcm needs a single spectrum but mrs.fid has shape {np.shape(mrs.fid)}; "
                         "average/coil-combine first, or use fit_lcm_grid for MRSI")
    if not np.all(np.isfinite(fid)) or not np.any(fid):
        raise InputError("mrs.fid is all zero or contains NaN/inf values")
    model = _prepare(basis, fid.size, dwell, mhz, ppm_range, include, exclude, _options(options))
    fids = fid[None].astype(complex)
    spectra_full = np.fft.fftshift(np.fft.fft(fids, axis=-1), axes=-1)
    noise = spectral_noise_sd(spectra_full, model.ppm_full, noise_region_ppm)
    noise = np.where(noise > 0, noise, np.finfo(float).tiny)      # noiseless synthetic data
    theta, scale, y, ok = _fit_batch(model, fids, noise, use_scipy=True)
    summary = summarise(model, theta, scale, y, noise, ok, keep_components=True)
    return LCMResult(model, summary, 0, crlb_threshold_percent, fwhm_threshold_ppm,
                     full_spectrum=spectra_full[0])


def fit_lcm_grid(fids, basis, ppm_range=(0.2, 4.2), dwell_s=None, spectrometer_mhz=None, mask=None,
                 include=None, exclude=None, noise_region_ppm=NOISE_REGION_PPM,
                 crlb_threshold_percent=20.0, fwhm_threshold_ppm=0.1, chunk_size=64,
                 progress=None, **options):
    """Fit every voxel of an MRSI grid: fids (ny, nx[, nz], n_points) array or MRSData-like.

    dwell_s / spectrometer_mhz default to the MRSData's, else to the basis's. ``mask``
    (grid shape, bool) limits the fit; voxels outside get status MASKED. Voxels are fitted in
    chunks of ``chunk_size`` sharing the basis preprocessing. Returns an :class:`LCMGridResult`."""
    if hasattr(fids, "fid"):
        data, dwell_default, mhz_default = _mrs_fields(fids)
    else:
        data, dwell_default, mhz_default = np.asarray(fids), basis.dwell_s, basis.spectrometer_mhz
    dwell = float(dwell_s if dwell_s is not None else dwell_default)
    mhz = float(spectrometer_mhz if spectrometer_mhz is not None else mhz_default)
    if data.ndim < 2:
        raise InputError(f"fit_lcm_grid needs (..., n_points) FIDs, got shape {data.shape}")
    grid_shape, n_points = data.shape[:-1], data.shape[-1]
    flat = data.reshape(-1, n_points).astype(complex)
    if mask is None:
        mask_flat = np.ones(flat.shape[0], bool)
    else:
        mask = np.asarray(mask, bool)
        if mask.shape != grid_shape:
            raise InputError(f"mask shape {mask.shape} does not match the grid {grid_shape}")
        mask_flat = mask.ravel()
    usable = np.all(np.isfinite(flat), axis=1) & np.any(flat != 0, axis=1)
    model = _prepare(basis, n_points, dwell, mhz, ppm_range, include, exclude, _options(options))
    n_vox = flat.shape[0]
    summary = None
    todo = np.flatnonzero(mask_flat & usable)
    for start in range(0, todo.size, chunk_size):
        rows = todo[start:start + chunk_size]
        chunk = flat[rows]
        spectra_full = np.fft.fftshift(np.fft.fft(chunk, axis=-1), axes=-1)
        noise = spectral_noise_sd(spectra_full, model.ppm_full, noise_region_ppm)
        noise = np.where(noise > 0, noise, np.finfo(float).tiny)
        theta, scale, y, ok = _fit_batch(model, chunk, noise, use_scipy=False)
        part = summarise(model, theta, scale, y, noise, ok, keep_components=False)
        if summary is None:
            summary = {k: np.full((n_vox,) + v.shape[1:], np.nan,
                                  dtype=float if v.dtype == np.uint8 else v.dtype)
                       for k, v in part.items()}
        for k, v in part.items():
            summary[k][rows] = v
        report(progress, (start + rows.size) / max(todo.size, 1), f"MRSI fit {start + rows.size}/{todo.size}")
    if summary is None:
        raise InputError("no voxel to fit: the mask is empty or every FID is zero/NaN")
    status = np.full(n_vox, fit_status.MASKED, dtype=fit_status.DTYPE)
    status[mask_flat & ~usable] = fit_status.NO_SIGNAL
    status[todo] = summary["status"][todo].astype(fit_status.DTYPE)
    summary["status"] = status
    return LCMGridResult(model, summary, grid_shape, flat, crlb_threshold_percent, fwhm_threshold_ppm)
