"""ModuleWidgetBase: the parameter-node lifecycle and run-with-progress of every TME Monitor panel."""
import traceback

import qt
import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModuleWidget
from slicer.util import VTKObservationMixin

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import CancelFlag, Cancelled


class ModuleWidgetBase(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """Base of the module panels.

    A subclass sets ``UI_FILE`` (relative to Resources/), implements ``createLogic()`` and
    ``connectWidgets()``, and lists in ``workButtons()`` the buttons that start work. The ``.ui``
    file must have ``progressBar``, ``statusLabel`` and ``cancelButton``.
    """

    UI_FILE = None

    def __init__(self, parent=None):
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._cancel = None

    # --- set-up ------------------------------------------------------------------------------------
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath(self.UI_FILE))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = self.createLogic()
        self.ui.cancelButton.enabled = False
        self.ui.cancelButton.connect("clicked(bool)", self.onCancel)
        self.connectWidgets()
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.initializeParameterNode()

    def createLogic(self):
        raise NotImplementedError

    def connectWidgets(self):
        """Connect the module's own buttons and selectors (the parameter-bound controls need nothing)."""

    def workButtons(self):
        """Buttons that start work: disabled while work runs."""
        return []

    def cleanup(self):
        self.removeObservers()
        self.setParameterNode(None)

    # --- parameter-node lifecycle ---------------------------------------------------------------------
    def enter(self):
        self.initializeParameterNode()

    def exit(self):
        # Hidden panels do not follow parameter changes; enter() connects them again.
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None

    def onSceneStartClose(self, caller, event):
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event):
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self):
        self.setParameterNode(self.logic.getParameterNode())

    def setParameterNode(self, parameterNode):
        if self._parameterNode and self._parameterNodeGuiTag is not None:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
        self._parameterNode = parameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
        self.onParameterNodeSet()

    def onParameterNodeSet(self):
        """Called after the panel's parameter node changed (None on scene close)."""

    # --- running work ---------------------------------------------------------------------------------
    def runWithProgress(self, label, function):
        """``function(progress)`` with the progress bar, Cancel and disabled work buttons.

        Returns its result, or None when it was cancelled (status line, no dialog) or failed
        (an error dialog: bad input gets its message, anything else also the traceback).
        """
        self._cancel = CancelFlag(lambda fraction, message="": self.showProgress(label, fraction, message))
        buttons = [b for b in self.workButtons() if b.enabled]
        for button in buttons:
            button.enabled = False
        self.ui.cancelButton.enabled = True
        self.ui.progressBar.value = 0
        slicer.app.setOverrideCursor(qt.Qt.WaitCursor)
        try:
            return function(self._cancel)
        except Cancelled:
            self.ui.statusLabel.text = f"{label}: cancelled; nothing was written."
        except InputError as error:
            # Bad input: say what is wrong; the scene is as it was.
            self.ui.statusLabel.text = f"<b>{label}: cannot run:</b> {error}"
            self.showError(f"{label}: {error}")
        except Exception as error:
            self.ui.statusLabel.text = f"<b>{label} failed:</b> {error}"
            self.showError(f"{label} failed: {error}", traceback.format_exc())
        finally:
            slicer.app.restoreOverrideCursor()
            self.ui.cancelButton.enabled = False
            for button in buttons:
                button.enabled = True
            self._cancel = None
        return None

    def runQuick(self, label, function):
        """A short action (no progress): errors shown as by runWithProgress."""
        try:
            return function()
        except InputError as error:
            self.ui.statusLabel.text = f"<b>{label}:</b> {error}"
            self.showError(f"{label}: {error}")
        except Exception as error:
            self.ui.statusLabel.text = f"<b>{label} failed:</b> {error}"
            self.showError(f"{label} failed: {error}", traceback.format_exc())
        return None

    def showError(self, message, details=None):
        if details:
            slicer.util.errorDisplay(message, detailedText=details)
        else:
            slicer.util.errorDisplay(message)

    def showProgress(self, label, fraction, message=""):
        self.ui.progressBar.value = int(100 * fraction)
        self.ui.statusLabel.text = f"{label}: {message}" if message else label
        slicer.app.processEvents()

    def onCancel(self):
        if self._cancel is not None:
            self._cancel.cancel()
