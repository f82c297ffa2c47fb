"""Region statistics of parameter maps, shared by every module and the longitudinal table.

Histogram metrics follow what clinical diffusion/perfusion studies report: mean, median,
SD, percentiles, skewness, excess kurtosis and Shannon entropy of the histogram
(e.g. Just, Eur Radiol 2014, doi:10.1007/s00330-014-3147-3, on ADC histogram analysis).
Missing values (NaN: masked or failed voxels) are left out and counted, never read as zero.
"""
import numpy as np

from . import plausibility, quantities
from .fitting import status as fit_status

PERCENTILES = (10, 25, 75, 90)
ENTROPY_BINS = 64
STATISTIC_NAMES = ("n", "volume_ml", "mean", "median", "SD", "p10", "p25", "p75", "p90",
                   "skewness", "kurtosis", "entropy", "fraction_missing")


def region_statistics(values, mask, voxel_ml=None, exclude=None):
    """Statistics of ``values`` inside ``mask`` (dict; NaN where they cannot be computed).

    ``exclude``: bool over the region's voxels (``values[mask]``) of voxels left out (untrusted
    fits, see :func:`excluded_voxels`); "n" counts the voxels used, the volume is the region's."""
    values = np.asarray(values, dtype=float)
    mask = np.asarray(mask, bool)
    if values.shape != mask.shape:
        raise ValueError(f"values {values.shape} and mask {mask.shape} differ in shape")
    selected = values[mask]
    if exclude is not None:
        selected = selected[~np.asarray(exclude, bool)]
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


def label_masks(labels, names=None, prefix=None):
    """{row name: bool mask} of a multi-label mask: one entry per non-zero label value, in value
    order, named by ``names`` (value -> name: a colour table's or segment names), else
    "<prefix> label <value>" ("label <value>" without a prefix)."""
    labels = np.asarray(labels)
    rows = {}
    for value in np.unique(labels[np.isfinite(labels) & (labels != 0)] if labels.dtype.kind == "f" else labels[labels != 0]):
        key = int(value) if float(value).is_integer() else float(value)
        name = (names or {}).get(key)
        if name is None:
            name = f"{prefix} label {key}" if prefix else f"label {key}"
        rows[name] = labels == value
    return rows


def _is_multi_label(mask):
    mask = np.asarray(mask)
    if mask.dtype == bool:
        return False
    values = np.unique(mask[mask != 0])
    return values.size > 1


def _expand_masks(masks, label_names):
    """Masks -> {row name: bool mask}: a multi-label array gives one row per label value."""
    rows = {}
    for segment, mask in masks.items():
        if _is_multi_label(mask):
            names = (label_names or {}).get(segment) if isinstance((label_names or {}).get(segment), dict) \
                else label_names
            rows.update(label_masks(mask, names, prefix=segment if not names else None))
        else:
            rows[segment] = np.asarray(mask) != 0
    return rows


def excluded_voxels(name, values, region, status=None):
    """(bool exclusion mask over ``region``'s voxels, {count column: n}) of a map's voxels that are not
    usable in statistics: a fit that failed or had no signal, hit a bound, or gave a physically
    impossible value (status IMPLAUSIBLE, or a value outside the registry's physical limits)."""
    values = np.asarray(values, dtype=float)[region]
    implausible = plausibility.implausible_mask(name, values)
    failed = np.zeros(values.shape, bool)
    bound = np.zeros(values.shape, bool)
    if status is not None:
        codes = np.asarray(status)[region]
        failed = (codes == fit_status.FAILED) | (codes == fit_status.NO_SIGNAL)
        bound = codes == fit_status.HIT_BOUND
        implausible |= codes == fit_status.IMPLAUSIBLE
    # One reason per voxel, the most basic first (a failed fit is not also counted at a bound).
    bound &= ~failed
    implausible &= ~(failed | bound)
    counts = {"n_excluded_failed": int(np.count_nonzero(failed)),
              "n_excluded_bound": int(np.count_nonzero(bound)),
              "n_excluded_implausible": int(np.count_nonzero(implausible))}
    return failed | bound | implausible, counts


EXCLUSION_COLUMNS = ("n_excluded_failed", "n_excluded_bound", "n_excluded_implausible")


def statistics_table(maps, masks, ijk_to_ras, units=None, status=None, skip_prefixes=("se_",), label_names=None,
                     status_applies_to=None):
    """Table columns (dict of lists) with one row per (region, parameter), and the column units.

    ``maps``: name -> array; ``masks``: region name -> bool mask, or a multi-label array (tissue
    labels, habitats), which gives one row per label value named by ``label_names`` (value -> name,
    or region name -> {value -> name}); ``units``: name -> unit (a map it does not name takes its
    unit from the quantity registry, TMEMonitorLib.quantities).

    Voxels that cannot be trusted are left out of every statistic and counted per row
    (``n_excluded_failed``: failed or no signal, ``n_excluded_bound``: a parameter on a fit bound,
    ``n_excluded_implausible``: a physically impossible value) from the ``status`` map (fit status
    codes) for the maps in ``status_applies_to`` (default: all; semi-quantitative maps that no fit
    produced are not governed by a fit's status), and from the registry's physical limits for every
    map. "fraction failed" is the failed / no-signal fraction of the region.
    """
    # |det| of the 3x3 part = voxel volume in mm3 (as scene.geometry.voxel_volume_ml; not imported
    # from there so that statistics and reports load without slicer-core, e.g. on Python 3.9).
    voxel_ml = abs(np.linalg.det(np.asarray(ijk_to_ras, dtype=float)[:3, :3])) / 1000.0
    columns = {"segment": [], "parameter": [], "unit": [], **{name: [] for name in STATISTIC_NAMES},
               **{name: [] for name in EXCLUSION_COLUMNS}, "fraction failed": []}
    governed = None if status_applies_to is None else set(status_applies_to)
    for segment, mask in _expand_masks(masks, label_names).items():
        failed = np.nan
        if status is not None and mask.any():
            region_status = np.asarray(status)[mask]
            failed = float(np.mean((region_status == fit_status.FAILED) | (region_status == fit_status.NO_SIGNAL)))
        for name, values in maps.items():
            if name.startswith(skip_prefixes):
                continue
            map_status = status if governed is None or name in governed else None
            exclude, counts = excluded_voxels(name, values, mask, map_status)
            stats = region_statistics(values, mask, voxel_ml, exclude=exclude)
            columns["segment"].append(segment)
            columns["parameter"].append(name)
            columns["unit"].append((units or {}).get(name, quantities.unit_of(name)))
            for key in STATISTIC_NAMES:
                columns[key].append(stats[key])
            for key in EXCLUSION_COLUMNS:
                columns[key].append(counts[key])
            columns["fraction failed"].append(failed)
    return columns, {"volume_ml": "mL", "entropy": "bit"}
