"""Diffusion fitting speed, printed beside its baselines in one run (not a test).

    python Testing/benchmarks/benchmark_diffusion_fit.py [--voxels 200000] [--lmfit-voxels 100]

- log-linear ADC voxels/s (target >= 2 million/s);
- full IVIM (bounded nonlinear, 12 b-values) voxels/s (target >= 20,000/s on 2 cores) beside
  voxel-by-voxel lmfit (subset, extrapolated; target >= 100x) with the median absolute errors;
- a Monte-Carlo table of bias and SD at SNR 20/50/100.
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path[:0] = [os.path.join(ROOT, m) for m in ("TMEMonitor", "DiffusionModule", "DiffusionModule/Testing/Python")]

from DiffusionModuleLib import models  # noqa: E402
from DiffusionModuleLib.synthesis import add_rician_noise, ivim_signal  # noqa: E402

B = np.array([0, 10, 20, 30, 50, 80, 100, 200, 400, 600, 800, 1000], dtype=float)


def lmfit_ivim(signal):
    import lmfit
    out = []
    for curve in signal:
        parameters = lmfit.Parameters()
        parameters.add("S0", value=1.0, min=0.5, max=2.0)
        parameters.add("f", value=0.1, min=0.0, max=1.0)
        parameters.add("D", value=1e-3, min=0.0, max=0.005)
        parameters.add("Dstar", value=0.03, min=0.005, max=0.2)

        def residual(p):
            return ivim_signal(p["S0"].value, p["D"].value, p["f"].value, p["Dstar"].value, B) - curve
        out.append(lmfit.minimize(residual, parameters, method="leastsq").params.valuesdict())
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voxels", type=int, default=200000)
    parser.add_argument("--lmfit-voxels", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.voxels
    d, f, dstar = rng.uniform(0.6e-3, 2.0e-3, n), rng.uniform(0.03, 0.3, n), rng.uniform(0.02, 0.08, n)
    clean = ivim_signal(1.0, d, f, dstar, B)
    noisy = add_rician_noise(clean, 0.01, rng)
    print(f"{os.cpu_count()} cores, {B.size} b-values, SNR 100")
    start = time.perf_counter()
    big = np.tile(noisy, (max(1, 2_000_000 // n), 1))
    models.fit_adc(big, B, b_min=200)
    print(f"ADC log-linear: {big.shape[0] / (time.perf_counter() - start):12.0f} voxels/s (target >= 2,000,000)")
    start = time.perf_counter()
    result = models.fit_ivim(noisy, B, method="full")
    rate = n / (time.perf_counter() - start)
    start = time.perf_counter()
    reference = lmfit_ivim(noisy[:args.lmfit_voxels])
    lmfit_rate = args.lmfit_voxels / (time.perf_counter() - start)
    m = args.lmfit_voxels
    for name, truth in (("D", d), ("f", f), ("Dstar", dstar)):
        engine_error = np.median(np.abs(result[name][:m] - truth[:m]))
        lmfit_error = np.median(np.abs(np.array([r[name] for r in reference]) - truth[:m]))
        print(f"  median |{name} error| on the same {m} voxels: engine {engine_error:.3g}, lmfit {lmfit_error:.3g}")
    print(f"IVIM full: engine {rate:10.0f} voxels/s | lmfit voxel-by-voxel {lmfit_rate:8.1f} voxels/s | "
          f"speed-up {rate / lmfit_rate:6.0f}x (targets >= 20,000 voxels/s, >= 100x)")
    from test_models import monte_carlo_table
    print("Monte Carlo (true D 1.0e-3, f 0.10, D* 0.04; 2000 voxels each):")
    print("  SNR | IVIM D bias | D SD (rel) | f bias | f SD | ADC(b>=200) bias")
    for snr, d_bias, d_sd, f_bias, f_sd, adc_bias in monte_carlo_table():
        print(f"  {snr:3d} | {d_bias * 100:+9.1f} % | {d_sd * 100:8.1f} % | {f_bias:+.3f} | {f_sd:.3f} | {adc_bias * 100:+.1f} %")
