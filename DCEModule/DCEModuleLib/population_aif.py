"""Population arterial input functions: whole-blood concentration (mM) at times in s.

Each function takes times ``t_s`` (any shape, seconds, time zero = bolus arrival of the
published curve) and a ``delay_s`` that shifts the curve right; values before the delay
are zero. Convert to plasma with ``aif.blood_to_plasma``.
"""
import numpy as np
from scipy.special import gammaln

from TMEMonitorLib.errors import InputError

# Parker et al. MRM 2006;56:993-1000, doi:10.1002/mrm.21066, Table 1 (times in min).
# T1 is 0.17046 min (a widely copied implementation transposes it to 0.17406).
PARKER = dict(A1=0.809, A2=0.330,  # mM min
              T1=0.17046, T2=0.365,  # min
              sigma1=0.0563, sigma2=0.132,  # min
              alpha=1.050,  # mM
              beta=0.1685,  # 1/min
              s=38.078,  # 1/min
              tau=0.483)  # min

# Georgiou et al. MRM 2019;81:1955-1963, doi:10.1002/mrm.27524 (times in min).
# Table 3 prints the parameters to 2-4 significant figures, which moves the curve by up
# to 1.2 % from the published representative AIF (Supporting Information Figure S2 data,
# mrm27524-sup-0002-figs2.xlsx). GEORGIOU holds the parameters we obtained by weighted
# least squares of eq. 1 to that published curve (max deviation 2e-5 mM); they round to
# Table 3 (alpha is printed truncated). GEORGIOU_TABLE3 keeps the printed values.
GEORGIOU_TABLE3 = dict(A=(0.37, 0.33, 10.06),  # mM
                       m=(0.11, 1.17, 16.02),  # 1/min
                       alpha=5.26,  # gamma-variate shape parameter
                       beta=0.032,  # min, gamma-variate scale
                       tau=0.129)  # min, recirculation period
GEORGIOU = dict(A=(0.3743031, 0.3311859, 10.06088),
                m=(0.1126901, 1.174512, 16.01963),
                alpha=5.266968,
                beta=0.03207892,
                tau=0.1285561)

# McGrath et al. MRM 2009;61:1173-1184, doi:10.1002/mrm.21959, model B (rat), Table 1
# (times in s): linear rise over the injection, then a bi-exponential decay.
MCGRATH_B = dict(A1=3.4, A2=1.81,  # mM
                 k1=0.045, k2=0.0015,  # 1/s
                 t1=7.0)  # s, end of injection (peak)


def _shifted_times(t_s, delay_s, name):
    t = np.asarray(t_s, dtype=float)
    if not np.all(np.isfinite(t)):
        raise InputError(f"t_s: times for the {name} AIF must be finite numbers (seconds)")
    delay = float(delay_s)
    if not np.isfinite(delay):
        raise InputError(f"delay_s: must be a finite number of seconds, got {delay_s!r}")
    return t - delay


def parker(t_s, delay_s=0.0):
    """Parker population AIF, whole blood, mM (Parker et al. 2006, eq. 1)."""
    tt = _shifted_times(t_s, delay_s, "Parker")
    p = PARKER
    t = tt / 60.0  # the published parameters are in minutes
    g1 = p["A1"] / (p["sigma1"] * np.sqrt(2 * np.pi)) * np.exp(-(t - p["T1"]) ** 2 / (2 * p["sigma1"] ** 2))
    g2 = p["A2"] / (p["sigma2"] * np.sqrt(2 * np.pi)) * np.exp(-(t - p["T2"]) ** 2 / (2 * p["sigma2"] ** 2))
    # logistic written with exp of a non-positive argument only, to avoid overflow
    z = -p["s"] * (t - p["tau"])
    logistic = np.where(z <= 0, 1.0 / (1.0 + np.exp(np.minimum(z, 0.0))),
                        np.exp(-np.maximum(z, 0.0)) / (1.0 + np.exp(-np.maximum(z, 0.0))))
    sigmoid = p["alpha"] * np.exp(-p["beta"] * t) * logistic
    return np.where(tt >= 0, g1 + g2 + sigmoid, 0.0)


def georgiou(t_s, delay_s=0.0, parameters=None):
    """Georgiou population AIF, whole blood, mM (Georgiou et al. 2019, eq. 1).

    C(t) = sum_i A_i exp(-m_i t) * sum_{j=0}^{floor(t/tau)} g_j(t - j tau), where g_j is a
    gamma density of scale beta and shape (j + 1)(alpha + 1): the j-th recirculation is
    the first pass convolved with itself j times. ``parameters`` defaults to GEORGIOU
    (GEORGIOU_TABLE3 gives the rounded published table).
    """
    tt = _shifted_times(t_s, delay_s, "Georgiou")
    p = GEORGIOU if parameters is None else parameters
    t = np.maximum(tt, 0.0) / 60.0  # minutes
    envelope = np.zeros_like(t)
    for a, m in zip(p["A"], p["m"]):
        envelope += a * np.exp(-m * t)
    passes = np.zeros_like(t)
    n_passes = int(np.floor(t.max() / p["tau"])) + 1 if t.size else 0
    for j in range(n_passes):
        x = t - j * p["tau"]
        shape = (j + 1) * (p["alpha"] + 1.0)
        positive = x > 0
        xs = np.where(positive, x, 1.0)
        log_pdf = (shape - 1.0) * np.log(xs) - xs / p["beta"] - shape * np.log(p["beta"]) - gammaln(shape)
        passes += np.where(positive, np.exp(log_pdf), 0.0)
    return np.where(tt >= 0, envelope * passes, 0.0)


def mcgrath_preclinical(t_s, delay_s=0.0):
    """McGrath model B preclinical (rat) AIF, whole blood, mM (McGrath et al. 2009, eq. 5)."""
    tt = _shifted_times(t_s, delay_s, "McGrath")
    p = MCGRATH_B
    rise = (p["A1"] + p["A2"]) * tt / p["t1"]
    after = np.maximum(tt - p["t1"], 0.0)
    decay = p["A1"] * np.exp(-p["k1"] * after) + p["A2"] * np.exp(-p["k2"] * after)
    return np.where(tt < 0, 0.0, np.where(tt <= p["t1"], rise, decay))
