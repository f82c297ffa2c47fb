"""Multi-b diffusion acquisition of a phantom visit: IVIM signal with Rician noise.

S(b) = S0 [f exp(-b D*) + (1 - f) exp(-b D + b^2 D^2 K / 6)] (Le Bihan et al., Radiology 1988,
doi:10.1148/radiology.168.2.3393671; kurtosis term Jensen et al., MRM 2005,
doi:10.1002/mrm.20508), noise sigma = S0 of normal tissue / ``snr`` (magnitude, Rician).
"""
import numpy as np

from .labels import LABELS

DEFAULT_B_VALUES = (0, 10, 20, 50, 100, 200, 400, 600, 800, 1000)


def synthesize_dwi(visit, b_values=DEFAULT_B_VALUES, snr=50.0, kurtosis=False, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    b = np.asarray(b_values, dtype=float)
    truth = visit.truth
    s0, d, f, dstar = (truth[k][..., None] for k in ("S0_dwi", "D", "f", "Dstar"))
    exponent = -b * d
    if kurtosis:
        exponent = exponent + (b * d) ** 2 * truth["K"][..., None] / 6.0
    clean = s0 * (f * np.exp(-b * dstar) + (1 - f) * np.exp(exponent))
    sigma = float(np.mean(truth["S0_dwi"][visit.labels == LABELS["normal"]]) / snr) if snr else 0.0
    if sigma > 0:
        noisy = np.sqrt((clean + rng.normal(0, sigma, clean.shape)) ** 2 + rng.normal(0, sigma, clean.shape) ** 2)
    else:
        noisy = clean
    return {"signal": np.moveaxis(noisy.astype(np.float32), -1, 0), "b_values": b, "sigma": sigma}
