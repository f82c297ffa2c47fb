"""Synthetic hyperpolarized [1-13C]pyruvate dynamics with known rates: curves and coarse 13C grids.

The forward model is written independently of the fit: the augmented linear system
[P, L, B, A, u] (the input u a constant state over each frame interval) is advanced with the
matrix exponential (scipy.linalg.expm, batched over voxels), excitations scale Mz by the frame's
flip schedule (flip_angles.scaling_factors). The input is piecewise constant per interval (the exact
interval mean of a boxcar or gamma-variate injection), the case in which the inputless model is
exact, so a noise-free fit must return the truth. Noise: Gaussian on each channel at a given SNR
(peak pyruvate signal / sigma), returned as magnitude or complex data.
"""
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, special

from . import flip_angles

R1 = {"pyruvate": 1.0 / 30.0, "lactate": 1.0 / 25.0, "bicarbonate": 1.0 / 15.0, "alanine": 1.0 / 25.0}


def input_levels(n_frames, tr_s, shape="boxcar", arrival_s=0.0, duration_s=None, rate=1.0, gamma_alpha=2.0,
                 gamma_beta_s=3.0):
    """Input (Mz per s) over each of the n_frames-1 intervals: the exact mean of the injection over it.

    boxcar: ``rate`` from ``arrival_s`` for ``duration_s`` (default 3 TR); gamma: ``rate`` x
    ((t - arrival)/beta)^alpha exp(-(t - arrival)/beta)."""
    edges = np.arange(n_frames) * float(tr_s)
    start, end = edges[:-1], edges[1:]
    if shape == "boxcar":
        duration = 3.0 * tr_s if duration_s is None else float(duration_s)
        overlap = np.clip(np.minimum(end, arrival_s + duration) - np.maximum(start, arrival_s), 0.0, None)
        return rate * overlap / tr_s
    if shape == "gamma":
        # integral of x^alpha e^-x dx = Gamma(alpha+1) P(alpha+1, x) (regularised lower incomplete gamma)
        def cumulative(t):
            x = np.clip((t - arrival_s) / gamma_beta_s, 0.0, None)
            return gamma_beta_s * special.gamma(gamma_alpha + 1) * special.gammainc(gamma_alpha + 1, x)
        return rate * (cumulative(end) - cumulative(start)) / tr_s
    raise ValueError(f"input shape '{shape}' is not boxcar or gamma")


def simulate(kpl, tr_s, n_frames, flip_pyruvate_deg, flip_lactate_deg, kpb=None, kpa=None, flip_bicarbonate_deg=None,
             flip_alanine_deg=None, r1=None, s0_lactate=0.0, input_shape="boxcar", arrival_s=2.0, duration_s=None,
             rate=1.0, snr=None, complex_data=False, rng=None, phase_rad=0.0):
    """Signals (..., n_frames) for rate maps of any shape: dict "pyruvate", "lactate" (+ "bicarbonate",
    "alanine" when kpb / kpa are given), "times_s", "input" (per interval), "sigma" (noise SD or 0).

    ``r1``: dict overriding R1 (1/s) per metabolite; flips in degrees (scalar, per frame, or
    (frames, excitations)); ``snr`` = peak pyruvate signal (over the whole input) / sigma."""
    rates = {"lactate": np.asarray(kpl, dtype=float)}
    flips = {"pyruvate": flip_pyruvate_deg, "lactate": flip_lactate_deg}
    if kpb is not None:
        rates["bicarbonate"] = np.asarray(kpb, dtype=float)
        flips["bicarbonate"] = flip_bicarbonate_deg
    if kpa is not None:
        rates["alanine"] = np.asarray(kpa, dtype=float)
        flips["alanine"] = flip_alanine_deg
    shape = np.broadcast_shapes(*[r.shape for r in rates.values()], np.shape(s0_lactate))
    relax = dict(R1, **(r1 or {}))
    names = ["pyruvate"] + [x for x in ("lactate", "bicarbonate", "alanine")]
    m = np.zeros(shape + (5, 5))
    total = np.zeros(shape)
    for i, x in enumerate(names[1:], start=1):
        k = np.broadcast_to(rates.get(x, 0.0), shape)
        m[..., i, 0] = k
        m[..., i, i] = -np.broadcast_to(relax[x], shape)
        total = total + k
    m[..., 0, 0] = -(np.broadcast_to(relax["pyruvate"], shape) + total)
    m[..., 0, 4] = 1.0                                    # dP/dt += u
    propagator = linalg.expm(m * float(tr_s))             # batched over the leading dims
    u = input_levels(n_frames, tr_s, input_shape, arrival_s, duration_s, rate)
    scales = {x: flip_angles.scaling_factors(flip_angles.checked_schedule(flips.get(x, 0.0) if x in flips else 10.0,
                                                                         n_frames, x))
              for x in names}
    mz = np.zeros(shape + (5, n_frames))
    mz[..., 1, 0] = s0_lactate
    for t in range(n_frames - 1):
        state = mz[..., t].copy()
        for i, x in enumerate(names):
            state[..., i] *= scales[x][1][t]
        state[..., 4] = u[t]
        mz[..., t + 1] = np.einsum("...ij,...j->...i", propagator, state)
    out = {"times_s": np.arange(n_frames) * float(tr_s), "input": u}
    signals = {}
    for i, x in enumerate(names):
        if x == "pyruvate" or x in rates:
            signals[x] = mz[..., i, :] * scales[x][0]
    sigma = 0.0
    if snr is not None:
        sigma = float(np.max(signals["pyruvate"]) / snr)
    rng = np.random.default_rng(rng)
    for x, s in signals.items():
        if complex_data:
            data = s * np.exp(1j * phase_rad)
            if sigma:
                data = data + sigma * (rng.standard_normal(s.shape) + 1j * rng.standard_normal(s.shape))
        elif sigma:
            data = np.abs(s + sigma * rng.standard_normal(s.shape) + 1j * sigma * rng.standard_normal(s.shape))
        else:
            data = s
        out[x] = data
    out["sigma"] = sigma
    return out


