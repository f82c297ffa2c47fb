"""IVIM bias and SD per method (Monte Carlo), from this checkout or another one (not a test).

    python Testing/benchmarks/validation_ivim_bias.py [--repo PATH] [--voxels 2000]

Prints DiffusionModuleLib.monte_carlo.bias_table (true D 1.0e-3 mm2/s, f 0.10, D* 0.04 mm2/s;
Rician noise at SNR 20/50/100; 12 b-values) for the segmented, full and Bayesian fits, and the
same statistics over a population phantom (D 0.6-2.0e-3, f 0.03-0.3, D* 0.02-0.08 mm2/s, SNR 50,
11 b-values: the data of benchmark_peers.py). Run it with ``--repo`` on an older checkout
(``git archive`` into a folder) to print the before/after tables of a change to the fits.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", default=os.path.abspath(os.path.join(HERE, "..", "..")))
    parser.add_argument("--voxels", type=int, default=2000)
    args = parser.parse_args()
    sys.path[:0] = [os.path.join(args.repo, m) for m in ("TMEMonitor", "DiffusionModule")]
    from DiffusionModuleLib import models
    from DiffusionModuleLib.monte_carlo import bias_table, format_table
    from DiffusionModuleLib.signal_models import ivim_signal
    from TMEMonitorLib.noise import add_rician_noise

    print(f"ours from {args.repo}")
    print(f"Monte Carlo, fixed truth D 1.0e-3 mm2/s, f 0.10, D* 0.04 mm2/s; {args.voxels} voxels per SNR; "
          "D, D* relative, f absolute")
    print(format_table(bias_table(n=args.voxels, methods=("segmented", "full", "bayesian"))))

    rng = np.random.default_rng(0)
    n = 10 * args.voxels
    b = np.array([0, 10, 20, 30, 50, 80, 100, 200, 400, 700, 1000], dtype=float)
    truth = {"D": rng.uniform(0.6e-3, 2.0e-3, n), "f": rng.uniform(0.03, 0.3, n), "Dstar": rng.uniform(0.02, 0.08, n)}
    signal = add_rician_noise(ivim_signal(1.0, truth["D"], truth["f"], truth["Dstar"], b), 1.0 / 50.0, rng)
    print(f"\npopulation phantom, {n} voxels, SNR 50: bias and SD of the error (D, D* relative to the truth; f absolute)")
    print(f"  {'method':10s} " + "  ".join(f"{k + ' bias':>10s} {k + ' SD':>9s}" for k in truth))
    for method in ("segmented", "full", "bayesian"):
        result = models.fit_ivim(signal, b, method=method)
        cells = []
        for name, true in truth.items():
            error = result[name] - true if name == "f" else (result[name] - true) / true
            error = error[np.isfinite(error)]
            cells.append(f"{np.mean(error):+10.4f} {np.std(error):9.4f}")
        print(f"  {method:10s} " + "  ".join(cells))


if __name__ == "__main__":
    main()
