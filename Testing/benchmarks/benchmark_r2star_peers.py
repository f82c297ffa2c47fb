"""Our R2*/T2* fits beside an independent implementation, tedana (tedana.decay.fit_decay), on the same
seeded multi-echo GRE digital object, voxel by voxel, in one run (not a test).

    python Testing/benchmarks/benchmark_r2star_peers.py [--tedana-python /tmp/venv-tedana/bin/python]
        [--shape 8 48 48] [--snr 100] [--seed 0]

tedana runs in its own environment (Utilities/setup_tedana_peer.sh; never a test dependency): this
same file, called there with ``--run-tedana DATA.npz OUT.npz``, imports tedana only (not the
project) and times the fit call alone.

Digital object: the HypoxiaModule phantom (HypoxiaModuleLib.synthesis.hypoxia_phantom: tumour R2* 40 1/s,
hypoxic shell 70, non-perfused core, muscle 30) with a smooth random modulation of R2* (x0.4 to x2.5)
so that T2* spans the 2-200 ms range, a fluid-like core (T2* 150 ms), a haemorrhage-like spot
(T2* 3 ms), S0 900-1100, air (zero signal) around an elliptical body; 12 echoes TE 2.5-30 ms;
Rician noise (complex Gaussian, SD S0_mean / SNR per channel).

Comparisons (voxels inside the body with true T2* in (2, 200) ms):
- NLLS: ours ("nonlinear", the shared LM engine) against tedana's "curvefit" (scipy curve_fit per voxel,
  started from its log-linear fit), both on the SAME echoes: tedana's adaptive mask (the number of
  good echoes per voxel) is set to our n_echoes_used (the 3-sigma noise-floor run), so that the fits,
  not the echo choices, are compared. Same least-squares objective; the bar: >= 99 % of voxels within
  0.05 ms.
- Fast paths: our weighted log-linear fit against tedana's "loglin" (ordinary least squares on
  ln(|S| + 1)), same echoes; the bar: median relative difference <= 10 %.
- Each against the truth, and speeds (voxels/s, the fit call alone).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from timing import best_seconds

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TE_S = 0.0025 * np.arange(1, 13)


def run_tedana(data_path, out_path):
    """Inside the tedana environment: fit_decay with both fit types on the data; no project import."""
    from tedana import decay
    data = np.load(data_path)
    signal, tes_ms, adaptive = data["signal"], data["tes_ms"], data["adaptive_mask"].astype(int)
    out = {}
    for fittype in ("loglin", "curvefit"):
        start, cpu = time.perf_counter(), time.process_time()
        t2s, s0, failures, *_ = decay.fit_decay(signal, tes_ms, adaptive, fittype, report=False, n_threads=1)
        out[f"{fittype}_seconds"] = time.perf_counter() - start
        out[f"{fittype}_cpu_seconds"] = time.process_time() - cpu
        out[f"{fittype}_t2s_ms"], out[f"{fittype}_s0"] = np.asarray(t2s, float), np.asarray(s0, float)
        out[f"{fittype}_failures"] = np.zeros(len(t2s), bool) if failures is None else np.asarray(failures, bool)
    import importlib.metadata as metadata
    out["version"] = np.array(metadata.version("tedana"))
    np.savez(out_path, **out)


def digital_object(shape, snr, seed):
    """(signal (..., 12), true R2* (1/s), body mask, sigma) of the seeded digital object."""
    from scipy.ndimage import gaussian_filter

    from HypoxiaModuleLib import synthesis
    rng = np.random.default_rng(seed)
    phantom = synthesis.hypoxia_phantom(shape=shape)
    field = gaussian_filter(rng.standard_normal(shape), sigma=(1.0, 4.0, 4.0))
    field /= np.max(np.abs(field))
    r2star = phantom.r2star_per_s * np.exp(0.92 * field)              # x0.4 .. x2.5
    r2star[phantom.necrotic] = 1.0 / 0.150                           # fluid-like core: T2* 150 ms
    k, j, i = np.meshgrid(*(np.arange(n) - (n - 1) / 2.0 for n in shape), indexing="ij")
    spot = (k / 1.5) ** 2 + ((j - shape[1] / 4) / 3) ** 2 + ((i + shape[2] / 4) / 3) ** 2 <= 1
    r2star[spot] = 1.0 / 0.003                                       # haemorrhage-like: T2* 3 ms
    body = (j / (0.47 * shape[1])) ** 2 + (i / (0.47 * shape[2])) ** 2 <= 1
    s0 = np.where(body, rng.uniform(900.0, 1100.0, shape), 0.0)
    sigma = 1000.0 / snr
    signal = synthesis.multi_echo(np.where(body, r2star, 0.0), s0, TE_S, noise_sigma=sigma, rng=rng)
    return signal, r2star, body, sigma


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tedana-python", default="/tmp/venv-tedana/bin/python")
    parser.add_argument("--shape", type=int, nargs=3, default=(8, 48, 48))
    parser.add_argument("--snr", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-tedana", nargs=2, metavar=("DATA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_tedana:
        run_tedana(*args.run_tedana)
        return
    sys.path[:0] = [os.path.join(ROOT, m) for m in ("TMEMonitor", "DCEModule", "HypoxiaModule")]
    from HypoxiaModuleLib.relaxometry import fit_r2star
    from TMEMonitorLib.fitting import status as st

    signal, r2star, body, sigma = digital_object(tuple(args.shape), args.snr, args.seed)
    load_before = os.getloadavg()
    ours = {}
    seconds = {}
    for method in ("loglinear", "nonlinear"):
        seconds[method], ours[method] = best_seconds(lambda: fit_r2star(signal, TE_S, method, mask=body,
                                                                        noise_sigma="auto"))
    n_used = ours["nonlinear"]["n_echoes_used"][body]
    with tempfile.TemporaryDirectory() as tmp:
        data_path, out_path = os.path.join(tmp, "data.npz"), os.path.join(tmp, "out.npz")
        np.savez(data_path, signal=signal[body], tes_ms=TE_S * 1000.0, adaptive_mask=n_used)
        done = subprocess.run([args.tedana_python, os.path.abspath(__file__), "--run-tedana", data_path, out_path],
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"tedana run failed (build its environment with Utilities/setup_tedana_peer.sh):\n{done.stderr}")
        peer = dict(np.load(out_path))
    load_after = os.getloadavg()

    truth_ms = 1000.0 / r2star[body]
    in_range = (truth_ms > 2.0) & (truth_ms < 200.0) & (n_used >= 2)
    n_voxels = int(body.sum())
    print(f"R2*/T2* against tedana {peer['version']} on the digital object {tuple(args.shape)}, "
          f"{n_voxels} body voxels, 12 echoes TE 2.5-30 ms, SNR {args.snr:g} (Rician), noise sigma estimated from air: "
          f"{ours['nonlinear']['noise_sigma']:.3g} (true {sigma:.3g})")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (2 cores shared with other jobs)")
    print(f"voxels with true T2* in (2, 200) ms and >= 2 echoes above the floor: {int(in_range.sum())}; "
          f"echoes used: median {np.median(n_used):.0f}, min {n_used.min()}")

    def compare(name, ours_ms, ours_ok, peer_ms, peer_ok):
        both = in_range & ours_ok & peer_ok & np.isfinite(ours_ms) & np.isfinite(peer_ms)
        diff = np.abs(ours_ms[both] - peer_ms[both])
        rel = diff / np.abs(peer_ms[both])
        print(f"{name}: compared {both.sum()} voxels (left out: ours not ok {int((in_range & ~ours_ok).sum())}, "
              f"peer failed {int((in_range & ~peer_ok).sum())})")
        print(f"    |dT2*| within 0.05 ms: {np.mean(diff <= 0.05):.2%}; median |dT2*| {np.median(diff):.2e} ms, "
              f"95th pct {np.percentile(diff, 95):.2e} ms, max {diff.max():.2e} ms; "
              f"median relative difference {np.median(rel):.2e}")
        return both

    nl = ours["nonlinear"]
    nl_ms = nl["T2star"][body] * 1000.0
    nl_ok = np.isin(nl["status"][body], (st.OK,))
    both = compare("NLLS: ours (LM) vs tedana curvefit (scipy curve_fit), same echoes", nl_ms, nl_ok,
                   peer["curvefit_t2s_ms"], ~peer["curvefit_failures"])
    far = both & (np.abs(nl_ms - peer["curvefit_t2s_ms"]) > 0.05)
    if far.any():
        print(f"    voxels beyond 0.05 ms: true T2* {np.round(truth_ms[far][:8], 1)} ms, "
              f"ours {np.round(nl_ms[far][:8], 3)}, tedana {np.round(peer['curvefit_t2s_ms'][far][:8], 3)}, echoes used {n_used[far][:8]}")
    ll = ours["loglinear"]
    ll_ms = ll["T2star"][body] * 1000.0
    compare("fast paths: ours (weighted log-linear) vs tedana loglin (OLS on ln(|S|+1))", ll_ms,
            np.isin(ll["status"][body], (st.OK,)), peer["loglin_t2s_ms"], np.ones(n_voxels, bool))
    print("against the truth (voxels compared above), median |relative error| of T2*:")
    for name, values in (("ours NLLS", nl_ms), ("tedana curvefit", peer["curvefit_t2s_ms"]),
                         ("ours log-linear", ll_ms), ("tedana loglin", peer["loglin_t2s_ms"])):
        ok = in_range & np.isfinite(values)
        print(f"    {name:18s} {np.median(np.abs(values[ok] / truth_ms[ok] - 1)):.4f}")
    print(f"{'fit (the fit call alone)':44s} {'voxels/s':>12s}")
    for name, secs in (("ours log-linear (2 threads, best of 3)", seconds["loglinear"]),
                       ("ours NLLS (2 threads, best of 3)", seconds["nonlinear"]),
                       ("tedana loglin (1 run)", peer["loglin_seconds"]),
                       ("tedana curvefit, n_threads=1 (1 run)", peer["curvefit_seconds"])):
        print(f"{name:44s} {n_voxels / float(secs):12.0f}")


if __name__ == "__main__":
    main()
