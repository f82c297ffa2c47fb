"""Diffusion analysis settings (shared by the widget's parameter node, the command line and scripts)."""
from dataclasses import asdict, dataclass, field

from TMEMonitorLib.errors import InputError

ADC_METHODS = ("loglinear", "weighted", "nonlinear")
IVIM_METHODS = ("segmented", "full", "bayesian")


@dataclass
class DiffusionSettings:
    fit_adc: bool = True
    adc_method: str = "loglinear"
    adc_b_min: float = None           # s/mm2; None: all b-values (reported with the result)
    adc_b_max: float = None
    fit_ivim: bool = True
    ivim_method: str = "full"
    ivim_b_threshold: float = 200.0   # s/mm2, segmented threshold (Meeus et al. MRM 2017)
    fit_kurtosis: bool = False
    rician_correction: bool = False
    noise_sigma: float = None         # None: from the series' noise attribute when Rician correction is on
    clip_value: float = None          # e.g. 4095 for 12-bit data
    noise_floor: float = None
    high_b_values: tuple = field(default_factory=lambda: (1400.0,))

    def as_dict(self):
        return asdict(self)

    def validated(self):
        if self.adc_method not in ADC_METHODS:
            raise InputError(f"ADC method '{self.adc_method}' is not one of {', '.join(ADC_METHODS)}")
        if self.ivim_method not in IVIM_METHODS:
            raise InputError(f"IVIM method '{self.ivim_method}' is not one of {', '.join(IVIM_METHODS)}")
        if not (self.fit_adc or self.fit_ivim or self.fit_kurtosis):
            raise InputError("choose at least one diffusion model (ADC, IVIM or kurtosis)")
        if self.ivim_b_threshold <= 0:
            raise InputError("the IVIM threshold b-value must be positive (s/mm2)")
        return self
