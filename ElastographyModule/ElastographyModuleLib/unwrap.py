"""Phase unwrapping of MRE phase images: Laplacian-based (spatio-temporal) and quality-guided.

Laplacian unwrapping (Schofield & Zhu, Opt Lett 2003, doi:10.1364/OL.28.001194): the Laplacian
of the true phase is computed from the wrapped phase alone, and the phase is recovered by an
inverse Laplacian in a fast transform. Schofield & Zhu write it cos(p) Lap(sin p) - sin(p)
Lap(cos p) (``estimator="sincos"``); on the grid that equals sum sin(neighbour differences).
The default ``"wrapped"`` uses the wrapped neighbour differences themselves (the discrete
Poisson form of Ghiglia & Romero, J Opt Soc Am A 1994, doi:10.1364/JOSAA.11.000107), which is
exact whenever every true neighbour difference is below pi. Spatial axes have mirror (Neumann)
borders (DCT-II), the phase-offset axis is periodic (FFT): one period of a harmonic motion
(the spatio-temporal unwrap of MRE; Barnhill et al., Med Image Anal 2015,
doi:10.1016/j.media.2014.10.002, for the 4D idea). Finally the result is snapped to the
nearest field congruent with the data (wrapped + 2 pi n), so a correct solution is exact.

Quality-guided (Herraez et al., Appl Opt 2002, doi:10.1364/AO.41.007437): neighbour pairs are
joined in order of reliability (inverse second differences), merging groups as they meet.
"""
import numpy as np
from scipy import fft

ESTIMATORS = ("wrapped", "sincos")


def wrap(values):
    return (values + np.pi) % (2 * np.pi) - np.pi


def _laplacian_of_phase(phase, axes, periodic, estimator):
    rho = np.zeros_like(phase)
    for axis in axes:
        if axis in periodic:
            forward = np.roll(phase, -1, axis) - phase
            difference = wrap(forward) if estimator == "wrapped" else np.sin(forward)
            rho += difference - np.roll(difference, 1, axis)
        else:
            forward = np.diff(phase, axis=axis)
            difference = wrap(forward) if estimator == "wrapped" else np.sin(forward)
            zero = np.zeros_like(np.take(phase, [0], axis=axis))
            rho += np.concatenate([difference, zero], axis=axis) - np.concatenate([zero, difference], axis=axis)
    return rho


