"""Per-segment statistics table columns for parameter maps (shared layout for DCE and diffusion)."""
import numpy as np

from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.scene.geometry import voxel_volume_ml

PERCENTILES = (10, 25, 75, 90)


def statistics_columns(maps, status, masks, ijk_to_ras, units):
    """Columns (segment, parameter, unit, n, volume, mean, median, SD, percentiles, fraction failed)."""
    rows = {"segment": [], "parameter": [], "unit": [], "voxels": [], "volume": [], "mean": [], "median": [],
            "SD": [], **{f"p{p}": [] for p in PERCENTILES}, "fraction failed": []}
    voxel_ml = voxel_volume_ml(ijk_to_ras)
    for segment, mask in masks.items():
        region = np.asarray(mask, bool)
        region_status = status[region]
        failed = float(np.mean((region_status == fit_status.FAILED) | (region_status == fit_status.NO_SIGNAL))) \
            if region_status.size else np.nan
        for name, values in maps.items():
            if name.startswith("se_"):
                continue
            selected = values[region]
            selected = selected[np.isfinite(selected)]
            rows["segment"].append(segment)
            rows["parameter"].append(name)
            rows["unit"].append(units.get(name, ""))
            rows["voxels"].append(int(region.sum()))
            rows["volume"].append(region.sum() * voxel_ml)
            rows["fraction failed"].append(failed)
            if selected.size:
                rows["mean"].append(float(selected.mean()))
                rows["median"].append(float(np.median(selected)))
                rows["SD"].append(float(selected.std(ddof=1)) if selected.size > 1 else np.nan)
                for p, value in zip(PERCENTILES, np.percentile(selected, PERCENTILES)):
                    rows[f"p{p}"].append(float(value))
            else:
                for key in ("mean", "median", "SD", *[f"p{p}" for p in PERCENTILES]):
                    rows[key].append(None)
    return rows, {"volume": "mL"}
