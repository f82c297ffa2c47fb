"""Grey-level discretisation (IBSI 1 reference manual, section 2.7).

- fixed bin number (FBN): X_d = floor(N_g (X - X_min) / (X_max - X_min)) + 1, X_max -> N_g,
  with X_min/X_max the ROI intensity-mask extremes;
- fixed bin size (FBS): X_d = floor((X - X_min) / w_b) + 1, with X_min the lower bound of
  the re-segmentation range when one is set (IBSI's recommended anchor), else the ROI minimum
  (bins anchored at the data, not at 0 as pyradiomics does);
- none: the intensities already are integer grey levels 1..N_g (digital phantom).
"""
import numpy as np

from ..errors import InputError


class Discretised:
    """Grey levels (int array, 0 outside the intensity mask), the number of levels N_g and,
    for IVH, the intensity each level stands for (``level_values``)."""

    def __init__(self, levels, n_levels, level_values, interval, value_range):
        self.levels = levels
        self.n_levels = int(n_levels)
        self.level_values = level_values      # intensity of level k at index k-1
        self.interval = float(interval)       # IVH discretisation interval w_d
        self.value_range = value_range        # IVH total range G (min, max)


def discretise(values, mask, settings, reseg_range=None, purpose="texture"):
    method = str(settings.get("method", "fbn")).lower()
    inside = values[mask]
    levels = np.zeros(values.shape, dtype=np.int64)
    if inside.size == 0:
        raise InputError("radiomics discretisation: the intensity mask is empty")
    x_min, x_max = float(inside.min()), float(inside.max())
    if method == "fbn":
        n_bins = int(settings["bins"])
        if x_max > x_min:
            q = np.floor(n_bins * (inside - x_min) / (x_max - x_min)).astype(np.int64) + 1
            q[q > n_bins] = n_bins
        else:
            q = np.ones(inside.shape, dtype=np.int64)
        levels[mask] = q
        level_values = np.arange(1, n_bins + 1, dtype=float)
        return Discretised(levels, n_bins, level_values, 1.0, (1.0, float(n_bins)))
    if method == "fbs":
        width = float(settings["bin_width"])
        low = x_min
        high = x_max
        if reseg_range is not None and reseg_range[0] is not None and np.isfinite(reseg_range[0]):
            low = float(reseg_range[0])
        if reseg_range is not None and reseg_range[1] is not None and np.isfinite(reseg_range[1]):
            high = float(reseg_range[1])
        # small tolerance so that 25.0/25.0 lands in bin 2 despite float noise
        q = np.floor((inside - low) / width + 1e-9).astype(np.int64) + 1
        if q.min() < 1:
            raise InputError(f"radiomics {purpose} discretisation: intensities below the lower bin edge {low}")
        n_levels = int(max(q.max(), np.floor((high - low) / width + 1e-9) + 1))
        levels[mask] = q
        level_values = low + (np.arange(1, n_levels + 1) - 0.5) * width
        # IVH total range for the continuous case: [X_min + w/2, X_max - w/2]
        g_high = high - 0.5 * width if reseg_range is not None and reseg_range[1] is not None else level_values[-1]
        return Discretised(levels, n_levels, level_values, width, (low + 0.5 * width, float(g_high)))
    if method == "none":
        rounded = np.rint(inside)
        if not np.allclose(rounded, inside) or rounded.min() < 1:
            if purpose == "ivh":
                # discrete calibrated intensities (e.g. CT HU): interval 1 over the range G
                low, high = x_min, x_max
                if reseg_range is not None:
                    if reseg_range[0] is not None and np.isfinite(reseg_range[0]):
                        low = float(reseg_range[0])
                    if reseg_range[1] is not None and np.isfinite(reseg_range[1]):
                        high = float(reseg_range[1])
                if not np.allclose(rounded, inside):
                    raise InputError("radiomics IVH: discretisation 'none' needs integer intensities; "
                                     "use ivh_discretisation fbs or fbn")
                q = (rounded - low).astype(np.int64) + 1
                n_levels = int(round(high - low)) + 1
                levels[mask] = q
                level_values = low + np.arange(n_levels, dtype=float)
                return Discretised(levels, n_levels, level_values, 1.0, (low, high))
            raise InputError(f"radiomics {purpose}: discretisation 'none' needs integer grey levels >= 1; "
                             "set discretisation to fbn or fbs")
        q = rounded.astype(np.int64)
        n_levels = int(q.max())
        levels[mask] = q
        level_values = np.arange(1, n_levels + 1, dtype=float)
        low = float(q.min())
        if purpose == "ivh" and reseg_range is not None and reseg_range[0] is not None:
            low = float(reseg_range[0])
        return Discretised(levels, n_levels, level_values, 1.0, (low, float(n_levels)))
    raise InputError(f"radiomics discretisation: unknown method {method!r}")
