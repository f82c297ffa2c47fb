"""Gas-challenge change maps: Delta R1 (oxygen-enhanced MRI) and Delta R2* (BOLD), their per-voxel
significance, and the responder fraction.

Dynamic T1-weighted (SPGR) series: Delta R1(t) by exact inversion of the SPGR signal against the
baseline (TMEMonitorLib.relaxometry.spgr.spgr_to_concentration with a relaxivity of 1, so its "concentration"
is Delta R1 in 1/s), given T1 before gas (a map from TMEMonitorLib.relaxometry.vfa_t1 or a fixed value).
Dynamic T2*-weighted series at echo time TE: Delta R2*(t) = -ln(S(t) / S_baseline) / TE.
The change map is the gas-epoch mean minus the baseline mean; its significance is Welch's t-test
of the gas-epoch frames against the baseline frames (unequal variances; Welch, Biometrika 1947,
doi:10.1093/biomet/34.1-2.28). A responder voxel changes significantly in the expected direction:
Delta R1 > 0 with O2 (O'Connor et al., Cancer Res 2016, doi:10.1158/0008-5472.CAN-15-2062);
Delta R2* < 0 with carbogen or O2 (less deoxyhaemoglobin).
T1 before and during gas from two VFA acquisitions: TMEMonitorLib.relaxometry.vfa_t1.fit_vfa, Delta R1 = R1_gas - R1_air;
or from two inversion-recovery / Look-Locker acquisitions (TMEMonitorLib.relaxometry.inversion_recovery,
.look_locker): :func:`t1_before_during`.
"""
import numpy as np
from scipy import stats

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st

from .paradigm import gas_epochs

DEFAULT_ALPHA = 0.05


def welch_test(values, baseline, gas):
    """(difference of means gas - baseline, t, two-sided p) along the last axis of ``values``."""
    v = np.asarray(values, dtype=float)
    a, b = v[..., baseline], v[..., gas]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_a, mean_b = np.nanmean(a, axis=-1), np.nanmean(b, axis=-1)
        n_a = np.sum(np.isfinite(a), axis=-1)
        n_b = np.sum(np.isfinite(b), axis=-1)
        var_a = np.nanvar(a, axis=-1, ddof=1) / n_a
        var_b = np.nanvar(b, axis=-1, ddof=1) / n_b
        se2 = var_a + var_b
        t = (mean_b - mean_a) / np.sqrt(se2)
        df = se2 * se2 / (var_a * var_a / (n_a - 1) + var_b * var_b / (n_b - 1))
        p = 2.0 * stats.t.sf(np.abs(t), df)
        # identical epochs without noise (se 0): no evidence either way unless the means differ
        exact = se2 == 0
        p = np.where(exact, np.where(mean_b != mean_a, 0.0, 1.0), p)
        t = np.where(exact, np.where(mean_b != mean_a, np.sign(mean_b - mean_a) * np.inf, 0.0), t)
    return mean_b - mean_a, t, p


def _responders(change, p, alpha, expected_sign):
    return np.isfinite(change) & (p < alpha) & (np.sign(change) == expected_sign)


def delta_r1_dynamic(signal, frame_times_s, paradigm, t10_s, tr_s, flip_angle_deg, alpha=DEFAULT_ALPHA, mask=None):
    """Oxygen-enhanced Delta R1 from a dynamic SPGR series (..., T).

    Returns a dict: "dR1" (1/s, gas mean - baseline mean), "dR1_t" (..., T) per frame, "t", "p",
    "responder" (bool), "status" (uint8), "baseline_frames", "gas_frames".
    """
    import warnings

    from TMEMonitorLib.relaxometry.spgr import spgr_to_concentration
    s = np.asarray(signal, dtype=float)
    baseline, gas = gas_epochs(frame_times_s, paradigm)
    if s.shape[-1] != np.size(frame_times_s):
        raise InputError(f"dynamic series: {s.shape[-1]} frames but {np.size(frame_times_s)} frame times")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # invalid frames are counted in the status map
        delta_t, info = spgr_to_concentration(s, baseline, t10_s, tr_s, flip_angle_deg, 1.0, return_info=True)
    return _change_result("dR1", delta_t, baseline, gas, alpha, +1, mask, info["invalid_voxels"])


