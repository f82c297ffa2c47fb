"""Resolve module inputs from MRML nodes: 4D series, 3D volumes and masks, with geometry checks.

Module Logic classes call these before computing anything, so that bad input is refused
with a clear message while the scene is still untouched.
"""
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, MetadataError
from ..io.series import Series
from . import attribute_names
from .geometry import node_ijk_to_ras, same_geometry
from .sequences import axis_provenance, multivolume_to_array, sequence_to_array
from .volumes import volume_geometry, volume_to_array

ACQUISITION_PREFIX = attribute_names.PREFIX


@dataclass(eq=False)
class NodeSeries(Series):
    """A 4D series taken from a node: the reader's :class:`TMEMonitorLib.io.Series` (same fields,
    geometry properties) plus the node's name."""
    name: str = ""


def acquisition_metadata(node):
    """Acquisition values recorded as ``TMEMonitor.<key>`` attributes (numbers where they parse);
    where a value came from is returned as ``<key>_source`` (attributes ``TMEMonitor.Source.<key>``,
    or ``TMEMonitor.<key>_source`` in scenes saved before; see scene/attribute_names.py)."""
    out = {}
    for name in node.GetAttributeNames() or ():
        if not name.startswith(ACQUISITION_PREFIX):
            continue
        key = attribute_names.record_key(name)
        text = node.GetAttribute(name)
        try:
            out[key] = float(text)
        except (TypeError, ValueError):
            out[key] = text
    return out


def series_from_node(node, expected_axis=None):
    """NodeSeries from a vtkMRMLSequenceNode (or a legacy MultiVolume node inside Slicer)."""
    if node is None:
        raise InputError("no input series was given")
    if node.IsA("vtkMRMLSequenceNode"):
        array, values, axis_name, unit, ijk_to_ras = sequence_to_array(node)
        provenance = axis_provenance(node)
    elif node.IsA("vtkMRMLMultiVolumeNode"):
        array, values, axis_name, unit, ijk_to_ras = multivolume_to_array(node)
        provenance = {"axis_values": "MultiVolume.FrameLabels attribute"}
    else:
        raise InputError(f"'{node.GetName()}' is a {node.GetClassName()}, not a 4D series (sequence node)")
    axis_name = (axis_name or "").strip()
    if expected_axis == "time":
        if axis_name not in ("time", "t", "Time", "TriggerTime", "AcquisitionTime"):
            raise MetadataError(f"series '{node.GetName()}' is indexed by '{axis_name}', not by time")
        if unit in ("ms", "msec"):
            values = values / 1000.0
        elif unit in ("min",):
            values = values * 60.0
        elif unit not in ("s", "sec", "second", "seconds"):
            raise MetadataError(f"series '{node.GetName()}': unknown time unit '{unit}' (expected s, ms or min)")
        axis_name = "time"
    elif expected_axis == "b":
        if axis_name not in ("b", "bvalue", "b-value", "DiffusionBValue"):
            raise MetadataError(f"series '{node.GetName()}' is indexed by '{axis_name}', not by b-value")
        if unit not in ("s/mm2", "s/mm^2", "s/mm²", ""):
            raise MetadataError(f"series '{node.GetName()}': unknown b-value unit '{unit}' (expected s/mm2)")
        axis_name = "b"
    if not np.all(np.isfinite(array)):
        bad = [i for i in range(array.shape[0]) if not np.all(np.isfinite(array[i]))]
        if any(np.isnan(array[i]).all() for i in bad):
            raise InputError(f"series '{node.GetName()}': frame(s) {bad} hold only NaN")
    return NodeSeries(array=array.astype(np.float32, copy=False), axis_name=axis_name, axis_values=values,
                      ijk_to_ras=ijk_to_ras, metadata=acquisition_metadata(node), provenance=provenance,
                      name=node.GetName())


