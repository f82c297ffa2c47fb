"""Synthetic hypoxia acquisitions from known maps: multi-echo GRE (R2*) and spin echo (R2), VFA before
and during gas, dynamic oxygen-enhanced (T1-weighted) and BOLD (T2*-weighted) series across
air -> gas -> air, and a small tumour phantom whose hypoxic core shrinks in a responder.

Noise is complex Gaussian with SD ``noise_sigma`` per channel, so magnitudes are Rician as on a
scanner; ``noise_sigma=0`` gives the exact signal. Everything takes a numpy Generator or seed.
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError

from .paradigm import GasParadigm

# Literature-typical values used as phantom defaults (tumour at 1.5-3 T):
# T1 of tumour ~1.5 s; O2-induced Delta R1 in oxygenated tumour 0.01-0.05 1/s (O'Connor et al.
# Cancer Res 2016, doi:10.1158/0008-5472.CAN-15-2062); R2* 20-60 1/s.
TUMOUR_T1_S = 1.5
OXY_DELTA_R1_PER_S = 0.04
TUMOUR_R2STAR_PER_S = 40.0
TUMOUR_R2_PER_S = 15.0


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def add_noise(signal, noise_sigma, rng=None, magnitude=True):
    """``signal`` with complex Gaussian noise of SD ``noise_sigma``; its magnitude unless ``magnitude=False``."""
    signal = np.asarray(signal)
    if noise_sigma is None or float(noise_sigma) == 0.0:
        return np.abs(signal) if magnitude else signal.astype(complex)
    rng = _rng(rng)
    noisy = signal + noise_sigma * (rng.standard_normal(signal.shape) + 1j * rng.standard_normal(signal.shape))
    return np.abs(noisy) if magnitude else noisy


def multi_echo(rate_per_s, s0, echo_times_s, noise_sigma=0.0, rng=None, field_map_hz=None, gradient_factors=None,
               magnitude=True):
    """Multi-echo signal (..., E) = S0 exp(-rate TE) [x F(TE)] [x exp(2 pi i f TE)] with noise.

    ``rate_per_s``: R2* (gradient echo) or R2 (spin echo) map; ``field_map_hz`` adds the
    off-resonance phase (complex data, ``magnitude=False``); ``gradient_factors`` (..., E)
    multiplies in macroscopic dephasing (field_gradient.sinc_factors)."""
    rate = np.asarray(rate_per_s, dtype=float)
    te = np.asarray(echo_times_s, dtype=float)
    s = np.asarray(s0, dtype=float)[..., None] * np.exp(-rate[..., None] * te)
    if gradient_factors is not None:
        s = s * gradient_factors
    if field_map_hz is not None:
        s = s * np.exp(2j * np.pi * np.asarray(field_map_hz, dtype=float)[..., None] * te)
    return add_noise(s, noise_sigma, rng, magnitude)


def vfa(t1_s, s0, flip_angles_deg, tr_s, noise_sigma=0.0, rng=None):
    """VFA SPGR signals (..., n_flip) of a T1 map (TMEMonitorLib.relaxometry.spgr.spgr_signal)."""
    from TMEMonitorLib.relaxometry.spgr import spgr_signal
    t1 = np.asarray(t1_s, dtype=float)[..., None]
    s = spgr_signal(np.asarray(s0, dtype=float)[..., None], 1.0 / t1, tr_s, np.asarray(flip_angles_deg, dtype=float))
    return add_noise(s, noise_sigma, rng)


def gas_time_course(frame_times_s, paradigm, wash_in_tau_s=0.0):
    """Fraction (T,) of the steady-state gas effect at each frame: 0 on air, 1 at steady state.

    Mono-exponential wash-in (and wash-out) with time constant ``wash_in_tau_s`` (0: a step)."""
    t = np.asarray(frame_times_s, dtype=float)
    on = float(paradigm.gas_on_s)
    off = np.inf if paradigm.gas_off_s is None else float(paradigm.gas_off_s)
    tau = float(wash_in_tau_s)

    def rise(dt):
        return (dt >= 0).astype(float) if tau == 0 else np.where(dt >= 0, 1.0 - np.exp(-np.maximum(dt, 0) / tau), 0.0)

    level = rise(t - on)
    if np.isfinite(off):
        at_off = rise(np.array(off - on))
        level = np.where(t >= off, at_off * (1.0 - rise(t - off)), level)
    return level


def oe_dynamic(t1_s, delta_r1_per_s, s0, frame_times_s, paradigm, tr_s, flip_angle_deg, noise_sigma=0.0, rng=None,
               wash_in_tau_s=0.0):
    """Dynamic T1-weighted SPGR series (..., T): R1(t) = 1/T1 + Delta R1 x gas_time_course(t)."""
    from TMEMonitorLib.relaxometry.spgr import spgr_signal
    level = gas_time_course(frame_times_s, paradigm, wash_in_tau_s)
    r1 = 1.0 / np.asarray(t1_s, dtype=float)[..., None] + np.asarray(delta_r1_per_s, dtype=float)[..., None] * level
    s = spgr_signal(np.asarray(s0, dtype=float)[..., None], r1, tr_s, flip_angle_deg)
    return add_noise(s, noise_sigma, rng)


def bold_dynamic(r2star_per_s, delta_r2star_per_s, s0, frame_times_s, paradigm, echo_time_s, noise_sigma=0.0,
                 rng=None, wash_in_tau_s=0.0):
    """Dynamic T2*-weighted series (..., T) at ``echo_time_s``: R2*(t) = R2* + Delta R2* x gas level."""
    level = gas_time_course(frame_times_s, paradigm, wash_in_tau_s)
    rate = np.asarray(r2star_per_s, dtype=float)[..., None] + np.asarray(delta_r2star_per_s, dtype=float)[..., None] * level
    s = np.asarray(s0, dtype=float)[..., None] * np.exp(-rate * float(echo_time_s))
    return add_noise(s, noise_sigma, rng)


@dataclass
class HypoxiaPhantom:
    """Truth maps (slices, rows, cols) of one visit of the phantom."""
    tumour: np.ndarray
    necrotic: np.ndarray              # non-perfused core
    hypoxic: np.ndarray               # perfused but not oxygen-enhancing
    enhancement: np.ndarray           # DCE relative enhancement (0..), > 0.1 where perfused
    t1_s: np.ndarray
    delta_r1_per_s: np.ndarray
    r2star_per_s: np.ndarray
    r2_per_s: np.ndarray
    delta_r2star_per_s: np.ndarray
    s0: np.ndarray
    notes: list = field(default_factory=list)


def hypoxia_phantom(shape=(4, 32, 32), visit=0, responder=True, hypoxic_radius_fraction=0.55,
                    shrink_per_visit=0.35, necrotic_radius_fraction=0.2):
    """A spherical tumour: a non-perfused core, a hypoxic (perfused Oxy-R) shell and an oxygenated rim.

    In a responder the hypoxic shell's outer radius shrinks by ``shrink_per_visit`` of itself per
    visit (re-oxygenation on therapy); in a non-responder it stays. Background tissue (muscle)
    oxygen-enhances weakly and is perfused."""
    if len(shape) != 3 or min(shape) < 1:
        raise InputError(f"phantom shape: expected (slices, rows, cols), got {shape!r}")
    k, j, i = np.meshgrid(*(np.arange(n) - (n - 1) / 2.0 for n in shape), indexing="ij")
    radius = 0.4 * min(shape[1:])
    r = np.sqrt((i / radius) ** 2 + (j / radius) ** 2 + (k / max(radius, shape[0] / 2.0)) ** 2)
    tumour = r <= 1.0
    necrotic = r <= necrotic_radius_fraction
    hypoxic_outer = hypoxic_radius_fraction * ((1.0 - shrink_per_visit) ** visit if responder else 1.0)
    hypoxic = tumour & ~necrotic & (r <= max(hypoxic_outer, necrotic_radius_fraction))
    enhancement = np.where(tumour, 0.8, 0.3)
    enhancement[necrotic] = 0.0
    t1 = np.where(tumour, TUMOUR_T1_S, 1.2)
    delta_r1 = np.where(tumour, OXY_DELTA_R1_PER_S, 0.015)
    delta_r1[hypoxic | necrotic] = 0.0
    r2star = np.where(tumour, TUMOUR_R2STAR_PER_S, 30.0)
    r2star[hypoxic] = 70.0                            # more deoxyhaemoglobin
    r2 = np.where(tumour, TUMOUR_R2_PER_S, 20.0)
    delta_r2star = np.where(tumour & ~hypoxic & ~necrotic, -3.0, -1.0)
    delta_r2star[necrotic] = 0.0
    s0 = np.full(shape, 1000.0)
    notes = [f"visit {visit}: hypoxic shell outer radius {hypoxic_outer:.2f} of the tumour radius "
             f"({'responder' if responder else 'non-responder'})"]
    return HypoxiaPhantom(tumour=tumour, necrotic=necrotic, hypoxic=hypoxic, enhancement=enhancement, t1_s=t1,
                          delta_r1_per_s=delta_r1, r2star_per_s=r2star, r2_per_s=r2,
                          delta_r2star_per_s=delta_r2star, s0=s0, notes=notes)


def default_paradigm():
    """Air 0-120 s, O2 120-420 s, air after: the phantom's paradigm."""
    return GasParadigm(gas_on_s=120.0, gas_off_s=420.0, wash_in_s=60.0, gas="oxygen")


