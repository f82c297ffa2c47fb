"""Shared synthetic visit for the Logic and CLI tests: the phantom's maps, its multi-echo GRE / SE,
its OE dynamic series and DCE enhancement, all on one small grid."""
from dataclasses import dataclass

import numpy as np

from HypoxiaModuleLib import synthesis

GRE_TE_S = 0.002 + 0.004 * np.arange(8)
SE_TE_S = 0.015 * np.arange(1, 7)
FRAME_TIMES_S = np.arange(0.0, 540.0, 15.0)
TR_S, FLIP_DEG = 0.004, 15.0


@dataclass
class Visit:
    phantom: object
    gre: np.ndarray        # (echoes, k, j, i)
    se: np.ndarray
    oe: np.ndarray         # (frames, k, j, i)
    paradigm: object


def synthetic_visit(visit=0, noise_sigma=0.0, seed=0, shape=(3, 16, 16)):
    rng = np.random.default_rng(seed)
    p = synthesis.hypoxia_phantom(shape, visit=visit)
    paradigm = synthesis.default_paradigm()
    gre = np.moveaxis(synthesis.multi_echo(p.r2star_per_s, p.s0, GRE_TE_S, noise_sigma, rng), -1, 0)
    se = np.moveaxis(synthesis.multi_echo(p.r2_per_s, p.s0, SE_TE_S, noise_sigma, rng), -1, 0)
    oe = np.moveaxis(synthesis.oe_dynamic(p.t1_s, p.delta_r1_per_s, p.s0, FRAME_TIMES_S, paradigm, TR_S, FLIP_DEG,
                                          noise_sigma * 0.02, rng), -1, 0)
    return Visit(p, gre, se, oe, paradigm)
