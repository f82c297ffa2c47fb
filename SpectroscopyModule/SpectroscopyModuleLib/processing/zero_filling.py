"""Zero filling: the FID padded with zeros to ``factor`` x n_points (dwell time unchanged)."""
import numpy as np

from TMEMonitorLib.errors import InputError

from ._common import checked_fid, make_step, result


def zero_fill(mrs, factor=2):
    """Pad every FID of ``mrs`` with zeros to round(factor x n_points) points (factor >= 1)."""
    what = "zero filling"
    fid = checked_fid(mrs, what)
    try:
        factor = float(factor)
    except (TypeError, ValueError):
        raise InputError(f"{what}: factor must be a number (got {factor!r})") from None
    if not np.isfinite(factor) or factor < 1:
        raise InputError(f"{what}: factor must be >= 1 (got {factor:g})")
    n = fid.shape[-1]
    n_new = int(round(factor * n))
    padded = np.zeros(fid.shape[:-1] + (n_new,), dtype=fid.dtype)
    padded[..., :n] = fid
    step = make_step("Zero-filling", f"{n} -> {n_new} points (factor {factor:g})", n_points=n_new)
    return result(mrs, padded, step)


