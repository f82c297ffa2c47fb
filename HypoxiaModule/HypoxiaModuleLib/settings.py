"""Hypoxia analysis settings, shared by the widget's parameter node, the command line and scripts."""
from dataclasses import asdict, dataclass

from TMEMonitorLib.errors import InputError

from .paradigm import GASES, GasParadigm
from .relaxometry import METHODS as R2STAR_METHODS
from .relaxometry import R2_MODELS

# T1 mapping before / during gas from two acquisitions (t1_series.T1_SERIES_METHODS): variable flip angle
# (TMEMonitorLib.relaxometry.vfa_t1 with the fit vfa_fit), inversion recovery or Look-Locker.
T1_METHODS = ("vfa", "ir", "look-locker")
VFA_FITS = ("nonlinear", "linear", "two_point")


@dataclass
class HypoxiaSettings:
    r2star_method: str = "nonlinear"         # nonlinear (seeded by log-linear) | loglinear | arlo
    noise_sigma: float = None                # signal units; None: estimated from the background
    noise_floor_snr: float = 3.0             # echoes at or below this multiple of sigma end the fit
    noise_floor: bool = True                 # False: every positive echo is fitted
    r2star_max_per_s: float = 2000.0         # upper bound of R2* (and R2), 1/s
    min_echoes_used: int = 2
    field_gradient_correction: bool = True   # sinc correction when complex data or a field map is given
    r2_skip_first_echo: bool = False         # spin echo: drop echo 1 (stimulated-echo contamination)
    se_model: str = "monoexponential"        # spin-echo R2: monoexponential | epg (stimulated echoes fitted)
    se_epg_t1_s: float = 1.0                 # T1 assumed by the EPG model (s); R2 depends on it weakly
    gas: str = "oxygen"                      # oxygen | carbogen
    gas_on_s: float = None                   # dynamic series: gas switched on, s from the first frame
    gas_off_s: float = None                  # switched back to air; None: gas to the end
    wash_in_s: float = 60.0                  # frames within this delay after gas on are not averaged
    alpha: float = 0.05                      # significance level of the per-voxel Welch test
    enhancement_threshold: float = None      # enhancement map value above which a voxel is perfused
    t10_s: float = None                      # fixed pre-gas T1 for the OE Delta R1 (else a T1 map)
    tr_s: float = None                       # OE dynamic TR (s); None: series metadata
    flip_angle_deg: float = None             # OE dynamic flip (deg); None: series metadata
    dynamic_echo_time_s: float = None        # BOLD dynamic TE (s); None: series metadata
    t1_method: str = "ir"                    # T1 series before / during gas: vfa | ir | look-locker
    vfa_fit: str = "nonlinear"               # VFA T1 fit (TMEMonitorLib.relaxometry.vfa_t1): nonlinear | linear | two_point
    vfa_tr_s: float = None                   # TR of the VFA T1 series (s); None: series metadata

    def as_dict(self):
        return asdict(self)

    def paradigm(self):
        return GasParadigm(gas_on_s=self.gas_on_s, gas_off_s=self.gas_off_s, wash_in_s=self.wash_in_s, gas=self.gas)

    def validated(self):
        """``self`` after checking every choice and range; InputError naming the setting otherwise."""
        if self.r2star_method not in R2STAR_METHODS:
            raise InputError(f"R2* method '{self.r2star_method}' is not one of {', '.join(R2STAR_METHODS)}")
        if self.se_model not in R2_MODELS:
            raise InputError(f"spin-echo model '{self.se_model}' is not one of {', '.join(R2_MODELS)}")
        if self.se_epg_t1_s is None or not float(self.se_epg_t1_s) > 0:
            raise InputError(f"EPG T1 {self.se_epg_t1_s} s must be positive")
        if self.gas not in GASES:
            raise InputError(f"gas '{self.gas}' is not one of {', '.join(GASES)}")
        if self.t1_method not in T1_METHODS:
            raise InputError(f"T1 method '{self.t1_method}' is not one of {', '.join(T1_METHODS)}")
        if self.vfa_fit not in VFA_FITS:
            raise InputError(f"VFA T1 fit '{self.vfa_fit}' is not one of {', '.join(VFA_FITS)}")
        if not 0.0 < float(self.alpha) < 0.5:
            raise InputError(f"alpha {self.alpha} must lie in (0, 0.5)")
        if not float(self.noise_floor_snr) > 0:
            raise InputError(f"noise floor SNR {self.noise_floor_snr} must be positive")
        if not float(self.r2star_max_per_s) > 0:
            raise InputError(f"R2* maximum {self.r2star_max_per_s} 1/s must be positive")
        if int(self.min_echoes_used) < 2:
            raise InputError(f"minimum echoes used {self.min_echoes_used}: at least 2")
        if self.wash_in_s is None or not float(self.wash_in_s) >= 0:
            raise InputError(f"wash-in delay {self.wash_in_s} s must not be negative")
        for name in ("noise_sigma", "t10_s", "tr_s", "flip_angle_deg", "dynamic_echo_time_s", "vfa_tr_s"):
            value = getattr(self, name)
            if value is not None and not float(value) > 0:
                raise InputError(f"{name.replace('_', ' ')}: {value} must be positive")
        return self
