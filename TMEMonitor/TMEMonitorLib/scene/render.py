"""A map node drawn as a viewer would draw it, from the display settings stored in the scene.

Window/level and the colour table of the node's display node map each voxel to RGB (the colour
table's entries spread linearly over the window, values beyond it clamped to the end colours, as
Slicer's slice views do for a scalar volume); the display node's threshold makes voxels outside
it transparent. numpy only, no GUI: tests and reports can check what a reader would see.
"""
import numpy as np

from .volumes import volume_to_array


def color_table_rgb(color_node):
    """(n, 3) RGB in 0..1 of a colour table node's entries."""
    rgba = [0.0, 0.0, 0.0, 0.0]
    colors = []
    for index in range(color_node.GetNumberOfColors()):
        color_node.GetColor(index, rgba)
        colors.append(rgba[:3])
    return np.asarray(colors, dtype=float)


def render_rgba(volume_node):
    """(k, j, i, 4) RGBA in 0..1 of a scalar map node with its stored window, colour table and threshold."""
    display = volume_node.GetDisplayNode()
    if display is None or display.GetColorNode() is None:
        raise ValueError(f"'{volume_node.GetName()}' has no display node with a colour table")
    values = volume_to_array(volume_node).astype(float)
    table = color_table_rgb(display.GetColorNode())
    lower, upper = display.GetWindowLevelMin(), display.GetWindowLevelMax()
    position = np.clip((values - lower) / (upper - lower), 0.0, 1.0)
    # vtkLookupTable's rule: entry floor(position * n), the top of the range in the last entry.
    index = np.minimum(np.floor(np.nan_to_num(position) * len(table)).astype(int), len(table) - 1)
    rgba = np.zeros(values.shape + (4,))
    rgba[..., :3] = table[index]
    visible = np.isfinite(values)
    if display.GetApplyThreshold():
        with np.errstate(invalid="ignore"):
            visible &= (values >= display.GetLowerThreshold()) & (values <= display.GetUpperThreshold())
    rgba[..., 3] = visible
    return rgba


def luminance(rgb):
    """Relative luminance (ITU-R BT.709 weights) of linear RGB in 0..1."""
    rgb = np.asarray(rgb, dtype=float)
    return rgb[..., 0] * 0.2126 + rgb[..., 1] * 0.7152 + rgb[..., 2] * 0.0722


def lightness(rgb):
    """CIE L* (0..100) of sRGB in 0..1: perceived lightness; a difference of about 1 is just noticeable
    (CIE 1976 L*a*b*, with the sRGB transfer curve of IEC 61966-2-1)."""
    rgb = np.asarray(rgb, dtype=float)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = linear[..., 0] * 0.2126 + linear[..., 1] * 0.7152 + linear[..., 2] * 0.0722
    f = np.where(y > (6 / 29) ** 3, np.cbrt(y), y / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116.0 * f - 16.0
