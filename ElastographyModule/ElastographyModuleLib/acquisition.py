"""MRE acquisition layout: which frame holds which vibration frequency, encoding direction and
wave phase offset, and how phase scales to displacement, each with where it came from.

Frames are ordered frequency (slowest), then direction, then phase offset (fastest).
Directions are unit vectors in voxel-axis order (i = column, j = row, k = slice), as in the
NIfTI / DICOM index convention; they are stored internally as (slice, row, col).
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

from .displacement import phase_scaling


@dataclass
class MREAcquisition:
    frequencies_hz: tuple                 # distinct vibration frequencies
    offsets_rad: np.ndarray               # wave phase offsets of one (frequency, direction) group
    directions: np.ndarray                # (n_directions, 3) in (slice, row, col); one row for 1 component
    voxel_size_m: tuple                   # (slice, row, col)
    rad_per_m: dict = field(default_factory=dict)        # frequency -> encoding efficiency, or None
    provenance: dict = field(default_factory=dict)

    @property
    def n_frames(self):
        return len(self.frequencies_hz) * len(self.directions) * len(self.offsets_rad)

    def frames(self, frequency_index, direction_index):
        start = (frequency_index * len(self.directions) + direction_index) * len(self.offsets_rad)
        return slice(start, start + len(self.offsets_rad))


def _numbers(values, what, flag):
    try:
        array = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise InputError(f"{what} {values!r}: expected numbers ({flag})") from None
    if not np.all(np.isfinite(array)):
        raise InputError(f"{what} {values!r}: not all finite ({flag})")
    return array


def build_acquisition(n_frames, voxel_size_m, frequencies_hz=None, offsets=None, offsets_unit="rad",
                      directions_ijk=None, um_per_rad=None, meg=None, sources=None):
    """Checked :class:`MREAcquisition`; InputError / MetadataError naming the missing or bad value."""
    sources = dict(sources or {})
    if frequencies_hz is None or np.size(frequencies_hz) == 0:
        raise MetadataError("vibration frequency missing: give --frequency (Hz) or 'MREFrequency' in the JSON sidecar")
    frequencies = _numbers(frequencies_hz, "vibration frequency", "--frequency")
    if np.any(frequencies <= 0) or np.any(frequencies > 2000):
        raise InputError(f"vibration frequencies {frequencies.tolist()} Hz must lie in (0, 2000] (--frequency)")
    if len(set(frequencies.tolist())) != frequencies.size:
        raise InputError(f"vibration frequencies {frequencies.tolist()} repeat a value (--frequency)")
    if offsets is None:
        raise MetadataError("wave phase offsets missing: give --offsets or 'MREPhaseOffsets' in the sidecar")
    offsets = _numbers(offsets, "wave phase offsets", "--offsets")
    if np.size(offsets) == 1:              # a count: evenly spaced over one period
        count = int(offsets[0])
        offsets = 2 * np.pi * np.arange(count) / max(count, 1)
        sources.setdefault("offsets", "count given: evenly spaced over one period")
    elif offsets_unit == "deg":
        offsets = np.radians(offsets)
    if np.unique(np.round(np.mod(offsets, 2 * np.pi), 6)).size < 3:
        raise InputError(f"{offsets.size} wave phase offset(s) ({np.unique(np.round(np.mod(offsets, 2 * np.pi), 6)).size}"
                         " distinct): at least 3 are needed for the first harmonic (--offsets)")
    if directions_ijk is None:
        directions = np.array([[0.0, 0.0, 1.0]])
        sources.setdefault("directions", "one component (no directions given)")
    else:
        ijk = np.atleast_2d(_numbers(directions_ijk, "encoding directions", "--directions").reshape(-1, 3))
        norms = np.linalg.norm(ijk, axis=1)
        if np.any(norms == 0):
            raise InputError("encoding directions: a zero vector (--directions)")
        directions = (ijk / norms[:, None])[:, ::-1]
        if len(directions) == 2 or (len(directions) >= 3 and np.linalg.matrix_rank(directions, tol=1e-3) < 3):
            raise InputError(f"{len(directions)} encoding directions: give one, or at least three that span "
                             "3D space (--directions)")
    expected = frequencies.size * len(directions) * offsets.size
    if expected != n_frames:
        raise InputError(f"the series has {n_frames} phase images, but {frequencies.size} frequencies x "
                         f"{len(directions)} direction(s) x {offsets.size} offsets = {expected}: the direction, "
                         "frequency or offset count is inconsistent (--directions / --frequency / --offsets)")
    rad_per_m, scaling_sources = {}, {}
    for f in frequencies:
        rad_per_m[float(f)], scaling_sources[float(f)] = phase_scaling(um_per_rad, meg, float(f),
                                                                       sources.get("phase_scaling", ""))
    provenance = {"frequencies": sources.get("frequencies", "given"), "offsets": sources.get("offsets", "given"),
                  "directions": sources.get("directions", "given"),
                  "phase_scaling": "; ".join(f"{f:g} Hz: {s}" for f, s in scaling_sources.items()),
                  "voxel_size": sources.get("voxel_size", "image geometry")}
    return MREAcquisition(tuple(float(f) for f in frequencies), offsets, directions,
                          tuple(float(v) for v in voxel_size_m), rad_per_m, provenance)
