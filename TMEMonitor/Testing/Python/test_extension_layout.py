"""The extension as Slicer builds it: CMake lists complete, widget code consistent with its .ui files,
Lib packages free of Qt and of packages Slicer does not bundle at import time."""
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Utilities"))
from update_cmake_lists import MODULES, expected_lists as _expected_lists  # noqa: E402  (one list of modules)

# What a Lib package may import at module load (Slicer bundles these, and the extension's own Libs).
ALLOWED_TOP_LEVEL = {"numpy", "scipy", "SimpleITK", "vtk", "vtkmodules", "pydicom", "slicer",
                     "TMEMonitorLib"} | {m + "Lib" for m in MODULES}


def _stdlib_module_names():
    """``sys.stdlib_module_names`` (Python >= 3.10); on 3.9 (Slicer 5.8) the standard library's files."""
    if hasattr(sys, "stdlib_module_names"):
        return sys.stdlib_module_names  # stack-compat: guarded
    import sysconfig
    names = set(sys.builtin_module_names)
    for folder in (sysconfig.get_paths()["stdlib"], os.path.join(sysconfig.get_paths()["stdlib"], "lib-dynload")):
        for entry in os.listdir(folder):
            names.add(entry.split(".")[0])
    return names - {"site-packages"}


def _present_modules():
    return [m for m in MODULES if os.path.isfile(os.path.join(ROOT, m, m + ".py"))]


