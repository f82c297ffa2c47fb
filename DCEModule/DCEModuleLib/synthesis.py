"""Synthetic DCE-MRI: the acquisition of a phantom visit (the demo patient's DCE and VFA series): SPGR signal of the extended Tofts tissue concentration.

Parker population AIF (whole blood, Parker et al., MRM 2006, doi:10.1002/mrm.21066) arriving
``aif_delay_s`` after the start; plasma = blood / (1 - Hct). Artery voxels hold whole blood
(the AIF itself). Frame times are uneven by default (2 s during the first pass, 6 s after)
to exercise exact convolution. Magnitude noise (Rician) of standard deviation ``noise_sd``.
"""
import numpy as np

from TMEMonitorLib import kinetics
from TMEMonitorLib.phantom.labels import LABELS

from . import agents
from .aif import blood_to_plasma, parker

DEFAULT_FLIP_ANGLES_DEG = (2.0, 5.0, 10.0, 15.0, 20.0)


def default_times_s():
    return np.concatenate([np.arange(0.0, 90.0, 2.0), np.arange(90.0, 300.1, 6.0)])


def _spgr(m0, r1, tr_s, flip_deg):
    a = np.deg2rad(flip_deg)
    e1 = np.exp(-tr_s * r1)
    return m0 * np.sin(a) * (1 - e1) / (1 - np.cos(a) * e1)


def _magnitude_noise(signal, sd, rng):
    if sd <= 0:
        return signal.astype(np.float32)
    real = signal + rng.normal(0.0, sd, signal.shape)
    imaginary = rng.normal(0.0, sd, signal.shape)
    return np.sqrt(real ** 2 + imaginary ** 2).astype(np.float32)


def synthesize_dce(visit, t_s=None, tr_s=0.005, flip_angle_deg=15.0, r1_per_mM_s=None, hematocrit=0.42,
                   aif_delay_s=12.0, snr=40.0, rng=None, agent="gadobutrol", field_strength_T=3.0):
    """DCE series, VFA series and truth for ``visit``; noise SD = normal-tissue baseline signal / ``snr``."""
    rng = np.random.default_rng(0) if rng is None else rng
    t = default_times_s() if t_s is None else np.asarray(t_s, dtype=float)
    r1 = agents.relaxivity(agent, field_strength_T) if r1_per_mM_s is None else float(r1_per_mM_s)
    blood = parker(t, aif_delay_s)
    plasma = blood_to_plasma(blood, hematocrit)
    truth = visit.truth
    labels = visit.labels
    concentration = np.zeros(labels.shape + (t.size,), np.float32)
    tissue = (labels > 0) & (labels != LABELS["artery"])
    concentration[tissue] = kinetics.concentration("extended_tofts", t, plasma, Ktrans=truth["Ktrans"][tissue],
                                                   ve=np.maximum(truth["ve"][tissue], 1e-3), vp=truth["vp"][tissue])
    concentration[labels == LABELS["artery"]] = blood
    r1_map = (1.0 / np.where(labels > 0, truth["T10_s"], 1.0))[..., None] + r1 * concentration
    m0 = np.where(labels > 0, truth["M0"], 0.0)[..., None]
    clean = _spgr(m0, r1_map, tr_s, flip_angle_deg)
    normal = labels == LABELS["normal"]
    noise_sd = float(np.mean(clean[normal, 0]) / snr) if snr else 0.0
    signal = _magnitude_noise(clean, noise_sd, rng)
    vfa_clean = np.stack([_spgr(m0[..., 0], 1.0 / np.where(labels > 0, truth["T10_s"], 1.0), tr_s, fa)
                          for fa in DEFAULT_FLIP_ANGLES_DEG], axis=-1)
    vfa = _magnitude_noise(vfa_clean, noise_sd, rng)
    metadata = {"TR_s": tr_s, "flip_angle_deg": flip_angle_deg, "field_strength_T": field_strength_T,
                "agent": agent, "r1_per_mM_s": r1, "hematocrit": hematocrit, "aif_delay_s": aif_delay_s,
                "noise_sd": noise_sd, "manufacturer": "TME Monitor phantom"}
    return {"signal": np.moveaxis(signal, -1, 0), "t_s": t, "aif_plasma_mM": plasma, "aif_blood_mM": blood,
            "vfa_signal": np.moveaxis(vfa, -1, 0), "flip_angles_deg": np.array(DEFAULT_FLIP_ANGLES_DEG),
            "concentration_mM": np.moveaxis(concentration, -1, 0), "metadata": metadata}
