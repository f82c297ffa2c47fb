"""Monte-Carlo bias and SD of the inputless kPL fit versus SNR (the table in HyperpolarizedModule/README.md).

Truth: synthesis.simulate (independent matrix-exponential forward model), TR 3 s, 20 frames, flips
20 deg pyruvate / 30 deg lactate, boxcar input over frames 1-3, R1P 1/30, R1L 1/25 1/s fixed in the fit.
SNR = peak pyruvate signal / noise SD per channel. Complex data (phased, Gaussian least squares) and
magnitude data (Gaussian least squares, and the Rician-mean model with the true sigma).

    PYTHONPATH=HyperpolarizedModule:TMEMonitor python Testing/benchmarks/validation_kpl_monte_carlo.py [--n 500]
"""
import argparse
import os
import sys

import numpy as np

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _module in ("TMEMonitor", "HyperpolarizedModule"):
    sys.path.insert(0, os.path.join(_ROOT, _module))

from HyperpolarizedModuleLib import kinetics, synthesis  # noqa: E402

TR, N_FRAMES, FP, FL = 3.0, 20, 20.0, 30.0


def row(kpl_true, snr, data_kind, n, rng):
    kpl = np.full(n, kpl_true)
    d = synthesis.simulate(kpl, TR, N_FRAMES, FP, FL, snr=snr, complex_data=data_kind == "complex", rng=rng)
    # min_snr 0: every realisation fitted, as in the other rows (no SNR screening in the table)
    options = {"noise_model": "rician", "noise_sigma": d["sigma"], "min_snr": 0.0} if data_kind == "magnitude, Rician" \
        else {}
    fit = kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, FP, FL, **options)
    ok = np.isfinite(fit["kPL"])
    est = fit["kPL"][ok]
    covered = (fit["kPL_ci95_low"][ok] <= kpl_true) & (kpl_true <= fit["kPL_ci95_high"][ok])
    return (np.mean(est) / kpl_true - 1) * 100, np.std(est) / kpl_true * 100, np.median(fit["se_kPL"][ok]) / kpl_true * 100, \
        np.median(fit["se_kPL_lactate_only"][ok]) / kpl_true * 100, np.mean(covered) * 100, \
        np.mean(fit["status"] == 0) * 100


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500, help="noise realisations per row")
    args = parser.parse_args()
    rng = np.random.default_rng(20240601)
    print("| data | kPL true (1/s) | SNR | bias (%) | SD (%) | median SE (%) | median SE, lactate noise only (%) "
          "| 95 % CI coverage (%) | status ok (%) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for data_kind in ("complex", "magnitude", "magnitude, Rician"):
        for kpl_true in (0.02, 0.1):
            for snr in (5, 10, 20, 50, 100):
                bias, sd, se, se_old, cover, ok = row(kpl_true, snr, data_kind, args.n, rng)
                print(f"| {data_kind} | {kpl_true:g} | {snr} | {bias:+.1f} | {sd:.1f} | {se:.1f} | {se_old:.1f} | "
                      f"{cover:.0f} | {ok:.0f} |")


if __name__ == "__main__":
    main()
