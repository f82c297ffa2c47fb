"""MDEV speed: 128 x 128 x 25 voxels x 3 components x 8 phase offsets x 4 frequencies, from
wrapped phase images to maps (unwrap, harmonic, curl, MDEV), printed beside the 30 s target.

    PYTHONPATH=ElastographyModule:TMEMonitor python Testing/benchmarks/benchmark_mre.py
"""
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "ElastographyModule"), os.path.join(ROOT, "TMEMonitor")]

from ElastographyModuleLib import acquisition, pipeline, synthesis  # noqa: E402
from ElastographyModuleLib.settings import ElastographySettings  # noqa: E402

TARGET_S = 30.0
SHAPE = (25, 128, 128)
FREQUENCIES = (30.0, 40.0, 50.0, 60.0)
OFFSETS = 2 * np.pi * np.arange(8) / 8
VOXEL_M = 2e-3


def main():
    frames = []
    for f in FREQUENCIES:
        wave = synthesis.shear_wave("spherical", SHAPE, VOXEL_M, f, 3000.0 * np.exp(0.3j), amplitude_m=2e-6)
        phase = synthesis.phase_images(wave[::-1], OFFSETS, 1e6, noise_rad=0.05)
        frames.append(np.moveaxis(phase, 1, 0).reshape((-1,) + SHAPE).astype(np.float32))
    phase = np.concatenate(frames)
    layout = acquisition.build_acquisition(phase.shape[0], (VOXEL_M,) * 3, FREQUENCIES, OFFSETS,
                                           directions_ijk=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], um_per_rad=1.0)
    settings = ElastographySettings(inversions=("mdev",))
    start = time.perf_counter()
    waves, _ = pipeline.phase_to_waves(phase, layout, settings)
    middle = time.perf_counter()
    analysis = pipeline.analyse_mre(phase, layout, settings)
    total = time.perf_counter() - middle
    maps = analysis.results["mdev"]
    print(f"MRE {SHAPE[1]}x{SHAPE[2]}x{SHAPE[0]} x 3 components x {len(OFFSETS)} offsets x {len(FREQUENCIES)} frequencies")
    print(f"  unwrap + first harmonic alone: {middle - start:6.1f} s")
    print(f"  full analysis (unwrap, harmonic, curl, MDEV): {total:6.1f} s   target < {TARGET_S:.0f} s "
          f"({'met' if total < TARGET_S else 'NOT met'})")
    print(f"  median |G*| {np.nanmedian(maps['abs_G']):.0f} Pa (true 3000), phi {np.nanmedian(maps['phi']):.3f} rad (0.3)")


if __name__ == "__main__":
    main()
