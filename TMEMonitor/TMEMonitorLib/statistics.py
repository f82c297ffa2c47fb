"""Region statistics of parameter maps, shared by every module and the longitudinal table.

Histogram metrics follow what clinical diffusion/perfusion studies report: mean, median,
SD, percentiles, skewness, excess kurtosis and Shannon entropy of the histogram
(e.g. Just, Eur Radiol 2014, doi:10.1007/s00330-014-3147-3, on ADC histogram analysis).
Missing values (NaN: masked or failed voxels) are left out and counted, never read as zero.
"""
import numpy as np

from . import quantities
from .fitting import status as fit_status

PERCENTILES = (10, 25, 75, 90)
ENTROPY_BINS = 64
STATISTIC_NAMES = ("n", "volume_ml", "mean", "median", "SD", "p10", "p25", "p75", "p90",
                   "skewness", "kurtosis", "entropy", "fraction_missing")


def region_statistics(values, mask, voxel_ml=None):
    """Statistics of ``values`` inside ``mask`` (dict; NaN where they cannot be computed)."""
    values = np.asarray(values, dtype=float)
    mask = np.asarray(mask, bool)
    if values.shape != mask.shape:
        raise ValueError(f"values {values.shape} and mask {mask.shape} differ in shape")
    selected = values[mask]
    finite = selected[np.isfinite(selected)]
    out = {name: np.nan for name in STATISTIC_NAMES}
    out["n"] = int(finite.size)
    out["volume_ml"] = float(mask.sum() * voxel_ml) if voxel_ml is not None else np.nan
    out["fraction_missing"] = float(1.0 - finite.size / selected.size) if selected.size else np.nan
    if finite.size == 0:
        return out
    out["mean"] = float(finite.mean())
    out["median"] = float(np.median(finite))
    for p, value in zip(PERCENTILES, np.percentile(finite, PERCENTILES)):
        out[f"p{p}"] = float(value)
    if finite.size > 1:
        sd = float(finite.std(ddof=1))
        out["SD"] = sd
        if sd > 0:
            z = (finite - finite.mean()) / finite.std()
            out["skewness"] = float(np.mean(z ** 3))
            out["kurtosis"] = float(np.mean(z ** 4) - 3.0)
        counts, _ = np.histogram(finite, bins=ENTROPY_BINS)
        p = counts[counts > 0] / finite.size
        out["entropy"] = float(-(p * np.log2(p)).sum())
    return out


def statistics_table(maps, masks, ijk_to_ras, units=None, status=None, skip_prefixes=("se_",)):
    """Table columns (dict of lists) with one row per (segment, parameter), and the column units.

    ``maps``: name -> array; ``masks``: segment name -> bool array; ``units``: name -> unit
    (a map it does not name takes its unit from the quantity registry, TMEMonitorLib.quantities).
    With a ``status`` map, "fraction failed" counts failed / no-signal voxels of the segment.
    """
    # |det| of the 3x3 part = voxel volume in mm3 (as scene.geometry.voxel_volume_ml; not imported
    # from there so that statistics and reports load without slicer-core, e.g. on Python 3.9).
    voxel_ml = abs(np.linalg.det(np.asarray(ijk_to_ras, dtype=float)[:3, :3])) / 1000.0
    columns = {"segment": [], "parameter": [], "unit": [], **{name: [] for name in STATISTIC_NAMES},
               "fraction failed": []}
    for segment, mask in masks.items():
        mask = np.asarray(mask, bool)
        failed = np.nan
        if status is not None and mask.any():
            region_status = np.asarray(status)[mask]
            failed = float(np.mean((region_status == fit_status.FAILED) | (region_status == fit_status.NO_SIGNAL)))
        for name, values in maps.items():
            if name.startswith(skip_prefixes):
                continue
            stats = region_statistics(values, mask, voxel_ml)
            columns["segment"].append(segment)
            columns["parameter"].append(name)
            columns["unit"].append((units or {}).get(name, quantities.unit_of(name)))
            for key in STATISTIC_NAMES:
                columns[key].append(stats[key])
            columns["fraction failed"].append(failed)
    return columns, {"volume_ml": "mL", "entropy": "bit"}