def variable_flip_schedule(n_frames, final_deg=90.0, r1_per_s=0.0, tr_s=3.0, kpl_per_s=0.0):
    """Constant-signal variable flip schedule (Zhao et al., JMR 1996, doi:10.1006/jmrb.1996.0114):
    theta_n = atan(sin(theta_{n+1}) exp(-(R1 + k) TR)) backwards from ``final_deg``, in degrees."""
    theta = np.zeros(n_frames)
    theta[-1] = np.radians(final_deg)
    decay = np.exp(-(r1_per_s + kpl_per_s) * tr_s)
    for n in range(n_frames - 2, -1, -1):
        theta[n] = np.arctan(np.sin(theta[n + 1]) * decay)
    return np.degrees(theta)


@dataclass
class HyperpolarizedPhantom:
    """A coarse 13C acquisition over a small grid with known kPL: arrays (T, k, j, i) and the truth."""
    pyruvate: np.ndarray
    lactate: np.ndarray
    kpl: np.ndarray                      # 1/s, (k, j, i); NaN outside the body
    tumour: np.ndarray                   # bool (k, j, i)
    body: np.ndarray                     # bool (k, j, i)
    ijk_to_ras: np.ndarray               # 4x4, coarse voxels
    tr_s: float
    flip_pyruvate_deg: object
    flip_lactate_deg: object
    sigma: float
    bicarbonate: np.ndarray = None
    alanine: np.ndarray = None
    extras: dict = field(default_factory=dict)


def phantom_grid(shape=(1, 12, 12), voxel_mm=(10.0, 10.0, 15.0), tr_s=3.0, n_frames=20, kpl_tumour=0.05,
                 kpl_normal=0.015, flip_pyruvate_deg=20.0, flip_lactate_deg=30.0, snr=None, complex_data=False,
                 origin_mm=(-60.0, -60.0, 0.0), rng=0):
    """A disc-shaped body with a round tumour of kPL ``kpl_tumour`` on a coarse 13C grid (k, j, i).

    In a treatment responder pass a lower ``kpl_tumour`` at follow-up (kPL falls before the tumour
    shrinks). Pyruvate delivery falls off towards the body edge; background voxels have no 13C signal."""
    k, j, i = np.indices(shape)
    cj, ci = (shape[1] - 1) / 2.0, (shape[2] - 1) / 2.0
    radius = np.hypot((j - cj) / (shape[1] / 2.0), (i - ci) / (shape[2] / 2.0))
    body = radius < 0.85
    tumour = np.hypot(j - (cj + shape[1] * 0.12), i - (ci - shape[2] * 0.1)) < max(shape[1], shape[2]) * 0.18
    tumour &= body
    kpl = np.where(tumour, kpl_tumour, kpl_normal)
    delivery = np.where(body, 1.0 - 0.5 * radius, 0.0)
    curves = simulate(kpl, tr_s, n_frames, flip_pyruvate_deg, flip_lactate_deg, rate=1.0, snr=None)
    p = curves["pyruvate"] * delivery[..., None]
    lac = curves["lactate"] * delivery[..., None]
    sigma = 0.0 if snr is None else float(np.max(p) / snr)
    rng = np.random.default_rng(rng)

    def noisy(s):
        if complex_data:
            return s + sigma * (rng.standard_normal(s.shape) + 1j * rng.standard_normal(s.shape))
        if sigma:
            return np.abs(s + sigma * (rng.standard_normal(s.shape) + 1j * rng.standard_normal(s.shape)))
        return s

    ijk_to_ras = np.diag([voxel_mm[0], voxel_mm[1], voxel_mm[2], 1.0])
    ijk_to_ras[:3, 3] = origin_mm
    return HyperpolarizedPhantom(pyruvate=np.moveaxis(noisy(p), -1, 0), lactate=np.moveaxis(noisy(lac), -1, 0),
                                 kpl=np.where(body, kpl, np.nan), tumour=tumour, body=body, ijk_to_ras=ijk_to_ras,
                                 tr_s=tr_s, flip_pyruvate_deg=flip_pyruvate_deg, flip_lactate_deg=flip_lactate_deg,
                                 sigma=sigma)


