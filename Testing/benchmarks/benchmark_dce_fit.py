"""DCE fitting speed and memory, printed beside their baselines in one run (not a test).

    python Testing/benchmarks/benchmark_dce_fit.py [--voxels 50000] [--lmfit-voxels 100] [--memory]

- Speed: voxels/s of the batched engine for extended Tofts (and Tofts, Patlak, 2CXM) on 60
  uneven frames, beside the same fit done voxel by voxel with lmfit (a subset, extrapolated),
  with the median absolute Ktrans error of both. Targets: >= 50,000 voxels/s, >= 100x lmfit.
- Memory (--memory): a 256x256x32x60 float32 series fitted in chunks; peak traced memory
  as a multiple of the input size (target < 2.5x).
"""
import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path[:0] = [os.path.join(ROOT, m) for m in ("TMEMonitor", "DCEModule")]

from DCEModuleLib.aif import blood_to_plasma, parker  # noqa: E402
from TMEMonitorLib import kinetics  # noqa: E402

T = np.concatenate([np.arange(0, 90, 2.0), np.arange(90, 300.1, 14.0)])[:60]
CP = blood_to_plasma(parker(T, 10.0))


def truth(model, n, rng):
    if model == "patlak":
        return {"Ktrans": rng.uniform(0.01, 0.2, n), "vp": rng.uniform(0.01, 0.1, n)}
    if model == "2cxm":
        return {"Fp": rng.uniform(0.2, 1.5, n), "PS": rng.uniform(0.05, 0.4, n), "ve": rng.uniform(0.1, 0.5, n),
                "vp": rng.uniform(0.02, 0.1, n)}
    params = {"Ktrans": rng.uniform(0.05, 0.5, n), "ve": rng.uniform(0.1, 0.6, n)}
    if model == "extended_tofts":
        params["vp"] = rng.uniform(0.01, 0.1, n)
    return params


def lmfit_voxelwise(model, ct):
    import lmfit
    names = kinetics.MODELS[model]["parameters"]
    lower, upper = kinetics.MODELS[model]["lower"], kinetics.MODELS[model]["upper"]
    start = {"Ktrans": 0.1, "ve": 0.3, "vp": 0.05, "Fp": 0.5, "PS": 0.1}
    out = []
    for curve in ct:
        parameters = lmfit.Parameters()
        for name, lo, hi in zip(names, lower, upper):
            parameters.add(name, value=start[name], min=lo, max=hi)

        def residual(p):
            return kinetics.concentration(model, T, CP, **{k: np.array([p[k].value]) for k in names})[0] - curve
        out.append(lmfit.minimize(residual, parameters, method="leastsq").params.valuesdict())
    return out


def speed(model, n_voxels, n_lmfit, rng):
    params = truth(model, n_voxels, rng)
    ct = kinetics.concentration(model, T, CP, **params) + rng.normal(0, 0.01, (n_voxels, T.size))
    start = time.perf_counter()
    result = kinetics.fit(model, ct, T, CP)
    engine_rate = n_voxels / (time.perf_counter() - start)
    key = "Fp" if model == "2cxm" else "Ktrans"
    engine_error = np.median(np.abs(result[key] - params[key]))
    start = time.perf_counter()
    reference = lmfit_voxelwise(model, ct[:n_lmfit])
    lmfit_rate = n_lmfit / (time.perf_counter() - start)
    lmfit_error = np.median(np.abs(np.array([r[key] for r in reference]) - params[key][:n_lmfit]))
    subset_engine_error = np.median(np.abs(result[key][:n_lmfit] - params[key][:n_lmfit]))
    print(f"{model:15s} engine {engine_rate:10.0f} vox/s | lmfit voxel-by-voxel {lmfit_rate:8.1f} vox/s | "
          f"speed-up {engine_rate / lmfit_rate:7.0f}x | median |{key} error| engine {engine_error:.4f} "
          f"(same {n_lmfit} voxels {subset_engine_error:.4f}) vs lmfit {lmfit_error:.4f} 1/min")


def memory():
    from DCEModuleLib.pipeline import analyse_dce
    from DCEModuleLib.signal import concentration_to_spgr
    shape = (32, 256, 256)
    rng = np.random.default_rng(1)
    ktrans = rng.uniform(0.05, 0.3, shape).astype(np.float32)
    t = np.linspace(0, 300, 60)
    cp = blood_to_plasma(parker(t, 10.0))
    series = np.empty((60,) + shape, np.float32)
    for k in range(shape[0]):           # build slice by slice to keep the builder itself small
        ct = kinetics.concentration("tofts", t, cp, Ktrans=ktrans[k], ve=np.full(shape[1:], 0.3))
        series[:, k] = np.moveaxis(concentration_to_spgr(ct, 1000.0, 1.4, 0.005, 15.0, 4.5), -1, 0)
    input_bytes = series.nbytes
    tracemalloc.start()
    start = time.perf_counter()
    analyse_dce(series, t, metadata={"TR_s": 0.005, "flip_angle_deg": 15.0, "field_strength_T": 3.0},
                settings=_settings(), mask=None)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory: 256x256x32x60 float32 input {input_bytes / 2**20:.0f} MiB, peak traced {peak / 2**20:.0f} MiB "
          f"= {peak / input_bytes:.2f}x input (target < 2.5x); {2 * 256 * 256 * 32 / elapsed:.0f} voxels/s whole pipeline")


def _settings():
    from DCEModuleLib.settings import DCESettings
    return DCESettings(model="tofts", fixed_t10_s=1.4, relaxivity_per_mM_s=4.5, semi_quantitative=False,
                       aif_delay_s=10.0, baseline_frames=3)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voxels", type=int, default=50000)
    parser.add_argument("--lmfit-voxels", type=int, default=100)
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{os.cpu_count()} cores; {T.size} uneven frames; baseline: lmfit (Levenberg-Marquardt) one voxel at a time")
    for model in ("extended_tofts", "tofts", "patlak", "2cxm"):
        speed(model, args.voxels if model != "2cxm" else max(args.voxels // 5, 1000), args.lmfit_voxels, rng)
    if args.memory:
        memory()
