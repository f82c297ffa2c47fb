"""kPL (and kPB, kPA) maps from dynamic hyperpolarized [1-13C]pyruvate data: the inputless fit.

Public API (names and units fixed):

    fit_kpl(pyruvate, lactate, tr_s, flip_pyruvate_deg, flip_lactate_deg, r1_pyruvate=1/30,
            r1_lactate=1/25, fit_r1_lactate=False, mask=None) -> dict
    auc_ratio(pyruvate, lactate) -> sum(lactate) / sum(pyruvate) over the last axis

Fit rule (README "Fit rule"): the measured pyruvate drives the products through the exact
per-interval solution of precursor_product.py; the product signals (lactate, and bicarbonate /
alanine when given) are fitted in the signal domain, Mz x signal scale of each frame's flip
schedule, by the batched bounded Levenberg-Marquardt engine of TMEMonitorLib.fitting.
Fitted: kPL (start from the Mz AUC ratio, bounds [0, 1] 1/s), S0_lactate (initial lactate Mz,
start lactate(0) / signal scale, unbounded), kPB/S0_bicarbonate and kPA/S0_alanine when those
series are given, R1L (bounds [1/50, 1/10] 1/s) with fit_r1_lactate, R1P (same bounds) with
fit_r1_pyruvate. Fixed otherwise: R1P = 1/30, R1L = 1/25, R1B = 1/15, R1A = 1/25 1/s.
"""
import numpy as np
from scipy import stats

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import levenberg_marquardt
from TMEMonitorLib.fitting import status as st

from . import flip_angles, noise, precursor_product, uncertainty
from .model_free import auc_ratio, mean_time, time_to_peak  # noqa: F401  (public here)

KPL_BOUNDS = (0.0, 1.0)            # 1/s; kPL of tumours and organs 0.005-0.5 1/s
R1_BOUNDS = (1.0 / 50.0, 1.0 / 10.0)   # 1/s, as the UCSF toolbox (13C T1 10-50 s at 3 T)
R1_BICARBONATE, R1_ALANINE = 1.0 / 15.0, 1.0 / 25.0   # 1/s, UCSF toolbox defaults
DEFAULT_MIN_SNR = 5.0              # peak pyruvate / sigma below this: low SNR, not fitted
NOISE_MODELS = ("gaussian", "rician")
SE_CHUNK = 4096                    # voxels per chunk of the propagated-SE computation
PRODUCTS = ("lactate", "bicarbonate", "alanine")
RATE_NAMES = {"lactate": "kPL", "bicarbonate": "kPB", "alanine": "kPA"}


def _intervals(tr_s, n_frames):
    if tr_s is None:
        raise InputError("tr_s: the repetition time (s between frames) is missing")
    tr = np.asarray(tr_s, dtype=float)
    if tr.ndim == 0:
        tr = np.full(n_frames - 1, float(tr))
    elif tr.shape != (n_frames - 1,):
        raise InputError(f"tr_s: {tr.size} intervals given for {n_frames} frames (a scalar or {n_frames - 1} values)")
    if not np.all(np.isfinite(tr)) or np.any(tr <= 0):
        raise InputError(f"tr_s: the time between frames must be positive seconds, got {tr_s}")
    if np.any(tr > 60.0):
        raise InputError(f"tr_s: {tr.max():g} s between frames is implausible for hyperpolarized data (ms given?)")
    return tr


def _real_curves(signal, name, n_frames=None):
    """(real curves, imaginary residue or None, 'complex'/'real')."""
    array = np.asarray(signal)
    if array.ndim == 0 or array.shape[-1] < 3:
        raise InputError(f"{name}: expected signals shaped (..., n_frames) with at least 3 frames, got {array.shape}")
    if n_frames is not None and array.shape[-1] != n_frames:
        raise InputError(f"{name}: {array.shape[-1]} frames, the pyruvate series has {n_frames}")
    if np.iscomplexobj(array):
        real, imag = noise.phase_to_real(array)
        return real, imag, "complex"
    return array.astype(float), None, "real"


def _layout(products, fit_r1_lactate, fit_r1_pyruvate):
    """Parameter names, lower and upper bounds of the fitted vector."""
    names, lower, upper = [], [], []
    for product in products:
        names.append(RATE_NAMES[product])
        lower.append(KPL_BOUNDS[0])
        upper.append(KPL_BOUNDS[1])
    for product in products:
        names.append(f"S0_{product}")
        lower.append(-np.inf)
        upper.append(np.inf)
    if fit_r1_lactate:
        names.append("R1L")
        lower.append(R1_BOUNDS[0])
        upper.append(R1_BOUNDS[1])
    if fit_r1_pyruvate:
        names.append("R1P")
        lower.append(R1_BOUNDS[0])
        upper.append(R1_BOUNDS[1])
    return names, np.array(lower), np.array(upper)


