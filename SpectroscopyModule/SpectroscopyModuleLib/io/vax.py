"""VAX F-floating numbers (Philips SDAT) <-> IEEE float32.

A VAX F float is 4 bytes b0 b1 b2 b3 holding two little-endian 16-bit words: the first
(b1 b0) has the sign, an 8-bit exponent biased by 128 and the top 7 fraction bits, the second
(b3 b2) the low 16 fraction bits, with a hidden leading bit for a mantissa 0.1f (binary).
Swapping the words gives the IEEE bit pattern of 4x the value (bias 127, mantissa 1.f).
Exponent 0 is zero. (Digital Equipment Corporation, VAX Architecture Reference Manual.)
"""
import numpy as np


def vax_to_float32(raw):
    """bytes (4 per value) -> float32 array."""
    words = np.frombuffer(raw, dtype="<u2")
    if words.size % 2:
        raise ValueError("VAX float data must be a whole number of 4-byte values")
    words = words.reshape(-1, 2)
    bits = (words[:, 0].astype(np.uint32) << 16) | words[:, 1].astype(np.uint32)
    values = bits.view(np.float32) / np.float32(4.0)
    exponent = (words[:, 0] >> 7) & 0xFF
    values[exponent == 0] = 0.0
    return values.astype(np.float32)


def float32_to_vax(values):
    """float32 array -> VAX F bytes (for writing test files); values must fit VAX's range."""
    values = np.asarray(values, dtype=np.float32).ravel() * np.float32(4.0)
    bits = values.view(np.uint32)
    words = np.empty((values.size, 2), dtype="<u2")
    words[:, 0] = (bits >> 16).astype(np.uint16)
    words[:, 1] = (bits & 0xFFFF).astype(np.uint16)
    words[values == 0] = 0
    return words.tobytes()
