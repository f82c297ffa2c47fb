"""Benchmark: LCM fit of a synthetic MRSI grid (default 16 x 16, 3 T PRESS TE 30 ms, 15 metabolites).

Target: the whole 16 x 16 grid in under 60 s on 2 CPU cores. Prints time per voxel, total,
the target scaled to the grid size, and the accuracy of tNAA / tCho against the truth.

    python Testing/benchmarks/benchmark_mrsi_fit.py [--size 16] [--snr 30] [--points 1024]
"""
import argparse
import os
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _module in ("TMEMonitor", "SpectroscopyModule"):
    sys.path.insert(0, os.path.join(_ROOT, _module))

import numpy as np  # noqa: E402

from SpectroscopyModuleLib.basis import simulate_basis  # noqa: E402
from SpectroscopyModuleLib.fitting import fit_lcm_grid  # noqa: E402
from SpectroscopyModuleLib.synthetic import NORMAL_BRAIN_MM, TUMOUR_MM, synthesize_mrsi  # noqa: E402
from TMEMonitorLib.fitting import status  # noqa: E402

TARGET_S_16X16 = 60.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--snr", type=float, default=30.0)
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--chunk", type=int, default=64)
    args = parser.parse_args(argv)
    n = args.size
    names = sorted(set(NORMAL_BRAIN_MM) | set(TUMOUR_MM))
    yy, xx = np.mgrid[0:n, 0:n]
    tumour = ((yy - n / 2) ** 2 + (xx - n / 2) ** 2) < (n / 4) ** 2
    maps = {m: np.where(tumour, TUMOUR_MM.get(m, 0.0), NORMAL_BRAIN_MM.get(m, 0.0)) for m in names}
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    basis = simulate_basis(123.2, 0.030, "PRESS", names, args.points, 1 / 2000)
    t_basis = time.perf_counter() - t0
    mrsi = synthesize_mrsi(maps, 123.2, 0.030, "PRESS", args.points, 1 / 2000,
                           linewidth_hz=rng.uniform(4, 8, (n, n)), snr=args.snr, rng=rng,
                           shift_hz=rng.uniform(-3, 3, (n, n)), phase0_deg=rng.uniform(-30, 30, (n, n)))
    t0 = time.perf_counter()
    grid = fit_lcm_grid(mrsi, basis, chunk_size=args.chunk)
    total = time.perf_counter() - t0
    voxels = n * n
    target = TARGET_S_16X16 * voxels / 256
    tcho = grid.amplitudes["GPC"] + grid.amplitudes["PCh"]
    tcho_true = maps["GPC"] + maps["PCh"]
    tnaa = grid.amplitudes["NAA"] + grid.amplitudes["NAAG"]
    tnaa_true = maps["NAA"] + maps["NAAG"]
    print(f"MRSI LCM fit, {n} x {n} voxels, {len(names)} metabolites, {args.points} points, SNR {args.snr:g}")
    print(f"  basis simulation (cached afterwards): {t_basis:8.2f} s")
    print(f"  fit total        : {total:8.2f} s   (target {target:.1f} s for this grid; 60 s for 16 x 16)")
    print(f"  fit per voxel    : {total / voxels * 1000:8.1f} ms  (target {TARGET_S_16X16 / 256 * 1000:.0f} ms)")
    print(f"  status           : {status.describe(grid.status)}")
    print(f"  tCho median rel. error: {np.median(np.abs(tcho / tcho_true - 1)) * 100:.1f} %   "
          f"tNAA (outside tumour): {np.median(np.abs(tnaa / tnaa_true - 1)[~tumour]) * 100:.1f} %")
    return 0 if total <= target else 1


if __name__ == "__main__":
    sys.exit(main())
