"""QUiLoader stand-in: builds strict stand-in widgets from a Qt Designer .ui file.

As Qt's form builder: a ``<property>`` is set through the class's Q_PROPERTY; one written
with ``stdset="0"`` becomes a dynamic property. A standard property that the class does not
declare is an error here (Qt would silently turn it into a dynamic property, hiding typos and
the missing ``stdset="0"`` of ``SlicerParameterName``). ``<connections>`` are made by signature.
"""
import xml.etree.ElementTree as ElementTree

from .strict import StrictAttributeError


class UiFileError(RuntimeError):
    pass


def _value(element):
    child = next(iter(element), None)
    if child is None:
        return None
    tag = child.tag
    if tag in ("string", "cstring"):
        return child.text or ""
    if tag == "bool":
        return (child.text or "").strip() == "true"
    if tag == "number":
        return int(child.text)
    if tag == "double":
        return float(child.text)
    if tag == "stringlist":
        return tuple(s.text or "" for s in child.findall("string"))
    if tag in ("enum", "set"):
        return child.text
    if tag == "size":
        return (int(child.findtext("width")), int(child.findtext("height")))
    return None


def _apply_properties(widget, element, path):
    for prop in element.findall("property"):
        name = prop.get("name")
        value = _value(prop)
        if prop.get("stdset") == "0":
            widget.setProperty(name, value)
            continue
        if not type(widget).declares_property(name):
            raise UiFileError(
                f"{path}: {widget.CLASS} '{widget.objectName}' has no property '{name}'"
                + (" (a dynamic property such as SlicerParameterName must be written with stdset=\"0\")"
                   if name[:1].isupper() or name.startswith("Slicer") else ""))
        try:
            setattr(widget, name, value)
        except StrictAttributeError as error:
            raise UiFileError(f"{path}: {error}") from None


def load(path, classes):
    """The top-level widget of the .ui file at ``path``; ``classes``: class name -> stand-in class."""
    tree = ElementTree.parse(path)
    root = tree.getroot()
    named = {}

    def make(element, parent):
        class_name = element.get("class")
        if class_name not in classes:
            raise UiFileError(f"{path}: no stand-in for widget class {class_name}")
        widget = classes[class_name]()
        widget.objectName = element.get("name", "")
        named[widget.objectName] = widget
        _apply_properties(widget, element, path)
        if parent is not None:
            widget.setParent(parent)
        for child in element:
            if child.tag == "widget":
                make(child, widget)
            elif child.tag == "layout":
                layout = make_layout(child, widget)
                widget.setLayout(layout)
            elif child.tag == "item":            # QComboBox items
                text = next((_value(p) for p in child.findall("property") if p.get("name") == "text"), "")
                widget.addItem(text)
            elif child.tag == "column":          # QTableWidget header
                pass
        return widget

    def make_layout(element, owner):
        class_name = element.get("class")
        if class_name not in classes:
            raise UiFileError(f"{path}: no stand-in for layout class {class_name}")
        layout = classes[class_name]()
        layout.objectName = element.get("name", "")
        named[layout.objectName] = layout
        for item in element.findall("item"):
            for child in item:
                if child.tag == "widget":
                    layout.addWidget(make(child, owner))
                elif child.tag == "layout":
                    layout.addLayout(make_layout(child, owner))
        return layout

    top = root.find("widget")
    widget = make(top, None)
    for connection in root.iter("connection"):
        sender = named[connection.findtext("sender")]
        receiver = named[connection.findtext("receiver")]
        slot = connection.findtext("slot")
        slot_name = slot.split("(", 1)[0]
        if not callable(getattr(type(receiver), slot_name, None)):
            raise UiFileError(f"{path}: {receiver.CLASS} '{receiver.objectName}' has no slot {slot}")
        sender.connect(connection.findtext("signal"), getattr(receiver, slot_name))
    return widget
