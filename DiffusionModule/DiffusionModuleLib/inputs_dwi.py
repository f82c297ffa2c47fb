"""A multi-b DWI input node -> 4D array and b-values with where they came from.

Accepts a sequence node indexed by b (s/mm2) — what ``TMEMonitorLib.io`` readers, the demo and
the command line make — a legacy MultiVolume node, or Slicer's own diffusion-weighted volume
(``vtkMRMLDiffusionWeightedVolumeNode``: one image component per gradient, with per-gradient
b-values). b-values typed by the user replace those of the node (or supply missing ones).
"""
import numpy as np
from vtk.util import numpy_support

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.scene.inputs import NodeSeries, acquisition_metadata

USER_SOURCE = "typed by the user"


def parse_b_values(text):
    """b-values (s/mm2) from text such as "0, 50, 400 800" (commas, semicolons or spaces)."""
    parts = [p for p in str(text).replace(";", " ").replace(",", " ").split() if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"b-values '{text}': expected numbers (s/mm2) separated by commas") from None
    if not values:
        raise InputError("b-values: none given")
    return np.asarray(values, dtype=float)


def dwi_series(node, b_values=None, b_source=USER_SOURCE):
    """NodeSeries (array (n_b, slices, rows, cols), axis "b", b-values, provenance) of a DWI node.

    ``b_values`` (one per frame) override the node's; without them the node must carry b-values.
    """
    if node is None:
        raise InputError("no DWI series was given")
    if node.IsA("vtkMRMLDiffusionWeightedVolumeNode"):
        series = _diffusion_weighted_volume(node, need_b=b_values is None)
    elif b_values is None:
        series = tme_scene.series_from_node(node, expected_axis="b")
    else:
        series = tme_scene.series_from_node(node)
    if b_values is not None:
        values = np.asarray(b_values, dtype=float).ravel()
        if values.size != series.array.shape[0]:
            raise InputError(f"b-values: {values.size} given for the {series.array.shape[0]} frames of "
                             f"'{node.GetName()}'")
        if series.axis_name == "b" and series.axis_values is not None and series.axis_values.size == values.size \
                and not np.allclose(series.axis_values, values):
            series.warnings.append(f"b-values of '{node.GetName()}' ({_text(series.axis_values)}) replaced by "
                                   f"{_text(values)} ({b_source})")
        series.axis_name, series.axis_values = "b", values
        series.provenance = {**series.provenance, "axis_values": b_source}
    return series


def _diffusion_weighted_volume(node, need_b):
    image = node.GetImageData()
    if image is None:
        raise InputError(f"diffusion-weighted volume '{node.GetName()}' has no image data")
    array = np.moveaxis(tme_scene.volume_to_array(node), -1, 0) if image.GetNumberOfScalarComponents() > 1 \
        else tme_scene.volume_to_array(node)[None]
    n_frames = array.shape[0]
    b_array = node.GetBValues()
    b = numpy_support.vtk_to_numpy(b_array).astype(float).copy() if b_array is not None else np.zeros(0)
    if b.size != n_frames:
        if need_b:
            raise MetadataError(f"diffusion-weighted volume '{node.GetName()}': {b.size} b-values for {n_frames} "
                                "gradient images; type the b-values")
        b = None
    metadata = acquisition_metadata(node)
    gradients = node.GetDiffusionGradients()
    if gradients is not None and gradients.GetNumberOfTuples() == n_frames:
        metadata["b_vectors"] = numpy_support.vtk_to_numpy(gradients).reshape(n_frames, -1).astype(float)
    return NodeSeries(array=array.astype(np.float32, copy=False), axis_name="b", axis_values=b,
                      ijk_to_ras=tme_scene.node_ijk_to_ras(node), metadata=metadata,
                      provenance={"axis_values": f"per-gradient b-values of the diffusion-weighted volume "
                                                 f"'{node.GetName()}'"},
                      name=node.GetName())


def _text(values):
    return ", ".join(f"{v:g}" for v in values)
