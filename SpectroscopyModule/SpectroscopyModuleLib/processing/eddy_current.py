"""Eddy-current correction (Klose U, MRM 1990;14:26, doi:10.1002/mrm.1910140104).

The phase of the unsuppressed water FID, point by point, holds the eddy-current induced phase
(and the water's own offset and zero-order phase); subtracting it from the metabolite FID of the
same voxel removes the time-varying phase. The water reference is reduced to one FID per voxel
first (coils combined, transients averaged) and broadcast over the data's other dimensions.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .data_axes import COIL_TAG, TRANSIENT_TAGS, checked_fid, n_spatial, tags_of
from .step_record import make_step, result


def _single_water_fid(water, what):
    """Water reference -> (fid (spatial..., n), tags left) with coils and transients reduced."""
    checked_fid(water, what)
    tags = tags_of(water)
    if COIL_TAG in tags and np.shape(water.fid)[n_spatial(water, np.ndim(water.fid)) + tags.index(COIL_TAG)] > 1:
        from .coils import coil_combine
        water = coil_combine(water)
        tags = tags_of(water)
    fid = np.asarray(water.fid)
    sp = n_spatial(water, fid.ndim)
    axes = [sp + i for i, t in enumerate(tags) if t in TRANSIENT_TAGS or fid.shape[sp + i] == 1]
    if axes:
        fid = fid.mean(axis=tuple(axes))
    left = [t for i, t in enumerate(tags) if sp + i not in axes]
    if left:
        raise InputError(f"{what}: the water reference still has {', '.join(left)} dimensions after coil "
                         "combination and averaging; one FID per voxel is needed")
    return fid


def ecc(mrs, water_reference):
    """Remove the eddy-current phase of ``water_reference`` from ``mrs`` (Klose 1990)."""
    what = "eddy-current correction"
    if water_reference is None:
        raise InputError(f"{what}: a water reference (unsuppressed water data) is needed")
    fid = checked_fid(mrs, what)
    water = _single_water_fid(water_reference, f"{what} (water reference)")
    w_dwell = float(water_reference.dwell_s)
    if not np.isclose(w_dwell, float(mrs.dwell_s), rtol=1e-6):
        raise InputError(f"{what}: the water reference dwell time {w_dwell:g} s differs from the data's "
                         f"{float(mrs.dwell_s):g} s")
    n = fid.shape[-1]
    n_w = water.shape[-1]
    phase = np.unwrap(np.angle(water), axis=-1)
    note = ""
    if n_w >= n:
        phase = phase[..., :n]
    else:
        # Eddy currents have decayed by the end of the reference: hold its last phase.
        phase = np.concatenate([phase, np.repeat(phase[..., -1:], n - n_w, axis=-1)], axis=-1)
        note = f"; reference has {n_w} points, its last phase held for the remaining {n - n_w}"
    d_grid = fid.shape[:n_spatial(mrs, fid.ndim)]
    w_grid = water.shape[:-1]
    if int(np.prod(w_grid)) == 1:
        grid = (1,) * len(d_grid)
    elif tuple(s for s in w_grid if s != 1) == tuple(s for s in d_grid if s != 1):
        grid = d_grid
    else:
        raise InputError(f"{what}: the water reference grid {w_grid} differs from the data grid {d_grid}")
    phase = phase.reshape(tuple(grid) + (1,) * len(tags_of(mrs)) + (n,))
    corrected = fid * np.exp(-1j * phase)
    step = make_step("Eddy current correction", "point-by-point phase of the water reference subtracted "
                     f"(Klose 1990){note}")
    return result(mrs, corrected, step)


