"""numpy arrays <-> scalar and label-map volume nodes, geometry kept exactly."""
import numpy as np
import vtk
from vtk.util import numpy_support

from ..errors import InputError
from . import attribute_names
from .geometry import node_ijk_to_ras, set_node_ijk_to_ras


def _image_data_from_array(array):
    """vtkImageData holding a copy of a [k, j, i] array (vtk orders points i fastest)."""
    array = np.ascontiguousarray(array)
    image = vtk.vtkImageData()
    image.SetDimensions(array.shape[2], array.shape[1], array.shape[0])
    vtk_array = numpy_support.numpy_to_vtk(array.ravel(), deep=True)
    image.GetPointData().SetScalars(vtk_array)
    return image


def check_volume_array(array, name):
    array = np.asarray(array)
    if array.ndim != 3:
        raise InputError(f"{name}: expected a 3D array (slices, rows, cols), got shape {array.shape}")
    if array.dtype == bool:
        array = array.astype(np.uint8)
    return array


def array_to_volume(scene, array, ijk_to_ras, name, label_map=False, node=None, display=True):
    """Add (or update) a scalar or label-map volume node holding ``array`` with ``ijk_to_ras``.

    The array values and geometry are stored exactly; a display node is created unless
    ``display`` is False.
    """
    array = check_volume_array(array, name)
    if node is None:
        class_name = "vtkMRMLLabelMapVolumeNode" if label_map else "vtkMRMLScalarVolumeNode"
        node = scene.AddNewNodeByClass(class_name, scene.GenerateUniqueName(name))
    node.SetAndObserveImageData(_image_data_from_array(array))
    set_node_ijk_to_ras(node, ijk_to_ras)
    if display and node.GetDisplayNode() is None:
        node.CreateDefaultDisplayNodes()
    return node


def volume_to_array(volume_node, copy=True):
    """The node's voxels as a [k, j, i] numpy array (a copy unless ``copy`` is False)."""
    image = volume_node.GetImageData()
    if image is None:
        raise InputError(f"volume '{volume_node.GetName()}' has no image data")
    dims = image.GetDimensions()
    scalars = image.GetPointData().GetScalars()
    components = scalars.GetNumberOfComponents()
    array = numpy_support.vtk_to_numpy(scalars)
    shape = (dims[2], dims[1], dims[0]) if components == 1 else (dims[2], dims[1], dims[0], components)
    array = array.reshape(shape)
    return array.copy() if copy else array


def volume_geometry(volume_node):
    """(shape [k, j, i], 4x4 IJK-to-RAS) of a volume node."""
    dims = volume_node.GetImageData().GetDimensions()
    return (dims[2], dims[1], dims[0]), node_ijk_to_ras(volume_node)


def set_acquisition_attributes(node, metadata, prefix=None):
    """Record acquisition values and where they came from as node attributes (saved with the scene).

    Attribute names follow scene/attribute_names.py: ``TMEMonitor.<key>`` for a value,
    ``TMEMonitor.Source.<key>`` for a ``<key>_source`` entry. ``prefix`` (legacy) names every
    attribute ``prefix + key`` instead."""
    for key, value in (metadata or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, np.ndarray)):
            value = " ".join(str(v) for v in np.ravel(value))
        name = attribute_names.record_attribute(str(key)) if prefix is None else prefix + str(key)
        node.SetAttribute(name, str(value))


def add_label_map(scene, labels, ijk_to_ras, name, color_node=None):
    """A label-map volume node, optionally coloured by ``color_node``."""
    node = array_to_volume(scene, np.asarray(labels).astype(np.uint8), ijk_to_ras, name, label_map=True)
    if color_node is not None:
        node.GetDisplayNode().SetAndObserveColorNodeID(color_node.GetID())
    return node


def new_volume_like(scene, reference_node, name):
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", scene.GenerateUniqueName(name))
    matrix = vtk.vtkMatrix4x4()
    reference_node.GetIJKToRASMatrix(matrix)
    node.SetIJKToRASMatrix(matrix)
    return node


__all__ = ["array_to_volume", "volume_to_array", "volume_geometry", "add_label_map",
           "set_acquisition_attributes", "new_volume_like"]