class InputlessModel:
    """Product signals (n, n_products * T) for parameter rows p (n, P): the model the engine fits."""

    def __init__(self, products, names, dt, p_scale, p_mz_scale, p_known, x_scales, x_mz_scales, r1, sigma=None):
        self.products, self.names, self.dt = products, names, dt
        self.p_scale, self.p_mz_scale, self.p_known = p_scale, p_mz_scale, p_known
        self.x_scales, self.x_mz_scales, self.r1 = x_scales, x_mz_scales, r1
        self.sigma = sigma                       # Rician noise model when not None

    def values(self, p):
        return {name: p[:, i] for i, name in enumerate(self.names)}

    def mz(self, p, pyruvate_mz):
        v = self.values(p)
        n = p.shape[0]
        r1p = v.get("R1P", np.full(n, self.r1["pyruvate"]))
        rates = [v[RATE_NAMES[x]] for x in self.products]
        r1s = [v["R1L"] if (x == "lactate" and "R1L" in v) else np.full(n, self.r1[x]) for x in self.products]
        a = r1p + np.sum(rates, axis=0)
        initial = [v[f"S0_{x}"] for x in self.products]
        return precursor_product.inputless_trajectories(pyruvate_mz, self.p_known, self.p_mz_scale, self.dt, a,
                                                        rates, r1s, initial, self.x_mz_scales)

    def signals(self, p, pyruvate_mz):
        _, xs = self.mz(p, pyruvate_mz)
        return [x * scale for x, scale in zip(xs, self.x_scales)]

    def __call__(self, p, pyruvate_mz):
        out = np.concatenate(self.signals(p, pyruvate_mz), axis=1)
        return noise.rician_mean(out, self.sigma) if self.sigma is not None else out


