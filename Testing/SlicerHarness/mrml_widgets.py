"""Stand-ins for the CTK and qMRML widgets (declarations from CTK's and Slicer's headers).

The qMRML widgets work on the real slicer-core scene: a qMRMLNodeComboBox lists the
scene's nodes of its ``nodeTypes`` and forgets a node removed from the scene.
"""
import vtk

from .qt_widgets import QAbstractButton, QComboBox, QTableView, QWidget
from .strict import StrictObject


class ctkCollapsibleButton(QAbstractButton):
    """ctkCollapsibleButton.h"""

    CLASS = "ctkCollapsibleButton"
    PROPERTIES = {"collapsed": False, "collapsedHeight": 14, "flat": False, "contentsFrameShape": None,
                  "contentsFrameShadow": None, "contentsLineWidth": 1, "contentsMidLineWidth": 0,
                  "buttonTextAlignment": None, "indicatorAlignment": None, "checkable": True, "checked": True}
    SIGNALS = ("contentsCollapsed(bool)",)

    def _set_collapsed(self, value):
        value = bool(value)
        if value != self._values["collapsed"]:
            self._values["collapsed"] = value
            self._emit("contentsCollapsed", value)


class ctkComboBox(QComboBox):
    CLASS = "ctkComboBox"
    PROPERTIES = {"defaultText": "", "defaultIcon": None, "forceDefault": False, "elideMode": None,
                  "scrollWheelEffect": None}


class ctkCheckBox(QAbstractButton):
    CLASS = "ctkCheckBox"


class ctkSliderWidget(QWidget):
    CLASS = "ctkSliderWidget"


class ctkDoubleSlider(QWidget):
    CLASS = "ctkDoubleSlider"


class ctkDoubleSpinBox(QWidget):
    CLASS = "ctkDoubleSpinBox"


class ctkRangeWidget(QWidget):
    CLASS = "ctkRangeWidget"


class ctkDoubleRangeSlider(QWidget):
    CLASS = "ctkDoubleRangeSlider"


class ctkPathLineEdit(QWidget):
    """ctkPathLineEdit.h"""

    CLASS = "ctkPathLineEdit"
    PROPERTIES = {"label": "", "nameFilters": None, "filters": None, "currentPath": "", "showBrowseButton": True,
                  "showHistoryButton": True, "sizeAdjustPolicy": None, "minimumContentsLength": 0,
                  "settingKey": "", "options": None}
    SIGNALS = ("validInputChanged(bool)", "currentPathChanged(QString)")


class ctkDirectoryButton(QWidget):
    CLASS = "ctkDirectoryButton"
    PROPERTIES = {"directory": "", "caption": "", "text": "", "icon": None, "options": None, "acceptMode": None,
                  "elideMode": None}
    SIGNALS = ("directoryChanged(QString)", "directorySelected(QString)")


class ctkCheckablePushButton(QAbstractButton):
    CLASS = "ctkCheckablePushButton"
    PROPERTIES = {"checkBoxControlsButton": True, "checkBoxControlsButtonToggleState": False,
                  "checkState": None, "buttonTextAlignment": None, "indicatorAlignment": None}


class ctkColorPickerButton(QWidget):
    CLASS = "ctkColorPickerButton"
    PROPERTIES = {"color": None, "displayColorName": True, "dialogOptions": None}
    SIGNALS = ("colorChanged(QColor)",)


class ctkMessageBox(QWidget):
    """ctkMessageBox.h (QMessageBox): exec_() records the dialog for the test instead of blocking."""

    CLASS = "ctkMessageBox"
    PROPERTIES = {"text": "", "icon": None, "iconPixmap": None, "textFormat": None, "standardButtons": None,
                  "detailedText": "", "informativeText": "", "textInteractionFlags": None,
                  "dontShowAgain": False, "dontShowAgainSettingsKey": "", "dontShowAgainVisible": False}
    SIGNALS = ("buttonClicked(QAbstractButton*)",)
    dialogs = None            # the harness's list of shown dialogs

    def exec_(self):
        record = {"text": self.text, "detailedText": self.detailedText, "windowTitle": self.windowTitle,
                  "icon": self.icon}
        if ctkMessageBox.dialogs is not None:
            ctkMessageBox.dialogs.append(record)
        return 0x00000400      # QMessageBox.Ok

    def exec(self):
        return self.exec_()

    def setStandardButtons(self, buttons):
        self.standardButtons = buttons

    def addButton(self, *args):
        return None

    def setDefaultButton(self, button):
        pass


