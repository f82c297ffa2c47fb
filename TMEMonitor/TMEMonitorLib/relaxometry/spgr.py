"""Spoiled gradient echo (SPGR) signal and its exact inversion (to R1 change or concentration).

The one home of the SPGR equation in the project: DCE (signal -> concentration, VFA T1) and
oxygen-enhanced MRI (signal -> Delta R1, which is the inversion with a relaxivity of 1) use it.

Steady-state SPGR signal (e.g. Haacke et al., Magnetic Resonance Imaging, 1999, ch. 18):
    S = S0 sin(a) (1 - E) / (1 - E cos(a)),  E = exp(-TR R1)
with fast exchange and a linear relaxivity: R1(t) = R10 + r1 C(t).
The inversion below is exact (no linear signal-enhancement approximation).
"""
import warnings

import numpy as np

from TMEMonitorLib.errors import InputError


def _positive(value, name, unit):
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(f"{name}: must be positive and finite ({unit}), got {value!r}")
    return arr


def _flip_rad(flip_angle_deg):
    fa = np.asarray(flip_angle_deg, dtype=float)
    if not np.all(np.isfinite(fa)) or np.any(fa <= 0) or np.any(fa >= 180):
        raise InputError(f"flip_angle_deg: must lie in (0, 180) degrees, got {flip_angle_deg!r}")
    return np.deg2rad(fa)


def spgr_flip_factor(e1, flip_rad):
    """sin(a) / (1 - E1 cos(a)): the SPGR signal over S0 (1 - E1), E1 = exp(-TR R1) (no checks)."""
    return np.sin(flip_rad) / (1.0 - e1 * np.cos(flip_rad))


def spgr_steady_state(s0, e1, flip_rad):
    """S0 sin(a) (1 - E1) / (1 - E1 cos(a)) for E1 = exp(-TR R1) and flip ``a`` in radians.

    The one home of the SPGR equation; no input checks, for inner loops (T1 fits, synthesis).
    """
    return s0 * (1.0 - e1) * spgr_flip_factor(e1, flip_rad)


def spgr_signal(s0, r1, tr_s, fa_deg):
    """SPGR signal for equilibrium signal ``s0``, R1 ``r1`` (1/s), TR (s), flip (deg)."""
    tr = _positive(tr_s, "tr_s", "s")
    a = _flip_rad(fa_deg)
    e = np.exp(-tr * np.asarray(r1, dtype=float))
    return spgr_steady_state(np.asarray(s0, dtype=float), e, a)


def concentration_to_spgr(concentration, s0, t10_s, tr_s, flip_angle_deg, r1_per_mM_s):
    """SPGR signal (..., T) of a concentration curve (..., T) in mM.

    ``s0`` and ``t10_s`` are scalars or arrays over the leading dims.
    """
    c = np.asarray(concentration, dtype=float)
    t10 = _positive(t10_s, "t10_s", "s")
    relax = _positive(r1_per_mM_s, "r1_per_mM_s", "1/(mM s)")
    r1_t = (1.0 / t10)[..., None] + relax * c
    return spgr_signal(np.asarray(s0, dtype=float)[..., None], r1_t, tr_s, flip_angle_deg)


def _baseline_index(baseline, n_frames):
    if isinstance(baseline, slice):
        idx = np.arange(n_frames)[baseline]
    else:
        b = np.asarray(baseline)
        if b.dtype == bool:
            if b.shape != (n_frames,):
                raise InputError(f"baseline: boolean mask must have one entry per frame ({n_frames})")
            idx = np.flatnonzero(b)
        else:
            idx = np.atleast_1d(b).astype(int)
            if np.any(idx < -n_frames) or np.any(idx >= n_frames):
                raise InputError(f"baseline: frame indices must lie in [0, {n_frames})")
    if idx.size == 0:
        raise InputError("baseline: selects no frame; at least one pre-contrast frame is needed")
    return idx