def volume_from_node(node, reference_shape=None, reference_ijk_to_ras=None, what="volume"):
    """(array, ijk_to_ras) of a scalar volume, checked against a reference grid when given."""
    if node is None or not node.IsA("vtkMRMLScalarVolumeNode"):
        raise InputError(f"{what}: expected a scalar volume node")
    array = volume_to_array(node)
    shape, ijk_to_ras = volume_geometry(node)
    if reference_shape is not None and not same_geometry(shape, ijk_to_ras, reference_shape, reference_ijk_to_ras):
        raise InputError(f"{what} '{node.GetName()}' is on another grid ({shape}) than the series "
                         f"({tuple(reference_shape)}); resample it first")
    return array, ijk_to_ras


def mask_from_node(scene, node, reference_shape, reference_ijk_to_ras, segment_id=None, what="mask"):
    """Boolean mask on the reference grid from a label map, scalar volume or segmentation node."""
    if node is None:
        return None
    if node.IsA("vtkMRMLSegmentationNode"):
        return _segmentation_mask(scene, node, reference_shape, reference_ijk_to_ras, segment_id)
    array, _ = volume_from_node(node, reference_shape, reference_ijk_to_ras, what)
    mask = array > 0
    if not mask.any():
        raise InputError(f"{what} '{node.GetName()}' is empty")
    return mask


def _segmentation_mask(scene, segmentation_node, reference_shape, reference_ijk_to_ras, segment_id):
    import slicer
    import vtk
    from .factory import module_logic
    from .volumes import array_to_volume
    segmentation = segmentation_node.GetSegmentation()
    if segmentation.GetNumberOfSegments() == 0:
        raise InputError(f"segmentation '{segmentation_node.GetName()}' has no segments")
    ids = vtk.vtkStringArray()
    if segment_id is not None:
        if segmentation.GetSegment(segment_id) is None:
            raise InputError(f"segmentation '{segmentation_node.GetName()}' has no segment '{segment_id}'")
        ids.InsertNextValue(segment_id)
    else:
        segmentation.GetSegmentIDs(ids)
    # Export onto the reference grid through a temporary label map (removed afterwards).
    reference = slicer.vtkMRMLScalarVolumeNode()
    array_to_volume(scene, np.zeros(reference_shape, np.uint8), reference_ijk_to_ras, "tmp", node=reference, display=False)
    labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "__tme_tmp_mask")
    ids_before = {scene.GetNthNode(i).GetID() for i in range(scene.GetNumberOfNodes())}
    try:
        logic = module_logic(scene, "Segmentations")
        logic.ExportSegmentsToLabelmapNode(segmentation_node, ids, labelmap, reference)
        mask = volume_to_array(labelmap) > 0
    finally:
        # The export adds display and colour nodes beside the label map: remove them all.
        added = [scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes())]
        for node in added:
            if node is not None and node.GetID() not in ids_before:
                scene.RemoveNode(node)
        scene.RemoveNode(labelmap)
    if mask.shape != tuple(reference_shape) or not mask.any():
        raise InputError(f"segmentation '{segmentation_node.GetName()}' does not overlap the series grid")
    return mask


def labelmap_to_segmentation(scene, labelmap_node, name=None):
    """A segmentation node made from a label map (one segment per label, named by its colour table)."""
    from .factory import module_logic
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", scene.GenerateUniqueName(name or labelmap_node.GetName()))
    module_logic(scene, "Segmentations").ImportLabelmapToSegmentationNode(labelmap_node, segmentation)
    return segmentation


def check_node_ijk(node):
    return node_ijk_to_ras(node)


def segment_masks(scene, segmentation, reference_shape, reference_ijk_to_ras):
    """{segment name: mask on the reference grid} for every segment of a segmentation node."""
    seg = segmentation.GetSegmentation()
    return {seg.GetSegment(seg.GetNthSegmentID(i)).GetName():
            mask_from_node(scene, segmentation, reference_shape, reference_ijk_to_ras, segment_id=seg.GetNthSegmentID(i))
            for i in range(seg.GetNumberOfSegments())}


# The roll-back guard lives in rollback.py (nodes and subject-hierarchy items); kept importable here.
from .rollback import RemoveAddedNodesOnError  # noqa: E402,F401
