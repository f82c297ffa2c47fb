"""Stand-ins for the Qt widgets the modules' .ui files use (declarations from Qt 5.15's headers).

Each class lists the Q_PROPERTYs, signals and public methods/slots of the Qt class it stands
for (the subset a scripted module can reach); see ``strict.py`` for the rules.
"""
import math

from .strict import StrictObject, StrictPlain


class QWidget(StrictObject):
    """qwidget.h"""

    CLASS = "QWidget"
    PROPERTIES = {"enabled": True, "visible": True, "toolTip": "", "statusTip": "", "whatsThis": "",
                  "windowTitle": "", "styleSheet": "", "minimumSize": None, "maximumSize": None,
                  "minimumWidth": 0, "minimumHeight": 0, "maximumWidth": 16777215, "maximumHeight": 16777215,
                  "sizePolicy": None, "focusPolicy": None, "font": None, "geometry": None, "windowModified": False,
                  "accessibleName": "", "accessibleDescription": "", "layoutDirection": None,
                  "autoFillBackground": False, "contextMenuPolicy": None, "cursor": None, "mouseTracking": False}
    SIGNALS = ("customContextMenuRequested(QPoint)", "windowTitleChanged(QString)",
               "windowIconChanged(QIcon)")

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_layout", None)

    def isWidgetType(self):
        return True

    def layout(self):
        return self._layout

    def setLayout(self, layout):
        object.__setattr__(self, "_layout", layout)
        layout._attach(self)

    def isEnabled(self):
        return self.enabled

    def isVisible(self):
        return self.visible

    def isHidden(self):
        return not self.visible

    def show(self):
        self.visible = True

    def hide(self):
        self.visible = False

    def close(self):
        self.visible = False
        return True

    def update(self):
        pass

    def repaint(self):
        pass

    def adjustSize(self):
        pass

    def setFocus(self, reason=None):
        pass

    def parentWidget(self):
        return self._parent

    def window(self):
        widget = self
        while widget._parent is not None:
            widget = widget._parent
        return widget

    def setFixedHeight(self, h):
        pass

    def setFixedWidth(self, w):
        pass

    def setSizePolicy(self, *args):
        pass


class QLayout(StrictObject):
    """qlayout.h (QVBoxLayout, QHBoxLayout, QFormLayout, QGridLayout share the item handling)."""

    CLASS = "QLayout"
    PROPERTIES = {"spacing": 6, "contentsMargins": None, "sizeConstraint": None}

    def __init__(self, parent=None):
        super().__init__()
        object.__setattr__(self, "_owner", None)
        object.__setattr__(self, "_items", [])
        if isinstance(parent, QWidget):
            parent.setLayout(self)

    def _attach(self, widget):
        object.__setattr__(self, "_owner", widget)
        for item in self._items:
            self._adopt(item)

    def _adopt(self, item):
        if self._owner is None:
            return
        if isinstance(item, QWidget):
            item.setParent(self._owner)
        elif isinstance(item, QLayout):
            item._attach(self._owner)

    def _add(self, item):
        self._items.append(item)
        self._adopt(item)

    def addWidget(self, widget, *args):
        self._add(widget)

    def addLayout(self, layout, *args):
        self._add(layout)

    def addItem(self, item):
        pass

    def addStretch(self, stretch=0):
        pass

    def addSpacing(self, size):
        pass

    def insertWidget(self, index, widget, *args):
        self._items.insert(index, widget)
        self._adopt(widget)

    def removeWidget(self, widget):
        if widget in self._items:
            self._items.remove(widget)

    def count(self):
        return len(self._items)

    def setContentsMargins(self, *args):
        pass

    def setSpacing(self, value):
        self.spacing = value


class QVBoxLayout(QLayout):
    CLASS = "QVBoxLayout"


class QHBoxLayout(QLayout):
    CLASS = "QHBoxLayout"


class QGridLayout(QLayout):
    CLASS = "QGridLayout"


class QFormLayout(QLayout):
    """qformlayout.h"""

    CLASS = "QFormLayout"
    PROPERTIES = {"fieldGrowthPolicy": None, "rowWrapPolicy": None, "labelAlignment": None,
                  "formAlignment": None, "horizontalSpacing": 6, "verticalSpacing": 6}

    def addRow(self, *items):
        for item in items:
            if isinstance(item, (QWidget, QLayout)):
                self._add(item)

    def rowCount(self):
        return len(self._items)


