"""The right-angle rotations used for rotation invariance (IBSI 2): the 24 proper rotations
of the cube in 3D, the 4 in-plane rotations in 2D, applied to (z, y, x) arrays as axis
permutations and flips."""
import itertools

import numpy as np


def rotations(two_d):
    """List of (permutation, flips): rotated = flip(transpose(a, permutation), flips)."""
    out = []
    axes = (1, 2) if two_d else (0, 1, 2)
    for perm in itertools.permutations(axes):
        for signs in itertools.product((1, -1), repeat=len(axes)):
            m = np.zeros((len(axes), len(axes)))
            for row, (p, s) in enumerate(zip(perm, signs)):
                m[row, axes.index(p)] = s
            if round(np.linalg.det(m)) != 1:
                continue
            full_perm = (0,) + tuple(perm) if two_d else tuple(perm)
            flips = tuple(ax for ax, s in zip(axes, signs) if s < 0)
            out.append((full_perm, flips))
    return out


def rotate(array, rotation):
    perm, flips = rotation
    out = np.transpose(array, perm)
    return np.flip(out, flips) if flips else out


def unrotate(array, rotation):
    perm, flips = rotation
    out = np.flip(array, flips) if flips else array
    return np.transpose(out, np.argsort(perm))


def pooled(array, two_d, response, pooling="average"):
    """Apply ``response`` to every rotation of ``array`` and pool the back-rotated maps."""
    acc = None
    rots = rotations(two_d)
    for rot in rots:
        r = unrotate(response(np.ascontiguousarray(rotate(array, rot))), rot)
        if acc is None:
            acc = r.copy()
        elif pooling == "max":
            np.maximum(acc, r, out=acc)
        elif pooling == "min":
            np.minimum(acc, r, out=acc)
        else:
            acc += r
    return acc / len(rots) if pooling == "average" else acc
