"""Agreement of fit_kpl with the UCSF hyperpolarized-mri-toolbox's inputless fit (fit_pyr_kinetics.m,
R1P = 1/30, R1L = 1/25 1/s fixed, kPL and S0_L fitted) run in GNU Octave, on the SAME seeded simulated
data, printed per flip schedule in one run.

    Utilities/setup_ucsf_reference.sh TOOLBOX_DIR     # once: Octave + optim from apt, checks the toolbox files
    PYTHONPATH=HyperpolarizedModule:TMEMonitor python Testing/benchmarks/benchmark_kpl_ucsf_reference.py \
        --toolbox TOOLBOX_DIR [--grid 16] [--seed 20251203]

TOOLBOX_DIR is a checkout of https://github.com/LarsonLab/hyperpolarized-mri-toolbox (BSD-3-Clause;
nothing of it is copied into this project): kinetic_modeling/fit_pyr_kinetics.m,
flips_scaling_factors.m and compute_AUCratio.m are used. No in-vivo hyperpolarized data were available,
so the data are simulated in-vivo-like: a grid x grid set of voxels with kPL 0.005-0.08 1/s, pyruvate
delivery (so peak pyruvate SNR) varying 8-250 per voxel, a boxcar injection, magnitude noise, 24 frames,
TR 3 s, three flip schedules (constant 20/30 deg EPI-like; constant-signal variable flips; MRSI-like
8 excitations per frame of 8/12 deg). Both fits are Gaussian least squares in the signal domain.

Printed per schedule: voxels within 2 % and 5 % of the toolbox's kPL, among voxels with usable SNR
(peak pyruvate SNR >= 20 and peak lactate SNR >= 5; both fits converged, toolbox kPL > 0) and among
all fitted voxels; the largest AUC-ratio difference (relative).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import io

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _module in ("TMEMonitor", "HyperpolarizedModule"):
    sys.path.insert(0, os.path.join(_ROOT, _module))

from HyperpolarizedModuleLib import kinetics, synthesis  # noqa: E402

TR, N_FRAMES = 3.0, 24
NEEDED = ("fit_pyr_kinetics.m", "flips_scaling_factors.m", "compute_AUCratio.m")

# Our own Octave driver: loads the data, calls the toolbox's functions, saves kPL, S0_L and the AUC ratio.
DRIVER = r"""
pkg load optim
warning('off', 'all');
addpath(fullfile('{toolbox}', 'kinetic_modeling'));
d = load('{data}');
params_fixed = struct('R1P', 1/30, 'R1L', 1/25);
tic;
params_est = struct();   % defaults: kPL start 0.01, S0_L 0 (fit_pyr_kinetics reads params_fixed only when params_est is passed)
[params_fit, Sfit] = fit_pyr_kinetics(d.S, d.TR, d.flips, params_fixed, params_est);
seconds = toc;
kPL = params_fit.kPL; S0_L = params_fit.S0_L;
AUC = compute_AUCratio(d.S);
save('-v7', '{out}', 'kPL', 'S0_L', 'AUC', 'seconds');
"""


def schedules(n_frames):
    """name -> (pyruvate flips deg, lactate flips deg), each (n_frames,) or (n_frames, n_excitations)."""
    vfa = synthesis.variable_flip_schedule(n_frames, final_deg=90.0, r1_per_s=1 / 30, tr_s=TR, kpl_per_s=0.0)
    return {
        "constant 20/30 deg": (np.full(n_frames, 20.0), np.full(n_frames, 30.0)),
        "variable (constant-signal) / 30 deg": (vfa, np.full(n_frames, 30.0)),
        "8 excitations/frame, 8/12 deg": (np.full((n_frames, 8), 8.0), np.full((n_frames, 8), 12.0)),
    }


def simulated(n_vox, flip_p, flip_l, rng):
    kpl = rng.uniform(0.005, 0.08, n_vox)
    delivery = rng.uniform(0.03, 1.0, n_vox)
    clean = synthesis.simulate(kpl, TR, N_FRAMES, flip_p, flip_l, arrival_s=3.0, duration_s=12.0)
    pyr = clean["pyruvate"] * delivery[:, None]
    lac = clean["lactate"] * delivery[:, None]
    sigma = float(np.max(pyr)) / 250.0          # the best voxel's peak pyruvate SNR 250

    def magnitude(s):
        return np.abs(s + sigma * (rng.standard_normal(s.shape) + 1j * rng.standard_normal(s.shape)))
    return kpl, magnitude(pyr), magnitude(lac), sigma


def run_toolbox(toolbox, octave, pyr, lac, flip_p, flip_l, workdir):
    flips = np.stack([np.radians(np.asarray(f, float)).reshape(N_FRAMES, -1).reshape(-1) for f in (flip_p, flip_l)])
    data = os.path.join(workdir, "data.mat")
    out = os.path.join(workdir, "out.mat")
    io.savemat(data, {"S": np.stack([pyr, lac], axis=1), "TR": TR, "flips": flips})
    script = os.path.join(workdir, "driver.m")
    with open(script, "w") as handle:
        handle.write(DRIVER.format(toolbox=toolbox, data=data, out=out))
    done = subprocess.run([octave, "--no-gui", "--quiet", "--no-window-system", script], capture_output=True,
                          text=True)
    if done.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"Octave failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = io.loadmat(out)
    return (np.ravel(result["kPL"]), np.ravel(result["S0_L"]), np.ravel(result["AUC"]),
            float(np.ravel(result["seconds"])[0]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toolbox", required=True, help="folder of the hyperpolarized-mri-toolbox checkout")
    parser.add_argument("--octave", default=shutil.which("octave-cli") or "octave-cli")
    parser.add_argument("--grid", type=int, default=16, help="voxels per side (grid x grid per schedule)")
    parser.add_argument("--seed", type=int, default=20251203)
    args = parser.parse_args()
    missing = [f for f in NEEDED if not os.path.exists(os.path.join(args.toolbox, "kinetic_modeling", f))]
    if missing:
        sys.exit(f"--toolbox {args.toolbox}: kinetic_modeling/{', '.join(missing)} not found")
    rng = np.random.default_rng(args.seed)
    n_vox = args.grid * args.grid
    print(f"{n_vox} voxels per schedule, {N_FRAMES} frames, TR {TR:g} s, magnitude noise, seed {args.seed}; "
          "R1P 1/30, R1L 1/25 1/s fixed in both")
    header = (f"{'flip schedule':38s} {'usable':>6s} {'<=2%':>6s} {'<=5%':>6s} {'all<=2%':>8s} {'all<=5%':>8s} "
              f"{'max rel diff (usable)':>22s} {'AUC max rel diff':>17s} {'ours (s)':>9s} {'toolbox (s)':>12s}")
    print(header)
    with tempfile.TemporaryDirectory() as workdir:
        for name, (flip_p, flip_l) in schedules(N_FRAMES).items():
            truth, pyr, lac, sigma = simulated(n_vox, flip_p, flip_l, rng)
            start = time.perf_counter()
            ours = kinetics.fit_kpl(pyr, lac, TR, flip_p, flip_l, r1_pyruvate=1 / 30, r1_lactate=1 / 25)
            our_seconds = time.perf_counter() - start
            ucsf_kpl, _, ucsf_auc, ucsf_seconds = run_toolbox(args.toolbox, args.octave, pyr, lac, flip_p, flip_l,
                                                              workdir)
            auc = kinetics.auc_ratio(pyr, lac)
            fitted = np.isfinite(ours["kPL"]) & np.isfinite(ucsf_kpl)
            usable = fitted & (ours["status"] == 0) & (ucsf_kpl > 0) & \
                (np.max(pyr, axis=1) / sigma >= 20) & (np.max(lac, axis=1) / sigma >= 5)
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.abs(ours["kPL"] - ucsf_kpl) / np.abs(ucsf_kpl)
                auc_rel = np.abs(auc - ucsf_auc) / np.abs(ucsf_auc)
            within = {lim: 100 * np.mean(rel[usable] <= lim) for lim in (0.02, 0.05)}
            within_all = {lim: 100 * np.mean(rel[fitted] <= lim) for lim in (0.02, 0.05)}
            print(f"{name:38s} {usable.sum():6d} {within[0.02]:5.1f}% {within[0.05]:5.1f}% {within_all[0.02]:7.1f}% "
                  f"{within_all[0.05]:7.1f}% {np.max(rel[usable]):22.2e} {np.nanmax(auc_rel):17.1e} "
                  f"{our_seconds:9.3f} {ucsf_seconds:12.1f}")
            outside = fitted & ~(rel <= 0.05)
            if outside.any():
                print(f"    {outside.sum()} voxels beyond 5 %: toolbox kPL {np.round(ucsf_kpl[outside], 4).tolist()[:8]}, "
                      f"ours {np.round(ours['kPL'][outside], 4).tolist()[:8]}, peak lactate SNR "
                      f"{np.round(np.max(lac[outside], axis=1) / sigma, 1).tolist()[:8]}")
            bias_ours = np.median(ours["kPL"][usable] / truth[usable] - 1) * 100
            bias_ucsf = np.median(ucsf_kpl[usable] / truth[usable] - 1) * 100
            print(f"    median error vs truth (usable): ours {bias_ours:+.2f} %, toolbox {bias_ucsf:+.2f} %")


if __name__ == "__main__":
    main()
