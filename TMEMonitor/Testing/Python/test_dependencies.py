"""First-use installs: asked first, Slicer's own packages pinned, spec2nii never installed into Slicer.

The installer and the dialog are replaced by recorders; "installing" writes a module file into a
folder on sys.path so the import after the install is real."""
import os
import shutil
import stat
import sys
import tempfile
import types
import unittest
from unittest import mock

from TMEMonitorLib import dependencies
from TMEMonitorLib.dependencies import MissingDependencyError

SLICER_58_STACK = [("numpy", "1.26.4"), ("scipy", "1.13.1"), ("pydicom", "2.4.4"), ("SimpleITK", "2.4.0"),
                   ("vtk", "9.3.0"), ("requests", "2.31.0"), ("tme_fake_optional", "0.1")]


class _FakePackageFolder:
    """A folder on sys.path into which a fake "pip install" writes ``<name>.py``."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="tme_deps_test_")
        sys.path.insert(0, self.folder)

    def install(self, name):
        with open(os.path.join(self.folder, name + ".py"), "w") as handle:
            handle.write("INSTALLED = True\n")

    def close(self):
        sys.path.remove(self.folder)
        for name in os.listdir(self.folder):
            sys.modules.pop(os.path.splitext(name)[0], None)
            os.remove(os.path.join(self.folder, name))
        os.rmdir(self.folder)


class RequireTest(unittest.TestCase):
    def setUp(self):
        self.packages = _FakePackageFolder()
        self.addCleanup(self.packages.close)
        dependencies._declined.clear()
        self.addCleanup(dependencies._declined.clear)
        self.asked, self.installed = [], []

    def _ask(self, answer):
        def ask(requirement, purpose):
            self.asked.append((requirement, purpose))
            return answer
        return ask

    def _install(self, module_name):
        self.installed.append(module_name)
        self.packages.install(module_name)

    def test_present_package_is_imported_without_asking(self):
        self.packages.install("tme_fake_present")
        module = dependencies.require("tme_fake_present", ask=self._ask(True), install=self._install)
        self.assertTrue(module.INSTALLED)
        self.assertEqual((self.asked, self.installed), ([], []))

    def test_headless_missing_package_names_the_pip_command_and_installs_nothing(self):
        with mock.patch.object(dependencies, "_inside_slicer_application", return_value=False):
            with self.assertRaises(ImportError) as raised:
                dependencies.require("lmfit_not_here", purpose="peak fitting", ask=self._ask(True),
                                     install=self._install)
        self.assertIn("-m pip install 'lmfit_not_here'", str(raised.exception))
        self.assertIn("peak fitting", str(raised.exception))
        self.assertEqual((self.asked, self.installed), ([], []))

    def test_inside_slicer_asks_then_installs_and_imports(self):
        with mock.patch.object(dependencies, "_inside_slicer_application", return_value=True), \
                mock.patch.dict(dependencies.PIP_NAMES, {"tme_fake_optional": "tme_fake_optional>=0.1"}):
            module = dependencies.require("tme_fake_optional", purpose="report figures", ask=self._ask(True),
                                          install=self._install)
        self.assertTrue(module.INSTALLED)
        self.assertEqual(self.asked, [("tme_fake_optional>=0.1", "report figures")])
        self.assertEqual(self.installed, ["tme_fake_optional"])

    def test_declined_install_is_an_import_error_and_is_not_asked_again(self):
        with mock.patch.object(dependencies, "_inside_slicer_application", return_value=True):
            for _ in range(2):
                with self.assertRaises(ImportError) as raised:
                    dependencies.require("tme_fake_optional", ask=self._ask(False), install=self._install)
        self.assertIn("declined", str(raised.exception))
        self.assertEqual(len(self.asked), 1)
        self.assertEqual(self.installed, [])

    def test_spec2nii_is_never_installed_into_slicer(self):
        with mock.patch.object(dependencies, "_inside_slicer_application", return_value=True), \
                mock.patch("importlib.import_module", side_effect=ImportError("no spec2nii")):
            with self.assertRaises(ImportError) as raised:
                dependencies.require("spec2nii", ask=self._ask(True), install=self._install)
        self.assertIn("pydicom 3", str(raised.exception))
        self.assertEqual((self.asked, self.installed), ([], []))


class InstallIntoSlicerTest(unittest.TestCase):
    def setUp(self):
        self.calls = []

    def _pip_install(self, arguments):
        constraints = arguments[arguments.index("--constraint") + 1]
        with open(constraints) as handle:
            self.calls.append((list(arguments), constraints, handle.read().splitlines()))

    def test_every_installed_package_is_pinned_except_the_one_installed(self):
        with mock.patch.dict(dependencies.PIP_NAMES, {"tme_fake_optional": "tme_fake_optional>=0.1"}):
            dependencies.install_into_slicer("tme_fake_optional", pip_install=self._pip_install,
                                             distributions=SLICER_58_STACK)
        arguments, constraints, lines = self.calls[0]
        self.assertEqual(arguments[0], "tme_fake_optional>=0.1")
        for pinned in ("numpy==1.26.4", "scipy==1.13.1", "pydicom==2.4.4", "SimpleITK==2.4.0", "vtk==9.3.0",
                       "requests==2.31.0"):
            self.assertIn(pinned, lines)
        self.assertFalse(any(line.startswith("tme_fake_optional") for line in lines))
        self.assertNotIn("--upgrade", arguments)
        self.assertFalse(os.path.exists(constraints), "the constraints file is removed after the install")

    def test_real_installed_distributions_are_pinned_by_default(self):
        import numpy
        dependencies.install_into_slicer("lmfit", pip_install=self._pip_install)
        lines = self.calls[0][2]
        self.assertIn(f"numpy=={numpy.__version__}", lines)
        self.assertFalse(any(line.lower().startswith("lmfit==") for line in lines))

    def test_pip_failure_is_a_clear_error_and_leaves_no_file(self):
        def failing(arguments):
            self._pip_install(arguments)
            raise RuntimeError("ResolutionImpossible: pydicom>=3 conflicts with pydicom==2.4.4")
        with self.assertRaises(ImportError) as raised:
            dependencies.install_into_slicer("matplotlib", pip_install=failing, distributions=SLICER_58_STACK)
        message = str(raised.exception)
        self.assertIn("matplotlib>=3.7", message)
        self.assertIn("ResolutionImpossible", message)
        self.assertFalse(os.path.exists(self.calls[0][1]))

    def test_spec2nii_install_refused_before_pip_runs(self):
        with self.assertRaises(ImportError):
            dependencies.install_into_slicer("spec2nii", pip_install=self._pip_install,
                                             distributions=SLICER_58_STACK)
        self.assertEqual(self.calls, [])

    def test_constraints_keep_the_first_of_duplicate_names(self):
        text = dependencies.pin_constraints([("NumPy", "1.26.4"), ("numpy", "2.0.2"), ("py_dicom", "1")],
                                            leave_free=("py-dicom",))
        self.assertEqual(text, "NumPy==1.26.4\n")


class ExternalCommandTest(unittest.TestCase):
    def setUp(self):
        folder = tempfile.mkdtemp(prefix="tme_ext_test_")
        self.addCleanup(shutil.rmtree, folder)
        self.executable = os.path.join(folder, "spec2nii")
        with open(self.executable, "w") as handle:
            handle.write("#!/bin/sh\n")
        os.chmod(self.executable, os.stat(self.executable).st_mode | stat.S_IXUSR)
        self.not_executable = os.path.join(folder, "notes.txt")
        open(self.not_executable, "w").close()

    def _environment(self, value=None):
        environment = {k: v for k, v in os.environ.items() if k != "TME_MONITOR_SPEC2NII"}
        if value is not None:
            environment["TME_MONITOR_SPEC2NII"] = value
        return mock.patch.dict(os.environ, environment, clear=True)

    def test_configured_path_wins(self):
        with self._environment(self.executable):
            self.assertEqual(dependencies.external_command("spec2nii", which=lambda name: "/usr/bin/spec2nii"),
                             [self.executable])

    def test_configured_path_that_is_not_a_program_is_an_error_naming_the_variable(self):
        with self._environment(self.not_executable), self.assertRaises(ImportError) as raised:
            dependencies.external_command("spec2nii")
        self.assertIn("TME_MONITOR_SPEC2NII", str(raised.exception))

    def test_program_on_path(self):
        with self._environment():
            self.assertEqual(dependencies.external_command("spec2nii", which=lambda name: "/opt/bin/" + name),
                             ["/opt/bin/spec2nii"])

    def test_slicer_setting_is_read_inside_slicer(self):
        settings = mock.Mock()
        settings.value.return_value = self.executable
        fake_slicer = types.SimpleNamespace(app=types.SimpleNamespace(userSettings=lambda: settings))
        with self._environment(), mock.patch.dict(sys.modules, {"slicer": fake_slicer}), \
                mock.patch.object(dependencies, "_inside_slicer_application", return_value=True):
            command = dependencies.external_command("spec2nii", which=lambda name: None)
        self.assertEqual(command, [self.executable])
        settings.value.assert_called_with("TMEMonitor/spec2niiPath")

    def test_missing_inside_slicer_never_falls_back_to_slicer_python(self):
        settings = mock.Mock()
        settings.value.return_value = None
        fake_slicer = types.SimpleNamespace(app=types.SimpleNamespace(userSettings=lambda: settings))
        with self._environment(), mock.patch.dict(sys.modules, {"slicer": fake_slicer}), \
                mock.patch.object(dependencies, "_inside_slicer_application", return_value=True), \
                self.assertRaises(ImportError) as raised:
            # "unittest" is importable, yet inside Slicer the module fallback must not be used.
            dependencies.external_command("spec2nii", module="unittest", which=lambda name: None)
        message = str(raised.exception)
        self.assertIn("never installed into Slicer", message)
        self.assertIn("TME_MONITOR_SPEC2NII", message)

    def test_headless_falls_back_to_an_importable_module(self):
        with self._environment(), mock.patch.object(dependencies, "_inside_slicer_application", return_value=False):
            command = dependencies.external_command("spec2nii", module="unittest", which=lambda name: None)
        self.assertEqual(command, [sys.executable, "-m", "unittest"])

    def test_bridge_reports_a_missing_converter_as_input_error(self):
        from SpectroscopyModuleLib.io import spec2nii_bridge
        from TMEMonitorLib.errors import InputError
        with self._environment(), mock.patch.object(dependencies, "_inside_slicer_application", return_value=False), \
                mock.patch("shutil.which", return_value=None), \
                mock.patch("importlib.util.find_spec", return_value=None), \
                self.assertRaises(InputError) as raised:
            spec2nii_bridge._spec2nii_command()
        self.assertIn("spec2nii", str(raised.exception))
        self.assertIn("PATH", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
