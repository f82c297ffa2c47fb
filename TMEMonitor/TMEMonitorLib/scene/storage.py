"""Saving and loading: whole scenes as .mrb bundles, single nodes as NRRD/TSV files."""
import os

from ..errors import InputError
from .factory import create_scene


def save_scene(scene, path):
    """Write the scene with all its data to a Slicer bundle ``path`` (.mrb)."""
    path = os.path.abspath(path)
    if not path.lower().endswith(".mrb"):
        raise InputError(f"scene file '{path}' must end in .mrb")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not scene.WriteToMRB(path):
        raise IOError(f"could not write the scene to '{path}'")
    return path


def load_scene(path, scene=None):
    """Read a .mrb bundle into ``scene`` (a new headless scene when None) and return the scene."""
    if not os.path.isfile(path):
        raise InputError(f"scene file '{path}' does not exist")
    scene = scene or create_scene()
    if not scene.ReadFromMRB(path):
        raise InputError(f"could not read the scene bundle '{path}'")
    return scene


def write_node(node, path):
    """Write one storable node (volume -> .nrrd, table -> .tsv/.csv, sequence -> .seq.nrrd)."""
    storage = node.CreateDefaultStorageNode()
    if storage is None:
        raise InputError(f"node '{node.GetName()}' cannot be written to a file")
    storage.SetFileName(os.path.abspath(path))
    if hasattr(storage, "SetUseCompression"):
        storage.SetUseCompression(True)
    if not storage.WriteData(node):
        raise IOError(f"could not write '{node.GetName()}' to '{path}'")
    return path