class QFrame(QWidget):
    CLASS = "QFrame"
    PROPERTIES = {"frameShape": None, "frameShadow": None, "lineWidth": 1, "midLineWidth": 0, "frameWidth": 0}
    READ_ONLY = {"frameWidth"}


class QLabel(QFrame):
    """qlabel.h"""

    CLASS = "QLabel"
    PROPERTIES = {"text": "", "textFormat": None, "pixmap": None, "scaledContents": False, "alignment": None,
                  "wordWrap": False, "margin": 0, "indent": -1, "openExternalLinks": False,
                  "textInteractionFlags": None, "hasSelectedText": False, "selectedText": ""}
    READ_ONLY = {"hasSelectedText", "selectedText"}
    SIGNALS = ("linkActivated(QString)", "linkHovered(QString)")

    def clear(self):
        # QLabel::clear() clears any label contents (text and pixmap).
        self.text = ""
        self._values["pixmap"] = None

    def setNum(self, value):
        self.text = str(value)

    def _set_text(self, value):
        self._values["text"] = str(value)

    def _set_pixmap(self, value):
        # setPixmap(const QPixmap&): anything else is a type error in PythonQt.
        if not isinstance(value, QPixmap):
            raise TypeError(f"QLabel.setPixmap: expected a QPixmap, got {type(value).__name__}")
        self._values["pixmap"] = value


class QPixmap(StrictPlain):
    """qpixmap.h (the subset a panel uses to show an image file): QPixmap(fileName) reads the file
    (PNG here: width and height from its IHDR chunk); a file that cannot be read gives a null pixmap."""

    CLASS = "QPixmap"
    _PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

    def __init__(self, fileName=None, format=None, flags=None):
        object.__setattr__(self, "_file", None)
        object.__setattr__(self, "_size", (0, 0))
        if fileName is not None:
            self.load(fileName)

    def load(self, fileName, format=None, flags=None):
        size = self._png_size(str(fileName))
        object.__setattr__(self, "_file", str(fileName) if size else None)
        object.__setattr__(self, "_size", size or (0, 0))
        return size is not None

    @classmethod
    def _png_size(cls, path):
        try:
            with open(path, "rb") as stream:
                head = stream.read(24)
        except OSError:
            return None
        if len(head) < 24 or not head.startswith(cls._PNG_SIGNATURE) or head[12:16] != b"IHDR":
            return None
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")

    def isNull(self):
        return self._size == (0, 0)

    def width(self):
        return self._size[0]

    def height(self):
        return self._size[1]

    def scaledToWidth(self, w, mode=None):
        scaled = QPixmap()
        if not self.isNull():
            object.__setattr__(scaled, "_file", self._file)
            object.__setattr__(scaled, "_size", (int(w), max(int(round(self._size[1] * w / self._size[0])), 1)))
        return scaled


class QAbstractButton(QWidget):
    """qabstractbutton.h"""

    CLASS = "QAbstractButton"
    PROPERTIES = {"text": "", "icon": None, "iconSize": None, "shortcut": None, "checkable": False, "checked": False,
                  "autoRepeat": False, "autoExclusive": False, "autoRepeatDelay": 300, "autoRepeatInterval": 100,
                  "down": False}
    SIGNALS = ("pressed()", "released()", "clicked()", "clicked(bool)", "toggled(bool)")

    def _set_checked(self, value):
        value = bool(value)
        if not self._values["checkable"]:
            return                       # Qt ignores setChecked on a non-checkable button
        if value != self._values["checked"]:
            self._values["checked"] = value
            self._emit("toggled", value)
            self._on_toggled(value)

    def _on_toggled(self, value):
        pass

    def isChecked(self):
        return self.checked

    def isCheckable(self):
        return self.checkable

    def click(self):
        """What a user's click does: nothing on a disabled button."""
        if not self.enabled:
            return
        if self.checkable:
            self.checked = not self.checked
        self._emit("clicked", self.checked)

    def animateClick(self, msec=100):
        self.click()

    def toggle(self):
        self.checked = not self.checked


class QPushButton(QAbstractButton):
    """qpushbutton.h"""

    CLASS = "QPushButton"
    PROPERTIES = {"autoDefault": False, "default": False, "flat": False}

    def setMenu(self, menu):
        pass

    def menu(self):
        return None

    def showMenu(self):
        pass


