"""Our DCE and IVIM fits beside the peer libraries on the same seeded data, in one run (not a test).

    python Testing/benchmarks/benchmark_peers.py [--peers-python /tmp/venv-peers/bin/python]
        [--repo PATH] [--voxels 20000] [--2cxm-voxels 2000] [--lmfit-voxels 100]
        [--tasks ext_tofts ext_tofts_uniform tofts patlak 2cxm ivim] [--no-scaling] [--quick]

Peers: osipy 0.1.4 (OSIPI perfusion library; DCE and IVIM) and dipy (IVIM), each run in the
separate peers environment that Utilities/setup_benchmark_peers.sh builds (osipy needs
Python >= 3.12; never a test dependency) by peers_runner.py, timing the fit call alone; lmfit
voxel by voxel in this process on a subset (extrapolated). ``--repo`` fits "ours" from another
checkout of the project (e.g. an older commit unpacked with ``git archive``) for before/after.

Printed per task: voxels/s (wall) and voxels per CPU-second (all threads of the fitting
process: on a loaded, shared machine the fairer figure), median and 95th-percentile errors per parameter (relative for
rates, volumes and diffusivities; absolute for the IVIM f), and each peer's speed as a ratio to
ours. Then the thread scaling of every whole-volume fit (DCE models, IVIM full / segmented /
Bayesian, kurtosis, log-linear ADC): 1 and 2 threads, best of 3 runs, with the load average. The
machine may be shared: compare within one run, and repeat when ``uptime`` shows a high load.
``--quick`` runs everything on 5,000 voxels in about a minute.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
HEMATOCRIT = 0.42
T_UNEVEN = np.concatenate([np.arange(0, 90, 2.0), np.arange(90, 300.1, 14.0)])[:60]   # 60 frames (s)
T_UNIFORM = np.arange(60) * 5.0                                                      # 60 frames at 5 s
NOISE_MM = 0.01
B_IVIM = np.array([0, 10, 20, 30, 50, 80, 100, 200, 400, 700, 1000], dtype=float)   # 11 b-values
SNR_IVIM = 50.0
TASKS = {"ext_tofts": ("extended_tofts", T_UNEVEN), "ext_tofts_uniform": ("extended_tofts", T_UNIFORM),
         "tofts": ("tofts", T_UNEVEN), "patlak": ("patlak", T_UNEVEN), "2cxm": ("2cxm", T_UNEVEN)}


def load_project(repo):
    sys.path[:0] = [os.path.join(repo, m) for m in ("TMEMonitor", "DCEModule", "DiffusionModule")]


def parker_plasma(t_s, delay_s=10.0):
    """Parker population AIF (Parker et al., MRM 2006, doi:10.1002/mrm.21066, eq. 1, table 1),
    whole blood -> plasma with the hematocrit."""
    t = (np.asarray(t_s, float) - delay_s) / 60.0
    blood = sum(a / (s * np.sqrt(2 * np.pi)) * np.exp(-(t - m) ** 2 / (2 * s * s))
                for a, m, s in ((0.809, 0.17046, 0.0563), (0.330, 0.365, 0.132)))
    blood = np.where(t >= 0, blood + 1.050 * np.exp(-0.1685 * t) / (1 + np.exp(-38.078 * (t - 0.483))), 0.0)
    return blood / (1 - HEMATOCRIT)


def dce_truth(model, n, rng):
    if model == "patlak":
        return {"Ktrans": rng.uniform(0.01, 0.2, n), "vp": rng.uniform(0.01, 0.1, n)}
    if model == "2cxm":
        return {"Fp": rng.uniform(0.2, 1.5, n), "PS": rng.uniform(0.05, 0.4, n), "ve": rng.uniform(0.1, 0.5, n),
                "vp": rng.uniform(0.02, 0.1, n)}
    params = {"Ktrans": rng.uniform(0.05, 0.5, n), "ve": rng.uniform(0.1, 0.6, n)}
    if model == "extended_tofts":
        params["vp"] = rng.uniform(0.01, 0.1, n)
    return params


def errors(estimates, truth, absolute=()):
    """{name: (median, 95th percentile)} of |error| (relative unless the name is in ``absolute``);
    a missing or non-finite estimate counts as an infinite error."""
    out = {}
    for name, true in truth.items():
        value = np.asarray(estimates[name], float)
        error = np.abs(value - true) if name in absolute else np.abs(value - true) / np.abs(true)
        error = np.where(np.isfinite(error), error, np.inf)
        out[name] = (np.median(error), np.percentile(error, 95))
    return out


def run_peer(python, peer, task, data, workdir):
    data_path = os.path.join(workdir, "data.npz")
    out_path = os.path.join(workdir, f"out_{peer}.npz")
    np.savez(data_path, **data)
    completed = subprocess.run([python, os.path.join(HERE, "peers_runner.py"), data_path, out_path, peer, task],
                               capture_output=True, text=True)
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"{peer} failed: {tail[0]}"
    result = dict(np.load(out_path))
    return result, None


def lmfit_dce(model, t, cp, ct):
    """lmfit's Levenberg-Marquardt one voxel at a time, the same model function, bounds and a fixed start."""
    import lmfit
    from TMEMonitorLib import kinetics
    names = kinetics.MODELS[model]["parameters"]
    lower, upper = kinetics.MODELS[model]["lower"], kinetics.MODELS[model]["upper"]
    start_values = {"Ktrans": 0.1, "ve": 0.3, "vp": 0.05, "Fp": 0.5, "PS": 0.1}
    out = {name: np.full(ct.shape[0], np.nan) for name in names}
    for i, curve in enumerate(ct):
        parameters = lmfit.Parameters()
        for name, lo, hi in zip(names, lower, upper):
            parameters.add(name, value=start_values[name], min=lo, max=hi)

        def residual(p):
            return kinetics.concentration(model, t, cp, **{k: np.array([p[k].value]) for k in names})[0] - curve
        values = lmfit.minimize(residual, parameters, method="leastsq").params.valuesdict()
        for name in names:
            out[name][i] = values[name]
    return out


