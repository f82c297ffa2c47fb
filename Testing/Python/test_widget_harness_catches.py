"""The harness fails on the defects it exists to catch (planted here on purpose), for both Slicer tags."""
import os
import tempfile
import unittest

from SlicerHarness import TAGS, SlicerEnvironment
from SlicerHarness.strict import StrictAttributeError
from SlicerHarness.ui_loader import UiFileError

UI = """<?xml version="1.0" encoding="UTF-8"?>
<ui version="4.0"><class>P</class><widget class="qMRMLWidget" name="P"><layout class="QVBoxLayout" name="l">
<item><widget class="{cls}" name="w">{extra}<property name="SlicerParameterName" stdset="0"><string>x</string></property></widget></item>
</layout></widget></ui>"""


def _connect(env, cls, annotation, extra="", default=None):
    import slicer
    from slicer.parameterNodeWrapper import parameterNodeWrapper
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "p.ui")
        with open(path, "w") as handle:
            handle.write(UI.format(cls=cls, extra=extra))
        ui_widget = slicer.util.loadUI(path)
    ui_widget.setMRMLScene(env.scene)
    fields = {"__annotations__": {"x": annotation}}
    if default is not None:
        fields["x"] = default
    wrapper = parameterNodeWrapper(type("Planted", (), fields))
    node = env.scene.AddNewNodeByClass("vtkMRMLScriptedModuleNode")
    return wrapper(node).connectGui(slicer.util.childWidgetVariables(ui_widget))


class _Planted:
    TAG = None

    def test_plain_str_on_combo_box_fails(self):
        with SlicerEnvironment(self.TAG) as env:
            items = "<item><property name=\"text\"><string>a</string></property></item>"
            with self.assertRaisesRegex(RuntimeError, "Choice"):
                _connect(env, "QComboBox", str, items, default="a")
            from typing import Annotated
            from slicer.parameterNodeWrapper import Choice
            _connect(env, "QComboBox", Annotated[str, Choice(["a"])], items, default="a")      # the fix passes

    def test_abstract_node_type_on_node_combo_box_fails(self):
        with SlicerEnvironment(self.TAG) as env:
            import slicer
            with self.assertRaisesRegex(TypeError, "abstract"):
                _connect(env, "qMRMLNodeComboBox", slicer.vtkMRMLNode)
            from typing import Optional
            _connect(env, "qMRMLNodeComboBox", Optional[slicer.vtkMRMLScalarVolumeNode])

    def test_wrong_widget_method_property_or_signal_fails(self):
        with SlicerEnvironment(self.TAG) as env:
            widget = env.create_widget("DCEModule")
            with self.assertRaises(StrictAttributeError):
                widget.ui.statusLabel.setPlainText("x")            # QLabel has no setPlainText
            with self.assertRaises(StrictAttributeError):
                widget.ui.applyButton.texts = "x"                   # no such property
            with self.assertRaises(StrictAttributeError):
                widget.ui.maskSelector.currentNodes()
            with self.assertRaises(StrictAttributeError):
                widget.ui.applyButton.connect("clickd(bool)", lambda: None)

    def test_ui_property_without_stdset_or_misspelt_fails(self):
        with SlicerEnvironment(self.TAG) as env:
            import slicer
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "p.ui")
                with open(path, "w") as handle:
                    handle.write(UI.format(cls="QLineEdit", extra="").replace(' stdset="0"', ""))
                with self.assertRaisesRegex(UiFileError, "stdset"):
                    slicer.util.loadUI(path)
            del env


class PlantedSlicer58(_Planted, unittest.TestCase):
    TAG = TAGS[0]


class PlantedSlicer510(_Planted, unittest.TestCase):
    TAG = TAGS[1]
