"""The fake ``slicer`` application: slicer-core's real MRML joined with Slicer's own Python layer.

``SlicerEnvironment(tag)`` (a context manager) makes, for the duration of a test:

- ``slicer``: slicer-core's package (real vtkMRMLScene, node classes and module logics) with
  the vendored ``slicer.util``, ``slicer.i18n``, ``slicer.parameterNodeWrapper`` and
  ``slicer.ScriptedLoadableModule`` of the chosen tag, ``slicer.mrmlScene`` (a headless scene
  with the Sequences, Plots, Markups... logics), ``slicer.app`` and ``slicer.modules``;
- ``qt`` and ``ctk``: modules of strict stand-ins (``qt_widgets``, ``mrml_widgets``);
- the qMRML widget classes on ``slicer`` (``slicer.qMRMLNodeComboBox``...).

Everything is put back on exit, so the rest of the test session sees slicer-core alone.
"""
import importlib
import importlib.util
import logging
import os
import sys
import tempfile
import time
import types

from . import mrml_widgets, qt_widgets, ui_loader
from .strict import StrictObject, StrictPlain

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TAGS = ("v5.8.0", "v5.10.0")
MODULE_NAMES = ("TMEMonitor", "DCEModule", "DiffusionModule", "SpectroscopyModule", "HypoxiaModule", "ElastographyModule")
_VENDORED = ("i18n", "util", "parameterNodeWrapper", "ScriptedLoadableModule")


# --- qt / ctk module namespaces ---------------------------------------------------------------
class _Enum:
    def __init__(self, **values):
        self.__dict__.update(values)


class _QtNamespace:
    WaitCursor = 3
    ArrowCursor = 0
    UserRole = 256
    DisplayRole = 0
    ToolTipRole = 3
    ShiftModifier = 0x02000000
    ControlModifier = 0x04000000
    NoModifier = 0
    Checked = 2
    Unchecked = 0
    AlignLeft = 1
    AlignRight = 2
    AlignCenter = 0x84
    Horizontal = 1
    Vertical = 2
    ItemIsEnabled = 32
    ItemIsSelectable = 1
    ItemIsEditable = 2
    MatchExactly = 0
    MatchFixedString = 8
    FastTransformation = 0
    SmoothTransformation = 1


class _QMessageBox(qt_widgets.QWidget):
    CLASS = "QMessageBox"
    Ok = 0x00000400
    Cancel = 0x00400000
    Yes = 0x00004000
    No = 0x00010000
    Close = 0x00200000
    Retry = 0x00080000
    NoIcon, Information, Warning, Critical, Question = 0, 1, 2, 3, 4


class _QFile(StrictPlain):
    CLASS = "QFile"
    ReadOnly = 1

    def __init__(self, path):
        object.__setattr__(self, "_path", str(path))

    def exists(self):
        return os.path.isfile(self._path)

    def open(self, mode):
        return self.exists()

    def close(self):
        pass

    def fileName(self):
        return self._path


class _QUiLoader(StrictPlain):
    CLASS = "QUiLoader"

    def load(self, qfile, parent=None):
        widget = ui_loader.load(qfile.fileName(), _widget_classes())
        if parent is not None:
            widget.setParent(parent)
        return widget


class _QSettings(StrictPlain):
    CLASS = "QSettings"
    _store = {}

    def __init__(self, *args):
        pass

    def value(self, key, default=None):
        return self._store.get(key, default)

    def setValue(self, key, value):
        self._store[key] = value

    def contains(self, key):
        return key in self._store

    def remove(self, key):
        self._store.pop(key, None)


class _QIcon(StrictPlain):
    CLASS = "QIcon"

    def __init__(self, path=""):
        object.__setattr__(self, "_path", path)

    def isNull(self):
        return not self._path


class _QUrl(StrictPlain):
    CLASS = "QUrl"
    TolerantMode = 0

    def __init__(self, url="", mode=None):
        object.__setattr__(self, "_url", url)

    @staticmethod
    def fromLocalFile(path):
        return _QUrl("file://" + path)

    def toLocalFile(self):
        return self._url[len("file://"):] if self._url.startswith("file://") else ""

    def toString(self):
        return self._url


def _widget_classes():
    classes = {}
    for namespace in (qt_widgets, mrml_widgets):
        for value in vars(namespace).values():
            if isinstance(value, type) and issubclass(value, StrictObject):
                classes[value.CLASS] = value
    return classes