# ---------------------------------------------------------------------------------------------
# The hypoxia acquisition of a phantom visit (the demo's synthetic patient, TMEMonitorLib.phantom)
# ---------------------------------------------------------------------------------------------
# Multi-echo GRE: 6 echoes spanning about 1-1.5 T2* of the tumour (R2* 25-55 1/s).
DEMO_ECHO_TIMES_S = (0.003, 0.008, 0.013, 0.018, 0.023, 0.028)
# OE dynamic SPGR: TR, flip chosen for T1 sensitivity (d ln S / d R1 about 1.3 s at T1 1.6 s);
# 30 frames every 6 s: air 0-60 s, O2 from 60 s to the end; tissue O2 wash-in time constant 20 s.
DEMO_OE = dict(tr_s=0.005, flip_angle_deg=10.0, frame_s=6.0, n_frames=30, gas_on_s=60.0, wash_in_s=60.0,
               wash_in_tau_s=20.0)


def synthesize_visit(visit, rng=None, echo_times_s=DEMO_ECHO_TIMES_S, snr=100.0, oe=None):
    """Multi-echo GRE and oxygen-enhanced dynamic series of a phantom visit (``TMEMonitorLib.phantom``).

    Truth used: ``R2star`` (1/s), ``dR1`` (1/s, with O2), ``T10_s`` and ``M0`` of ``visit.truth``,
    zero signal outside the body. Rician noise (complex Gaussian SD sigma) with sigma = mean signal of
    normal tissue / ``snr`` (first echo; first OE frame). Returns {"gre": (E, k, j, i) float32,
    "echo_times_s", "gre_sigma", "oe": (T, k, j, i) float32, "oe_times_s", "oe_metadata" (TR, flip,
    gas timing with where they came from), "oe_sigma"}.
    """
    from TMEMonitorLib.phantom import LABELS
    rng = _rng(0 if rng is None else rng)
    protocol = dict(DEMO_OE, **(oe or {}))
    truth, body = visit.truth, visit.labels > 0
    normal = visit.labels == LABELS["normal"]
    m0 = np.where(body, truth["M0"], 0.0)
    te = np.asarray(echo_times_s, dtype=float)
    clean = multi_echo(np.where(body, truth["R2star"], 0.0), m0, te)
    gre_sigma = float(np.mean(clean[..., 0][normal]) / snr)
    gre = add_noise(clean, gre_sigma, rng)
    times = np.arange(int(protocol["n_frames"])) * float(protocol["frame_s"])
    paradigm = GasParadigm(gas_on_s=protocol["gas_on_s"], gas_off_s=None, wash_in_s=protocol["wash_in_s"], gas="oxygen")
    t1 = np.where(body, truth["T10_s"], 1.0)
    clean_oe = oe_dynamic(t1, np.where(body, truth["dR1"], 0.0), m0, times, paradigm, protocol["tr_s"],
                          protocol["flip_angle_deg"], wash_in_tau_s=protocol["wash_in_tau_s"])
    oe_sigma = float(np.mean(clean_oe[..., 0][normal]) / snr)
    oe_signal = add_noise(clean_oe, oe_sigma, rng)
    metadata = {"TR_s": protocol["tr_s"], "flip_angle_deg": protocol["flip_angle_deg"], "Gas": "oxygen",
                "GasOn_s": protocol["gas_on_s"], "WashIn_s": protocol["wash_in_s"],
                "GasTimingSource": "synthetic acquisition (phantom paradigm: air, then O2 to the end)",
                "noise_sigma": oe_sigma}
    return {"gre": np.moveaxis(gre, -1, 0).astype(np.float32), "echo_times_s": te, "gre_sigma": gre_sigma,
            "oe": np.moveaxis(oe_signal, -1, 0).astype(np.float32), "oe_times_s": times, "oe_metadata": metadata,
            "oe_sigma": oe_sigma}
