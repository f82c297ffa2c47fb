"""Strict stand-ins for PythonQt-wrapped Qt objects.

A stand-in class declares what the Qt/CTK/Slicer header of the class it stands for declares:
``PROPERTIES`` (Q_PROPERTY name -> default; read-only ones in ``READ_ONLY``), ``SIGNALS``
(normalised signatures, e.g. ``"clicked(bool)"``) and Python methods for the slots and
methods. Everything else raises ``AttributeError`` -- reading, writing or calling a name the
header does not declare fails the test instead of a user's session. Behaviour follows
PythonQt: a property reads and writes as an attribute (``w.text = "x"``, ``w.text``) and has
its ``setX`` setter; a signal is an attribute with ``connect``/``disconnect``/``emit``, or is
connected by signature (``w.connect("clicked(bool)", slot)``); a Python slot receives only
as many signal arguments as it accepts.
"""
import inspect


class StrictAttributeError(AttributeError):
    pass


def _positional_capacity(callable_):
    """How many positional arguments ``callable_`` takes (None: any number)."""
    try:
        signature = inspect.signature(callable_)
    except (TypeError, ValueError):
        return None
    count = 0
    for parameter in signature.parameters.values():
        if parameter.kind == parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def call_slot(slot, args):
    capacity = _positional_capacity(slot)
    return slot(*(args if capacity is None else args[:capacity]))


def _signal_name(signature):
    return signature.split("(", 1)[0]


class BoundSignal:
    """A signal of one object (all its overloads share the connections, as PythonQt does for the default one)."""

    def __init__(self, owner, name):
        self._owner = owner
        self._name = name

    def connect(self, slot):
        self._owner._connections.setdefault(self._name, []).append(slot)

    def disconnect(self, slot=None):
        slots = self._owner._connections.get(self._name, [])
        if slot is None:
            slots.clear()
            return
        for index, connected in enumerate(slots):
            if connected == slot:
                del slots[index]
                return
        raise RuntimeError(f"{self._owner.CLASS}.{self._name}: slot {slot} is not connected")

    def emit(self, *args):
        self._owner._emit(self._name, *args)