def _make_qt_module(env):
    qt = types.ModuleType("qt")
    for name, value in vars(qt_widgets).items():
        if isinstance(value, type) and name.startswith("Q"):
            setattr(qt, name, value)
    qt.Qt = _QtNamespace
    qt.QMessageBox = _QMessageBox
    qt.QFile = _QFile
    qt.QUiLoader = _QUiLoader
    qt.QSettings = _QSettings
    qt.QIcon = _QIcon
    qt.QUrl = _QUrl
    qt.QObject = StrictObject
    qt.QSizePolicy = _Enum(Preferred=5, Expanding=7, Fixed=0, Minimum=1, Maximum=4)

    class QApplication:
        @staticmethod
        def setOverrideCursor(cursor):
            env.app.setOverrideCursor(cursor)

        @staticmethod
        def restoreOverrideCursor():
            env.app.restoreOverrideCursor()

        @staticmethod
        def processEvents(*args):
            env.app.processEvents()

    qt.QApplication = QApplication

    class QFileDialog:
        """Static dialogs answer what the test queued in ``env.file_dialog_answers``."""

        @staticmethod
        def getOpenFileName(*args, **kwargs):
            return env.file_dialog_answers.pop(0) if env.file_dialog_answers else ""

        @staticmethod
        def getExistingDirectory(*args, **kwargs):
            return env.file_dialog_answers.pop(0) if env.file_dialog_answers else ""

        @staticmethod
        def getSaveFileName(*args, **kwargs):
            return env.file_dialog_answers.pop(0) if env.file_dialog_answers else ""

    qt.QFileDialog = QFileDialog

    class QInputDialog:
        @staticmethod
        def getText(*args, **kwargs):
            return env.input_dialog_answers.pop(0) if env.input_dialog_answers else ""

    qt.QInputDialog = QInputDialog

    class QDesktopServices:
        @staticmethod
        def openUrl(url):
            env.opened_urls.append(url.toString())
            return True

    qt.QDesktopServices = QDesktopServices

    class QTimer:
        @staticmethod
        def singleShot(msec, callable_):
            env.app._pending.append(callable_)

    qt.QTimer = QTimer
    return qt


def _make_ctk_module():
    ctk = types.ModuleType("ctk")
    for name, value in vars(mrml_widgets).items():
        if isinstance(value, type) and name.startswith("ctk"):
            setattr(ctk, name, value)
    return ctk


class qMRMLScreenShotDialog(StrictPlain):
    CLASS = "qMRMLScreenShotDialog"


class qMRMLUtils(StrictPlain):
    CLASS = "qMRMLUtils"


# --- slicer.app and slicer.modules ------------------------------------------------------------------
class _CommandOptions(StrictPlain):
    CLASS = "qSlicerCommandOptions"

    def __init__(self):
        object.__setattr__(self, "_run", False)

    @property
    def runPythonAndExit(self):
        return self._run


class _CoreIOManager(StrictObject):
    """qSlicerCoreIOManager (fileType, loadNodes): scene files (.mrb) are read into the harness scene as
    Slicer's scene readers do (``clear`` property, default False: imported); every call is recorded in
    ``env.loaded_files``. Other file types are not readable here (False, with a user message)."""

    CLASS = "qSlicerCoreIOManager"
    SIGNALS = ("newFileLoaded(qSlicerIO::IOProperties)", "fileSaved(qSlicerIO::IOProperties)")

    def __init__(self, env):
        super().__init__()
        object.__setattr__(self, "_env", env)

    def fileType(self, fileName):
        return "SceneFile" if str(fileName).lower().endswith((".mrb", ".mrml")) else "NoFile"

    def loadNodes(self, fileType, parameters, loadedNodes=None, userMessages=None):
        path = str(parameters.get("fileName", ""))
        self._env.loaded_files.append({"fileType": fileType, "properties": dict(parameters)})
        if fileType != "SceneFile" or not path.lower().endswith(".mrb"):
            if userMessages is not None:
                userMessages.AddMessage(0, f"harness: cannot read '{path}' as {fileType}")
            return False
        if not os.path.isfile(path):
            if userMessages is not None:
                userMessages.AddMessage(0, f"file '{path}' does not exist")
            return False
        return bool(self._env.scene.ReadFromMRB(path, bool(parameters.get("clear", False)), userMessages))


class _ModuleManager(StrictObject):
    CLASS = "qSlicerModuleManager"
    SIGNALS = ("moduleAboutToBeUnloaded(QString)", "moduleLoaded(QString)")