class QToolButton(QAbstractButton):
    CLASS = "QToolButton"
    PROPERTIES = {"popupMode": None, "toolButtonStyle": None, "autoRaise": False, "arrowType": None}


class QCheckBox(QAbstractButton):
    """qcheckbox.h"""

    CLASS = "QCheckBox"
    PROPERTIES = {"tristate": False, "checkable": True}
    SIGNALS = ("stateChanged(int)",)

    def _on_toggled(self, value):
        self._emit("stateChanged", 2 if value else 0)

    def checkState(self):
        return 2 if self.checked else 0

    def setCheckState(self, state):
        self.checked = state != 0


class QLineEdit(QWidget):
    """qlineedit.h"""

    CLASS = "QLineEdit"
    PROPERTIES = {"inputMask": "", "text": "", "maxLength": 32767, "frame": True, "echoMode": None,
                  "displayText": "", "cursorPosition": 0, "alignment": None, "modified": False,
                  "hasSelectedText": False, "selectedText": "", "dragEnabled": False, "readOnly": False,
                  "undoAvailable": False, "redoAvailable": False, "acceptableInput": True, "placeholderText": "",
                  "cursorMoveStyle": None, "clearButtonEnabled": False}
    READ_ONLY = {"displayText", "hasSelectedText", "selectedText", "undoAvailable", "redoAvailable",
                 "acceptableInput"}
    SIGNALS = ("textChanged(QString)", "textEdited(QString)", "cursorPositionChanged(int,int)",
               "returnPressed()", "editingFinished()", "selectionChanged()", "inputRejected()")

    def _set_text(self, value):
        value = str(value)
        if value != self._values["text"]:
            self._values["text"] = value
            self._emit("textChanged", value)

    def _get_displayText(self):
        return self._values["text"]

    def clear(self):
        self.text = ""

    def selectAll(self):
        pass

    def undo(self):
        pass

    def redo(self):
        pass

    def type_text(self, value):
        """Harness helper (not Qt API): what a user's typing does (textEdited, then editingFinished)."""
        self.text = value
        self._emit("textEdited", value)
        self._emit("editingFinished")


class QAbstractSpinBox(QWidget):
    """qabstractspinbox.h"""

    CLASS = "QAbstractSpinBox"
    PROPERTIES = {"wrapping": False, "frame": True, "alignment": None, "readOnly": False, "buttonSymbols": None,
                  "specialValueText": "", "text": "", "accelerated": False, "correctionMode": None,
                  "acceptableInput": True, "keyboardTracking": True, "showGroupSeparator": False}
    READ_ONLY = {"text", "acceptableInput"}
    SIGNALS = ("editingFinished()",)

    def stepUp(self):
        self.value = self.value + self.singleStep

    def stepDown(self):
        self.value = self.value - self.singleStep

    def selectAll(self):
        pass

    def clear(self):
        pass


class _NumericSpinBox(QAbstractSpinBox):
    _integer = False

    def _bound(self, value):
        lo, hi = self._values["minimum"], self._values["maximum"]
        value = min(max(value, lo), hi)
        if self._integer:
            return int(round(value))
        decimals = self._values.get("decimals", 2)
        return value if math.isinf(value) else round(float(value), decimals)

    def _set_value(self, value):
        value = self._bound(float(value) if not self._integer else value)
        if value != self._values["value"]:
            self._values["value"] = value
            self._emit("valueChanged", value)
            self._emit("textChanged", self._get_text())

    def _set_minimum(self, value):
        self._values["minimum"] = value
        if self._values["maximum"] < value:
            self._values["maximum"] = value
        self._set_value(self._values["value"])

    def _set_maximum(self, value):
        self._values["maximum"] = value
        if self._values["minimum"] > value:
            self._values["minimum"] = value
        self._set_value(self._values["value"])

    def setRange(self, minimum, maximum):
        self._values["minimum"] = minimum
        self._values["maximum"] = max(minimum, maximum)
        self._set_value(self._values["value"])

    def _format(self, value):
        if self._integer:
            return str(int(value))
        return f"{value:.{self._values['decimals']}f}"

    def _get_text(self):
        """What the box shows: the special-value text at the minimum, else prefix + number + suffix."""
        value = self._values["value"]
        if self._values["specialValueText"] and value == self._values["minimum"]:
            return self._values["specialValueText"]
        return f"{self._values['prefix']}{self._format(value)}{self._values['suffix']}"

    def _get_cleanText(self):
        return self._format(self._values["value"])

    def type_value(self, value):
        """Harness helper (not Qt API): what typing a number does (bounded to the range)."""
        self.value = value
        self._emit("editingFinished")