def _solve_poisson(rho, axes, periodic):
    """Inverse of the Neumann (DCT-II) / periodic (FFT) discrete Laplacian; the mean is set to 0."""
    spatial = [a for a in axes if a not in periodic]
    cyclic = [a for a in axes if a in periodic]
    spectrum = fft.dctn(rho, type=2, axes=spatial, norm="ortho") if spatial else rho
    if cyclic:
        spectrum = np.fft.fftn(spectrum, axes=cyclic)
    eigen = 0.0
    for axis in axes:
        n = rho.shape[axis]
        k = np.arange(n)
        values = 2 * np.cos((2 if axis in periodic else 1) * np.pi * k / n) - 2
        shape = [1] * rho.ndim
        shape[axis] = n
        eigen = eigen + values.reshape(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        spectrum = np.where(eigen == 0, 0.0, spectrum / np.where(eigen == 0, 1.0, eigen))
    if cyclic:
        spectrum = np.fft.ifftn(spectrum, axes=cyclic).real
    return fft.idctn(spectrum, type=2, axes=spatial, norm="ortho") if spatial else spectrum


def congruent(wrapped, estimate):
    """``wrapped`` + 2 pi n closest to ``estimate`` after removing their common constant offset."""
    offset = np.angle(np.mean(np.exp(1j * (estimate - wrapped))))
    return wrapped + 2 * np.pi * np.round((estimate - offset - wrapped) / (2 * np.pi))


def unwrap_laplacian(phase, axes=None, periodic_axes=(), estimator="wrapped"):
    """Unwrapped phase (same shape), up to one global multiple of 2 pi.

    ``axes``: axes to unwrap along (default all); ``periodic_axes``: those that wrap around (the
    phase-offset axis of one motion period)."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"unwrap estimator '{estimator}' is not one of {', '.join(ESTIMATORS)}")
    phase = np.asarray(phase, dtype=float)
    axes = tuple(range(phase.ndim)) if axes is None else tuple(a % phase.ndim for a in axes)
    periodic = tuple(a % phase.ndim for a in periodic_axes)
    axes = tuple(a for a in axes if phase.shape[a] > 1)
    estimate = _solve_poisson(_laplacian_of_phase(phase, axes, periodic, estimator), axes, periodic)
    return congruent(phase, estimate)


def align_frames(unwrapped, axis=0):
    """Remove per-frame 2 pi jumps along ``axis`` (frames unwrapped one by one): each frame's mean
    is moved by 2 pi n to within pi of the previous frame's mean."""
    unwrapped = np.moveaxis(np.array(unwrapped, dtype=float), axis, 0)
    means = unwrapped.reshape(unwrapped.shape[0], -1).mean(axis=1)
    steps = np.round(np.diff(means) / (2 * np.pi))
    shifts = np.concatenate([[0.0], -np.cumsum(steps)]) * 2 * np.pi
    unwrapped += shifts.reshape((-1,) + (1,) * (unwrapped.ndim - 1))
    return np.moveaxis(unwrapped, 0, axis)


def _reliability(phase):
    """Inverse sum of squared wrapped second differences over the axes (Herraez et al. 2002)."""
    total = np.zeros_like(phase)
    for axis in range(phase.ndim):
        if phase.shape[axis] < 3:
            continue
        before = np.take(phase, range(0, phase.shape[axis] - 2), axis=axis)
        centre = np.take(phase, range(1, phase.shape[axis] - 1), axis=axis)
        after = np.take(phase, range(2, phase.shape[axis]), axis=axis)
        second = wrap(before - centre) - wrap(centre - after)
        pad = [(0, 0)] * phase.ndim
        pad[axis] = (1, 1)
        total += np.pad(second ** 2, pad, mode="edge")
    return 1.0 / (np.sqrt(total) + 1e-12)


def unwrap_quality_guided(phase):
    """Quality-guided unwrap of one volume (any dimension), up to one global multiple of 2 pi."""
    phase = np.asarray(phase, dtype=float)
    flat = phase.ravel()
    reliability = _reliability(phase).ravel()
    index = np.arange(flat.size).reshape(phase.shape)
    first, second = [], []
    for axis in range(phase.ndim):
        first.append(np.take(index, range(0, phase.shape[axis] - 1), axis=axis).ravel())
        second.append(np.take(index, range(1, phase.shape[axis]), axis=axis).ravel())
    first, second = np.concatenate(first), np.concatenate(second)
    order = np.argsort(-(reliability[first] + reliability[second]), kind="stable")
    first, second = first[order].tolist(), second[order].tolist()
    jumps = np.round((wrap(flat[np.asarray(second)] - flat[np.asarray(first)])
                      - (flat[np.asarray(second)] - flat[np.asarray(first)])) / (2 * np.pi)).astype(int).tolist()
    parent = list(range(flat.size))
    shift = [0] * flat.size          # 2 pi multiples relative to the parent
    size = [1] * flat.size

    def find(x):
        total, path = 0, []
        while parent[x] != x:
            path.append(x)
            x = parent[x]
        root = x
        # Path compression keeping each node's total shift to the root.
        for node in reversed(path):
            if parent[node] != root:
                shift[node] += shift[parent[node]]
            parent[node] = root
        return root

    for i, j, jump in zip(first, second, jumps):
        root_i, root_j = find(i), find(j)
        if root_i == root_j:
            continue
        k_i = shift[i] if i != root_i else 0
        k_j = shift[j] if j != root_j else 0
        # unwrapped(j) = unwrapped(i) + wrap(p_j - p_i)  ->  whole group of j moves by s.
        s = k_i - k_j + jump
        if size[root_i] >= size[root_j]:
            parent[root_j], shift[root_j] = root_i, s
            size[root_i] += size[root_j]
        else:
            parent[root_i], shift[root_i] = root_j, -s
            size[root_j] += size[root_i]
    totals = np.array([shift[x] if find(x) != x else 0 for x in range(flat.size)])
    return (flat + 2 * np.pi * totals).reshape(phase.shape)
