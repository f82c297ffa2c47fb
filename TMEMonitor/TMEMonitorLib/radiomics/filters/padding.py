"""IBSI 2 boundary padding modes and their numpy / scipy.ndimage names.

IBSI 2 (Depeursinge et al., arXiv:2006.05470), section "Boundary conditions":
constant (zero), nearest (replicate the edge value), periodic (wrap), mirror (symmetric:
the edge voxel is repeated, ... c b a | a b c ...)."""
import numpy as np

from ...errors import InputError

NUMPY_MODES = {"constant": "constant", "nearest": "edge", "periodic": "wrap", "mirror": "symmetric"}
NDIMAGE_MODES = {"constant": "constant", "nearest": "nearest", "periodic": "wrap", "mirror": "reflect"}


def check_mode(mode):
    if mode not in NUMPY_MODES:
        raise InputError(f"radiomics filter: padding must be one of {sorted(NUMPY_MODES)}, got {mode!r}")
    return mode


def pad(array, widths, mode):
    """Pad ``array`` by ``widths`` (int or per-axis (before, after)) with an IBSI mode."""
    check_mode(mode)
    np_mode = NUMPY_MODES[mode]
    if np_mode == "constant":
        return np.pad(array, widths, mode="constant", constant_values=0.0)
    # numpy's wrap/symmetric repeat as needed when the pad exceeds the axis length
    return np.pad(array, widths, mode=np_mode)


def ndimage_mode(mode):
    return NDIMAGE_MODES[check_mode(mode)]