class ExtensionLayoutTest(unittest.TestCase):
    def test_cmake_lists_name_every_python_file(self):
        script = os.path.join(ROOT, "Utilities", "update_cmake_lists.py")
        result = subprocess.run([sys.executable, script, "--check"], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, "run `python Utilities/update_cmake_lists.py`: " + result.stdout)

    def test_top_level_cmake_adds_every_module(self):
        text = open(os.path.join(ROOT, "CMakeLists.txt")).read()
        for module in MODULES:
            self.assertIn(f"add_subdirectory({module})", text)
        for key in ("EXTENSION_HOMEPAGE", "EXTENSION_CATEGORY", "EXTENSION_CONTRIBUTORS", "EXTENSION_DESCRIPTION",
                    "EXTENSION_ICONURL", "EXTENSION_SCREENSHOTURLS"):
            self.assertIn(key, text)
        # Slicer reads the licence and readme files in include(${Slicer_USE_FILE}): set them before it.
        use_file = text.index("\ninclude(${Slicer_USE_FILE})")
        for key in ("EXTENSION_LICENSE_FILE", "EXTENSION_README_FILE"):
            self.assertLess(text.index(f"set({key}"), use_file, key)
        self.assertNotIn("set(EXTENSION_LICENSE ", text)

    def test_every_module_is_built_by_the_shared_macro(self):
        top = open(os.path.join(ROOT, "CMakeLists.txt")).read()
        include = top.index("CMake/TMEMonitorScriptedModule.cmake")
        for module in MODULES:
            self.assertLess(include, top.index(f"add_subdirectory({module})"), module)
            text = open(os.path.join(ROOT, module, "CMakeLists.txt")).read()
            self.assertIn(f"set(MODULE_NAME {module})", text)
            self.assertTrue(text.rstrip().endswith("tme_monitor_scripted_module()"), module)

    @unittest.skipUnless(shutil.which("cmake"), "cmake is not installed")
    def test_cmake_configures_every_module_with_slicer_stand_ins(self):
        """Configure the extension's module tree with recording stand-ins for Slicer's macros: the
        CMake is valid and every module registers its scripts, resources, self-test and unittests."""
        with tempfile.TemporaryDirectory() as folder:
            source, build = os.path.join(folder, "src"), os.path.join(folder, "build")
            os.makedirs(source)
            with open(os.path.join(source, "CMakeLists.txt"), "w") as stream:
                stream.write("cmake_minimum_required(VERSION 3.16)\nproject(Check NONE)\nset(BUILD_TESTING ON)\n"
                             "macro(slicerMacroBuildScriptedModule)\n"
                             "  cmake_parse_arguments(M \"WITH_GENERIC_TESTS\" \"NAME\" \"SCRIPTS;RESOURCES\" ${ARGN})\n"
                             "  list(LENGTH M_SCRIPTS n)\n  message(STATUS \"module ${M_NAME} scripts ${n} "
                             "generic ${M_WITH_GENERIC_TESTS}\")\nendmacro()\n"
                             "macro(slicer_add_python_unittest)\n  cmake_parse_arguments(U \"\" \"SCRIPT\" \"\" ${ARGN})\n"
                             "  message(STATUS \"unittest SCRIPT ${U_SCRIPT}\")\nendmacro()\n"
                             f"include({ROOT}/CMake/TMEMonitorScriptedModule.cmake)\n")
                for module in MODULES:
                    stream.write(f"add_subdirectory({ROOT}/{module} {module})\n")
            result = subprocess.run(["cmake", "-S", source, "-B", build], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        for module in MODULES:
            scripts, _, tests = _expected_lists(module)
            self.assertIn(f"module {module} scripts {len(scripts)} generic TRUE", result.stdout)
            self.assertIn(f"unittest SCRIPT {module}.py", result.stdout)
            for test in tests:
                self.assertIn(f"unittest SCRIPT {os.path.basename(test)}", result.stdout)

    def test_tests_are_not_shipped_as_module_scripts(self):
        for module in _present_modules():
            text = open(os.path.join(ROOT, module, "CMakeLists.txt")).read()
            scripts = text[text.index("set(MODULE_PYTHON_SCRIPTS"):text.index("set(MODULE_PYTHON_RESOURCES")]
            self.assertNotIn("Testing/", scripts, module)
            self.assertNotIn("widget_checks", scripts, module)

    def test_widget_names_exist_in_ui_files(self):
        from SlicerHarness.widget_checks import check_module_widget
        modules = _present_modules()
        self.assertIn("TMEMonitor", modules)
        for module in modules:
            with self.subTest(module=module):
                problems = check_module_widget(os.path.join(ROOT, module, module + ".py"),
                                               os.path.join(ROOT, module, "Resources", "UI", module + ".ui"))
                self.assertEqual(problems, [])

    def test_lib_packages_import_only_what_slicer_bundles(self):
        offenders = []
        for module in MODULES:
            lib = os.path.join(ROOT, module, module + "Lib")
            for folder, _, files in os.walk(lib):
                for name in files:
                    if not name.endswith(".py"):
                        continue
                    path = os.path.join(folder, name)
                    tree = ast.parse(open(path, encoding="utf-8").read())
                    # Only module-level imports run at load time (function bodies import lazily).
                    for node in tree.body:
                        targets = []
                        if isinstance(node, ast.Import):
                            targets = [alias.name for alias in node.names]
                        elif isinstance(node, ast.ImportFrom) and node.level == 0:
                            targets = [node.module]
                        for target in targets:
                            top = target.split(".")[0]
                            if top not in ALLOWED_TOP_LEVEL and top not in _stdlib_module_names():
                                offenders.append(f"{os.path.relpath(path, ROOT)} imports {target}")
        self.assertEqual(offenders, [])

    def test_each_module_has_readme_icon_and_ui(self):
        for module in _present_modules():
            with self.subTest(module=module):
                for relative in ("README.md", f"Resources/Icons/{module}.png", f"Resources/UI/{module}.ui"):
                    self.assertTrue(os.path.isfile(os.path.join(ROOT, module, relative)), relative)


if __name__ == "__main__":
    unittest.main()


class ExtensionScreenshotAndHypoxiaTest(unittest.TestCase):
    """The screenshot the Extensions Index shows exists in the repository; HypoxiaModule is built like the others."""

    def test_screenshot_named_by_extension_screenshoturls_exists(self):
        import re
        text = open(os.path.join(ROOT, "CMakeLists.txt")).read()
        match = re.search(r'set\(EXTENSION_SCREENSHOTURLS\s+"([^"]+)"\)', text)
        self.assertIsNotNone(match, "EXTENSION_SCREENSHOTURLS is not set")
        homepage = re.search(r'set\(EXTENSION_HOMEPAGE\s+"https://github.com/([^"]+)"\)', text).group(1)
        for url in match.group(1).split():
            # The Extensions Index shows the raw file of the default branch: raw.githubusercontent.com/<repo>/<branch>/<path>
            prefix = f"https://raw.githubusercontent.com/{homepage}/main/"
            self.assertTrue(url.startswith(prefix), f"{url}: expected a raw GitHub URL under {prefix}")
            path = os.path.join(ROOT, *url[len(prefix):].split("/"))
            self.assertTrue(os.path.isfile(path), f"{url}: {os.path.relpath(path, ROOT)} is not in the repository")
            with open(path, "rb") as handle:
                self.assertEqual(handle.read(8), b"\x89PNG\r\n\x1a\n")

    def test_hypoxia_module_layout(self):
        from SlicerHarness.widget_checks import check_module_widget
        module = "HypoxiaModule"
        self.assertIn(f"add_subdirectory({module})", open(os.path.join(ROOT, "CMakeLists.txt")).read())
        for relative in ("README.md", f"Resources/Icons/{module}.png", f"Resources/UI/{module}.ui", f"{module}.py"):
            self.assertTrue(os.path.isfile(os.path.join(ROOT, module, relative)), relative)
        self.assertEqual(check_module_widget(os.path.join(ROOT, module, module + ".py"),
                                             os.path.join(ROOT, module, "Resources", "UI", module + ".ui")), [])
        cmake = open(os.path.join(ROOT, module, "CMakeLists.txt")).read()
        scripts = cmake[cmake.index("set(MODULE_PYTHON_SCRIPTS"):cmake.index("set(MODULE_PYTHON_RESOURCES")]
        self.assertNotIn("Testing/", scripts)
        self.assertIn(f"{module}.py", scripts)