class StrictObject:
    """QObject (qobject.h)."""

    CLASS = "QObject"
    PROPERTIES = {"objectName": ""}
    READ_ONLY = set()
    SIGNALS = ("destroyed()", "destroyed(QObject*)", "objectNameChanged(QString)")

    # --- declared API, merged along the class hierarchy --------------------------------------
    @classmethod
    def _all_properties(cls):
        merged = {}
        for klass in reversed(cls.__mro__):
            merged.update(klass.__dict__.get("PROPERTIES", {}))
        return merged

    @classmethod
    def _all_read_only(cls):
        merged = set()
        for klass in cls.__mro__:
            merged |= set(klass.__dict__.get("READ_ONLY", ()))
        return merged

    @classmethod
    def _all_signals(cls):
        merged = set()
        for klass in cls.__mro__:
            merged |= set(klass.__dict__.get("SIGNALS", ()))
        return merged

    @classmethod
    def declares_property(cls, name):
        return name in cls._all_properties()

    def __init__(self, parent=None):
        object.__setattr__(self, "_values", dict(self._all_properties()))
        object.__setattr__(self, "_dynamic", {})
        object.__setattr__(self, "_connections", {})
        object.__setattr__(self, "_children", [])
        object.__setattr__(self, "_parent", None)
        object.__setattr__(self, "_blocked", False)
        object.__setattr__(self, "_deleted", False)
        if parent is not None:
            self.setParent(parent)

    # --- attribute protocol -------------------------------------------------------------------
    def __getattr__(self, name):
        # Called only when normal lookup (methods, private attributes) fails.
        if name.startswith("__"):
            raise AttributeError(name)
        values = self.__dict__.get("_values")
        if values is None:          # not initialised (e.g. during interpreter shutdown)
            raise AttributeError(name)
        if name in values:
            getter = getattr(type(self), "_get_" + name, None)
            return getter(self) if getter is not None else values[name]
        if name in {_signal_name(s) for s in type(self)._all_signals()}:
            return BoundSignal(self, name)
        if name.startswith("set") and len(name) > 3:
            prop = name[3].lower() + name[4:]
            if prop in values and prop not in type(self)._all_read_only():
                return lambda value: setattr(self, prop, value)
        raise StrictAttributeError(
            f"{self.CLASS} '{values.get('objectName', '')}' has no property, signal or method '{name}' "
            f"(not declared for {self.CLASS} in the Qt/CTK/Slicer headers)")

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if name not in self._values:
            raise StrictAttributeError(
                f"{self.CLASS} '{self._values.get('objectName', '')}' has no property '{name}' to set "
                f"(not declared for {self.CLASS} in the Qt/CTK/Slicer headers)")
        if name in type(self)._all_read_only():
            raise StrictAttributeError(f"{self.CLASS}.{name} is read-only")
        setter = getattr(type(self), "_set_" + name, None)
        if setter is not None:
            setter(self, value)
        else:
            self._values[name] = value

    # --- QObject methods ------------------------------------------------------------------------
    @property
    def name(self):
        # PythonQt's alias of objectName (slicer.util.childWidgetVariables reads it).
        return self._values["objectName"]

    def className(self):
        return self.CLASS

    def inherits(self, class_name):
        return any(getattr(k, "CLASS", None) == class_name for k in type(self).__mro__)

    def isWidgetType(self):
        return False

    def parent(self):
        return self._parent

    def setParent(self, parent):
        if self._parent is not None and self in self._parent._children:
            self._parent._children.remove(self)
        object.__setattr__(self, "_parent", parent)
        if parent is not None:
            parent._children.append(self)

    def children(self):
        return list(self._children)

    def findChildren(self, klass=None, name=None):
        found = []
        for child in self._children:
            if klass is None or isinstance(child, klass):
                if name is None or child.objectName == name:
                    found.append(child)
            found.extend(child.findChildren(klass, name))
        return found

    def findChild(self, klass, name=""):
        matches = self.findChildren(klass, name or None)
        return matches[0] if matches else None

    def property(self, name):
        if name in self._values:
            return getattr(self, name)
        return self._dynamic.get(name)

    def setProperty(self, name, value):
        if name in self._values:
            setattr(self, name, value)
            return True
        self._dynamic[name] = value
        return False

    def dynamicPropertyNames(self):
        return list(self._dynamic)

    def blockSignals(self, block):
        previous = self._blocked
        object.__setattr__(self, "_blocked", bool(block))
        return previous

    def signalsBlocked(self):
        return self._blocked

    def deleteLater(self):
        object.__setattr__(self, "_deleted", True)

    def connect(self, signature, slot):
        self._check_signal(signature)
        BoundSignal(self, _signal_name(signature)).connect(slot)
        return True

    def disconnect(self, signature, slot=None):
        self._check_signal(signature)
        BoundSignal(self, _signal_name(signature)).disconnect(slot)
        return True

    # --- helpers for subclasses ---------------------------------------------------------------------
    def _check_signal(self, signature):
        normalised = signature.replace(" ", "")
        if normalised not in {s.replace(" ", "") for s in type(self)._all_signals()}:
            raise StrictAttributeError(f"{self.CLASS} '{self.objectName}' has no signal '{signature}'")

    def _emit(self, name, *args):
        if self._blocked:
            return
        for slot in list(self._connections.get(name, [])):
            call_slot(slot, args)

    def _set_objectName(self, value):
        self._values["objectName"] = str(value)
        self._emit("objectNameChanged", value)


class StrictPlain:
    """A non-QObject value class (QTableWidgetItem, QDate...): only its declared methods exist."""

    CLASS = "value"

    def __setattr__(self, name, value):
        if not name.startswith("_"):
            raise StrictAttributeError(f"{self.CLASS} has no attribute '{name}' to set")
        object.__setattr__(self, name, value)
