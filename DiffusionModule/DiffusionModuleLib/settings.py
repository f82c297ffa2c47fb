"""Diffusion analysis settings, shared by the widget's parameter node, the command line and scripts."""
from dataclasses import asdict, dataclass, field

from TMEMonitorLib.errors import InputError

ADC_METHODS = ("loglinear", "weighted", "nonlinear")
from .ivim import DEFAULT_METHOD as DEFAULT_IVIM_METHOD
from .ivim import METHODS as IVIM_METHODS
MODELS = ("adc", "ivim", "kurtosis")
MAX_B = 10000.0                 # s/mm2: above this a value is almost surely in other units
# Kurtosis needs b well beyond the mono-exponential range: at least 1500 s/mm2, ideally
# 2000-3000 (Jensen & Helpern, NMR Biomed 2010, doi:10.1002/nbm.1518).
KURTOSIS_MIN_B_MAX = 1500.0
# Saturated 12-bit magnitude data (a common scanner export) clip at 2^12 - 1.
CLIP_12_BIT = 4095.0


@dataclass
class DiffusionSettings:
    fit_adc: bool = True
    adc_method: str = "loglinear"
    adc_b_min: float = None           # s/mm2; None: from the lowest b (the range used is reported)
    adc_b_max: float = None           # s/mm2; None: up to the highest b
    fit_ivim: bool = True
    # Bayesian by default: lowest bias and SD of f, D and D* in the Monte-Carlo table
    # (Testing/benchmarks/benchmark_diffusion_fit.py) and the only method inside the tight OSIPI
    # bar for every region; "full" is 4x faster, "segmented" the most robust to model error.
    ivim_method: str = DEFAULT_IVIM_METHOD
    # Segmented-fit threshold: 200 s/mm2 (Wurnig et al., MRM 2015, doi:10.1002/mrm.25506).
    ivim_b_threshold: float = 200.0
    fit_kurtosis: bool = False
    kurtosis_b_max: float = None      # s/mm2; None: every b (must reach KURTOSIS_MIN_B_MAX)
    rician_correction: bool = False
    noise_sigma: float = None         # None: the series' TMEMonitor.noise_sigma, else estimated from background
    clip_value: float = None          # samples at or above are excluded (e.g. CLIP_12_BIT)
    noise_floor: float = None         # samples at or below are excluded
    high_b_values: tuple = field(default_factory=lambda: (1400.0,))   # computed DWI, s/mm2

    def as_dict(self):
        return asdict(self)

    @property
    def models(self):
        """Models to run, in the order they are fitted."""
        return tuple(m for m, on in zip(MODELS, (self.fit_adc, self.fit_ivim, self.fit_kurtosis)) if on)

    def validated(self):
        """``self`` after checking every choice and range; InputError naming the setting otherwise."""
        if self.adc_method not in ADC_METHODS:
            raise InputError(f"ADC method '{self.adc_method}' is not one of {', '.join(ADC_METHODS)}")
        if self.ivim_method not in IVIM_METHODS:
            raise InputError(f"IVIM method '{self.ivim_method}' is not one of {', '.join(IVIM_METHODS)}")
        if not self.models:
            raise InputError("choose at least one diffusion model (ADC, IVIM or kurtosis)")
        for name in ("adc_b_min", "adc_b_max", "kurtosis_b_max"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= MAX_B:
                raise InputError(f"{name.replace('_', ' ')}: {value} s/mm2 is outside [0, {MAX_B:g}]")
        if self.adc_b_min is not None and self.adc_b_max is not None and self.adc_b_min >= self.adc_b_max:
            raise InputError(f"ADC b-range: minimum {self.adc_b_min:g} is not below maximum {self.adc_b_max:g} s/mm2")
        if not 0.0 < self.ivim_b_threshold < MAX_B:
            raise InputError(f"IVIM threshold b-value {self.ivim_b_threshold} must be positive (s/mm2)")
        if self.kurtosis_b_max is not None and self.kurtosis_b_max < KURTOSIS_MIN_B_MAX:
            raise InputError(f"kurtosis b max {self.kurtosis_b_max:g} s/mm2: kurtosis needs b up to at least "
                             f"{KURTOSIS_MIN_B_MAX:g} s/mm2")
        for name in ("noise_sigma", "clip_value"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise InputError(f"{name.replace('_', ' ')}: {value} must be positive")
        if self.noise_floor is not None and not self.noise_floor >= 0:
            raise InputError(f"noise floor: {self.noise_floor} must not be negative")
        if self.clip_value is not None and self.noise_floor is not None and self.noise_floor >= self.clip_value:
            raise InputError(f"noise floor {self.noise_floor:g} is not below the clip value {self.clip_value:g}")
        for value in self.high_b_values or ():
            if not 0.0 < float(value) <= MAX_B:
                raise InputError(f"computed high-b value {value} must lie in (0, {MAX_B:g}] s/mm2")
        return self
