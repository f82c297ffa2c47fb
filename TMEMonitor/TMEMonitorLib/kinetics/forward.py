"""Forward model: tissue concentration curves from kinetic parameters."""
import numpy as np

from ..errors import InputError
from .convolution import shift
from .registry import model_module


def concentration(model, t_s, cp_mM, delay_s=None, **params):
    """Tissue concentration (..., T) in mM of ``model`` for parameter arrays broadcast together.

    ``t_s`` frame times (s, any spacing); ``cp_mM`` plasma AIF (T,); ``params`` the model's
    parameters (rates and flows 1/min, fractions 0..1); ``delay_s`` optional bolus delay
    (s): the AIF shifted later, zero before its first sample.
    """
    module = model_module(model)
    t = np.asarray(t_s, dtype=float)
    cp = np.asarray(cp_mM, dtype=float)
    if t.ndim != 1 or cp.shape != t.shape:
        raise InputError(f"concentration: AIF cp_mM {cp.shape} must match the time grid t_s {t.shape}")
    missing = [p for p in module.PARAMETERS if p not in params]
    unknown = [p for p in params if p not in module.PARAMETERS]
    if missing or unknown:
        raise InputError(f"model '{model}' takes parameters {', '.join(module.PARAMETERS)}"
                         + (f"; missing {', '.join(missing)}" if missing else "")
                         + (f"; unknown {', '.join(unknown)}" if unknown else ""))
    arrays = np.broadcast_arrays(*[np.asarray(params[p], dtype=float) for p in module.PARAMETERS],
                                 *(() if delay_s is None else (np.asarray(delay_s, dtype=float),)))
    shape = arrays[0].shape
    p = np.stack([a.ravel() for a in arrays[:len(module.PARAMETERS)]], axis=1)
    t_min = (t - t[0]) / 60.0            # rates are per minute
    source = cp if delay_s is None else shift(cp, t, arrays[-1].ravel())
    return module.forward(p, t_min, source).reshape(shape + (t.size,))
