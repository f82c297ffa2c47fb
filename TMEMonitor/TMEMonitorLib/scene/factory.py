"""Headless MRML scene factory.

Inside Slicer the caller passes ``slicer.mrmlScene``; headless (slicer-core) this module
builds an equivalent scene: a vtkMRMLScene with a cache and data-IO manager (needed to read
``.mrb`` files), a vtkSlicerApplicationLogic, and the module logics whose node classes the
project uses (a module's node classes are registered only once its logic has the scene).
"""
import atexit
import shutil
import tempfile

import slicer
import vtk

# Module logics registered on a headless scene, by the name Slicer gives them.
_MODULE_LOGICS = (
    ("Colors", "vtkSlicerColorLogic"),
    ("Volumes", "vtkSlicerVolumesLogic"),
    ("Sequences", "vtkSlicerSequencesLogic"),
    ("Segmentations", "vtkSlicerSegmentationsModuleLogic"),
    ("SubjectHierarchy", "vtkSlicerSubjectHierarchyModuleLogic"),
    ("Tables", "vtkSlicerTablesLogic"),
    ("Plots", "vtkSlicerPlotsLogic"),
    ("Transforms", "vtkSlicerTransformLogic"),
    ("Markups", "vtkSlicerMarkupsLogic"),
)

# Keeps the application logic (and with it the module logics) alive as long as the scene.
_APPLICATION_LOGICS = {}
_CACHE_DIRECTORY = []


def _cache_directory():
    """One remote-cache folder per process (MRB reading needs one), removed at exit."""
    if not _CACHE_DIRECTORY:
        path = tempfile.mkdtemp(prefix="tme-monitor-cache-")
        atexit.register(shutil.rmtree, path, ignore_errors=True)
        _CACHE_DIRECTORY.append(path)
    return _CACHE_DIRECTORY[0]


def create_scene():
    """A new headless scene ready for volumes, sequences, segmentations, tables and plots."""
    scene = slicer.vtkMRMLScene()
    cache = slicer.vtkCacheManager()
    cache.SetRemoteCacheDirectory(_cache_directory())
    scene.SetCacheManager(cache)
    data_io = slicer.vtkDataIOManager()
    data_io.SetCacheManager(cache)
    scene.SetDataIOManager(data_io)

    application_logic = slicer.vtkSlicerApplicationLogic()
    application_logic.SetMRMLScene(scene)
    # The Colors logic complains that it has no home directory (no colour files headless);
    # the project builds its own perceptual tables (colormaps.py), so silence that one message.
    warnings_were_on = vtk.vtkObject.GetGlobalWarningDisplay()
    vtk.vtkObject.GlobalWarningDisplayOff()
    try:
        logics = []
        for module_name, class_name in _MODULE_LOGICS:
            logic = getattr(slicer, class_name)()
            logic.SetMRMLApplicationLogic(application_logic)
            logic.SetMRMLScene(scene)
            application_logic.SetModuleLogic(module_name, logic)
            logics.append(logic)
    finally:
        if warnings_were_on:
            vtk.vtkObject.GlobalWarningDisplayOn()
    _APPLICATION_LOGICS[id(scene)] = (scene, application_logic, logics, cache, data_io)
    return scene


def release_scene(scene):
    """Forget a headless scene created by :func:`create_scene` (frees its logics)."""
    entry = _APPLICATION_LOGICS.pop(id(scene), None)
    if entry is not None:
        scene.Clear(True)


def module_logic(scene, module_name):
    """The module logic registered for ``scene`` (headless), or Slicer's own inside the application."""
    entry = _APPLICATION_LOGICS.get(id(scene))
    if entry is not None:
        return entry[1].GetModuleLogic(module_name)
    application = getattr(slicer, "app", None)
    if application is not None:
        return application.applicationLogic().GetModuleLogic(module_name)
    raise RuntimeError(f"no {module_name} logic: create the scene with TMEMonitorLib.scene.create_scene()")
