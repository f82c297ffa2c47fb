"""Saving and loading: whole scenes as .mrb bundles, single nodes as NRRD/TSV files.

Writes are atomic (TMEMonitorLib.atomic_files): each file is written under a temporary name in
its destination folder and renamed when complete, so a kill or a failure leaves the previous
file as it was. The writers' own scratch space is cleaned in a ``finally``: Slicer's volume
writer makes a ``TempWrite<name>`` folder beside the file, and the .mrb writer packs the bundle
in a ``_tmp...`` folder under the scene's cache directory, which is pointed at the .mrb's
scratch folder for the write (not the system temp folder, where a killed run would leave it).
Both scratch areas sit in the temporary folder beside the target and are removed with it.
"""
import contextlib
import os

from ..atomic_files import replacing
from ..errors import InputError
from .factory import create_scene


@contextlib.contextmanager
def _cache_directory(scene, folder):
    """Point the scene's cache manager at ``folder`` (the .mrb's scratch folder) for one write."""
    cache = scene.GetCacheManager()
    if cache is None:
        yield
        return
    previous = cache.GetRemoteCacheDirectory()
    cache.SetRemoteCacheDirectory(folder)
    try:
        yield
    finally:
        cache.SetRemoteCacheDirectory(previous or "")


def save_scene(scene, path):
    """Write the scene with all its data to a Slicer bundle ``path`` (.mrb), atomically."""
    path = os.path.abspath(path)
    if not path.lower().endswith(".mrb"):
        raise InputError(f"scene file '{path}' must end in .mrb")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with replacing(path) as temporary, _cache_directory(scene, os.path.dirname(temporary)):
        if not scene.WriteToMRB(temporary):
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
    """Write one storable node (volume -> .nrrd, table -> .tsv/.csv, sequence -> .seq.nrrd), atomically."""
    storage = node.CreateDefaultStorageNode()
    if storage is None:
        raise InputError(f"node '{node.GetName()}' cannot be written to a file")
    if hasattr(storage, "SetUseCompression"):
        storage.SetUseCompression(True)
    with replacing(path) as temporary:
        storage.SetFileName(temporary)
        written = storage.WriteData(node)
        storage.SetFileName(os.path.abspath(path))
        if not written:
            raise IOError(f"could not write '{node.GetName()}' to '{path}'")
    return path

