"""Orthonormal wavelet filter coefficients (decomposition low-pass; the high-pass follows by
the quadrature-mirror relation g[k] = (-1)^(k+1) h[N-1-k]), in the ordering PyWavelets
uses for ``dec_lo`` so that results compare with IBSI 2 reference software.

- Haar: h = [1, 1] / sqrt(2).
- Daubechies dbN (N vanishing moments, 2N taps): computed by spectral factorisation of
  P(y) = sum_{k<N} C(N-1+k, k) y^k, keeping the roots inside the unit circle (minimum phase)
  (Daubechies, Comm. Pure Appl. Math. 41:909-996, 1988; Ten Lectures on Wavelets, 1992, 6.1).
- Coiflets coif1, coif2: published values (Daubechies, Ten Lectures, table 8.1, times sqrt(2));
  the tests check orthonormality and vanishing moments of every filter.
"""
from math import comb

import numpy as np

from ...errors import InputError

_COIFLETS = {
    "coif1": [-0.01565572813546454, -0.0727326195128539, 0.38486484686420286,
              0.8525720202122554, 0.3378976624578092, -0.0727326195128539],
    "coif2": [-0.0007205494453645122, -0.0018232088707029932, 0.0056114348193944995,
              0.023680171946334084, -0.0594344186464569, -0.0764885990783064,
              0.41700518442169254, 0.8127236354455423, 0.3861100668211622,
              -0.06737255472196302, -0.04146493678175915, 0.016387336463522112],
}


def daubechies_lowpass(n):
    """dbN decomposition low-pass filter (2N taps), PyWavelets ``dec_lo`` ordering."""
    if n == 1:
        return np.array([1.0, 1.0]) / np.sqrt(2.0)
    # P(y) with y = (2 - z - 1/z) / 4; multiply by z^(N-1) -> polynomial in z of degree 2N-2
    poly_z = np.zeros(1)
    for k in range(n):
        # y^k z^(N-1) = ((-z^2 + 2z - 1)/4)^k z^(N-1-k)
        term = np.array([1.0])
        for _ in range(k):
            term = np.polymul(term, np.array([-1.0, 2.0, -1.0]) / 4.0)
        term = np.polymul(term, np.eye(1, n - k, 0).ravel())        # times z^(N-1-k)
        poly_z = np.polyadd(poly_z, comb(n - 1 + k, k) * term)
    roots = np.roots(poly_z)
    inside = roots[np.abs(roots) < 1.0]
    h = np.real(np.poly(np.concatenate([-np.ones(n), inside])))
    h = h * np.sqrt(2.0) / h.sum()
    # minimum-phase order starts with the largest-magnitude early taps; dec_lo is reversed
    return h[::-1] if abs(h[0]) > abs(h[-1]) else h


def lowpass(name):
    name = str(name).lower()
    if name == "haar":
        return daubechies_lowpass(1)
    if name.startswith("db"):
        try:
            n = int(name[2:])
        except ValueError:
            n = 0
        if not 1 <= n <= 10:
            raise InputError(f"radiomics wavelet: Daubechies order must be db1..db10, got {name!r}")
        return daubechies_lowpass(n)
    if name in _COIFLETS:
        return np.array(_COIFLETS[name])
    raise InputError(f"radiomics wavelet: unknown family {name!r} (haar, db1..db10, coif1, coif2)")


def highpass(h):
    n = len(h)
    return np.array([(-1) ** (k + 1) * h[n - 1 - k] for k in range(n)])