def fit_kpl(pyruvate, lactate, tr_s, flip_pyruvate_deg, flip_lactate_deg, r1_pyruvate=1 / 30, r1_lactate=1 / 25,
            fit_r1_lactate=False, mask=None, *, bicarbonate=None, alanine=None, flip_bicarbonate_deg=None,
            flip_alanine_deg=None, r1_bicarbonate=R1_BICARBONATE, r1_alanine=R1_ALANINE, fit_r1_pyruvate=False,
            noise_model="gaussian", noise_sigma=None, min_snr=DEFAULT_MIN_SNR, flip_unit_source="argument (degrees)",
            progress=None):
    """Inputless precursor-product fit of every voxel; signals (..., n_frames) -> maps over the leading dims.

    ``tr_s``: s between frames (scalar or n_frames-1 values). Flip angles in degrees: scalar, per
    frame (n_frames,) or (n_frames, n_excitations); a schedule that looks like radians is refused.
    Complex data are phased to real (Gaussian noise); ``noise_model="rician"`` fits magnitude data
    against the Rician mean and needs ``noise_sigma``. With ``noise_sigma`` voxels whose peak
    pyruvate SNR < ``min_snr`` are not fitted (status NO_SIGNAL, "low SNR").

    Returns a dict: "kPL" (1/s), "S0_lactate" (initial lactate Mz, a.u.), "se_kPL" (with the noise of the
    driving pyruvate propagated, uncertainty.py), "se_kPL_lactate_only" (product noise only), "kPL_ci95_low",
    "kPL_ci95_high", "r2" and "nrmse" of the lactate curve, "status" (uint8, TMEMonitorLib.fitting.status),
    "lactate_fit" (..., T) fitted lactate signal; "kPB"/"kPA"/"S0_*" and fitted curves of the other
    products when given; "R1L"/"R1P" when fitted; "snr" when ``noise_sigma`` is given; "notes" (list).
    """
    if noise_model not in NOISE_MODELS:
        raise InputError(f"noise_model '{noise_model}' is not one of {', '.join(NOISE_MODELS)}")
    pyr, pyr_imag, kind = _real_curves(pyruvate, "pyruvate")
    n_frames = pyr.shape[-1]
    dt = _intervals(tr_s, n_frames)
    series = {"lactate": (lactate, flip_lactate_deg), "bicarbonate": (bicarbonate, flip_bicarbonate_deg),
              "alanine": (alanine, flip_alanine_deg)}
    products = [x for x in PRODUCTS if series[x][0] is not None]
    curves, kinds = {}, {kind}
    for x in products:
        curves[x], _, k = _real_curves(series[x][0], x, n_frames)
        kinds.add(k)
        if curves[x].shape != pyr.shape:
            raise InputError(f"{x}: shape {curves[x].shape} differs from the pyruvate series {pyr.shape}")
    if "complex" in kinds and kinds != {"complex"}:
        raise InputError("pyruvate and product series must all be complex or all real (magnitude)")
    if noise_model == "rician":
        if noise_sigma is None or not noise_sigma > 0:
            raise InputError("noise_model 'rician' needs the noise sigma (noise_sigma > 0, signal units)")
        if "complex" in kinds:
            raise InputError("noise_model 'rician' is for magnitude data; complex data are fitted as Gaussian")
    p_scale, p_mz_scale = flip_angles.scaling_factors(
        flip_angles.checked_schedule(flip_pyruvate_deg, n_frames, "flip_pyruvate_deg", flip_unit_source))
    x_scales, x_mz_scales = [], []
    for x in products:
        flag = f"flip_{x}_deg"
        s, m = flip_angles.scaling_factors(flip_angles.checked_schedule(series[x][1], n_frames, flag, flip_unit_source))
        x_scales.append(s)
        x_mz_scales.append(m)
    p_known = flip_angles.informative(p_scale)
    if not p_known.any():
        raise InputError("flip_pyruvate_deg: no frame excites pyruvate (sin theta ~ 0 in every frame)")
    for r, name in ((r1_pyruvate, "r1_pyruvate"), (r1_lactate, "r1_lactate"), (r1_bicarbonate, "r1_bicarbonate"),
                    (r1_alanine, "r1_alanine")):
        if not (np.isfinite(r) and 0 < r < 10):
            raise InputError(f"{name}: {r} is not a plausible relaxation rate (1/s)")

    lead = pyr.shape[:-1]
    n_vox = int(np.prod(lead)) if lead else 1
    flat = {x: curves[x].reshape(n_vox, n_frames) for x in products}
    pyr_flat = pyr.reshape(n_vox, n_frames)
    fit_these = np.ones(n_vox, bool)
    state = np.full(n_vox, st.OK, st.DTYPE)
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != lead:
            raise InputError(f"mask: shape {mask.shape} differs from the voxel grid {lead}")
        fit_these &= mask.ravel()
        state[~mask.ravel()] = st.MASKED
    usable = np.all(np.isfinite(pyr_flat), axis=1) & (np.max(pyr_flat, axis=1) > 0)
    for x in products:
        usable &= np.all(np.isfinite(flat[x]), axis=1)
    notes = [f"data: {'complex, phased to real' if 'complex' in kinds else 'real/magnitude'}; noise model "
             f"{noise_model}", f"flip angles read as degrees from {flip_unit_source}"]
    snr = None
    if noise_sigma is not None:
        if not noise_sigma >= 0:
            raise InputError(f"noise_sigma: {noise_sigma} must not be negative")
        snr = noise.snr_map(pyr_flat, noise_sigma)
        usable &= snr >= min_snr
        notes.append(f"voxels with peak pyruvate SNR < {min_snr:g} not fitted (low SNR)")
    state[fit_these & ~usable] = st.NO_SIGNAL
    fit_these &= usable

    r1 = {"pyruvate": r1_pyruvate, "lactate": r1_lactate, "bicarbonate": r1_bicarbonate, "alanine": r1_alanine}
    names, lower, upper = _layout(products, fit_r1_lactate, fit_r1_pyruvate)
    model = InputlessModel(products, names, dt, p_scale, p_mz_scale, p_known, x_scales, x_mz_scales, r1,
                           noise_sigma if noise_model == "rician" else None)
    rows = np.flatnonzero(fit_these)

    def pyruvate_to_mz(measured):
        driver = measured
        if noise_model == "rician":
            # The measured pyruvate drives the model: remove its Rician floor too, E[M^2] = nu^2 + 2 sigma^2
            # (Gudbjartsson & Patz 1995, doi:10.1002/mrm.1910340618).
            driver = np.sqrt(np.clip(measured * measured - 2.0 * noise_sigma ** 2, 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(p_known, driver / np.where(p_known, p_scale, 1.0), 0.0)

    if noise_model == "rician":
        notes.append("pyruvate magnitude de-floored: sqrt(max(M^2 - 2 sigma^2, 0))")
    pyr_mz = pyruvate_to_mz(pyr_flat[rows])
    y = np.concatenate([flat[x][rows] for x in products], axis=1)
    p0 = _start(names, products, flat, rows, pyr_mz, p_known, dt, x_scales, x_mz_scales, r1, lower, upper)
    out_params = np.full((n_vox, len(names)), np.nan)
    se = np.full((n_vox, len(names)), np.nan)
    se_products_only = np.full((n_vox, len(names)), np.nan)
    fitted = {x: np.full((n_vox, n_frames), np.nan) for x in products}
    if rows.size:
        with np.errstate(invalid="ignore"):        # the engine's start rule meets the unbounded S0 (inf - inf)
            result = levenberg_marquardt.fit(model, p0, y, lower, upper, args=(pyr_mz,), max_iter=400, xtol=1e-8,
                                             ftol=1e-10, progress=progress)
        out_params[rows] = result["params"]
        se_products_only[rows] = result["se"]
        state[rows] = result["status"]
        good = np.all(np.isfinite(result["params"]), axis=1)
        if good.any():
            # SE with the driving pyruvate's noise propagated (uncertainty.py); the engine's SE (product
            # noise only) is kept as se_<name>_lactate_only.
            kept = rows[good]
            for start in range(0, kept.size, SE_CHUNK):          # bounded memory: G is (n, M, T) per chunk
                part = slice(start, start + SE_CHUNK)
                cov, _, _ = uncertainty.propagated_covariance(model, result["params"][good][part], y[good][part],
                                                              pyr_flat[kept[part]], pyruvate_to_mz)
                se[kept[part]] = uncertainty.standard_errors(cov)
        signals = model.signals(np.where(good[:, None], result["params"], 0.0), pyr_mz)
        for x, s in zip(products, signals):
            fitted[x][rows] = np.where(good[:, None], s, np.nan)
    out = {}
    for i, name in enumerate(names):
        out[name] = out_params[:, i].reshape(lead)
        if name.startswith("k") or name.startswith("R1"):
            out[f"se_{name}"] = se[:, i].reshape(lead)
    out["se_kPL_lactate_only"] = se_products_only[:, names.index("kPL")].reshape(lead)
    dof = max(len(products) * n_frames - len(names), 1)
    t975 = stats.t.ppf(0.975, dof)
    out["kPL_ci95_low"] = out["kPL"] - t975 * out["se_kPL"]
    out["kPL_ci95_high"] = out["kPL"] + t975 * out["se_kPL"]
    measured_l = flat["lactate"]
    fit_l = fitted["lactate"]
    from TMEMonitorLib.fitting import quality
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = quality.rmse(fit_l - measured_l)
        peak = np.max(np.abs(measured_l), axis=1)
        out["nrmse"] = np.where(peak > 0, rmse / np.where(peak > 0, peak, 1.0), np.nan).reshape(lead)
        out["r2"] = np.where(np.isfinite(rmse), quality.r2(measured_l, np.nan_to_num(fit_l)), np.nan).reshape(lead)
    for x in products:
        out[f"{x}_fit"] = fitted[x].reshape(lead + (n_frames,))
    if snr is not None:
        out["snr"] = snr.reshape(lead)
    out["status"] = state.reshape(lead)
    out["parameters_fitted"] = list(names)
    out["notes"] = notes
    return out


def _start(names, products, flat, rows, pyr_mz, p_known, dt, x_scales, x_mz_scales, r1, lower, upper):
    """Starting values: kPX from the Mz AUC ratio times the product's effective loss rate; S0 from frame 0."""
    n = rows.size
    p0 = np.zeros((n, len(names)))
    mean_dt = float(np.mean(dt))
    sum_p = np.sum(pyr_mz, axis=1) * mean_dt
    for x, s, m in zip(products, x_scales, x_mz_scales):
        known = flip_angles.informative(s)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_mz = np.where(known, flat[x][rows] / np.where(known, s, 1.0), 0.0)
            loss = 1.0 - np.mean(m) * np.exp(-r1[x] * mean_dt)          # Mz lost per interval
            k0 = np.where(sum_p > 0, np.sum(x_mz, axis=1) * loss / np.where(sum_p > 0, sum_p, 1.0), 0.01)
        i = names.index(RATE_NAMES[x])
        p0[:, i] = np.clip(np.nan_to_num(k0, nan=0.01), lower[i] + 1e-4, 0.5 * upper[i])
        p0[:, names.index(f"S0_{x}")] = x_mz[:, 0] if known[0] else 0.0
    for name, key in (("R1L", "lactate"), ("R1P", "pyruvate")):
        if name in names:
            p0[:, names.index(name)] = np.clip(r1[key], *R1_BOUNDS)
    return p0
