"""Deterministic mutations of a seed file's bytes: truncation, bit flips, garbage, wrong-typed
header values. Each mutation is (label, function(bytes, rng) -> bytes)."""
import re

import numpy as np

BAD_VALUES = (b"abc", b"nan", b"-1", b"0", b"1e308", b"")
_NUMBER = re.compile(rb"(?<![\w.])[-+]?\d+(?:\.\d*)?(?:[eEdD][-+]?\d+)?(?![\w.])")


def truncations(kind):
    cases = [("empty", lambda raw, rng: b""), ("cut-1-byte", lambda raw, rng: raw[:-1])]
    for fraction in (0.1, 0.5, 0.9):
        cases.append(("cut-%d%%" % (fraction * 100), lambda raw, rng, f=fraction: raw[:int(len(raw) * f)]))
    return cases


def bit_flips(header_bytes, count):
    cases = []
    for index in range(count):
        def flip(raw, rng, index=index):
            data = bytearray(raw)
            limit = header_bytes if (index % 2 == 0 and header_bytes) else len(data)
            for _ in range(1 + index % 3):
                position = int(rng.integers(0, max(min(limit, len(data)), 1)))
                data[position] ^= 1 << int(rng.integers(0, 8))
            return bytes(data)
        cases.append(("bit-flip-%d%s" % (index, "-header" if index % 2 == 0 and header_bytes else ""), flip))
    return cases


def garbage(header_bytes):
    def overwrite(raw, rng):
        data = bytearray(raw)
        start = int(rng.integers(0, max(min(header_bytes or len(data), len(data)) - 16, 1)))
        data[start:start + 16] = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
        return bytes(data)
    return [("garbage-16-bytes", overwrite),
            ("binary-junk-file", lambda raw, rng: rng.integers(0, 256, max(len(raw), 64), dtype=np.uint8).tobytes()),
            ("big-endian-garbage", lambda raw, rng: raw[:min(len(raw), header_bytes or 0)]
             + rng.integers(0, 256, len(raw) - min(len(raw), header_bytes or 0), dtype=np.uint8).tobytes())]


def text_values(raw, rng, header_bytes, limit=6):
    """Replace numeric tokens of the header by text, NaN, 0, -1, 1e308, nothing."""
    head = raw[:header_bytes or 4096]
    matches = list(_NUMBER.finditer(head))
    if not matches:
        return []
    chosen = sorted(rng.choice(len(matches), size=min(limit, len(matches)), replace=False))
    cases = []
    for index in chosen:
        match = matches[int(index)]
        for bad in BAD_VALUES[:4] if len(chosen) > 3 else BAD_VALUES:
            label = "value-%d-%s" % (match.start(), bad.decode() or "empty")
            cases.append((label, lambda data, r, m=match, b=bad: data[:m.start()] + b + data[m.end():]))
    return cases


def text_encoding():
    return [("latin1-bytes", lambda raw, rng: raw[:len(raw) // 3] + "µ°é".encode("latin-1") + raw[len(raw) // 3:]),
            ("nul-bytes", lambda raw, rng: raw[:len(raw) // 2] + b"\x00\x00\x00" + raw[len(raw) // 2:])]


def for_seed(seed, raw, rng):
    cases = truncations(seed.kind) + garbage(seed.header_bytes)
    if seed.kind == "binary":
        cases += bit_flips(seed.header_bytes, 24)
    else:
        cases += text_values(raw, rng, seed.header_bytes) + text_values(raw[:4096], rng, 4096, limit=2) + text_encoding() + bit_flips(0, 6)
    return cases
