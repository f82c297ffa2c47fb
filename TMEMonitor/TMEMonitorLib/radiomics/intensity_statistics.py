"""Intensity-based statistical features (IBSI 1, section 3.3) on the ROI intensity mask."""
import numpy as np


def _moments(x):
    mean = x.mean()
    dev = x - mean
    m2 = np.mean(dev ** 2)
    m3 = np.mean(dev ** 3)
    m4 = np.mean(dev ** 4)
    skew = m3 / m2 ** 1.5 if m2 > 0 else np.nan
    kurt = m4 / m2 ** 2 - 3.0 if m2 > 0 else np.nan   # excess kurtosis (IBSI)
    return mean, m2, skew, kurt


def distribution_features(x, prefix):
    """Features shared by intensity statistics (``stat``) and the histogram (``ih``)."""
    x = np.asarray(x, dtype=np.float64)
    out = {}
    mean, var, skew, kurt = _moments(x)
    p10, p25, p50, p75, p90 = np.percentile(x, [10, 25, 50, 75, 90])
    out[f"{prefix}_mean"] = mean
    out[f"{prefix}_var"] = var
    out[f"{prefix}_skew"] = skew
    out[f"{prefix}_kurt"] = kurt
    out[f"{prefix}_median"] = p50
    out[f"{prefix}_min"] = x.min()
    out[f"{prefix}_p10"] = p10
    out[f"{prefix}_p90"] = p90
    out[f"{prefix}_max"] = x.max()
    out[f"{prefix}_iqr"] = p75 - p25
    out[f"{prefix}_range"] = x.max() - x.min()
    out[f"{prefix}_mad"] = np.mean(np.abs(x - mean))
    robust = x[(x >= p10) & (x <= p90)]
    out[f"{prefix}_rmad"] = np.mean(np.abs(robust - robust.mean()))
    out[f"{prefix}_medad"] = np.mean(np.abs(x - p50))
    out[f"{prefix}_cov"] = np.sqrt(var) / mean if mean != 0 else np.nan
    out[f"{prefix}_qcod"] = (p75 - p25) / (p75 + p25) if (p75 + p25) != 0 else np.nan
    return out


def intensity_statistics(values, int_mask, voxel_volume=None):
    x = values[int_mask].astype(np.float64)
    out = distribution_features(x, "stat")
    out["stat_energy"] = float(np.sum(x ** 2))
    out["stat_rms"] = float(np.sqrt(np.mean(x ** 2)))
    return {k: float(v) for k, v in out.items()}
