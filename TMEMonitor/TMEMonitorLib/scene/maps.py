"""Parameter arrays -> display-ready map nodes (quantity, unit, colour map, window/level).

A map node shows at once when overlaid: its colour table is perceptual, its window covers
the 2nd-98th percentile of the values inside the region, and voxels with no value (NaN:
masked or failed fits, flagged in the status map) or a background zero are transparent.
"""
import numpy as np

from .. import quantities
from . import attribute_names, colormaps, units
from .volumes import add_label_map, array_to_volume

# Default colour map per quantity family (a change map diverges around zero).
DIVERGING = "RdBu_r"


def robust_window(values, mask=None, low=2.0, high=98.0):
    """(lower, upper) display range from percentiles of the finite values (inside ``mask``)."""
    values = np.asarray(values, dtype=float)
    selected = values[mask.astype(bool)] if mask is not None else values.ravel()
    selected = selected[np.isfinite(selected)]
    if selected.size == 0:
        return 0.0, 1.0
    lower, upper = np.percentile(selected, [low, high])
    if upper <= lower:
        upper = lower + (abs(lower) * 1e-3 or 1.0)
    return float(lower), float(upper)


def add_parameter_map(scene, values, ijk_to_ras, name, quantity, unit, colormap="viridis",
                      display_range=None, mask=None, description=None, symmetric=False):
    """Add a float32 scalar volume holding ``values`` with quantity, unit and display set.

    ``mask`` (bool, same shape) restricts the automatic display range; values outside it are
    kept as they are (callers put NaN where nothing was computed). ``symmetric`` centres the
    window on zero (change maps).
    """
    values = np.asarray(values, dtype=np.float32)
    node = array_to_volume(scene, values, ijk_to_ras, name)
    node.SetVoxelValueQuantity(units.quantity_entry(quantity))
    node.SetVoxelValueUnits(units.unit_entry(unit))
    node.SetAttribute(attribute_names.QUANTITY, quantity)
    node.SetAttribute(attribute_names.UNIT, unit)
    if description:
        node.SetDescription(description)

    lower, upper = display_range or robust_window(values, mask)
    if symmetric:
        bound = max(abs(lower), abs(upper))
        lower, upper = -bound, bound
    display = node.GetDisplayNode()
    display.SetAndObserveColorNodeID(colormaps.colormap_node(scene, colormap).GetID())
    display.AutoWindowLevelOff()
    display.SetWindowLevelMinMax(lower, upper)
    finite = values[np.isfinite(values)]
    if finite.size:
        # Transparent where there is no value (NaN never passes a threshold) and, for
        # non-negative maps, where the value is an exact background zero.
        smallest = float(finite.min())
        if smallest >= 0.0 and np.any(finite > 0):
            smallest = float(finite[finite > 0].min())
        display.SetThreshold(smallest, float(finite.max()))
        display.ApplyThresholdOn()
    return node


def add_quantity_map(scene, values, ijk_to_ras, name, map_name, mask=None, description=None, display_range=None):
    """:func:`add_parameter_map` with the quantity, unit, colour map of ``map_name`` from the
    quantity registry (TMEMonitorLib.quantities); the registry's display unit and scale are
    stored as attributes for the legend and the report."""
    entry = quantities.lookup(map_name)
    node = add_parameter_map(scene, values, ijk_to_ras, name, entry.quantity, entry.unit, entry.colormap,
                             display_range=display_range, mask=mask, description=description or entry.description,
                             symmetric=entry.symmetric)
    node.SetAttribute(attribute_names.MAP_NAME, map_name)
    node.SetAttribute(attribute_names.DISPLAY_UNIT, entry.display_unit)
    node.SetAttribute(attribute_names.DISPLAY_SCALE, repr(float(entry.display_scale)))
    return node


def add_status_map(scene, status, ijk_to_ras, name):
    """A label map of per-voxel fit status (0 ok is transparent; failed/bound/masked coloured)."""
    color_node = colormaps.label_color_node(scene, "fit status", colormaps.FIT_STATUS_LABELS)
    node = add_label_map(scene, np.asarray(status, dtype=np.uint8), ijk_to_ras, name, color_node)
    entry = quantities.REGISTRY["fit status"]
    node.SetAttribute(attribute_names.QUANTITY, entry.quantity)
    node.SetAttribute(attribute_names.STATUS_CODES, entry.description)
    return node


def show_in_slice_views(scene, background_node=None, foreground_node=None, label_node=None, opacity=0.6):
    """Show nodes in every slice view of the scene (no-op headless, where there are no views)."""
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSliceCompositeNode")):
        composite = scene.GetNthNodeByClass(index, "vtkMRMLSliceCompositeNode")
        if background_node is not None:
            composite.SetBackgroundVolumeID(background_node.GetID())
        if foreground_node is not None:
            composite.SetForegroundVolumeID(foreground_node.GetID())
            composite.SetForegroundOpacity(opacity)
        if label_node is not None:
            composite.SetLabelVolumeID(label_node.GetID())
