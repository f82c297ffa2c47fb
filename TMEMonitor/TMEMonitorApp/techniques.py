"""The techniques the app knows: discovered, never listed.

A technique module registers itself by shipping ``<Name>ModuleLib/technique.py`` with a
module-level ``TECHNIQUE`` (a ``TMEMonitorLib.techniques.Technique``). Discovery finds:

1. every importable top-level package whose name ends in ``ModuleLib`` and that has a
   ``technique`` submodule (inside Slicer each module's folder is on ``sys.path``; headless the
   repository's module folders, or the installed packages);
2. the ``tme_monitor.techniques`` entry-point group (a package installed with pip whose entry
   point names a ``Technique`` object or a module holding ``TECHNIQUE``);
3. techniques registered by a call to :func:`register` (scripts and tests).

The dashboard, demo, report and command line all iterate :func:`techniques`, in ``order``.
A technique package that is present but fails to import raises (a broken module is never
silently skipped); one that needs a package not installed here is skipped with a warning.
"""
import contextlib
import importlib
import importlib.util
import pkgutil
import warnings

from TMEMonitorLib.techniques import Technique

ENTRY_POINT_GROUP = "tme_monitor.techniques"
PACKAGE_SUFFIX = "ModuleLib"


def _technique_of(obj, where):
    technique = getattr(obj, "TECHNIQUE", obj)
    if not isinstance(technique, Technique):
        raise TypeError(f"{where}: expected a TMEMonitorLib.techniques.Technique (or a module holding TECHNIQUE), "
                        f"got {type(technique).__name__}")
    return technique


def _scan_packages():
    """Techniques of the importable ``*ModuleLib`` packages that have a ``technique`` module."""
    found = []
    for info in sorted(pkgutil.iter_modules(), key=lambda i: i.name):
        if not info.ispkg or not info.name.endswith(PACKAGE_SUFFIX):
            continue
        name = f"{info.name}.technique"
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError as error:
            warnings.warn(f"technique package {info.name} skipped: {error}")
            continue
        if spec is None:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and not error.name.startswith(info.name):      # a dependency that is not installed
                warnings.warn(f"technique {name} skipped: it needs {error.name}, which is not installed")
                continue
            raise
        found.append(_technique_of(module, name))
    return found


def _entry_points():
    from importlib import metadata
    try:
        points = metadata.entry_points()
        group = points.select(group=ENTRY_POINT_GROUP) if hasattr(points, "select") \
            else points.get(ENTRY_POINT_GROUP, ())          # Python 3.9 (Slicer 5.8)
    except Exception as error:          # a broken installed distribution must not stop the app
        warnings.warn(f"technique entry points could not be read: {error}")
        return []
    found = []
    for point in group:
        try:
            loaded = point.load()
        except ModuleNotFoundError as error:
            # As for the scanned packages: a technique that is not importable here at all (e.g. a
            # source tree's egg-info on the path of an interpreter without the package) or that
            # needs a package not installed is skipped with a warning; a missing part of a package
            # that is present (broken) raises, as does any other import error.
            top = point.value.split(":")[0].split(".")[0]
            if error.name == top or not (error.name or "").startswith(top + "."):
                warnings.warn(f"technique entry point {point.name} ({point.value}) skipped: {error}")
                continue
            raise
        found.append(_technique_of(loaded, f"entry point {point.name}"))
    return found


class Registry:
    """Techniques by name: discovered once (lazily), plus those registered by a call."""

    def __init__(self):
        self._discovered = None
        self._registered = {}
        self._hidden = set()

    def refresh(self):
        """Scan again (after a module folder was added to ``sys.path``)."""
        self._discovered = None

    def _discover(self):
        if self._discovered is None:
            discovered = {}
            for technique in _scan_packages() + _entry_points():
                if technique.name in discovered and discovered[technique.name] is not technique:
                    raise ValueError(f"two techniques are named '{technique.name}'")
                discovered[technique.name] = technique
            self._discovered = discovered
        return self._discovered

    def techniques(self):
        """Every technique, ordered by ``order`` then name."""
        merged = {**self._discover(), **self._registered}
        return sorted((t for n, t in merged.items() if n not in self._hidden), key=lambda t: (t.order, t.name))

    def get(self, name):
        for technique in self.techniques():
            if technique.name == name:
                return technique
        return None

    def register(self, technique):
        """Add (or replace) a technique by its name; returns it."""
        technique = _technique_of(technique, "register()")
        self._registered[technique.name] = technique
        self._hidden.discard(technique.name)
        return technique

    def unregister(self, name):
        """Remove a technique registered by a call, or hide a discovered one."""
        if self._registered.pop(name, None) is None:
            self._hidden.add(name)


REGISTRY = Registry()


def techniques():
    """The registered techniques, in order (see the module docstring)."""
    return REGISTRY.techniques()


def get(name):
    """The technique called ``name``, or None."""
    return REGISTRY.get(name)


def register(technique):
    return REGISTRY.register(technique)


def unregister(name):
    REGISTRY.unregister(name)


@contextlib.contextmanager
def registered(technique):
    """Register ``technique`` for the duration of a block (tests, one-off scripts)."""
    previous = REGISTRY._registered.get(technique.name)
    hidden = technique.name in REGISTRY._hidden
    REGISTRY.register(technique)
    try:
        yield technique
    finally:
        if previous is not None:
            REGISTRY._registered[technique.name] = previous
        else:
            REGISTRY._registered.pop(technique.name, None)
        if hidden:
            REGISTRY._hidden.add(technique.name)


def biomarkers():
    """{name: (Biomarker, technique)} of every registered technique, in technique order."""
    out = {}
    for technique in techniques():
        for biomarker in technique.biomarkers:
            out.setdefault(biomarker.name, (biomarker, technique))
    return out
