"""Hyperpolarized 13C analysis settings, shared by the widget's parameter node, the command line and scripts."""
from dataclasses import asdict, dataclass

import numpy as np

from TMEMonitorLib.errors import InputError

from .kinetics import DEFAULT_MIN_SNR, NOISE_MODELS

MODELS = ("inputless", "boxcar", "gamma")       # inputless (default) or a modelled input function
METABOLITES = ("pyruvate", "lactate", "bicarbonate", "alanine")
FLIP_UNITS = ("deg", "rad")


@dataclass
class HyperpolarizedSettings:
    tr_s: float = None                   # s between frames; None: from the series' frame times
    flip_pyruvate_deg: object = None     # scalar, per frame, or (frames, excitations); None: the series metadata
    flip_lactate_deg: object = None
    flip_bicarbonate_deg: object = None
    flip_alanine_deg: object = None
    flip_unit: str = "deg"               # unit of the flip values given here ("rad" converts)
    excitations_per_frame: int = 1       # a flat schedule of frames x excitations values is reshaped
    r1_pyruvate_per_s: float = 1.0 / 30.0     # UCSF toolbox default (pyruvate T1 30 s at 3 T)
    r1_lactate_per_s: float = 1.0 / 25.0      # UCSF toolbox default (lactate T1 25 s at 3 T)
    fit_r1_lactate: bool = False
    fit_r1_pyruvate: bool = False
    model: str = "inputless"
    noise_model: str = "gaussian"        # "rician": magnitude data against the Rician mean (needs sigma)
    noise_sigma: float = None            # signal units; None: estimated (imaginary part / background)
    min_snr: float = DEFAULT_MIN_SNR     # peak pyruvate SNR below which a voxel is not fitted

    def as_dict(self):
        return asdict(self)

    def validated(self):
        """``self`` after checking choices and ranges; InputError naming the setting otherwise."""
        if self.model not in MODELS:
            raise InputError(f"model '{self.model}' is not one of {', '.join(MODELS)}")
        if self.noise_model not in NOISE_MODELS:
            raise InputError(f"noise model '{self.noise_model}' is not one of {', '.join(NOISE_MODELS)}")
        if self.flip_unit not in FLIP_UNITS:
            raise InputError(f"flip unit '{self.flip_unit}' is not one of {', '.join(FLIP_UNITS)}")
        if self.tr_s is not None and not (np.isfinite(self.tr_s) and 0 < self.tr_s <= 60):
            raise InputError(f"TR {self.tr_s} s: must be positive seconds between frames (at most 60 s)")
        if int(self.excitations_per_frame) < 1:
            raise InputError(f"excitations per frame {self.excitations_per_frame} must be at least 1")
        for name in ("r1_pyruvate_per_s", "r1_lactate_per_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and 0 < value < 10):
                raise InputError(f"{name.replace('_', ' ')}: {value} 1/s is not a plausible R1")
        if self.noise_sigma is not None and not self.noise_sigma > 0:
            raise InputError(f"noise sigma {self.noise_sigma} must be positive (signal units)")
        if not self.min_snr >= 0:
            raise InputError(f"minimum SNR {self.min_snr} must not be negative")
        if self.noise_model == "rician" and self.model != "inputless":
            raise InputError("the Rician noise model is available with the inputless model only")
        return self

    def flip_schedule(self, metabolite, n_frames):
        """This metabolite's flips in degrees, reshaped to (frames, excitations) when flat; None if not set."""
        values = getattr(self, f"flip_{metabolite}_deg")
        if values is None:
            return None
        array = np.asarray(values, dtype=float)
        if self.flip_unit == "rad":
            array = np.degrees(array)
        n_exc = int(self.excitations_per_frame)
        if array.ndim == 1 and n_exc > 1:
            if array.size != n_frames * n_exc:
                raise InputError(f"flip {metabolite}: {array.size} values for {n_frames} frames x {n_exc} excitations")
            array = array.reshape(n_frames, n_exc)
        return array
