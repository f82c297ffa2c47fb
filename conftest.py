"""pytest: make the module folders importable exactly as Slicer does (each module's
directory is on sys.path inside Slicer), without requiring an install.

Also: on a Python without slicer-core (Slicer 5.8's stack is Python 3.9, and slicer-core has
no wheel for it), a test that needs Slicer's MRML scene is *skipped* with a clear reason
instead of erroring. Only a missing slicer-core module counts (``slicer``, ``vtk``,
``vtkmodules``); any other import error still fails the run. With slicer-core installed
nothing is skipped here.
"""
import importlib.util
import os
import sys

import pytest

_ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_ROOT, "Utilities"))
from update_cmake_lists import MODULES as _MODULES  # noqa: E402  (every module folder: the one list)

for _module in _MODULES + ("Testing", os.path.join("Testing", "Python")):     # last: shared test helpers
    _path = os.path.join(_ROOT, _module)
    if _path not in sys.path:
        sys.path.insert(0, _path)

# Top-level modules that the slicer-core wheel (and its vtk dependency) provide.
SLICER_CORE_MODULES = ("slicer", "vtk", "vtkmodules")
SLICER_CORE_AVAILABLE = importlib.util.find_spec("slicer") is not None


def missing_slicer_core_module(error):
    """The slicer-core module name when ``error`` (or what caused it) is a failed import of one."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ModuleNotFoundError) and error.name \
                and error.name.split(".")[0] in SLICER_CORE_MODULES:
            return error.name
        error = error.__cause__ or error.__context__
    return None


def skip_reason(module_name):
    return (f"needs slicer-core (Slicer's MRML scene; '{module_name}' is not importable on Python "
            f"{sys.version_info.major}.{sys.version_info.minor}: slicer-core has no wheel for it or is "
            "not installed)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slicer_core: the test needs slicer-core (set automatically: skipped where it is absent)")


if not SLICER_CORE_AVAILABLE:
    class _ModuleSkippedWithoutSlicerCore(pytest.Module):
        """A test module whose import needs slicer-core is skipped as a whole, with the reason."""

        def _getobj(self):
            try:
                return super()._getobj()
            except self.CollectError as error:
                missing = missing_slicer_core_module(error)
                if missing is None:
                    raise
                reason = f"{self.path.name}: {skip_reason(missing)}"
                raise pytest.skip.Exception(reason, allow_module_level=True) from None

    def pytest_pycollect_makemodule(module_path, parent):
        if module_path.name == "__init__.py":
            return None
        return _ModuleSkippedWithoutSlicerCore.from_parent(parent, path=module_path)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        # A test that imports slicer-core only while it runs (not at module load).
        outcome = yield
        report = outcome.get_result()
        if call.excinfo is None or report.outcome != "failed":
            return
        missing = missing_slicer_core_module(call.excinfo.value)
        if missing is not None:
            path, line, _ = item.location
            report.outcome = "skipped"
            report.longrepr = (os.path.join(str(item.config.rootpath), path), (line or 0) + 1,
                               "Skipped: " + skip_reason(missing))
