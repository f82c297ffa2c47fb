"""Synthetic DCE data shared by the DCE tests: a noise-free SPGR series with known Ktrans/ve/vp
on an uneven time grid, built forward from the truth (Parker AIF with a delay, whole blood ->
plasma, extended Tofts tissue curves, exact SPGR signal) and a VFA series."""
from dataclasses import dataclass

import numpy as np

from DCEModuleLib import aif, signal
from TMEMonitorLib import kinetics

TR_S = 0.005
FLIP_DEG = 15.0
FIELD_T = 3.0
R1_GADOBUTROL_3T = 5.0          # the agents.py preset (Rohrer 2005) the pipeline must pick
HEMATOCRIT = 0.42
DELAY_S = 22.0
VFA_FLIPS_DEG = np.array([2.0, 5.0, 10.0, 15.0, 20.0])
BLOOD_T1_S = 1.932
M0 = 1000.0



def uneven_frame_times():
    """51 frames: 4 s before the bolus, 2.5 s over the first pass, 12 s late, each jittered."""
    t = np.concatenate([np.arange(0.0, 24.0, 4.0), np.arange(24.0, 90.0, 2.5), np.arange(90.0, 300.0, 12.0)])
    return t + np.r_[0.0, np.tile([0.3, -0.2, 0.1], t.size)[: t.size - 1]]


@dataclass
class SyntheticDCE:
    signal: np.ndarray          # (T, slices, rows, cols)
    t_s: np.ndarray
    vfa: np.ndarray             # (n_flip, slices, rows, cols)
    flips_deg: np.ndarray
    truth: dict                 # Ktrans (1/min), ve, vp, T10 (s): (slices, rows, cols)
    tissue: np.ndarray          # bool mask of tissue voxels
    artery: np.ndarray          # bool mask of arterial voxels
    cb_mM: np.ndarray           # whole-blood AIF
    cp_mM: np.ndarray           # plasma AIF
    ct_mM: np.ndarray           # (slices, rows, cols, T) concentration (whole blood in the artery)
    metadata: dict


def synthetic_dce(shape=(2, 8, 8), seed=0, n_arterial=4):
    """Noise-free DCE + VFA series; the first ``n_arterial`` voxels of row 0, slice 0 are artery."""
    rng = np.random.default_rng(seed)
    t = uneven_frame_times()
    truth = {"Ktrans": rng.uniform(0.05, 0.6, shape), "ve": rng.uniform(0.1, 0.5, shape),
             "vp": rng.uniform(0.01, 0.1, shape), "T10": rng.uniform(0.8, 1.6, shape)}
    cb = aif.parker(t, DELAY_S)
    cp = aif.blood_to_plasma(cb, HEMATOCRIT)
    ct = kinetics.concentration("extended_tofts", t, cp, Ktrans=truth["Ktrans"], ve=truth["ve"], vp=truth["vp"])
    artery = np.zeros(shape, bool)
    artery[0, 0, :n_arterial] = True
    ct[artery] = cb
    t10 = truth["T10"].copy()
    t10[artery] = BLOOD_T1_S
    series = signal.concentration_to_spgr(ct, M0, t10, TR_S, FLIP_DEG, R1_GADOBUTROL_3T)
    vfa = np.stack([signal.spgr_signal(M0, 1.0 / t10, TR_S, flip) for flip in VFA_FLIPS_DEG])
    for name in ("Ktrans", "ve", "vp"):
        truth[name][artery] = np.nan
    return SyntheticDCE(signal=np.moveaxis(series, -1, 0).astype(np.float32), t_s=t, vfa=vfa.astype(np.float32),
                        flips_deg=VFA_FLIPS_DEG, truth=truth, tissue=~artery, artery=artery, cb_mM=cb, cp_mM=cp,
                        ct_mM=ct,
                        metadata={"TR_s": TR_S, "flip_angle_deg": FLIP_DEG, "field_strength_T": FIELD_T})
