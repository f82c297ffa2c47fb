"""Colour legends on map nodes: the quantity and unit of the values as title, the window stated.

A legend is a vtkMRMLColorLegendDisplayNode made by Slicer's Colors logic (saved with the scene,
shown in the slice views by Slicer's colour-legend displayable manager). Its labels show the
stored values, so its title gives the stored (internal) unit, e.g. "ADC (mm²/s)", and says whether
the window is the same at every visit (attribute_names.WINDOW_SOURCE).
"""
import slicer

from .. import quantities
from . import attribute_names

LABEL_FORMAT = "%.3g"
_SHARED = ("registry", "patient")


def legend_of(node):
    """The node's colour legend display node, or None."""
    return slicer.vtkSlicerColorLogic.GetColorLegendDisplayNode(node)


def legend_title(node):
    """'Ktrans (1/min)' + a second line on the window ('same window at every visit')."""
    map_name = node.GetAttribute(attribute_names.MAP_NAME)
    if map_name:
        title = quantities.legend_title(map_name)
    else:
        quantity = node.GetAttribute(attribute_names.QUANTITY) or node.GetName()
        unit = node.GetAttribute(attribute_names.UNIT) or ""
        title = f"{quantity} ({quantities.human_unit(unit)})" if unit not in ("", "1", "code") else quantity
    source = node.GetAttribute(attribute_names.WINDOW_SOURCE)
    if source in _SHARED:
        return f"{title}\nsame window at every visit"
    if source:
        return f"{title}\nwindow of this map only"
    return title


def update_legend_title(node):
    legend = legend_of(node)
    if legend is not None:
        legend.SetTitleText(legend_title(node))


def add_color_legend(node, visible=True):
    """The node's colour legend (made once, by the Colors logic), titled and shown; label maps
    list their colour names instead of numbers."""
    legend = legend_of(node)
    if legend is None:
        legend = slicer.vtkSlicerColorLogic.AddDefaultColorLegendDisplayNode(node)
    if legend is None:
        raise RuntimeError(f"no colour legend could be made for '{node.GetName()}' (no display node?)")
    legend.SetTitleText(legend_title(node))
    legend.SetUseColorNamesForLabels(bool(node.IsA("vtkMRMLLabelMapVolumeNode")))
    legend.SetLabelFormat(LABEL_FORMAT)
    legend.SetVisibility(bool(visible))
    return legend
