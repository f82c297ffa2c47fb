"""Synthetic diffusion data: forward signals for digital reference objects, and the multi-b
acquisition of a phantom visit (the demo patient's DWI, ``synthesize_dwi``)."""
import numpy as np

from TMEMonitorLib.phantom.labels import LABELS


def ivim_signal(s0, d, f, dstar, b_values):
    """S0 [f exp(-b D*) + (1 - f) exp(-b D)] (Le Bihan et al., Radiology 1988, doi:10.1148/radiology.168.2.3393671)."""
    b = np.asarray(b_values, dtype=float)
    s0, d, f, dstar = (np.asarray(v, dtype=float)[..., None] for v in (s0, d, f, dstar))
    return s0 * (f * np.exp(-b * dstar) + (1 - f) * np.exp(-b * d))


def kurtosis_signal(s0, d, k, b_values):
    """S0 exp(-b D + b^2 D^2 K / 6) (Jensen et al., MRM 2005, doi:10.1002/mrm.20508)."""
    b = np.asarray(b_values, dtype=float)
    s0, d, k = (np.asarray(v, dtype=float)[..., None] for v in (s0, d, k))
    return s0 * np.exp(-b * d + (b * d) ** 2 * k / 6.0)


def add_rician_noise(signal, sigma, rng):
    """Magnitude of the signal plus complex Gaussian noise of standard deviation ``sigma``."""
    signal = np.asarray(signal, dtype=float)
    return np.sqrt((signal + rng.normal(0, sigma, signal.shape)) ** 2 + rng.normal(0, sigma, signal.shape) ** 2)


# ---------------------------------------------------------------------------------------------
# The diffusion acquisition of a phantom visit (the demo's synthetic patient)
# ---------------------------------------------------------------------------------------------
# b-values (s/mm2) of the demo's multi-b protocol (IVIM-capable: several below 200).
DEFAULT_B_VALUES = (0, 10, 20, 50, 100, 200, 400, 600, 800, 1000)


def synthesize_dwi(visit, b_values=DEFAULT_B_VALUES, snr=50.0, kurtosis=False, rng=None):
    """Multi-b DWI of a phantom visit: IVIM signal (with the kurtosis term when ``kurtosis``) and
    Rician noise of sigma = mean S0 of normal tissue / ``snr``.

    S(b) = S0 [f exp(-b D*) + (1 - f) exp(-b D + b^2 D^2 K / 6)] (Le Bihan et al., Radiology 1988,
    doi:10.1148/radiology.168.2.3393671; kurtosis term Jensen et al., MRM 2005, doi:10.1002/mrm.20508).
    Returns {"signal": (n_b, k, j, i) float32, "b_values": s/mm2, "sigma": noise SD}.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    b = np.asarray(b_values, dtype=float)
    truth = visit.truth
    s0, d, f, dstar = (truth[k][..., None] for k in ("S0_dwi", "D", "f", "Dstar"))
    exponent = -b * d
    if kurtosis:
        exponent = exponent + (b * d) ** 2 * truth["K"][..., None] / 6.0
    clean = s0 * (f * np.exp(-b * dstar) + (1 - f) * np.exp(exponent))
    sigma = float(np.mean(truth["S0_dwi"][visit.labels == LABELS["normal"]]) / snr) if snr else 0.0
    noisy = add_rician_noise(clean, sigma, rng) if sigma > 0 else clean
    return {"signal": np.moveaxis(noisy.astype(np.float32), -1, 0), "b_values": b, "sigma": sigma}