def spgr_to_concentration(signal, baseline, t10_s, tr_s, flip_angle_deg, r1_per_mM_s,
                          return_info=False):
    """Concentration (mM, shaped like ``signal`` (..., T)) by exact SPGR inversion.

    ``baseline``: pre-contrast frames (index array, slice or boolean mask over T); their
    mean signal together with ``t10_s`` (scalar or array over the leading dims) fixes S0.
    Frames whose signal lies outside the invertible range (0, S0 sin a), i.e. at or beyond
    the saturation limit or non-positive, give NaN; so do voxels with an unusable baseline
    or T10. A warning reports how many voxels are affected. With ``return_info=True``
    returns ``(concentration, info)`` with boolean maps ``invalid_frames`` (..., T) and
    ``invalid_voxels`` (...).
    """
    s = np.asarray(signal, dtype=float)
    if s.ndim < 1 or s.shape[-1] < 2:
        raise InputError(f"signal: expected an array shaped (..., T) with T >= 2, got shape {s.shape}")
    idx = _baseline_index(baseline, s.shape[-1])
    tr = _positive(tr_s, "tr_s", "s")
    relax = _positive(r1_per_mM_s, "r1_per_mM_s", "1/(mM s)")
    a = _flip_rad(flip_angle_deg)
    if a.ndim:
        # A flip angle per voxel (e.g. nominal flip times a B1 map) over the leading dims.
        try:
            a = np.broadcast_to(a, s.shape[:-1])
        except ValueError:
            raise InputError(f"flip_angle_deg: shape {a.shape} does not match the signal's voxel shape "
                             f"{s.shape[:-1]}") from None
    a_t = a[..., None] if a.ndim else a
    t10 = np.asarray(t10_s, dtype=float)
    try:
        t10 = np.broadcast_to(t10, s.shape[:-1])
    except ValueError:
        raise InputError(f"t10_s: shape {t10.shape} does not match the signal's voxel shape "
                         f"{s.shape[:-1]}") from None
    bad_t10 = ~(np.isfinite(t10) & (t10 > 0))
    r10 = np.where(bad_t10, np.nan, 1.0 / np.where(bad_t10, 1.0, t10))

    with np.errstate(invalid="ignore", divide="ignore"):
        s_base = s[..., idx].mean(axis=-1)
        e10 = np.exp(-tr * r10)
        # S0 sin(a) from the baseline signal and T10
        m = s_base * (1.0 - e10 * np.cos(a)) / (1.0 - e10)
        q = s / m[..., None]
        valid = np.isfinite(q) & (q > 0) & (q < 1)
        qv = np.where(valid, q, 0.5)
        e = (1.0 - qv) / (1.0 - qv * np.cos(a_t))
        r1_t = -np.log(e) / tr
        conc = np.where(valid, (r1_t - r10[..., None]) / relax, np.nan)

    invalid_frames = ~valid
    invalid_voxels = invalid_frames.any(axis=-1)
    n_bad = int(np.count_nonzero(invalid_voxels))
    if n_bad:
        warnings.warn(f"spgr_to_concentration: {n_bad} of {invalid_voxels.size} voxels have frames "
                      "that cannot be inverted (signal non-positive or at/above the saturation "
                      "limit S0 sin(a), or unusable baseline/T10); those frames are NaN",
                      RuntimeWarning, stacklevel=2)
    if return_info:
        return conc, {"invalid_frames": invalid_frames, "invalid_voxels": invalid_voxels,
                      "n_invalid_voxels": n_bad}
    return conc


def spgr_to_delta_r1(signal, baseline, t10_s, tr_s, flip_angle_deg, return_info=False):
    """R1(t) - R10 (1/s, shaped like ``signal``) by exact SPGR inversion: ``spgr_to_concentration``
    with a relaxivity of 1 (oxygen-enhanced MRI, where the "agent" is dissolved O2)."""
    return spgr_to_concentration(signal, baseline, t10_s, tr_s, flip_angle_deg, 1.0, return_info=return_info)


def _over_voxels(value, shape, name, dtype=float):
    """``value`` broadcast to the voxel ``shape`` and flattened, or InputError naming it."""
    try:
        return np.broadcast_to(np.asarray(value, dtype=dtype), shape).reshape(-1)
    except ValueError:
        raise InputError(f"{name}: shape {np.shape(value)} does not match the voxel shape {shape}") from None
