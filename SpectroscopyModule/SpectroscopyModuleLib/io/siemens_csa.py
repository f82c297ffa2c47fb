"""Siemens CSA header (the private "SV10" blocks in (0029,xx10)/(0029,xx20)) -> {name: values}.

Layout (as documented by the nibabel project, "Siemens mosaic format / CSA header"): "SV10",
4 unused bytes, uint32 tag count, uint32 (77); per tag a 64-byte name, int32 VM, 4-byte VR,
int32 SyngoDT, int32 item count, int32 (77 or 205); per item four int32 of which the second
is the item length, then the item bytes padded to a multiple of 4. All little-endian.
"""
import struct

from TMEMonitorLib.errors import InputError


def parse_csa(raw):
    if raw is None:
        return {}
    raw = bytes(raw)
    if raw[:4] != b"SV10":
        raise InputError("Siemens CSA header: only the CSA2 ('SV10') layout is supported")
    n_tags, = struct.unpack_from("<I", raw, 8)
    if not 0 < n_tags <= 1000:
        raise InputError(f"Siemens CSA header: implausible tag count {n_tags}")
    offset = 16
    tags = {}
    for _ in range(n_tags):
        name = raw[offset:offset + 64].split(b"\0", 1)[0].decode("latin-1")
        vm, = struct.unpack_from("<i", raw, offset + 64)
        vr = raw[offset + 68:offset + 72].split(b"\0", 1)[0].decode("latin-1")
        n_items, = struct.unpack_from("<i", raw, offset + 76)
        offset += 84
        values = []
        for _ in range(n_items):
            item_len = struct.unpack_from("<4i", raw, offset)[1]
            offset += 16
            text = raw[offset:offset + item_len].split(b"\0", 1)[0].decode("latin-1").strip()
            offset += (item_len + 3) // 4 * 4
            if text:
                values.append(text)
        if vm > 0:
            values = values[:vm]
        tags[name] = [_convert(v, vr) for v in values]
    return tags


def _convert(text, vr):
    if vr in ("FD", "FL", "DS"):
        try:
            return float(text)
        except ValueError:
            return text
    if vr in ("IS", "SL", "SS", "UL", "US"):
        try:
            return int(float(text))
        except ValueError:
            return text
    return text


def first(tags, name, default=None):
    values = tags.get(name) or []
    return values[0] if values else default
