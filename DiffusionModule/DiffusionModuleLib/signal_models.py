"""Diffusion signal equations, one home each: broadcasting forms (maps of parameters -> (..., n_b))
and the row forms the fits use (parameter rows p (n, P) -> (n, n_b)) with their Jacobians.

b in s/mm2, diffusion coefficients in mm2/s, f 0..1, K unitless.
"""
import numpy as np


def _trailing(*values):
    return tuple(np.asarray(v, dtype=float)[..., None] for v in values)


def adc_signal(s0, adc, b_values):
    """S0 exp(-b ADC) (mono-exponential)."""
    b = np.asarray(b_values, dtype=float)
    s0, adc = _trailing(s0, adc)
    return s0 * np.exp(-b * adc)


def ivim_signal(s0, d, f, dstar, b_values):
    """S0 [f exp(-b D*) + (1 - f) exp(-b D)] (Le Bihan et al., Radiology 1988, doi:10.1148/radiology.168.2.3393671)."""
    b = np.asarray(b_values, dtype=float)
    s0, d, f, dstar = _trailing(s0, d, f, dstar)
    return s0 * (f * np.exp(-b * dstar) + (1 - f) * np.exp(-b * d))


def kurtosis_signal(s0, d, k, b_values):
    """S0 exp(-b D + b^2 D^2 K / 6) (Jensen et al., MRM 2005, doi:10.1002/mrm.20508)."""
    b = np.asarray(b_values, dtype=float)
    s0, d, k = _trailing(s0, d, k)
    return s0 * np.exp(-b * d + (b * d) ** 2 * k / 6.0)


# --------------------------------------------------------------------------- row forms for the fits
def adc_rows(p, b):
    """p = (S0, ADC) rows (n, 2) at b (n_b,) -> (n, n_b)."""
    return p[:, :1] * np.exp(-b * p[:, 1:2])


def adc_jacobian(p, b):
    """d adc_rows / d (S0, ADC) -> (n, n_b, 2)."""
    e = np.exp(-b * p[:, 1:2])
    return np.stack([e, -b * p[:, :1] * e], axis=-1)


def ivim_rows(p, b):
    """Normalised IVIM signal for p = (S0, f, D, D*) rows (n, 4) at b (n_b,) -> (n, n_b)."""
    return p[:, :1] * (p[:, 1:2] * np.exp(-b * p[:, 3:4]) + (1 - p[:, 1:2]) * np.exp(-b * p[:, 2:3]))


def ivim_jacobian(p, b):
    """Analytic d ivim_rows / d (S0, f, D, D*) -> (n, n_b, 4)."""
    s0, f = p[:, :1], p[:, 1:2]
    e_star, e_d = np.exp(-b * p[:, 3:4]), np.exp(-b * p[:, 2:3])
    return np.stack([f * e_star + (1 - f) * e_d, s0 * (e_star - e_d), -s0 * (1 - f) * b * e_d,
                     -s0 * f * b * e_star], axis=-1)


def ivim_rows_and_jacobian(p, b):
    """(ivim_rows, ivim_jacobian) from one evaluation of the two exponentials."""
    s0, f = p[:, :1], p[:, 1:2]
    e_star, e_d = np.exp(-b * p[:, 3:4]), np.exp(-b * p[:, 2:3])
    mixed = f * e_star + (1 - f) * e_d
    jac = np.empty((p.shape[0], 4, b.size))          # (n, P, n_b): rows written whole
    jac[:, 0] = mixed
    np.multiply(s0, e_star - e_d, out=jac[:, 1])
    np.multiply(-s0 * (1 - f) * b, e_d, out=jac[:, 2])
    np.multiply(-s0 * f * b, e_star, out=jac[:, 3])
    return s0 * mixed, np.swapaxes(jac, 1, 2)


def kurtosis_rows(p, b):
    """p = (S0, D, K) rows (n, 3) at b (n_b,) -> (n, n_b)."""
    return p[:, :1] * np.exp(-b * p[:, 1:2] + (b * p[:, 1:2]) ** 2 * p[:, 2:3] / 6.0)


def kurtosis_jacobian(p, b):
    """d kurtosis_rows / d (S0, D, K) -> (n, n_b, 3)."""
    s0, d, k = p[:, :1], p[:, 1:2], p[:, 2:3]
    e = np.exp(-b * d + (b * d) ** 2 * k / 6.0)
    return np.stack([e, s0 * e * (-b + b * b * d * k / 3.0), s0 * e * (b * d) ** 2 / 6.0], axis=-1)