class QSpinBox(_NumericSpinBox):
    """qspinbox.h (QSpinBox)"""

    CLASS = "QSpinBox"
    _integer = True
    PROPERTIES = {"suffix": "", "prefix": "", "cleanText": "", "minimum": 0, "maximum": 99, "singleStep": 1,
                  "value": 0, "displayIntegerBase": 10, "stepType": None}
    READ_ONLY = {"cleanText"}
    SIGNALS = ("valueChanged(int)", "textChanged(QString)")


class QDoubleSpinBox(_NumericSpinBox):
    """qspinbox.h (QDoubleSpinBox)"""

    CLASS = "QDoubleSpinBox"
    PROPERTIES = {"prefix": "", "suffix": "", "cleanText": "", "decimals": 2, "minimum": 0.0, "maximum": 99.99,
                  "singleStep": 1.0, "stepType": None, "value": 0.0}
    READ_ONLY = {"cleanText"}
    SIGNALS = ("valueChanged(double)", "textChanged(QString)")

    def _set_decimals(self, value):
        self._values["decimals"] = int(value)
        self._set_value(self._values["value"])

    def textFromValue(self, value):
        return self._format(value)

    def valueFromText(self, text):
        return float(text)


class QComboBox(QWidget):
    """qcombobox.h"""

    CLASS = "QComboBox"
    PROPERTIES = {"editable": False, "count": 0, "currentText": "", "currentIndex": -1, "currentData": None,
                  "maxVisibleItems": 10, "maxCount": 2147483647, "insertPolicy": None, "sizeAdjustPolicy": None,
                  "minimumContentsLength": 0, "iconSize": None, "placeholderText": "", "duplicatesEnabled": False,
                  "frame": True, "modelColumn": 0}
    READ_ONLY = {"count", "currentData"}
    SIGNALS = ("editTextChanged(QString)", "activated(int)", "activated(QString)", "textActivated(QString)",
               "highlighted(int)", "highlighted(QString)", "textHighlighted(QString)",
               "currentIndexChanged(int)", "currentIndexChanged(QString)", "currentTextChanged(QString)")

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_items", [])       # [text, data]

    def _get_count(self):
        return len(self._items)

    def _get_currentText(self):
        index = self._values["currentIndex"]
        return self._items[index][0] if 0 <= index < len(self._items) else ""

    def _get_currentData(self):
        index = self._values["currentIndex"]
        return self._items[index][1] if 0 <= index < len(self._items) else None

    def _set_currentIndex(self, index):
        index = int(index)
        if not -1 <= index < len(self._items):
            index = -1
        if index != self._values["currentIndex"]:
            self._values["currentIndex"] = index
            self._emit("currentIndexChanged", index)
            self._emit("currentTextChanged", self._get_currentText())

    def _set_currentText(self, text):
        index = self.findText(text)
        if index >= 0:
            self._set_currentIndex(index)

    def addItem(self, text, userData=None):
        self._items.append([str(text), userData])
        if self._values["currentIndex"] == -1:
            self._set_currentIndex(0)

    def addItems(self, texts):
        for text in texts:
            self.addItem(text)

    def insertItem(self, index, text, userData=None):
        self._items.insert(index, [str(text), userData])
        if self._values["currentIndex"] == -1:
            self._set_currentIndex(0)

    def removeItem(self, index):
        del self._items[index]
        if self._values["currentIndex"] >= len(self._items):
            self._set_currentIndex(len(self._items) - 1)

    def clear(self):
        self._items.clear()
        self._set_currentIndex(-1)

    def itemText(self, index):
        return self._items[index][0] if 0 <= index < len(self._items) else ""

    def itemData(self, index, role=None):
        return self._items[index][1] if 0 <= index < len(self._items) else None

    def setItemText(self, index, text):
        self._items[index][0] = str(text)

    def setItemData(self, index, value, role=None):
        self._items[index][1] = value

    def findText(self, text, flags=None):
        for index, (item_text, _) in enumerate(self._items):
            if item_text == text:
                return index
        return -1

    def findData(self, data, role=None, flags=None):
        for index, (_, item_data) in enumerate(self._items):
            if item_data == data:
                return index
        return -1

    def choose(self, text):
        """Harness helper (not Qt API): what a user's choice in the list does (activated, then the index)."""
        index = self.findText(text)
        if index < 0:
            raise ValueError(f"{self.objectName}: no item '{text}' (items: {[t for t, _ in self._items]})")
        self._emit("activated", index)
        self._set_currentIndex(index)