class ctkWidgetsUtils:
    @staticmethod
    def grabWidget(widget):
        raise NotImplementedError("no screen capture headless")


# ---------------------------------------------------------------------------------------------------
class qMRMLWidget(QWidget):
    """qMRMLWidget.h"""

    CLASS = "qMRMLWidget"
    SIGNALS = ("mrmlSceneChanged(vtkMRMLScene*)",)

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_scene", None)

    def setMRMLScene(self, scene):
        object.__setattr__(self, "_scene", scene)
        self._emit("mrmlSceneChanged", scene)

    def mrmlScene(self):
        return self._scene


class qSlicerWidget(qMRMLWidget):
    CLASS = "qSlicerWidget"


class qSlicerScriptedLoadableModuleWidget(qSlicerWidget):
    """qSlicerAbstractModuleWidget.h: the module panel (``isEntered`` is true while the module is shown)."""

    CLASS = "qSlicerScriptedLoadableModuleWidget"
    PROPERTIES = {"isEntered": False, "moduleName": ""}
    READ_ONLY = {"isEntered", "moduleName"}

    def _set_entered(self, value):
        self._values["isEntered"] = bool(value)


class qMRMLNodeComboBox(qMRMLWidget):
    """qMRMLNodeComboBox.h"""

    CLASS = "qMRMLNodeComboBox"
    PROPERTIES = {"nodeTypes": (), "currentNodeID": "", "currentNodeId": "", "showHidden": False,
                  "showChildNodeTypes": True, "hideChildNodeTypes": (), "baseName": "", "noneEnabled": False,
                  "addEnabled": True, "removeEnabled": True, "editEnabled": False, "renameEnabled": False,
                  "noneDisplay": "None", "selectNodeUponCreation": True, "sizeAdjustPolicy": None,
                  "interactionNodeSingletonTag": ""}
    SIGNALS = ("currentNodeChanged(vtkMRMLNode*)", "currentNodeChanged(bool)", "currentNodeIDChanged(QString)",
               "currentNodeRenamed(QString)", "nodeActivated(vtkMRMLNode*)", "nodeAdded(vtkMRMLNode*)",
               "nodeAboutToBeEdited(vtkMRMLNode*)", "nodeAboutToBeRemoved(vtkMRMLNode*)",
               "nodeAddedByUser(vtkMRMLNode*)", "mrmlSceneChanged(vtkMRMLScene*)")

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_current", None)
        object.__setattr__(self, "_observers", [])

    def setMRMLScene(self, scene):
        for observed, tag in self._observers:
            observed.RemoveObserver(tag)
        object.__setattr__(self, "_observers", [])
        object.__setattr__(self, "_scene", scene)
        if scene is not None:
            self._observers.append((scene, scene.AddObserver(scene.NodeRemovedEvent, self._onNodeRemoved)))
            self._observers.append((scene, scene.AddObserver(scene.EndCloseEvent, self._onSceneClosed)))
        self._emit("mrmlSceneChanged", scene)
        if self._current is not None and (scene is None or scene.GetNodeByID(self._current.GetID()) is not self._current):
            self._setCurrent(None)
        self._selectFirstIfRequired()

    def _set_nodeTypes(self, types):
        self._values["nodeTypes"] = tuple(types)
        if self._current is not None and not self._matches(self._current):
            self._setCurrent(None)
        self._selectFirstIfRequired()

    def _matches(self, node):
        return node is not None and any(node.IsA(t) for t in self._values["nodeTypes"]) \
            and (self._values["showHidden"] or not node.GetHideFromEditors())

    def nodes(self):
        """Nodes listed (not Qt API: what the user sees in the drop-down)."""
        scene = self._scene
        if scene is None:
            return []
        return [scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes()) if self._matches(scene.GetNthNode(i))]

    def nodeCount(self):
        return len(self.nodes())

    def nodeFromIndex(self, index):
        nodes = self.nodes()
        return nodes[index] if 0 <= index < len(nodes) else None

    def currentNode(self):
        return self._current

    def _get_currentNodeID(self):
        return self._current.GetID() if self._current is not None else ""

    def _get_currentNodeId(self):
        return self._get_currentNodeID()

    def _set_currentNodeID(self, node_id):
        self.setCurrentNodeID(node_id)

    def setCurrentNode(self, node):
        """As the real combo box: a node it does not list (other type, other scene) leaves it at none."""
        if node is not None and not (self._scene is not None and self._scene.GetNodeByID(node.GetID()) is node
                                     and self._matches(node)):
            node = None
        self._setCurrent(node)

    def setCurrentNodeID(self, node_id):
        self.setCurrentNode(self._scene.GetNodeByID(node_id) if (self._scene is not None and node_id) else None)

    def setCurrentNodeIndex(self, index):
        self.setCurrentNode(self.nodeFromIndex(index))

    def _setCurrent(self, node):
        if node is self._current:
            return
        object.__setattr__(self, "_current", node)
        self._emit("currentNodeChanged", node)
        self._emit("currentNodeIDChanged", node.GetID() if node is not None else "")

    def _selectFirstIfRequired(self):
        if not self._values["noneEnabled"] and self._current is None:
            nodes = self.nodes()
            if nodes:
                self._setCurrent(nodes[0])

    def _onNodeRemoved(self, caller, event):
        if "_current" not in self.__dict__:      # released at interpreter exit
            return
        if self._current is not None and caller.GetNodeByID(self._current.GetID()) is not self._current:
            self._setCurrent(None)

    def _onSceneClosed(self, caller, event):
        if "_current" not in self.__dict__:      # released at interpreter exit
            return
        if self._current is not None and caller.GetNodeByID(self._current.GetID()) is not self._current:
            self._setCurrent(None)

    def addNode(self, node_type=None):
        raise NotImplementedError("the harness does not create nodes from a combo box")

    def removeCurrentNode(self):
        if self._current is not None:
            self._scene.RemoveNode(self._current)

    def addAttribute(self, node_type, name, value=None):
        pass

    def removeAttribute(self, node_type, name):
        pass

    def sortFilterProxyModel(self):
        return None


