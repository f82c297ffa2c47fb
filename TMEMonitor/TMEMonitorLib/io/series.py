"""What the readers return: a 4D :class:`Series` (frames along time or b) or a 3D :class:`Volume`.

Arrays are indexed ``[frame, slice, row, col]`` (4D) or ``[slice, row, col]`` (3D), so
voxel index ``(i, j, k) = (col, row, slice)`` maps to RAS millimetres through
``ijk_to_ras @ [i, j, k, 1]`` (RAS as Slicer uses it).
"""
from dataclasses import dataclass, field

import numpy as np


class _Geometry:
    """Spacing, origin and direction read off ``ijk_to_ras``."""

    @property
    def spacing(self):
        """Voxel size (i, j, k) in mm."""
        return np.linalg.norm(np.asarray(self.ijk_to_ras)[:3, :3], axis=0)

    @property
    def origin(self):
        """RAS position (mm) of the centre of voxel (0, 0, 0)."""
        return np.asarray(self.ijk_to_ras)[:3, 3].copy()

    @property
    def direction(self):
        """3x3 matrix whose columns are the unit RAS directions of i, j and k."""
        return np.asarray(self.ijk_to_ras)[:3, :3] / self.spacing


@dataclass(eq=False)
class Series(_Geometry):
    """A 4D series: frames along time (s from the first frame), b (s/mm2), echo time (s) or flip angle (deg)."""

    array: np.ndarray                     # float, (frames, slices, rows, cols)
    axis_name: str                        # "time", "b" or "echo_time"
    axis_values: np.ndarray               # seconds from the first frame, b in s/mm2, or echo times in s
    ijk_to_ras: np.ndarray                # 4x4
    metadata: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    source: str = ""

    @property
    def n_frames(self):
        return int(self.array.shape[0])

    @property
    def axis_unit(self):
        return {"b": "s/mm2", "flip_angle": "deg"}.get(self.axis_name, "s")


@dataclass(eq=False)
class Volume(_Geometry):
    """A 3D scalar volume, (slices, rows, cols)."""

    array: np.ndarray
    ijk_to_ras: np.ndarray
    metadata: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    source: str = ""
