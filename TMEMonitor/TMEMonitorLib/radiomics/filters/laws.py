"""Laws kernels (IBSI 2, section 2.3; Laws 1980): normalised 1D kernels, separable 2D/3D
combinations named in x, y, z order (e.g. "E5L5S5"), rotation invariance by pooling over the
right-angle rotations, and the energy map (local mean of the absolute response)."""
import numpy as np

from ...errors import InputError
from .convolution import separable
from .rotations import pooled

# normalised so that sum(k^2) = 1 (IBSI 2 table of Laws kernels)
KERNELS = {
    "L3": np.array([1.0, 2.0, 1.0]) / np.sqrt(6.0),
    "E3": np.array([-1.0, 0.0, 1.0]) / np.sqrt(2.0),
    "S3": np.array([-1.0, 2.0, -1.0]) / np.sqrt(6.0),
    "L5": np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / np.sqrt(70.0),
    "E5": np.array([-1.0, -2.0, 0.0, 2.0, 1.0]) / np.sqrt(10.0),
    "S5": np.array([-1.0, 0.0, 2.0, 0.0, -1.0]) / np.sqrt(6.0),
    "W5": np.array([-1.0, 2.0, 0.0, -2.0, 1.0]) / np.sqrt(10.0),
    "R5": np.array([1.0, -4.0, 6.0, -4.0, 1.0]) / np.sqrt(70.0),
}


def parse_kernel(name, two_d):
    parts = [name[i:i + 2] for i in range(0, len(name), 2)]
    if any(p not in KERNELS for p in parts) or len(parts) != (2 if two_d else 3):
        raise InputError(f"radiomics Laws filter: kernel {name!r} must combine {2 if two_d else 3} "
                         f"of {sorted(KERNELS)} in x, y(, z) order")
    x, y = KERNELS[parts[0]], KERNELS[parts[1]]
    z = None if two_d else KERNELS[parts[2]]
    return [z, y, x]          # array axes (z, y, x)


def laws_filter(array, kernel, mode, two_d, rotation_invariance=False, pooling="max",
                energy_distance=None):
    kernels = parse_kernel(kernel, two_d)

    def response(a):
        return separable(a, kernels, mode)

    out = pooled(array, two_d, response, pooling) if rotation_invariance else response(array)
    if energy_distance is not None:
        delta = int(energy_distance)
        if delta < 0:
            raise InputError("radiomics Laws filter: energy_distance must be >= 0 voxels")
        box = np.full(2 * delta + 1, 1.0 / (2 * delta + 1))
        out = separable(np.abs(out), [None if (two_d and a == 0) else box for a in range(3)], mode)
    return out