class qMRMLTableView(QTableView):
    """qMRMLTableView.h"""

    CLASS = "qMRMLTableView"
    PROPERTIES = {"transposed": False, "firstRowLocked": False, "firstColumnLocked": False}
    SIGNALS = ("selectionChanged()", "mrmlSceneChanged(vtkMRMLScene*)")

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_scene", None)
        object.__setattr__(self, "_table", None)

    def setMRMLScene(self, scene):
        object.__setattr__(self, "_scene", scene)

    def mrmlScene(self):
        return self._scene

    def setMRMLTableNode(self, node):
        if node is not None and not node.IsA("vtkMRMLTableNode"):
            raise TypeError(f"qMRMLTableView.setMRMLTableNode: {node.GetClassName()} is not a vtkMRMLTableNode")
        object.__setattr__(self, "_table", node)

    def mrmlTableNode(self):
        return self._table

    def mrmlTableViewNode(self):
        return None

    def setMRMLTableViewNode(self, node):
        pass


class qMRMLPlotWidget(qMRMLWidget):
    """qMRMLPlotWidget.h"""

    CLASS = "qMRMLPlotWidget"
    PROPERTIES = {"viewLabel": "", "viewColor": None}

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_view_node", None)

    def setMRMLPlotViewNode(self, node):
        if node is not None and not node.IsA("vtkMRMLPlotViewNode"):
            raise TypeError(f"qMRMLPlotWidget.setMRMLPlotViewNode: {node.GetClassName()} is not a vtkMRMLPlotViewNode")
        object.__setattr__(self, "_view_node", node)

    def mrmlPlotViewNode(self):
        node = self._view_node
        if node is not None and (node.GetScene() is None):
            return None
        return node

    def plotView(self):
        return None

    def plotController(self):
        return None


class qMRMLSubjectHierarchyComboBox(qMRMLWidget):
    CLASS = "qMRMLSubjectHierarchyComboBox"


class qMRMLSliderWidget(QWidget):
    CLASS = "qMRMLSliderWidget"


class qMRMLSpinBox(QWidget):
    CLASS = "qMRMLSpinBox"


class qMRMLRangeWidget(QWidget):
    CLASS = "qMRMLRangeWidget"


_ = (vtk, StrictObject)