class SlicerApplication(StrictObject):
    """qSlicerApplication (the methods scripted modules reach); records progress and dialogs."""

    CLASS = "qSlicerApplication"
    PROPERTIES = {"temporaryPath": "", "applicationName": "3D Slicer", "documentationBaseUrl": "",
                  "slicerHome": "", "launcherExecutableFilePath": "", "mainApplicationDisplayName": "3D Slicer",
                  "defaultScenePath": ""}
    READ_ONLY = {"applicationName", "documentationBaseUrl", "slicerHome", "mainApplicationDisplayName"}

    def __init__(self, env):
        super().__init__()
        object.__setattr__(self, "_env", env)
        object.__setattr__(self, "_cursor_depth", 0)
        object.__setattr__(self, "_pending", [])
        object.__setattr__(self, "_module_manager", _ModuleManager())
        object.__setattr__(self, "_main_window", qt_widgets.QWidget())
        object.__setattr__(self, "_io_manager", _CoreIOManager(env))
        self._main_window.objectName = "qSlicerMainWindow"
        self._values["temporaryPath"] = env.temporary_path

    def processEvents(self, *args):
        """Where a user's queued clicks reach the widgets while work runs (as in Qt's event loop)."""
        self._env.process_events_times.append(time.perf_counter())
        pending = list(self._pending)
        self._pending.clear()
        for action in pending:
            action()
        for hook in list(self._env.process_events_hooks):
            hook()

    def applicationLogic(self):
        return self._env.application_logic

    def setOverrideCursor(self, cursor):
        object.__setattr__(self, "_cursor_depth", self._cursor_depth + 1)

    def restoreOverrideCursor(self):
        object.__setattr__(self, "_cursor_depth", self._cursor_depth - 1)

    def overrideCursor(self):
        return 3 if self._cursor_depth > 0 else None

    def testingEnabled(self):
        # False: dialogs are "shown" (recorded by ctkMessageBox.exec_), as for a user.
        return False

    def topLevelWidgets(self):
        return [self._main_window]

    def moduleManager(self):
        return self._module_manager

    def coreIOManager(self):
        return self._io_manager

    def commandOptions(self):
        return _CommandOptions()

    def layoutManager(self):
        return None

    def userSettings(self):
        return _QSettings()

    def settings(self):
        return _QSettings()

    def translate(self, context, text):
        return text

    def pauseRender(self):
        pass

    def resumeRender(self):
        pass

    def moduleDocumentationUrl(self, name):
        return ""


class _ModuleEntry(StrictPlain):
    """slicer.modules.<name>: a loaded module (qSlicerAbstractModule: path, logic())."""

    CLASS = "qSlicerAbstractModule"

    def __init__(self, name, path, logic_getter):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_logic_getter", logic_getter)
        object.__setattr__(self, "_widget", None)

    @property
    def path(self):
        return self._path

    @property
    def name(self):
        return self._name

    def logic(self):
        return self._logic_getter()

    def widgetRepresentation(self):
        return self._widget


class _Modules(StrictPlain):
    CLASS = "slicer.modules"

    def __init__(self):
        object.__setattr__(self, "_entries", {})

    def _add(self, name, entry):
        self._entries[name.lower()] = entry

    def __getattr__(self, name):
        entries = object.__getattribute__(self, "_entries")
        if name in entries:
            return entries[name]
        raise AttributeError(f"slicer.modules has no module '{name}' (loaded: {sorted(entries)})")


class _ModuleParent(StrictPlain):
    """qSlicerScriptedLoadableModule: what ScriptedLoadableModule.__init__ sets on its parent."""

    CLASS = "qSlicerScriptedLoadableModule"
    _FIELDS = ("title", "categories", "dependencies", "contributors", "helpText", "acknowledgementText", "icon",
               "hidden", "index", "associatedNodeTypes")

    def __init__(self, path):
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_fields", {})

    @property
    def path(self):
        return self._path

    def __setattr__(self, name, value):
        if name not in self._FIELDS:
            raise AttributeError(f"qSlicerScriptedLoadableModule has no property '{name}'")
        self._fields[name] = value

    def __getattr__(self, name):
        fields = object.__getattribute__(self, "_fields")
        if name in fields:
            return fields[name]
        raise AttributeError(f"qSlicerScriptedLoadableModule has no property '{name}'")