class QProgressBar(QWidget):
    """qprogressbar.h"""

    CLASS = "QProgressBar"
    PROPERTIES = {"minimum": 0, "maximum": 100, "text": "", "alignment": None, "value": -1, "textVisible": True,
                  "orientation": None, "invertedAppearance": False, "textDirection": None, "format": "%p%"}
    READ_ONLY = {"text"}
    SIGNALS = ("valueChanged(int)",)

    def _set_value(self, value):
        value = int(value)
        if value != self._values["value"]:
            self._values["value"] = value
            self._emit("valueChanged", value)

    def setRange(self, minimum, maximum):
        self.minimum, self.maximum = minimum, maximum

    def reset(self):
        self._values["value"] = -1


class QDate(StrictPlain):
    """qdatetime.h (QDate): the methods scripted code calls."""

    CLASS = "QDate"

    def __init__(self, year=2000, month=1, day=1):
        import datetime
        object.__setattr__(self, "_date", datetime.date(year, month, day))

    @staticmethod
    def currentDate():
        import datetime
        today = datetime.date.today()
        return QDate(today.year, today.month, today.day)

    def year(self):
        return self._date.year

    def month(self):
        return self._date.month

    def day(self):
        return self._date.day

    def toString(self, fmt="yyyy-MM-dd"):
        return self._date.isoformat()

    def isValid(self):
        return True


class QDateTimeEdit(QAbstractSpinBox):
    """qdatetimeedit.h"""

    CLASS = "QDateTimeEdit"
    PROPERTIES = {"dateTime": None, "date": None, "time": None, "maximumDateTime": None, "minimumDateTime": None,
                  "maximumDate": None, "minimumDate": None, "maximumTime": None, "minimumTime": None,
                  "currentSection": None, "displayedSections": None, "displayFormat": "", "calendarPopup": False,
                  "currentSectionIndex": 0, "sectionCount": 0, "timeSpec": None}
    READ_ONLY = {"displayedSections", "sectionCount"}
    SIGNALS = ("dateTimeChanged(QDateTime)", "timeChanged(QTime)", "dateChanged(QDate)")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._values["date"] = QDate(2000, 1, 1)

    def _set_date(self, value):
        self._values["date"] = value
        self._emit("dateChanged", value)


class QDateEdit(QDateTimeEdit):
    CLASS = "QDateEdit"


class QTableWidgetItem(StrictPlain):
    """qtablewidget.h (QTableWidgetItem): not a QObject."""

    CLASS = "QTableWidgetItem"

    def __init__(self, text=""):
        object.__setattr__(self, "_text", str(text))
        object.__setattr__(self, "_data", {})
        object.__setattr__(self, "_flags", None)
        object.__setattr__(self, "_tooltip", "")

    def text(self):
        return self._text

    def setText(self, text):
        object.__setattr__(self, "_text", str(text))

    def data(self, role):
        return self._text if role == 0 else self._data.get(role)

    def setData(self, role, value):
        if role == 0:
            object.__setattr__(self, "_text", str(value))
        else:
            self._data[role] = value

    def toolTip(self):
        return self._tooltip

    def setToolTip(self, text):
        object.__setattr__(self, "_tooltip", text)

    def flags(self):
        return self._flags

    def setFlags(self, flags):
        object.__setattr__(self, "_flags", flags)


class QAbstractItemView(QFrame):
    """qabstractitemview.h"""

    CLASS = "QAbstractItemView"
    PROPERTIES = {"autoScroll": True, "editTriggers": None, "tabKeyNavigation": False, "showDropIndicator": True,
                  "dragEnabled": False, "alternatingRowColors": False, "selectionMode": None,
                  "selectionBehavior": None, "iconSize": None, "textElideMode": None, "verticalScrollMode": None,
                  "horizontalScrollMode": None}
    SIGNALS = ("pressed(QModelIndex)", "clicked(QModelIndex)", "doubleClicked(QModelIndex)",
               "activated(QModelIndex)", "entered(QModelIndex)")

    def model(self):
        return None

    def clearSelection(self):
        pass