def delta_r2star_dynamic(signal, frame_times_s, paradigm, echo_time_s, alpha=DEFAULT_ALPHA, mask=None):
    """BOLD Delta R2* from a dynamic single-echo T2*-weighted series (..., T) at ``echo_time_s``."""
    s = np.asarray(signal, dtype=float)
    baseline, gas = gas_epochs(frame_times_s, paradigm)
    te = float(echo_time_s) if echo_time_s is not None else np.nan
    if not 0 < te < 1.0:
        raise InputError(f"echo time of the dynamic T2*-weighted series: {echo_time_s!r} s is missing or implausible "
                         "(--dynamic-echo-time, s)")
    with np.errstate(divide="ignore", invalid="ignore"):
        s_base = s[..., baseline].mean(axis=-1)
        ratio = s / s_base[..., None]
        invalid = ~(np.isfinite(ratio) & (ratio > 0))
        delta_t = np.where(invalid, np.nan, -np.log(np.where(invalid, 1.0, ratio)) / te)
    return _change_result("dR2star", delta_t, baseline, gas, alpha, -1, mask, invalid.any(axis=-1))


def _change_result(name, delta_t, baseline, gas, alpha, expected_sign, mask, invalid_voxels):
    change, t, p = welch_test(delta_t, baseline, gas)
    lead = delta_t.shape[:-1]
    status = np.where(invalid_voxels, st.NO_SIGNAL, st.OK).astype(st.DTYPE)
    status[~np.isfinite(change) & (status == st.OK)] = st.FAILED
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != lead:
            raise InputError(f"mask: shape {mask.shape} does not match the series' voxel shape {lead}")
        status[~mask] = st.MASKED
    valid = status == st.OK
    out = {name: np.where(valid, change, np.nan), f"{name}_t": delta_t, "t": np.where(valid, t, np.nan),
           "p": np.where(valid, p, np.nan), "responder": valid & _responders(change, p, alpha, expected_sign),
           "status": status, "baseline_frames": baseline, "gas_frames": gas}
    return out


def delta_r1_from_t1(t1_air_s, t1_gas_s, status_air=None, status_gas=None):
    """(Delta R1 = 1/T1_gas - 1/T1_air (1/s), status) from T1 maps before and during gas."""
    air = np.asarray(t1_air_s, dtype=float)
    gas = np.asarray(t1_gas_s, dtype=float)
    if air.shape != gas.shape:
        raise InputError(f"T1 maps before ({air.shape}) and during gas ({gas.shape}) are on different grids; "
                         "resample one onto the other first")
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = 1.0 / gas - 1.0 / air
    valid = np.isfinite(delta) & (air > 0) & (gas > 0)
    status = np.where(valid, st.OK, st.NO_SIGNAL).astype(st.DTYPE)
    for other in (status_air, status_gas):
        if other is not None:
            other = np.asarray(other)
            status = np.where((other != st.OK) & (status == st.OK), other, status).astype(st.DTYPE)
    return np.where(valid, delta, np.nan), status


