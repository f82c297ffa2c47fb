"""The documented façade of the diffusion models (signal shaped (..., n_b), b in s/mm2).

Scripts, the pipeline and the tests import the fits from here; each lives in its own file
(adc.py, ivim.py with ivim_bayesian.py, kurtosis.py; the signal equations in signal_models.py;
the frame shared by the fits in fit_frame.py), so this module only gathers them and adds
predict_signal.

- fit_adc(signal, b_values, method="loglinear"|"weighted"|"nonlinear", b_min=None, b_max=None, ...)
- fit_ivim(signal, b_values, method="bayesian" (default)|"segmented"|"full", b_threshold=200.0, bounds=None, ...)
- fit_kurtosis(signal, b_values, b_min=None, b_max=None, ...)

All take mask=None (outside: status MASKED, NaN), clip_value=None (saturated samples, e.g.
4095 for 12-bit, excluded), floor=None (samples at or below a noise floor excluded),
noise_sigma=None (Rician bias removed by power subtraction) and progress=None, and return a
dict of arrays over the leading dims: the parameters (diffusion coefficients mm2/s, f 0..1,
K unitless, S0 in signal units), "se_<param>", "rmse", "r2", "status"
(TMEMonitorLib.fitting.status), "n_excluded" (samples left out per voxel) and metadata
("b_range": the b-values used). Repeated b-values (several directions) may enter a fit as
they are, or be reduced to the trace first with average_directions.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .adc import fit_adc
from .b_values import average_directions
from .ivim import DEFAULT_BOUNDS as DEFAULT_IVIM_BOUNDS
from .ivim import DEFAULT_METHOD as DEFAULT_IVIM_METHOD
from .ivim import fit_ivim
from .kurtosis import fit_kurtosis
from .signal_models import adc_signal, ivim_signal, kurtosis_signal

# Default b-range (s/mm2, (min, max); None = no limit) of each model. Every b is used by
# default; a fit reports the range it used in result["b_range"]. Pass b_min=200 to fit_adc
# for a perfusion-insensitive ADC (the IVIM D-like "ADC_high").
DEFAULT_B_RANGES = {"adc": (0.0, None), "ivim": (0.0, None), "kurtosis": (0.0, None)}

__all__ = ["fit_adc", "fit_ivim", "fit_kurtosis", "average_directions", "predict_signal", "DEFAULT_B_RANGES",
           "DEFAULT_IVIM_BOUNDS", "DEFAULT_IVIM_METHOD", "adc_signal", "ivim_signal", "kurtosis_signal"]


def predict_signal(model, b_values, **params):
    """Signal (..., n_b) a fitted model predicts at ``b_values`` (e.g. a computed b = 1400 image).

    model "adc": S0, ADC; "ivim": S0, D, f, Dstar; "kurtosis": S0, D, K (arrays over voxels).
    """
    needed = {"adc": ("S0", "ADC"), "ivim": ("S0", "D", "f", "Dstar"), "kurtosis": ("S0", "D", "K")}
    if model not in needed:
        raise InputError(f"unknown diffusion model '{model}' (adc, ivim, kurtosis)")
    missing = [name for name in needed[model] if params.get(name) is None]
    if missing:
        raise InputError(f"predict_signal('{model}'): missing parameter maps {missing}")
    b = np.asarray(b_values, dtype=float)
    if model == "adc":
        return adc_signal(params["S0"], params["ADC"], b)
    if model == "ivim":
        return ivim_signal(params["S0"], params["D"], params["f"], params["Dstar"], b)
    return kurtosis_signal(params["S0"], params["D"], params["K"], b)