class QTableView(QAbstractItemView):
    """qtableview.h"""

    CLASS = "QTableView"
    PROPERTIES = {"showGrid": True, "gridStyle": None, "sortingEnabled": False, "wordWrap": True,
                  "cornerButtonEnabled": True}

    def resizeColumnsToContents(self):
        pass

    def resizeRowsToContents(self):
        pass

    def horizontalHeader(self):
        return _Header()

    def verticalHeader(self):
        return _Header()


class _Header(StrictPlain):
    CLASS = "QHeaderView"

    def setSectionResizeMode(self, *args):
        pass

    def setStretchLastSection(self, value):
        pass

    def setVisible(self, value):
        pass


class QTableWidget(QTableView):
    """qtablewidget.h"""

    CLASS = "QTableWidget"
    PROPERTIES = {"rowCount": 0, "columnCount": 0}
    SIGNALS = ("itemPressed(QTableWidgetItem*)", "itemClicked(QTableWidgetItem*)",
               "itemDoubleClicked(QTableWidgetItem*)", "itemActivated(QTableWidgetItem*)",
               "itemEntered(QTableWidgetItem*)", "itemChanged(QTableWidgetItem*)",
               "currentItemChanged(QTableWidgetItem*,QTableWidgetItem*)", "itemSelectionChanged()",
               "cellPressed(int,int)", "cellClicked(int,int)", "cellDoubleClicked(int,int)",
               "cellActivated(int,int)", "cellEntered(int,int)", "cellChanged(int,int)",
               "currentCellChanged(int,int,int,int)")

    def __init__(self, parent=None):
        super().__init__(parent)
        object.__setattr__(self, "_cells", {})
        object.__setattr__(self, "_current", (-1, -1))
        object.__setattr__(self, "_header_labels", [])

    def _set_rowCount(self, rows):
        self._values["rowCount"] = int(rows)
        for key in [k for k in self._cells if k[0] >= rows]:
            del self._cells[key]
        if self._current[0] >= rows:
            self.setCurrentCell(-1, -1)

    def item(self, row, column):
        return self._cells.get((row, column))

    def setItem(self, row, column, item):
        self._cells[(row, column)] = item

    def takeItem(self, row, column):
        return self._cells.pop((row, column), None)

    def currentRow(self):
        return self._current[0]

    def currentColumn(self):
        return self._current[1]

    def setCurrentCell(self, row, column):
        previous = self._current
        object.__setattr__(self, "_current", (row, column))
        if previous != (row, column):
            self._emit("currentCellChanged", row, column, previous[0], previous[1])
            self._emit("itemSelectionChanged")

    def selectRow(self, row):
        self.setCurrentCell(row, 0)

    def clear(self):
        self._cells.clear()

    def clearContents(self):
        self._cells.clear()

    def setHorizontalHeaderLabels(self, labels):
        object.__setattr__(self, "_header_labels", list(labels))

    def insertRow(self, row):
        self.rowCount = self.rowCount + 1

    def removeRow(self, row):
        self.rowCount = max(self.rowCount - 1, 0)


class QSpacerItem(StrictPlain):
    CLASS = "QSpacerItem"


class QTextEdit(QFrame):
    """qtextedit.h"""

    CLASS = "QTextEdit"
    PROPERTIES = {"plainText": "", "html": "", "readOnly": False, "placeholderText": "", "lineWrapMode": None,
                  "acceptRichText": True, "undoRedoEnabled": True}
    SIGNALS = ("textChanged()", "selectionChanged()", "cursorPositionChanged()")

    def toPlainText(self):
        return self.plainText

    def setPlainText(self, text):
        self.plainText = text
        self._emit("textChanged")


class QSlider(QWidget):
    CLASS = "QSlider"
    PROPERTIES = {"minimum": 0, "maximum": 99, "value": 0, "singleStep": 1, "pageStep": 10, "orientation": None}
    SIGNALS = ("valueChanged(int)", "sliderMoved(int)")


class QColor(StrictPlain):
    CLASS = "QColor"


class QAction(StrictObject):
    CLASS = "QAction"
    PROPERTIES = {"text": "", "checkable": False, "checked": False, "enabled": True, "toolTip": ""}
    SIGNALS = ("triggered()", "triggered(bool)", "toggled(bool)")


class QMenu(QWidget):
    CLASS = "QMenu"