def vfa_t1_before_during(vfa_air, vfa_gas, flip_angles_deg, tr_s, method="nonlinear", mask=None, b1_map=None):
    """T1 fits (TMEMonitorLib.relaxometry.vfa_t1.fit_vfa) of VFA data (..., n_flip) before and during gas, and Delta R1."""
    from TMEMonitorLib.relaxometry.vfa_t1 import fit_vfa
    air = np.asarray(vfa_air)
    gas = np.asarray(vfa_gas)
    if air.shape != gas.shape:
        raise InputError(f"VFA data before ({air.shape}) and during gas ({gas.shape}) differ in shape; the T1 maps "
                         "must share one grid")
    fit_air = fit_vfa(air, flip_angles_deg, tr_s, method=method, mask=mask, b1_map=b1_map)
    fit_gas = fit_vfa(gas, flip_angles_deg, tr_s, method=method, mask=mask, b1_map=b1_map)
    delta, status = delta_r1_from_t1(fit_air["T1"], fit_gas["T1"], fit_air["status"], fit_gas["status"])
    return {"T1_air": fit_air["T1"], "T1_gas": fit_gas["T1"], "dR1": delta, "status": status,
            "fit_air": fit_air, "fit_gas": fit_gas}


def _fit_t1(data, values, method, mask, tr_s, vfa_fit, what):
    if method == "vfa":
        from TMEMonitorLib.relaxometry.vfa_t1 import fit_vfa
        if tr_s is None:
            raise InputError(f"VFA T1 {what}: the repetition time is needed (--vfa-tr or series metadata)")
        return fit_vfa(data, values, tr_s, method=vfa_fit, mask=mask)
    if method == "ir":
        from TMEMonitorLib.relaxometry.inversion_recovery import fit_inversion_recovery
        return fit_inversion_recovery(data, values, mask=mask)
    from TMEMonitorLib.relaxometry.look_locker import fit_look_locker
    return fit_look_locker(data, values, mask=mask)


def t1_before_during(series_air, series_gas, values_air, values_gas, method="ir", mask=None, tr_s=None,
                     vfa_fit="nonlinear"):
    """T1 before and during gas from two T1-mapping acquisitions (..., n) on one grid, and Delta R1.

    ``method``: "ir" (inversion recovery, ``values`` = inversion times s), "look-locker" (times after
    inversion s) or "vfa" (flip angles deg, with ``tr_s`` and the ``vfa_fit`` of fit_vfa). The two
    acquisitions may use different inversion times / flip angles. Returns the dict of
    :func:`vfa_t1_before_during` ("T1_air", "T1_gas" s, "dR1" 1/s, "status", "fit_air", "fit_gas").
    """
    if method not in ("vfa", "ir", "look-locker"):
        raise InputError(f"T1 method '{method}' is not one of vfa, ir, look-locker (--t1-method)")
    air = np.asarray(series_air)
    gas = np.asarray(series_gas)
    if air.shape[:-1] != gas.shape[:-1]:
        raise InputError(f"T1 series before ({air.shape[:-1]}) and during gas ({gas.shape[:-1]}) are on different "
                         "grids; the T1 maps must share one grid (resample one series onto the other first)")
    for data, values, what in ((air, values_air, "before gas"), (gas, values_gas, "during gas")):
        if values is None:
            raise InputError(f"T1 series {what}: the {'flip angles' if method == 'vfa' else 'inversion times'} "
                             "are missing (series metadata or typed values)")
        if np.size(values) != data.shape[-1]:
            raise InputError(f"T1 series {what}: {np.size(values)} value(s) for {data.shape[-1]} images")
    fit_air = _fit_t1(air, values_air, method, mask, tr_s, vfa_fit, "before gas")
    fit_gas = _fit_t1(gas, values_gas, method, mask, tr_s, vfa_fit, "during gas")
    delta, status = delta_r1_from_t1(fit_air["T1"], fit_gas["T1"], fit_air["status"], fit_gas["status"])
    return {"T1_air": fit_air["T1"], "T1_gas": fit_gas["T1"], "dR1": delta, "status": status,
            "fit_air": fit_air, "fit_gas": fit_gas}


def responder_fraction(responder, region, status=None):
    """Fraction (0..1) of the analysed voxels of ``region`` that respond; NaN if none analysed."""
    responder = np.asarray(responder, bool)
    region = np.asarray(region, bool)
    analysed = region if status is None else region & (np.asarray(status) == st.OK)
    n = int(analysed.sum())
    return float(np.count_nonzero(responder & analysed)) / n if n else float("nan")
