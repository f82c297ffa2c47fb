"""Zero filling: the FID padded with zeros to ``factor`` x n_points (dwell time unchanged)."""
import numpy as np

from .data_axes import checked_fid
from .step_record import checked_number, make_step, result


def zero_fill(mrs, factor=2):
    """Pad every FID of ``mrs`` with zeros to round(factor x n_points) points (factor >= 1)."""
    what = "zero filling"
    fid = checked_fid(mrs, what)
    factor = checked_number(factor, "factor", what, 1.0)
    n = fid.shape[-1]
    n_new = int(round(factor * n))
    padded = np.zeros(fid.shape[:-1] + (n_new,), dtype=fid.dtype)
    padded[..., :n] = fid
    step = make_step("Zero-filling", f"{n} -> {n_new} points (factor {factor:g})", n_points=n_new)
    return result(mrs, padded, step)


