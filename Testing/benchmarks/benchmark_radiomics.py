"""Benchmark: all IBSI 1 feature families on a 64^3 tumour mask with 32 grey levels.

Prints the time per family beside the issue-17 target (all families < 5 s on 2 cores).
Run: python Testing/benchmarks/benchmark_radiomics.py
"""
import os
import sys
import time

import numpy as np
import SimpleITK as sitk

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "TMEMonitor"))

from TMEMonitorLib.radiomics import compute_features  # noqa: E402
from TMEMonitorLib.radiomics.settings import FAMILIES  # noqa: E402

TARGET_S = 5.0


def tumour(shape=(64, 64, 64), seed=0):
    """A lobulated 'tumour' filling a 64^3 box (about 100k voxels), textured intensities."""
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    theta = np.arctan2(y, x)
    r = np.sqrt(x ** 2 + y ** 2 + z ** 2)
    mask = r < 0.9 + 0.08 * np.sin(5 * theta) * np.cos(3 * z * np.pi)
    values = 100 + 40 * np.sin(6 * x) * np.cos(5 * y) + 20 * z + rng.normal(0, 10, shape)
    image = sitk.GetImageFromArray(values)
    image.SetSpacing((1.0, 1.0, 1.0))
    mask_image = sitk.GetImageFromArray(mask.astype(np.uint8))
    mask_image.SetSpacing((1.0, 1.0, 1.0))
    return image, mask_image, int(mask.sum())


def main():
    image, mask, n_voxels = tumour()
    base = {"discretisation": {"method": "fbn", "bins": 32}}
    print(f"IBSI 1 families, 64^3 box, {n_voxels} ROI voxels, FBN 32 grey levels, "
          f"{os.cpu_count()} CPU(s)")
    total = 0.0
    rows = []
    for family in FAMILIES:
        settings = dict(base, families=[family])
        start = time.perf_counter()
        feats = compute_features(image, mask, settings)
        elapsed = time.perf_counter() - start
        rows.append((family, elapsed, len(feats)))
    # the common part (reading, processing, discretisation) is in each per-family time;
    # the all-families run below is the figure that counts
    start = time.perf_counter()
    feats = compute_features(image, mask, dict(base))
    total = time.perf_counter() - start
    print(f"{'family':<22}{'time (s)':>10}{'features':>10}")
    for family, elapsed, n in rows:
        print(f"{family:<22}{elapsed:>10.3f}{n:>10}")
    verdict = "meets" if total < TARGET_S else "MISSES"
    print(f"{'all families, one run':<22}{total:>10.3f}{len(feats):>10}   target < {TARGET_S:.1f} s: {verdict}")


if __name__ == "__main__":
    main()
