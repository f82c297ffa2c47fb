"""Per-voxel goodness of fit shared by every fit: RMSE and coefficient of determination R2."""
import numpy as np


def rmse(residual):
    """Root-mean-square of the residuals along the last axis (data units)."""
    residual = np.asarray(residual, dtype=float)
    return np.sqrt(np.mean(residual * residual, axis=-1))


def r2(y, fitted):
    """1 - RSS/TSS along the last axis; NaN where the data are constant (TSS = 0)."""
    y = np.asarray(y, dtype=float)
    residual = y - np.asarray(fitted, dtype=float)
    total = np.sum((y - y.mean(axis=-1, keepdims=True)) ** 2, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 1.0 - np.sum(residual * residual, axis=-1) / total, np.nan)


def r2_from_sums(rss, y):
    """:func:`r2` from a residual sum of squares already at hand (n,) and the data (n, T)."""
    y = np.asarray(y, dtype=float)
    centred = y - y.mean(axis=-1, keepdims=True)
    total = np.einsum("...t,...t->...", centred, centred)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 1.0 - np.asarray(rss, dtype=float) / total, np.nan)
