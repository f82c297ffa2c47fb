"""Extended phase graph (EPG) echo train of a multi-echo spin-echo (CPMG) sequence, vectorised over voxels.

With refocusing pulses below 180 deg (B1 inhomogeneity, slice profile) a CPMG train carries
stimulated echoes: the echo amplitudes are not S0 exp(-TE/T2) (echo 2 above echo 1, an even/odd
pattern, a slower apparent decay), and a mono-exponential fit over-estimates T2. The EPG model
(Hennig, J Magn Reson 1988;78:397, doi:10.1016/0022-2364(88)90128-X; Weigel, JMRI 2015;41:266,
doi:10.1002/jmri.24619) follows the configuration states F+_k, F-_k, Z_k of the dephased
magnetisation through each echo interval:

    relax and dephase over ESP/2 -> refocusing pulse (angle alpha) -> relax and dephase over ESP/2
    -> echo k = F+_0.

Assumptions (the usual ones for T2 fitting with the refocusing angle free: Lebel & Wilman, MRM
2010;64:1005, doi:10.1002/mrm.22322; Prasloski et al., MRM 2012;67:1803, doi:10.1002/mrm.23157):
an ideal 90 deg excitation, CPMG phases (refocusing about the axis of the excited magnetisation, so
every state stays real), echoes at k x ESP, equilibrium magnetisation 1 at the start, a single
refocusing angle for the whole train, and a fixed T1 (default 1 s). The echo amplitudes depend on T1
only through the stimulated-echo pathways (stored as Z between pulses) and only weakly: at ESP 10 ms,
T2 80 ms and alpha 150 deg, T1 0.5 s vs 2 s changes the fitted T2 by well under 1 % (module README).

Refocusing pulse (rotation about y of [F+_k, F-_k, Z_k], Weigel 2015 eq. 15 with phase 90 deg):
    F+ <- cos^2(a/2) F+ + sin^2(a/2) F- + sin(a) Z
    F- <- sin^2(a/2) F+ + cos^2(a/2) F- - sin(a) Z
    Z  <- -sin(a)/2 F+ + sin(a)/2 F- + cos(a) Z
At a = 180 deg the train is exactly exp(-k ESP / T2).
"""
import numpy as np

from TMEMonitorLib.errors import InputError

DEFAULT_T1_S = 1.0


def echo_train(r2_per_s, angle_deg, echo_spacing_s, n_echoes, t1_s=DEFAULT_T1_S):
    """Echo amplitudes (n, n_echoes) of a CPMG train for unit equilibrium magnetisation.

    ``r2_per_s`` and ``angle_deg`` (refocusing angle) are (n,) arrays (or scalars, broadcast);
    ``echo_spacing_s`` ESP (echoes at ESP, 2 ESP, ...); ``t1_s`` T1 (s), scalar.
    """
    r2, angle = np.broadcast_arrays(np.atleast_1d(np.asarray(r2_per_s, dtype=float)),
                                    np.atleast_1d(np.asarray(angle_deg, dtype=float)))
    n_echoes = int(n_echoes)
    if n_echoes < 1 or not echo_spacing_s > 0 or not t1_s > 0:
        raise InputError(f"EPG echo train: n_echoes {n_echoes}, echo spacing {echo_spacing_s} s and T1 {t1_s} s "
                         "must be positive")
    n = r2.size
    half = 0.5 * float(echo_spacing_s)
    e2 = np.exp(-r2 * half)                       # transverse decay over ESP/2, per voxel
    e1 = np.exp(-half / float(t1_s))              # longitudinal decay over ESP/2
    a = np.deg2rad(angle)
    cos2, sin2, sin_a, cos_a = np.cos(a / 2) ** 2, np.sin(a / 2) ** 2, np.sin(a), np.cos(a)
    half_sin = 0.5 * sin_a
    n_states = 2 * n_echoes + 2                   # dephasing order grows by 1 per half interval
    fp = np.zeros((n_states, n))                  # F+_k, state-major: each state a contiguous row
    fm = np.zeros((n_states, n))                  # F-_k (= conj F+_-k; real under CPMG)
    z = np.zeros((n_states, n))
    work = np.empty((3, n_states, n))
    fp[0] = fm[0] = 1.0                           # after the 90 deg excitation
    echoes = np.empty((n, n_echoes))
    top = 1                                       # states 0 .. top-1 can be non-zero

    def relax_and_shift(top, remaining):
        # Only orders that can still return to 0 by the last echo matter (one order per half
        # interval): states above ``remaining`` + 1 are left stale and never read for an echo.
        top = min(top, remaining + 2)
        fp[:top] *= e2
        fm[:top] *= e2
        z[:top] *= e1
        z[0] += 1.0 - e1                          # recovery towards equilibrium (T1)
        fp[1:top + 1] = fp[:top].copy()           # F_k -> F_k+1 for every k
        fm[:top] = fm[1:top + 1]
        fp[0] = fm[0]                             # F+_0 <- F-_1 (fm[0] now holds the old F-_1)
        return top + 1

    for echo in range(n_echoes):
        remaining = 2 * (n_echoes - echo) - 1     # shifts left after the first half of this interval
        top = relax_and_shift(top, remaining)
        top = min(top, remaining + 2)
        p, m, zz = fp[:top], fm[:top], z[:top]
        new_p, new_m, diff = work[0, :top], work[1, :top], work[2, :top]
        np.multiply(cos2, p, out=new_p)
        new_p += sin2 * m
        new_p += sin_a * zz
        np.multiply(sin2, p, out=new_m)
        new_m += cos2 * m
        new_m -= sin_a * zz
        np.subtract(m, p, out=diff)
        diff *= half_sin
        zz *= cos_a
        zz += diff
        p[...] = new_p
        m[...] = new_m
        top = relax_and_shift(top, remaining - 1)
        echoes[:, echo] = fp[0]
    return echoes