# --- the environment ----------------------------------------------------------------------------------
class SlicerEnvironment:
    def __init__(self, tag):
        if tag not in TAGS:
            raise ValueError(f"unknown Slicer tag {tag}; vendored: {TAGS}")
        self.tag = tag
        self.vendor = os.path.join(HERE, "vendor", tag, "slicer")
        self.dialogs = []
        self.file_dialog_answers = []
        self.input_dialog_answers = []
        self.opened_urls = []
        self.loaded_files = []
        self.process_events_times = []
        self.process_events_hooks = []
        self.widgets = {}
        self._saved_modules = {}
        self._saved_attributes = {}
        self._temporary = None

    # --- set-up / tear-down -------------------------------------------------------------------------
    def __enter__(self):
        import slicer
        from TMEMonitorLib.scene import factory
        self._slicer = slicer
        self._temporary = tempfile.TemporaryDirectory(prefix="tme-harness-")
        self.temporary_path = self._temporary.name
        managed = ["qt", "ctk"] + [f"slicer.{n}" for n in _VENDORED] + list(MODULE_NAMES)
        managed += [k for k in sys.modules if k.startswith("slicer.parameterNodeWrapper.")]
        for key in managed:
            self._saved_modules[key] = sys.modules.pop(key, None)
        self.qt = _make_qt_module(self)
        self.ctk = _make_ctk_module()
        sys.modules["qt"] = self.qt
        sys.modules["ctk"] = self.ctk

        self.scene = factory.create_scene()
        self.application_logic = factory._APPLICATION_LOGICS[id(self.scene)][1]
        self.app = SlicerApplication(self)
        self.modules = _Modules()
        for name in ("Sequences", "Plots", "Markups", "Tables", "Volumes", "Segmentations", "SubjectHierarchy",
                     "Colors", "Transforms"):
            self.modules._add(name, _ModuleEntry(name, "", lambda n=name: self.application_logic.GetModuleLogic(n)))
        attributes = {"mrmlScene": self.scene, "app": self.app, "modules": self.modules, "selfTests": {}}
        for name, value in vars(mrml_widgets).items():
            if isinstance(value, type) and name.startswith("q"):
                attributes[name] = value
        attributes["qMRMLScreenShotDialog"] = qMRMLScreenShotDialog
        attributes["qMRMLUtils"] = qMRMLUtils
        for name, value in attributes.items():
            self._set_slicer_attribute(name, value)
        for name in _VENDORED:
            self._load_vendored(name)
        mrml_widgets.ctkMessageBox.dialogs = self.dialogs
        _QSettings._store = {}
        return self

    def _set_slicer_attribute(self, name, value):
        if name not in self._saved_attributes:
            self._saved_attributes[name] = getattr(self._slicer, name, _MISSING)
        setattr(self._slicer, name, value)

    def _load_vendored(self, name):
        path = os.path.join(self.vendor, name)
        full = f"slicer.{name}"
        if os.path.isdir(path):
            spec = importlib.util.spec_from_file_location(full, os.path.join(path, "__init__.py"),
                                                          submodule_search_locations=[path])
        else:
            spec = importlib.util.spec_from_file_location(full, path + ".py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        self._set_slicer_attribute(name, module)
        spec.loader.exec_module(module)
        return module

    def __exit__(self, *exc):
        for widget in self.widgets.values():
            try:
                widget.cleanup()
            except Exception:
                logging.exception("cleanup failed")
        self.widgets.clear()
        mrml_widgets.ctkMessageBox.dialogs = None
        from TMEMonitorLib.scene import factory
        factory.release_scene(self.scene)
        for key in [k for k in sys.modules if k.startswith("slicer.parameterNodeWrapper.")]:
            sys.modules.pop(key, None)
        for key, module in self._saved_modules.items():
            if module is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = module
        for name, value in self._saved_attributes.items():
            if value is _MISSING:
                if hasattr(self._slicer, name):
                    delattr(self._slicer, name)
            else:
                setattr(self._slicer, name, value)
        self._temporary.cleanup()
        return False

    # --- modules ---------------------------------------------------------------------------------------
    def load_module(self, name):
        """Import ``<name>/<name>.py`` (fresh, under this tag's Slicer layer) and register it in slicer.modules."""
        path = os.path.join(REPO, name, name + ".py")
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        sys.modules.pop(name, None)
        python_module = importlib.import_module(name)
        entry = _ModuleEntry(name, path, lambda: getattr(python_module, name + "Logic")())
        self.modules._add(name, entry)
        module_class = getattr(python_module, name)
        module = module_class(_ModuleParent(path))
        return python_module, module

    def create_widget(self, name, enter=True):
        """Set up the module panel as Slicer does (qSlicerScriptedLoadableModuleWidget parent, setup, enter)."""
        python_module, module = self.load_module(name)
        parent = mrml_widgets.qSlicerScriptedLoadableModuleWidget()
        parent.setLayout(qt_widgets.QVBoxLayout())
        parent.setMRMLScene(self.scene)
        widget = getattr(python_module, name + "Widget")(parent)
        widget.setup()
        self.modules.__getattr__(name.lower())._widget = widget
        self.widgets[name] = widget
        if enter:
            self.enter(widget)
        return widget

    def enter(self, widget):
        widget.parent._set_entered(True)
        widget.enter()

    def exit(self, widget):
        widget.exit()
        widget.parent._set_entered(False)

    def close_scene(self):
        """File > Close Scene."""
        self.scene.Clear(0)

    def error_dialogs(self):
        return [d for d in self.dialogs if d["icon"] == _QMessageBox.Critical]


_MISSING = object()
