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
