"""Colour table nodes: perceptual maps for parameters, and named label tables for categories.

Slicer's own Viridis/Inferno tables are loaded from files that a headless scene does not
have, so the project builds its own from matplotlib's CC0 data (colormap_data.py). Inside
Slicer the same nodes are created once per scene and reused by name.
"""
import slicer

from .colormap_data import COLORMAPS

PREFIX = "TME "


def _rgb(hex_text, index):
    code = hex_text[6 * index: 6 * index + 6]
    return tuple(int(code[c:c + 2], 16) / 255.0 for c in (0, 2, 4))


GREY = "grey"        # a linear grey ramp (images such as a computed DWI read best in grey)


def _grey_hex():
    return "".join(f"{v:02x}{v:02x}{v:02x}" for v in range(256))


def colormap_node(scene, name="viridis"):
    """A 256-entry continuous colour table node (viridis, magma, inferno, plasma, RdBu_r, grey)."""
    if name not in COLORMAPS and name != GREY:
        raise ValueError(f"unknown colour map '{name}'; available: {', '.join(sorted(COLORMAPS) + [GREY])}")
    node_name = PREFIX + name
    existing = scene.GetFirstNodeByName(node_name)
    if existing is not None:
        return existing
    hex_text = _grey_hex() if name == GREY else "".join(COLORMAPS[name])
    node = slicer.vtkMRMLColorTableNode()
    node.SetName(node_name)
    node.SetTypeToUser()
    node.SetNumberOfColors(256)
    for index in range(256):
        r, g, b = _rgb(hex_text, index)
        node.SetColor(index, f"{name}{index}", r, g, b, 1.0)
    node.SetAttribute("Category", "TME Monitor")
    scene.AddNode(node)
    return node


def label_color_node(scene, name, labels):
    """A discrete colour table for a label map: ``labels`` maps value -> (name, (r, g, b)) in 0..1."""
    node_name = PREFIX + name
    existing = scene.GetFirstNodeByName(node_name)
    if existing is not None:
        return existing
    node = slicer.vtkMRMLColorTableNode()
    node.SetName(node_name)
    node.SetTypeToUser()
    node.SetNumberOfColors(max(labels) + 1)
    node.SetColor(0, "background", 0.0, 0.0, 0.0, 0.0)
    for value, (label, rgb) in labels.items():
        node.SetColor(int(value), label, rgb[0], rgb[1], rgb[2], 1.0)
    node.SetAttribute("Category", "TME Monitor")
    scene.AddNode(node)
    return node


# Shared label tables (value -> (name, colour)).
TISSUE_LABELS = {
    1: ("normal tissue", (0.80, 0.68, 0.60)),
    2: ("viable rim", (0.90, 0.20, 0.15)),
    3: ("hypoxic zone", (0.95, 0.70, 0.10)),
    4: ("necrotic core", (0.35, 0.35, 0.80)),
    5: ("artery", (0.85, 0.0, 0.0)),
    6: ("fat", (0.95, 0.90, 0.55)),
}
FIT_STATUS_LABELS = {
    1: ("failed", (0.85, 0.10, 0.10)),
    2: ("hit bound", (0.95, 0.65, 0.10)),
    3: ("masked", (0.40, 0.40, 0.40)),
    4: ("no signal", (0.20, 0.20, 0.70)),
    5: ("explains nothing", (0.75, 0.20, 0.75)),
    6: ("implausible value", (0.80, 0.20, 0.80)),
}
