"""Rewrite the file lists of each module's CMakeLists.txt from the files on disk.

Slicer packages only the Python files listed in ``MODULE_PYTHON_SCRIPTS``, so every file of
a ``<Module>Lib`` package must be named there; tests are registered with
``slicer_add_python_unittest``. Run after adding or removing files:

    python Utilities/update_cmake_lists.py

``TMEMonitor/Testing/Python/test_extension_layout.py`` fails when a list is out of date.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = ("TMEMonitor", "DCEModule", "DiffusionModule", "SpectroscopyModule")

TEMPLATE = """#-----------------------------------------------------------------------------
# {module}: generated lists — run `python Utilities/update_cmake_lists.py` after adding files.
set(MODULE_NAME {module})

#-----------------------------------------------------------------------------
set(MODULE_PYTHON_SCRIPTS
{scripts}
  )

set(MODULE_PYTHON_RESOURCES
{resources}
  )

#-----------------------------------------------------------------------------
slicerMacroBuildScriptedModule(
  NAME ${{MODULE_NAME}}
  SCRIPTS ${{MODULE_PYTHON_SCRIPTS}}
  RESOURCES ${{MODULE_PYTHON_RESOURCES}}
  WITH_GENERIC_TESTS
  )

#-----------------------------------------------------------------------------
if(BUILD_TESTING)
  # The module's own self-test (its {module}Test class) runs the workflow on synthetic data.
  slicer_add_python_unittest(SCRIPT ${{MODULE_NAME}}.py)
  # The same unittest modules that pytest runs headless.
{tests}
endif()
"""


def _files(module, subfolder, suffixes):
    base = os.path.join(ROOT, module)
    out = []
    for folder, dirs, files in os.walk(os.path.join(base, subfolder)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(suffixes):
                out.append(os.path.relpath(os.path.join(folder, name), base).replace(os.sep, "/"))
    return out


def expected_lists(module):
    # <Module>Lib: the module's Qt-free library; <Module>App (TMEMonitor only): the app layer.
    scripts = [f"{module}.py"] + _files(module, f"{module}Lib", (".py",)) + _files(module, f"{module}App", (".py",))
    testing_python = _files(module, "Testing/Python", (".py",))
    scripts += testing_python
    resources = _files(module, "Resources", (".ui", ".png", ".svg", ".json", ".txt", ".ctbl"))
    tests = [f for f in testing_python if os.path.basename(f).startswith("test_")]
    return scripts, resources, tests


def render(module):
    scripts, resources, tests = expected_lists(module)
    return TEMPLATE.format(
        module=module,
        scripts="\n".join(f"  {s}" for s in scripts),
        resources="\n".join(f"  {r}" for r in resources),
        tests="\n".join(f"  slicer_add_python_unittest(SCRIPT {t})" for t in tests),
    )


def main():
    check = "--check" in sys.argv
    stale = []
    for module in MODULES:
        if not os.path.isdir(os.path.join(ROOT, module)):
            continue
        path = os.path.join(ROOT, module, "CMakeLists.txt")
        text = render(module)
        current = open(path).read() if os.path.exists(path) else ""
        if current != text:
            stale.append(path)
            if not check:
                with open(path, "w") as handle:
                    handle.write(text)
    if check and stale:
        print("out of date:", *stale)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
