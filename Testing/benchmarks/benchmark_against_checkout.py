"""Speed of the whole-volume fits in this checkout beside another checkout of the project, in one run
(not a test).

    git worktree add /tmp/baseline <commit>          # or: git archive <commit> | tar -x -C /tmp/baseline
    python Testing/benchmarks/benchmark_against_checkout.py --baseline /tmp/baseline [--rounds 3]

Each fit runs in a fresh interpreter per checkout (imports from that checkout's module folders only,
not from an installed package), alternating baseline and this checkout ``--rounds`` times on the same
seeded data; each run reports its best of ``--repeats``. The host's own speed drifts (about 2x between
runs minutes apart on the shared 2-core machine), so the ratio of neighbouring runs is the stable
figure; the load average is printed beside them. The environment is this one's (OpenBLAS's own threads
as numpy starts them, as in Slicer). Fits (one thread, the default):

- ``ivim-bayesian``: the default IVIM fit, 20,000 voxels, 12 b-values 0-1000 s/mm2, Rician SNR 50,
  D 0.6-2.0e-3, f 0.03-0.3, D* 0.02-0.08 mm2/s (target >= 30,000 voxels/s, issue 19);
- ``r2star-loglinear``: 400,000 voxels, 12 echoes 2-35 ms, R2* 10-100 1/s, SNR 100, noise floor on
  (target >= 5 M voxels/s, issue 14), beside np.log alone on the same data (the ceiling of any
  log-linear fit).
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

RUNNER = r'''
import json, sys
repo, fit, repeats, here = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# Only that checkout's module folders: drop an editable install's import hook.
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path[:0] = [repo + "/" + m for m in ("TMEMonitor", "DCEModule", "DiffusionModule", "HypoxiaModule")] + [here]
import numpy as np
from timing import best_seconds


def best_of(call):
    return best_seconds(call, repeats)


out = {}
if fit == "ivim-bayesian":
    from DiffusionModuleLib import models
    from DiffusionModuleLib.signal_models import ivim_signal
    from TMEMonitorLib.noise import add_rician_noise
    b = np.array([0, 10, 20, 30, 50, 80, 100, 200, 400, 600, 800, 1000], dtype=float)
    rng = np.random.default_rng(1)
    n = 20000
    truth = {"D": rng.uniform(0.6e-3, 2.0e-3, n), "f": rng.uniform(0.03, 0.3, n), "Dstar": rng.uniform(0.02, 0.08, n)}
    signal = add_rician_noise(ivim_signal(1.0, truth["D"], truth["f"], truth["Dstar"], b), 1.0 / 50, rng)
    models.fit_ivim(signal[:500], b, method="bayesian")                     # warm-up
    seconds, result = best_of(lambda: models.fit_ivim(signal, b, method="bayesian"))
    out["rate"] = n / seconds
    out["errors"] = {k: float(np.median(np.abs(result[k] - truth[k]))) for k in truth}
elif fit == "r2star-loglinear":
    from HypoxiaModuleLib import synthesis
    from HypoxiaModuleLib.relaxometry import fit_r2star
    te = 0.002 + 0.003 * np.arange(12)
    rng = np.random.default_rng(0)
    n = 400000
    r2s = rng.uniform(10.0, 100.0, n)
    signal = synthesis.multi_echo(r2s, 1000.0, te, noise_sigma=10.0, rng=rng)
    scratch = np.empty_like(signal)
    out["log_rate"] = n / best_of(lambda: np.log(signal, out=scratch))[0]
    seconds, result = best_of(lambda: fit_r2star(signal, te, "loglinear", noise_sigma=10.0, threads=1))
    out["rate"] = n / seconds
    out["errors"] = {"R2star": float(np.nanmedian(np.abs(result["R2star"] / r2s - 1)))}
print(json.dumps(out))
'''

TARGETS = {"ivim-bayesian": 30000.0, "r2star-loglinear": 5.0e6}


def run(repo, fit, repeats):
    done = subprocess.run([sys.executable, "-c", RUNNER, repo, fit, str(repeats), os.path.dirname(os.path.abspath(__file__))],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{fit} in {repo} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="another checkout of the project (a folder)")
    parser.add_argument("--fits", default="ivim-bayesian,r2star-loglinear")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    baseline = os.path.abspath(args.baseline)
    if not os.path.isdir(os.path.join(baseline, "TMEMonitor", "TMEMonitorLib")):
        raise SystemExit(f"--baseline: {baseline} is not a checkout of this project (no TMEMonitor/TMEMonitorLib)")
    fits = [f.strip() for f in args.fits.split(",") if f.strip()]
    unknown = [f for f in fits if f not in TARGETS]
    if unknown:
        raise SystemExit(f"--fits: unknown {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    print(f"this checkout {ROOT} against {baseline}; {os.cpu_count()} cores visible; one thread per fit; "
          f"best of {args.repeats} per run, {args.rounds} alternating rounds")
    for fit in fits:
        print(f"\n{fit} (target >= {TARGETS[fit]:,.0f} voxels/s)")
        print(f"{'round':>5}  {'load':>5}  {'baseline vox/s':>15}  {'this vox/s':>12}  {'ratio':>6}  median errors (this)")
        for index in range(args.rounds):
            load = os.getloadavg()[0]
            before, after = run(baseline, fit, args.repeats), run(ROOT, fit, args.repeats)
            errors = ", ".join(f"{k} {v:.3g}" for k, v in after["errors"].items())
            extra = f"; np.log alone {after['log_rate']:,.0f} vox/s (ratio {after['rate'] / after['log_rate']:.3f})" \
                if "log_rate" in after else ""
            print(f"{index + 1:>5}  {load:5.2f}  {before['rate']:15,.0f}  {after['rate']:12,.0f}  "
                  f"{after['rate'] / before['rate']:5.2f}x  {errors}{extra}")


if __name__ == "__main__":
    main()
