"""Parameter arrays -> display-ready map nodes (quantity, unit, colour map, window/level).

A map node shows at once when overlaid: its colour table is perceptual and voxels with no
value (NaN: masked or failed fits, flagged in the status map) or a background zero are
transparent. The window is the quantity registry's default range (the same at every visit,
so a fall in Ktrans shows as a darker map, issue 13); only a quantity with no default range
(arbitrary units) gets the 2nd-98th percentile of its own values, which the dashboard then
replaces by one window over all of the patient's visits (TMEMonitorApp.dashboard.display).
Where a window came from is kept on the node (``TMEMonitor.WindowSource`` / ``WindowNote``)
and stated in the colour legend.
"""
import numpy as np

from .. import quantities
from . import attribute_names, colormaps, units
from .legends import update_legend_title
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


# Where a window came from (attribute_names.WINDOW_SOURCE).
WINDOW_REGISTRY, WINDOW_PATIENT, WINDOW_THIS_MAP, WINDOW_GIVEN = "registry", "patient", "this map", "given"
_WINDOW_NOTES = {WINDOW_REGISTRY: "default range of the quantity, same at every visit",
                 WINDOW_PATIENT: "2nd-98th percentile over all of the patient's visits, same at every visit",
                 WINDOW_THIS_MAP: "2nd-98th percentile of this map only",
                 WINDOW_GIVEN: "range chosen by the caller"}


def window_note(source, lower, upper, unit):
    """The window stated for a reader: 'window 0-0.4 1/min: default range of the quantity, ...'."""
    shown = units.display_unit(unit) if unit else ""
    shown = "" if shown in ("unitless", "category code") else f" {shown}"
    return f"window {lower:.4g} to {upper:.4g}{shown}: {_WINDOW_NOTES.get(source, source)}"


def set_window(node, lower, upper, source, symmetric=False):
    """Set a map node's window (display node, saved with the scene), record where it came from and
    restate it in the node's colour legend when it has one."""
    lower, upper = float(lower), float(upper)
    if symmetric:
        bound = max(abs(lower), abs(upper))
        lower, upper = -bound, bound
    if upper <= lower:
        upper = lower + (abs(lower) * 1e-3 or 1.0)
    display = node.GetDisplayNode()
    display.AutoWindowLevelOff()
    display.SetWindowLevelMinMax(lower, upper)
    node.SetAttribute(attribute_names.WINDOW_SOURCE, source)
    node.SetAttribute(attribute_names.WINDOW_NOTE, window_note(source, lower, upper,
                                                               node.GetAttribute(attribute_names.UNIT)))
    update_legend_title(node)
    return lower, upper


def add_parameter_map(scene, values, ijk_to_ras, name, quantity, unit, colormap="viridis",
                      display_range=None, mask=None, description=None, symmetric=False, window_source=None):
    """Add a float32 scalar volume holding ``values`` with quantity, unit and display set.

    ``display_range`` (lower, upper) in the map's units is the window; without it the window is
    the 2nd-98th percentile of the values inside ``mask`` (bool, same shape). Values outside the
    mask are kept as they are (callers put NaN where nothing was computed). ``symmetric`` centres
    the window on zero (change maps). ``window_source`` says where a given range came from
    (default "given"; see :func:`set_window`).
    """
    values = np.asarray(values, dtype=np.float32)
    node = array_to_volume(scene, values, ijk_to_ras, name)
    node.SetVoxelValueQuantity(units.quantity_entry(quantity))
    node.SetVoxelValueUnits(units.unit_entry(unit))
    node.SetAttribute(attribute_names.QUANTITY, quantity)
    node.SetAttribute(attribute_names.UNIT, unit)
    if description:
        node.SetDescription(description)

    if display_range is None:
        lower, upper = robust_window(values, mask)
        source = WINDOW_THIS_MAP
    else:
        lower, upper = display_range
        source = window_source or WINDOW_GIVEN
    display = node.GetDisplayNode()
    display.SetAndObserveColorNodeID(colormaps.colormap_node(scene, colormap).GetID())
    set_window(node, lower, upper, source, symmetric)
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


def add_quantity_map(scene, values, ijk_to_ras, name, map_name, mask=None, description=None, display_range=None,
                     quantity=None):
    """:func:`add_parameter_map` with the quantity, unit, colour map and window of ``map_name`` from
    the quantity registry (TMEMonitorLib.quantities): the registry's default range unless
    ``display_range`` is given (the percentile window of this map only when the registry has
    none). The registry's display unit and scale are stored as attributes for the legend and the
    report. ``quantity`` overrides the registry's quantity text (e.g. "computed DWI b=1000 s/mm2")."""
    entry = quantities.lookup(map_name)
    if display_range is None and entry.display_range is not None:
        display_range, source = entry.display_range, WINDOW_REGISTRY
    else:
        source = WINDOW_GIVEN
    node = add_parameter_map(scene, values, ijk_to_ras, name, quantity or entry.quantity, entry.unit, entry.colormap,
                             display_range=display_range, mask=mask, description=description or entry.description,
                             symmetric=entry.symmetric, window_source=source)
    node.SetAttribute(attribute_names.MAP_NAME, map_name)
    node.SetAttribute(attribute_names.DISPLAY_UNIT, entry.display_unit)
    node.SetAttribute(attribute_names.DISPLAY_SCALE, repr(float(entry.display_scale)))
    return node


def add_status_map(scene, status, ijk_to_ras, name):
    """A label map of per-voxel fit status (0 ok is transparent; failed/bound/masked coloured)."""
    color_node = colormaps.label_color_node(scene, "fit status", colormaps.FIT_STATUS_LABELS)
    node = add_label_map(scene, np.asarray(status, dtype=np.uint8), ijk_to_ras, name, color_node)
    entry = quantities.REGISTRY["fit status"]
    node.SetAttribute(attribute_names.MAP_NAME, "fit status")
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