def coarse_grid(fine_shape, fine_ijk_to_ras, in_plane=8, n_slices=2):
    """(shape, ijk_to_ras) of a coarse grid over the same field of view as a fine (k, j, i) grid: ``in_plane`` x
    ``in_plane`` voxels, ``n_slices`` slabs (at most the fine slices); voxel centres at the fine blocks' centres."""
    fine_shape = tuple(int(n) for n in fine_shape)
    shape = (max(1, min(int(n_slices), fine_shape[0])), int(in_plane), int(in_plane))
    factor = np.array([fine_shape[2] / shape[2], fine_shape[1] / shape[1], fine_shape[0] / shape[0]])  # i, j, k
    fine = np.asarray(fine_ijk_to_ras, dtype=float)
    ijk_to_ras = np.eye(4)
    ijk_to_ras[:3, :3] = fine[:3, :3] * factor[None, :]
    ijk_to_ras[:3, 3] = fine[:3, :3] @ ((factor - 1.0) / 2.0) + fine[:3, 3]
    return shape, ijk_to_ras


def synthesize_visit_13c(labels, ijk_to_ras, visit_index=0, responder=True, rng=None, in_plane=8, n_slices=2,
                         n_frames=20, tr_s=3.0, flip_deg=None, snr=200.0):
    """A hyperpolarized acquisition of a ``TMEMonitorLib.phantom`` visit on a coarse 13C grid.

    Each anatomy voxel gets the kPL and relative pyruvate delivery of its tissue
    (``TMEMonitorLib.phantom.glycolysis``: truth, with the responder's fall in tumour kPL); its pyruvate and
    lactate curves come from :func:`simulate` (boxcar injection, R1 of :data:`R1`). A 13C voxel's signal is
    the mean of the curves of the anatomy voxels it covers (partial volume, as a scanner measures it), then
    magnitude noise at ``snr`` = peak pyruvate of the brightest 13C voxel / sigma. Returns a dict:
    "signals" {metabolite: (T, k, j, i) float32}, "times_s", "ijk_to_ras" (the 13C grid), "shape",
    "sigma", "kpl_truth" (1/s on the anatomy grid), "flip_deg"."""
    from TMEMonitorLib.phantom import glycolysis
    flip_deg = dict({"pyruvate": 20.0, "lactate": 30.0}, **(flip_deg or {}))
    labels = np.asarray(labels)
    kpl = glycolysis.kpl_map(labels, visit_index, responder)
    delivery = glycolysis.delivery_map(labels)
    shape, coarse_ijk = coarse_grid(labels.shape, ijk_to_ras, in_plane, n_slices)
    # 13C voxel of each anatomy voxel (the fine grid is partitioned into the coarse voxels' blocks)
    k, j, i = np.indices(labels.shape)
    index = np.ravel_multi_index((np.floor((k + 0.5) * shape[0] / labels.shape[0]).astype(int),
                                  np.floor((j + 0.5) * shape[1] / labels.shape[1]).astype(int),
                                  np.floor((i + 0.5) * shape[2] / labels.shape[2]).astype(int)), shape).ravel()
    # Tissues share a few kPL values: simulate each once, then mix by delivery per 13C voxel.
    rates, which = np.unique(kpl.ravel(), return_inverse=True)
    weights = np.zeros((int(np.prod(shape)), rates.size))
    np.add.at(weights, (index, which.ravel()), delivery.ravel())
    weights /= np.bincount(index, minlength=weights.shape[0])[:, None]
    curves = simulate(rates, tr_s, n_frames, flip_deg["pyruvate"], flip_deg["lactate"], rate=1.0, snr=None)
    rng = np.random.default_rng(rng)
    clean = {m: weights @ curves[m] for m in ("pyruvate", "lactate")}        # (voxels, T)
    sigma = float(clean["pyruvate"].max() / snr) if snr else 0.0
    signals = {}
    for metabolite, values in clean.items():
        if sigma:
            values = np.abs(values + sigma * (rng.standard_normal(values.shape) + 1j * rng.standard_normal(values.shape)))
        signals[metabolite] = np.moveaxis(values.reshape(shape + (n_frames,)), -1, 0).astype(np.float32)
    return {"signals": signals, "times_s": curves["times_s"], "ijk_to_ras": coarse_ijk, "shape": shape,
            "sigma": sigma, "kpl_truth": kpl, "flip_deg": flip_deg}
