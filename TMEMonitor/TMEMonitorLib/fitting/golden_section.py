"""Golden-section search, vectorised over voxels: the 1-D minimiser that the variable-projection
T1 fits (VFA, inversion recovery) use after a grid search has bracketed each voxel's minimum.

Each iteration shrinks every bracket by 1/phi = 0.618 with one new cost evaluation per voxel
(Kiefer, Proc AMS 1953, doi:10.1090/S0002-9939-1953-0055639-3); the cost must be unimodal in
the bracket, which the grid search that precedes it provides."""
import numpy as np

INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0


def golden_section_minimise(cost, lo, hi, iterations):
    """Per element, the minimiser of ``cost`` in [lo, hi] to within (hi - lo) x 0.618**iterations.

    ``cost(x)`` takes an array of abscissae (one per element) and returns their costs; ``lo``
    and ``hi`` are arrays of the same shape. Returns the midpoint of each final bracket."""
    lo = np.array(lo, dtype=float)
    hi = np.array(hi, dtype=float)
    c = hi - INV_PHI * (hi - lo)
    d = lo + INV_PHI * (hi - lo)
    fc, fd = cost(c), cost(d)
    for _ in range(int(iterations)):
        left = fc < fd                                   # the minimum lies in [lo, d]
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
        x_new = np.where(left, hi - INV_PHI * (hi - lo), lo + INV_PHI * (hi - lo))
        f_new = cost(x_new)                              # the surviving interior point is reused
        c, d, fc, fd = (np.where(left, x_new, d), np.where(left, c, x_new),
                        np.where(left, f_new, fd), np.where(left, fc, f_new))
    return 0.5 * (lo + hi)
