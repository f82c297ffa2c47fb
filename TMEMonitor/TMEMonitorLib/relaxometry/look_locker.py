"""T1 mapping from Look-Locker (LL) data: continuous LL readouts after one inversion, or MOLLI-style
images from several inversions merged and sorted by their time after inversion.

Three-parameter model of the apparent recovery under repeated excitation and its correction
(Deichmann & Haase, JMR 1992;96:608-612, doi:10.1016/0022-2364(92)90347-A; used by MOLLI,
Messroghli et al., MRM 2004;52:141-146, doi:10.1002/mrm.20110):
    S(t) = |A - B exp(-t / T1*)|,   T1 = T1* (B / A - 1)
The fit is the inversion-recovery fit of ``inversion_recovery`` (a = A, b = -B, with polarity
restoration on magnitude data), so the same fit rule holds for T1*.

Assumptions (where they fail, T1 is biased and the result should be read as apparent):
- the readout perturbs the recovery continuously and uniformly (constant flip angle and spacing,
  spoiled, small flips), so the recovery stays mono-exponential with rate 1/T1*;
- the magnetisation starts from equilibrium at each inversion (enough recovery between inversions;
  MOLLI's 3-beat pauses) and ``t`` is each image's time after its own inversion pulse;
- the correction is exact for a continuous FLASH readout (Deichmann & Haase); for bSSFP MOLLI it
  is an approximation that underestimates T1, increasingly at long T1 and short recovery periods.
A fit with B <= A (no apparent inversion beyond saturation) cannot be corrected: NOT_EXPLAINED.
"""
import numpy as np

from TMEMonitorLib.fitting import status as st

from .inversion_recovery import DEFAULT_T1_BOUNDS_S, fit_inversion_recovery


def fit_look_locker(signal, times_after_inversion_s, mask=None, signed=False, t1_star_bounds_s=DEFAULT_T1_BOUNDS_S,
                    progress=None):
    """Fit Look-Locker images shaped (..., n_times) (times after inversion on the last axis).

    Returns a dict over the leading dims: "T1" (s, corrected), "T1star" (s, apparent), "R1" (1/s),
    "A", "B" (signal units), "B_over_A", "r2", "rmse", "status" (uint8), "data" (a note).
    """
    fit = fit_inversion_recovery(signal, times_after_inversion_s, mask=mask, signed=signed,
                                 t1_bounds_s=t1_star_bounds_s, progress=progress)
    a, b = fit["a"], -fit["b"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = b / a
        t1 = fit["T1"] * (ratio - 1.0)
        r1 = 1.0 / t1
    status = fit["status"].copy()
    correctable = np.isfinite(ratio) & (ratio > 1.0)
    status[np.isin(status, st.ACCEPTED) & ~correctable] = st.NOT_EXPLAINED
    accepted = np.isin(status, st.ACCEPTED)
    return {"T1": np.where(accepted, t1, np.nan), "T1star": np.where(accepted, fit["T1"], np.nan),
            "R1": np.where(accepted, r1, np.nan), "A": np.where(accepted, a, np.nan),
            "B": np.where(accepted, b, np.nan), "B_over_A": np.where(accepted, ratio, np.nan),
            "r2": fit["r2"], "rmse": fit["rmse"], "status": status, "data": fit["data"]}


def look_locker_signal(a, b, t1_star_s, times_s, magnitude=True):
    """|A - B exp(-t/T1*)| (or signed) for synthesis and tests; broadcasts over voxels."""
    t = np.asarray(times_s, dtype=float)
    value = np.asarray(a, float)[..., None] - np.asarray(b, float)[..., None] * np.exp(
        -t / np.asarray(t1_star_s, float)[..., None])
    return np.abs(value) if magnitude else value
