"""4D arrays <-> vtkMRMLSequenceNode of scalar volumes, with the index (time or b) and its unit.

The index values are stored exactly (``repr`` of each float), the index name and unit are the
sequence's own (``"time"``/``"s"``, ``"b"``/``"s/mm2"``), and where each value came from is
kept as node attributes (``TMEMonitor.AxisSource`` and one ``TMEMonitor.FrameSource.<n>``
per frame where frames have their own source). A browser node and a proxy volume make the
series playable in Slicer at once.
"""
import numpy as np
import slicer

from ..errors import InputError
from . import attribute_names
from .factory import module_logic
from .geometry import node_ijk_to_ras, set_node_ijk_to_ras
from .volumes import _image_data_from_array, volume_to_array

AXIS_UNITS = {"time": "s", "b": "s/mm2", "flip_angle": "deg", "echo_time": "s"}


def array_to_sequence(scene, array, axis_values, ijk_to_ras, name, axis_name="time", axis_unit=None,
                      axis_source=None, frame_sources=None, browse=True):
    """Add a sequence node holding ``array`` (frames, slices, rows, cols) indexed by ``axis_values``."""
    array = np.asarray(array)
    axis_values = np.asarray(axis_values, dtype=float).ravel()
    if array.ndim != 4:
        raise InputError(f"{name}: expected a 4D array (frames, slices, rows, cols), got shape {array.shape}")
    if len(axis_values) != array.shape[0]:
        raise InputError(f"{name}: {array.shape[0]} frames but {len(axis_values)} {axis_name} values")
    axis_unit = axis_unit or AXIS_UNITS.get(axis_name, "")
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", scene.GenerateUniqueName(name))
    sequence.SetIndexName(axis_name)
    sequence.SetIndexUnit(axis_unit)
    sequence.SetIndexType(sequence.NumericIndex)
    for frame, value in enumerate(axis_values):
        volume = slicer.vtkMRMLScalarVolumeNode()
        volume.SetName(f"{name} {axis_name}={value:g} {axis_unit}")
        volume.SetAndObserveImageData(_image_data_from_array(array[frame]))
        set_node_ijk_to_ras(volume, ijk_to_ras)
        sequence.SetDataNodeAtValue(volume, repr(float(value)))
    if axis_source:
        sequence.SetAttribute(attribute_names.AXIS_SOURCE, str(axis_source))
    for frame, source in enumerate(frame_sources or []):
        sequence.SetAttribute(f"{attribute_names.FRAME_SOURCE_PREFIX}{frame}", str(source))
    if browse:
        add_browser(scene, sequence)
    return sequence


def add_browser(scene, sequence):
    """A sequence browser with a proxy volume, so the series shows and plays in Slicer."""
    browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", scene.GenerateUniqueName(sequence.GetName() + " browser"))
    browser.SetAndObserveMasterSequenceNodeID(sequence.GetID())
    logic = module_logic(scene, "Sequences")
    logic.UpdateProxyNodesFromSequences(browser)
    proxy = browser.GetProxyNode(sequence)
    if proxy is not None:
        proxy.SetName(sequence.GetName())
        if proxy.GetDisplayNode() is None and hasattr(proxy, "CreateDefaultDisplayNodes"):
            proxy.CreateDefaultDisplayNodes()
    return browser


def sequence_to_array(sequence):
    """(array (frames, slices, rows, cols), axis_values, axis_name, axis_unit, ijk_to_ras) of a sequence node."""
    count = sequence.GetNumberOfDataNodes()
    if count == 0:
        raise InputError(f"sequence '{sequence.GetName()}' is empty")
    frames, values = [], []
    ijk_to_ras = None
    for index in range(count):
        node = sequence.GetNthDataNode(index)
        if not node.IsA("vtkMRMLScalarVolumeNode"):
            raise InputError(f"sequence '{sequence.GetName()}' holds {node.GetClassName()}, not scalar volumes")
        frames.append(volume_to_array(node))
        matrix = node_ijk_to_ras(node)
        if ijk_to_ras is None:
            ijk_to_ras = matrix
        elif not np.allclose(matrix, ijk_to_ras, atol=1e-4) or frames[-1].shape != frames[0].shape:
            raise InputError(f"sequence '{sequence.GetName()}': frame {index} has another geometry than frame 0")
        text = sequence.GetNthIndexValue(index)
        try:
            values.append(float(text))
        except ValueError:
            raise InputError(f"sequence '{sequence.GetName()}': index value '{text}' of frame {index} is not a number") from None
    return np.stack(frames), np.asarray(values), sequence.GetIndexName(), sequence.GetIndexUnit(), ijk_to_ras


def axis_provenance(sequence):
    """Where the index values came from, as recorded on the sequence node."""
    return {
        "axis_values": sequence.GetAttribute(attribute_names.AXIS_SOURCE) or "sequence index values",
        "frames": [sequence.GetAttribute(f"{attribute_names.FRAME_SOURCE_PREFIX}{i}")
                   for i in range(sequence.GetNumberOfDataNodes())
                   if sequence.GetAttribute(f"{attribute_names.FRAME_SOURCE_PREFIX}{i}")],
    }


def multivolume_to_array(multivolume_node):
    """Legacy MultiVolume node (inside Slicer): (array, frame values, label name, unit, ijk_to_ras)."""
    image = volume_to_array(multivolume_node)            # (k, j, i, frames)
    array = np.moveaxis(image, -1, 0)
    labels = multivolume_node.GetAttribute("MultiVolume.FrameLabels")
    if not labels:
        raise InputError(f"MultiVolume '{multivolume_node.GetName()}' has no MultiVolume.FrameLabels attribute")
    values = np.array([float(v) for v in labels.split(",")])
    units = multivolume_node.GetAttribute("MultiVolume.FrameIdentifyingDICOMTagUnits") or ""
    name = multivolume_node.GetAttribute("MultiVolume.FrameIdentifyingDICOMTagName") or "frame"
    if units == "ms":
        values, units = values / 1000.0, "s"
    axis_name = "b" if "bvalue" in name.lower().replace("-", "") else "time"
    return array, values, axis_name, units, node_ijk_to_ras(multivolume_node)