def lmfit_ivim(signal, b):
    import lmfit
    from DiffusionModuleLib.signal_models import ivim_signal
    out = {name: np.full(signal.shape[0], np.nan) for name in ("D", "f", "Dstar")}
    for i, curve in enumerate(signal):
        parameters = lmfit.Parameters()
        parameters.add("S0", value=curve[0], min=0.0)
        parameters.add("f", value=0.1, min=0.0, max=1.0)
        parameters.add("D", value=1e-3, min=0.0, max=5e-3)
        parameters.add("Dstar", value=0.03, min=2e-3, max=0.1)

        def residual(p):
            return ivim_signal(p["S0"].value, p["D"].value, p["f"].value, p["Dstar"].value, b) - curve
        values = lmfit.minimize(residual, parameters, method="leastsq").params.valuesdict()
        for name in out:
            out[name][i] = values[name]
    return out


def timed(call):
    """(result, (wall seconds, CPU seconds of all this process's threads))."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = call()
    return result, (time.perf_counter() - start, time.process_time() - cpu_start)


def peer_seconds(result):
    return None if result is None else (float(result["seconds"]), float(result["cpu_seconds"]))


def print_rows(title, n, truth, rows, absolute=()):
    """rows: [(label, estimates or None, seconds, voxels fitted, note)], ours first."""
    names = list(truth)
    print(f"\n{title} ({n} voxels; errors {'|error| relative' if not absolute else 'relative, f absolute'})")
    header = (f"  {'method':34s} {'voxels/s':>9s} {'vs ours':>7s} {'vox/CPU-s':>9s} {'vs ours':>7s}  "
              + "  ".join(f"{k + ' med/p95':>17s}" for k in names))
    print(header)
    ours_rate = ours_cpu = None
    for label, estimates, seconds, voxels, note in rows:
        if estimates is None:
            print(f"  {label:34s} {note}")
            continue
        rate, cpu_rate = voxels / seconds[0], voxels / max(seconds[1], 1e-9)
        ours_rate = rate if ours_rate is None else ours_rate
        ours_cpu = cpu_rate if ours_cpu is None else ours_cpu
        subset = {k: v[:voxels] for k, v in truth.items()}
        table = errors({k: np.asarray(estimates[k])[:voxels] for k in names}, subset, absolute)
        cells = "  ".join(f"{table[k][0]:8.3f}/{table[k][1]:8.3f}" for k in names)
        print(f"  {label:34s} {rate:9,.0f} {rate / ours_rate:6.2f}x {cpu_rate:9,.0f} {cpu_rate / ours_cpu:6.2f}x  "
              f"{cells}{'  ' + note if note else ''}")
    sys.stdout.flush()


def dce_task(task, args, rng, workdir):
    from TMEMonitorLib import kinetics
    model, t = TASKS[task]
    n = args.voxels_2cxm if model == "2cxm" else args.voxels
    cp = parker_plasma(t)
    truth = dce_truth(model, n, rng)
    ct = kinetics.concentration(model, t, cp, **truth) + rng.normal(0, NOISE_MM, (n, t.size))
    ours, seconds = timed(lambda: kinetics.fit(model, ct, t, cp))
    rows = [("ours (default threads)", ours, seconds, n, "")]
    if args.peers_python:
        peer, note = run_peer(args.peers_python, "osipy", f"dce:{model}", {"ct": ct, "t_s": t, "cp": cp}, workdir)
        rows.append(("osipy 0.1.4 (LM, vectorised)", peer, peer_seconds(peer), n, "")
                    if peer is not None else ("osipy 0.1.4", None, None, n, note))
    m = min(args.lmfit_voxels, n)
    if m:
        reference, seconds = timed(lambda: lmfit_dce(model, t, cp, ct[:m]))
        rows.append((f"lmfit voxel by voxel ({m} voxels)", reference, seconds, m, ""))
    grid = "uniform 5 s" if t is T_UNIFORM else "uneven 2 s / 14 s"
    print_rows(f"{model}, 60 frames ({grid}), noise {NOISE_MM} mM", n, truth, rows)


def ivim_task(args, rng, workdir):
    from DiffusionModuleLib import models
    from DiffusionModuleLib.signal_models import ivim_signal
    from TMEMonitorLib.noise import add_rician_noise
    n = args.voxels
    truth = {"D": rng.uniform(0.6e-3, 2.0e-3, n), "f": rng.uniform(0.03, 0.3, n), "Dstar": rng.uniform(0.02, 0.08, n)}
    signal = add_rician_noise(ivim_signal(1.0, truth["D"], truth["f"], truth["Dstar"], B_IVIM), 1.0 / SNR_IVIM, rng)
    rows = []
    for method in ("full", "segmented", "bayesian"):
        result, seconds = timed(lambda m=method: models.fit_ivim(signal, B_IVIM, method=m))
        rows.append((f"ours {method}", result, seconds, n, ""))
    if args.peers_python:
        data = {"signal": signal, "b": B_IVIM}
        for peer, method, label, voxels in (("osipy", "full", "osipy 0.1.4 full", n),
                                            ("osipy", "segmented", "osipy 0.1.4 segmented", n),
                                            ("osipy", "bayesian", "osipy 0.1.4 bayesian", n),
                                            ("dipy", "trr", "dipy IVIM trr (voxel loop)", args.dipy_voxels)):
            subset = {"signal": signal[:voxels], "b": B_IVIM}
            result, note = run_peer(args.peers_python, peer, f"ivim:{method}", subset if voxels < n else data,
                                    workdir)
            rows.append((label if voxels == n else f"{label} ({voxels} voxels)", result,
                         peer_seconds(result), voxels, note or ""))
    m = min(args.lmfit_voxels, n)
    if m:
        reference, seconds = timed(lambda: lmfit_ivim(signal[:m], B_IVIM))
        rows.append((f"lmfit voxel by voxel ({m} voxels)", reference, seconds, m, ""))
    # Ratios are to the first row (ours full); the Bayesian row is the product default.
    print_rows(f"IVIM, {B_IVIM.size} b-values 0-1000 s/mm2, Rician SNR {SNR_IVIM:g}", n, truth, rows,
               absolute=("f",))


def best_rate(call, n, repeats=3):
    """Voxels/s of the fastest of ``repeats`` runs (the machine is shared: the best run is the least disturbed)."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = max(best, n / (time.perf_counter() - start))
    return best


