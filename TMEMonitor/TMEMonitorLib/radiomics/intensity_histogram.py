"""Intensity histogram features (IBSI 1, section 3.4) on the discretised grey levels."""
import numpy as np

from .intensity_statistics import distribution_features


def intensity_histogram(levels, int_mask, n_levels):
    x = levels[int_mask]
    out = distribution_features(x, "ih")
    counts = np.bincount(x, minlength=n_levels + 1)[1:n_levels + 1].astype(float)
    mean = out["ih_mean"]
    top = np.flatnonzero(counts == counts.max()) + 1
    # several modes: the one closest to the mean (IBSI 3.4.10)
    out["ih_mode"] = float(top[np.argmin(np.abs(top - mean))])
    p = counts / counts.sum()
    nz = p[p > 0]
    out["ih_entropy"] = float(-np.sum(nz * np.log2(nz)))
    out["ih_uniformity"] = float(np.sum(p ** 2))
    # histogram gradient: forward difference at the first bin, backward at the last,
    # central differences in between (IBSI 3.4.20-23)
    if n_levels >= 2:
        grad = np.empty(n_levels)
        grad[0] = counts[1] - counts[0]
        grad[-1] = counts[-1] - counts[-2]
        if n_levels > 2:
            grad[1:-1] = (counts[2:] - counts[:-2]) / 2.0
        out["ih_max_grad"] = float(grad.max())
        out["ih_max_grad_g"] = float(np.argmax(grad) + 1)
        out["ih_min_grad"] = float(grad.min())
        out["ih_min_grad_g"] = float(np.argmin(grad) + 1)
    else:
        for key in ("ih_max_grad", "ih_max_grad_g", "ih_min_grad", "ih_min_grad_g"):
            out[key] = np.nan
    return {k: float(v) for k, v in out.items()}
