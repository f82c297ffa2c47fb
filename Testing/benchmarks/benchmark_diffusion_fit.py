"""Diffusion fitting speed and memory, printed beside their baselines in one run (not a test).

    python Testing/benchmarks/benchmark_diffusion_fit.py [--voxels 100000] [--lmfit-voxels 200]

- log-linear ADC voxels/s (target >= 2 million/s) on float64 and on float32 input (16-bit scanner
  images are fitted in float32, see DiffusionModuleLib.b_values.check_b_values);
- full IVIM (bounded batched Levenberg-Marquardt, 12 b-values) voxels/s (target >= 20,000/s on
  2 cores) beside voxel-by-voxel lmfit on a subset (extrapolated; target >= 100x) with the
  median absolute errors of both on the same voxels; Bayesian IVIM voxels/s;
- peak memory of the full IVIM fit (tracemalloc) at two volume sizes: chunking keeps the
  working memory beyond the input and outputs flat;
- a Monte-Carlo table of bias and SD at SNR 20/50/100.
"""
import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path[:0] = [os.path.join(ROOT, m) for m in ("TMEMonitor", "DiffusionModule")]

from DiffusionModuleLib import models  # noqa: E402
from DiffusionModuleLib.ivim import DEFAULT_BOUNDS  # noqa: E402
from DiffusionModuleLib.monte_carlo import bias_table, format_table  # noqa: E402
from DiffusionModuleLib.signal_models import ivim_signal  # noqa: E402
from TMEMonitorLib.noise import add_rician_noise  # noqa: E402

B = np.array([0, 10, 20, 30, 50, 80, 100, 200, 400, 600, 800, 1000], dtype=float)


def phantom(n, snr, rng):
    d, f, dstar = rng.uniform(0.6e-3, 2.0e-3, n), rng.uniform(0.03, 0.3, n), rng.uniform(0.02, 0.08, n)
    return add_rician_noise(ivim_signal(1.0, d, f, dstar, B), 1.0 / snr, rng), {"D": d, "f": f, "Dstar": dstar}


def lmfit_ivim(signal):
    """The baseline: one lmfit minimisation per voxel, same model, bounds and fixed start."""
    import lmfit
    out = []
    for curve in signal:
        parameters = lmfit.Parameters()
        parameters.add("S0", value=1.0, min=DEFAULT_BOUNDS["S0"][0], max=DEFAULT_BOUNDS["S0"][1])
        parameters.add("f", value=0.1, min=0.0, max=1.0)
        parameters.add("D", value=1e-3, min=DEFAULT_BOUNDS["D"][0], max=DEFAULT_BOUNDS["D"][1])
        parameters.add("Dstar", value=0.03, min=DEFAULT_BOUNDS["Dstar"][0], max=DEFAULT_BOUNDS["Dstar"][1])

        def residual(p):
            return ivim_signal(p["S0"].value, p["D"].value, p["f"].value, p["Dstar"].value, B) - curve
        out.append(lmfit.minimize(residual, parameters, method="leastsq").params.valuesdict())
    return out


def rate(call, n):
    start = time.perf_counter()
    result = call()
    return n / (time.perf_counter() - start), result


def peak_megabytes(call):
    tracemalloc.start()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2 ** 20


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voxels", type=int, default=100000, help="voxels for the IVIM timing")
    parser.add_argument("--adc-voxels", type=int, default=2000000, help="voxels for the ADC timing")
    parser.add_argument("--lmfit-voxels", type=int, default=200, help="voxels fitted by lmfit one at a time")
    parser.add_argument("--monte-carlo", type=int, default=2000, help="voxels per SNR in the Monte-Carlo table")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.voxels
    noisy, truth = phantom(n, 100.0, rng)
    print(f"{os.cpu_count()} cores visible, {B.size} b-values (0-1000 s/mm2), SNR 100 at b = 0")

    adc_signal = np.tile(noisy, (max(1, args.adc_voxels // n), 1))
    for label, data, options in (("float64, all b  ", adc_signal, {}),
                                 ("float32, all b  ", adc_signal.astype(np.float32), {}),
                                 ("float32, b>=200 ", adc_signal.astype(np.float32), {"b_min": 200})):
        adc_rate, _ = rate(lambda: models.fit_adc(data, B, **options), data.shape[0])
        print(f"ADC log-linear {label}: {adc_rate:12,.0f} voxels/s  (target >= 2,000,000; {data.shape[0]:,} voxels; "
              "scanner integers are fitted as float32)")
    del adc_signal

    full_rate, result = rate(lambda: models.fit_ivim(noisy, B, method="full"), n)
    m = min(args.lmfit_voxels, n)
    lmfit_rate, reference = rate(lambda: lmfit_ivim(noisy[:m]), m)
    print(f"IVIM full: engine {full_rate:10,.0f} voxels/s | lmfit voxel by voxel {lmfit_rate:8,.1f} voxels/s "
          f"(extrapolated from {m}) | speed-up {full_rate / lmfit_rate:6,.0f}x (targets >= 20,000 voxels/s, >= 100x)")
    for name in ("D", "f", "Dstar"):
        engine_error = np.median(np.abs(result[name][:m] - truth[name][:m]))
        lmfit_error = np.median(np.abs(np.array([r[name] for r in reference]) - truth[name][:m]))
        print(f"  median |{name:5s} error| on the same {m} voxels: engine {engine_error:.3g}, lmfit {lmfit_error:.3g}")
    bayes_n = min(n, 20000)
    bayes_rate, bayes = rate(lambda: models.fit_ivim(noisy[:bayes_n], B, method="bayesian"), bayes_n)
    errors = ", ".join(f"{k} {np.median(np.abs(bayes[k] - truth[k][:bayes_n])):.3g}" for k in ("D", "f", "Dstar"))
    print(f"IVIM Bayesian (posterior mean): {bayes_rate:8,.0f} voxels/s on {bayes_n:,} voxels (target >= 30,000 on one "
          f"thread, issue 19); median |error| {errors}")

    small = noisy[: n // 4]
    peaks = [(x.shape[0], x.nbytes / 2 ** 20, peak_megabytes(lambda x=x: models.fit_ivim(x, B, method="full")))
             for x in (small, noisy)]
    for voxels, input_mb, peak in peaks:
        print(f"IVIM full peak memory: {voxels:8,} voxels, input {input_mb:6.1f} MB -> peak {peak:7.1f} MB "
              f"({peak / input_mb:4.1f}x input; engine chunks of 20,000 voxels)")

    print(f"Monte Carlo: true D 1.0e-3 mm2/s, f 0.10, D* 0.04 mm2/s; {args.monte_carlo} voxels per SNR; "
          "D, D* relative, f absolute; adc = ADC over b >= 200 against D")
    print(format_table(bias_table(n=args.monte_carlo, methods=("segmented", "full", "bayesian", "adc"))))


if __name__ == "__main__":
    main()