def in_two_threads(fit, data):
    """``fit`` on the two halves of ``data`` at once in two threads (how a volume would be split)."""
    from concurrent.futures import ThreadPoolExecutor
    half = data.shape[0] // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(fit, (data[:half], data[half:])))


def scaling(args, rng):
    """Every whole-volume fit on 1 and 2 threads: the DCE fits through their ``threads`` option,
    the diffusion fits (no threads option: single-threaded) by fitting two halves of the volume at
    once, the log-linear ADC through DiffusionModuleLib.adc.THREADS. Best of 3 runs each."""
    from DiffusionModuleLib import adc, models
    from DiffusionModuleLib.signal_models import ivim_signal
    from TMEMonitorLib import kinetics
    from TMEMonitorLib.kinetics.voxelwise_fit import DEFAULT_THREADS
    from TMEMonitorLib.noise import add_rician_noise
    blas = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    print(f"\nthread scaling of our whole-volume fits (voxels/s, best of 3; BLAS threads: {blas or 'library default'}; "
          f"load average {os.getloadavg()[0]:.1f})")
    print(f"  {'fit':34s} {'voxels':>7s} {'1 thread':>10s} {'2 threads':>10s} {'ratio':>6s}  default")
    rows = []
    for task in ("ext_tofts", "ext_tofts_uniform", "tofts", "patlak", "2cxm"):
        model, t = TASKS[task]
        n = args.voxels_2cxm if model == "2cxm" else args.voxels
        cp = parker_plasma(t)
        ct = kinetics.concentration(model, t, cp, **dce_truth(model, n, rng)) + rng.normal(0, NOISE_MM, (n, t.size))
        one = best_rate(lambda: kinetics.fit(model, ct, t, cp, threads=1), n)
        two = best_rate(lambda: kinetics.fit(model, ct, t, cp, threads=2, chunk_size=max(256, n // 8)), n)
        rows.append((f"{task} (kinetics.fit)", n, one, two, f"{DEFAULT_THREADS} thread (threads option)"))
    n = args.voxels
    truth = {"D": rng.uniform(0.6e-3, 2.0e-3, n), "f": rng.uniform(0.03, 0.3, n), "Dstar": rng.uniform(0.02, 0.08, n)}
    signal = add_rician_noise(ivim_signal(1.0, truth["D"], truth["f"], truth["Dstar"], B_IVIM), 1.0 / SNR_IVIM, rng)
    b_kurtosis = np.array([0, 500, 1000, 1500, 2000, 2500], dtype=float)
    kurtosis_signal = add_rician_noise(np.exp(-np.outer(truth["D"], b_kurtosis)
                                              + np.outer(truth["D"] ** 2, b_kurtosis ** 2) * 0.8 / 6), 0.02, rng)
    fits = [(f"IVIM {m} (fit_ivim)", signal, lambda x, m=m: models.fit_ivim(x, B_IVIM, method=m))
            for m in ("full", "segmented", "bayesian")]
    fits.append(("kurtosis (fit_kurtosis)", kurtosis_signal, lambda x: models.fit_kurtosis(x, b_kurtosis)))
    for label, data, fit in fits:
        one = best_rate(lambda: fit(data), n)
        two = best_rate(lambda: in_two_threads(fit, data), n)
        rows.append((label, n, one, two, "1 thread (no threads option)"))
    adc_data = np.tile(signal, (max(1, 400000 // n), 1)).astype(np.float32)
    rates = []
    for threads in (1, 2):
        adc.THREADS = threads
        rates.append(best_rate(lambda: models.fit_adc(adc_data, B_IVIM), adc_data.shape[0]))
    adc.THREADS = None
    rows.append(("ADC log-linear float32 (fit_adc)", adc_data.shape[0], rates[0], rates[1], "one per core (adc.THREADS)"))
    for label, voxels, one, two, default in rows:
        print(f"  {label:34s} {voxels:7d} {one:10,.0f} {two:10,.0f} {two / one:5.2f}x  {default}")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers-python", default="/tmp/venv-peers/bin/python",
                        help="Python of the peers environment ('' to skip the peers)")
    parser.add_argument("--repo", default=os.path.abspath(os.path.join(HERE, "..", "..")),
                        help="project checkout whose code is 'ours' (default: this one)")
    parser.add_argument("--voxels", type=int, default=20000)
    parser.add_argument("--2cxm-voxels", dest="voxels_2cxm", type=int, default=2000)
    parser.add_argument("--lmfit-voxels", type=int, default=100)
    parser.add_argument("--dipy-voxels", type=int, default=500)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS) + ["ivim"], choices=list(TASKS) + ["ivim"])
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="a few seconds per model: 5,000 voxels (500 for 2CXM), 30 lmfit and 100 dipy voxels")
    args = parser.parse_args()
    if args.quick:
        args.voxels, args.voxels_2cxm, args.lmfit_voxels, args.dipy_voxels = 5000, 500, 30, 100
    if args.peers_python and not os.path.exists(args.peers_python):
        print(f"peers environment {args.peers_python} not found: run Utilities/setup_benchmark_peers.sh; "
              "printing ours and lmfit only")
        args.peers_python = ""
    load_project(args.repo)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"ours from {args.repo}; {os.cpu_count()} cores, load average {load:.1f} at the start; "
          f"seeded data (numpy default_rng(0))")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as workdir:
        for task in args.tasks:
            if task == "ivim":
                ivim_task(args, rng, workdir)
            else:
                dce_task(task, args, rng, workdir)
    if not args.no_scaling:
        scaling(args, np.random.default_rng(1))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.1f} at the end")


if __name__ == "__main__":
    main()
