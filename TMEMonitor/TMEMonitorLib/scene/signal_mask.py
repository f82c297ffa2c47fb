"""The voxels with signal (the body) of a 4D series, as a temporary label map for an analysis.

A visit analysed from the dashboard has no drawn analysis mask; fitting the air around the
body wastes time and fills the maps with failures. The mask is the mean over frames above 5 %
of its 99th percentile (robust to a few bright voxels).
"""
import contextlib

import numpy as np

from .inputs import series_from_node
from .volumes import add_label_map

SIGNAL_FRACTION = 0.05


def signal_mask(series_array):
    """Bool mask (slices, rows, cols) of a (frames, slices, rows, cols) series: mean signal above
    5 % of the 99th percentile of the mean."""
    mean = np.asarray(series_array).mean(axis=0)
    return mean > SIGNAL_FRACTION * np.percentile(mean, 99)


@contextlib.contextmanager
def temporary_signal_mask(scene, series_node, expected_axis):
    """A hidden label-map node of ``series_node``'s signal mask for the duration of the block."""
    series = series_from_node(series_node, expected_axis=expected_axis)
    node = add_label_map(scene, signal_mask(series.array), series.ijk_to_ras,
                         f"{series_node.GetName()} analysis mask")
    node.SetHideFromEditors(True)
    try:
        yield node
    finally:
        scene.RemoveNode(node)
