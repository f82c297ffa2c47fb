"""The installed ``tme-monitor`` finds every technique module.

An editable install (``pip install -e .``, what the README's commands do) maps the packages
through an import hook that a scan of ``sys.path`` cannot see, so the installed command finds
the techniques through the ``tme_monitor.techniques`` entry points of pyproject.toml. Without
them ``tme-monitor demo`` ran no analysis at all (found while checking the README's demo)."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def declared_entry_points():
    """{name: module} of pyproject.toml's [project.entry-points."tme_monitor.techniques"] (no tomllib on 3.9)."""
    text = open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8").read()
    match = re.search(r'^\[project\.entry-points\."tme_monitor\.techniques"\]\n(.*?)(?=^\[|\Z)', text, re.M | re.S)
    if match is None:
        return {}
    return dict(re.findall(r'^(\w+)\s*=\s*"([\w.]+)"', match.group(1), re.M))


def technique_modules_in_repository():
    """{package: technique name} of every <Module>/<Module>Lib/technique.py of the repository."""
    out = {}
    for module in sorted(os.listdir(ROOT)):
        package = module + "Lib"
        path = os.path.join(ROOT, module, package, "technique.py")
        if os.path.isfile(path):
            name = re.search(r'^\s*name="([^"]+)"', open(path, encoding="utf-8").read(), re.M)
            out[package] = name.group(1) if name else None
    return out


class TechniqueEntryPointsTest(unittest.TestCase):
    def test_every_technique_module_is_declared(self):
        declared = declared_entry_points()
        found = technique_modules_in_repository()
        self.assertGreaterEqual(len(found), 6)
        for package, name in found.items():
            self.assertEqual(declared.get(name), f"{package}.technique", f"{package}: add `{name} = "
                             f"\"{package}.technique\"` to pyproject's tme_monitor.techniques entry points")
        self.assertEqual(len(declared), len(found), "an entry point names a module that is not in the repository")

    def test_installed_command_finds_every_technique_outside_the_repository(self):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        with tempfile.TemporaryDirectory() as folder:
            probe = subprocess.run([sys.executable, "-c", "import TMEMonitorApp"], cwd=folder, env=env,
                                   capture_output=True, text=True)
            if probe.returncode != 0:
                self.skipTest("TME Monitor is not installed in this interpreter (a stack without the package)")
            listed = subprocess.run([sys.executable, "-c", "from TMEMonitorApp import techniques\n"
                                     "print(' '.join(t.name for t in techniques.techniques()))"],
                                    cwd=folder, env=env, capture_output=True, text=True)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual(set(listed.stdout.split()), set(technique_modules_in_repository().values()))


class EntryPointOfAModuleNotHereTest(unittest.TestCase):
    """An entry point whose module this interpreter cannot import at all (a source tree's egg-info on
    the path of a Python without the package, as on the Slicer 5.10 test stack) is skipped with a
    warning, like a scanned technique that needs a package not installed; a technique package that is
    present but broken still raises."""

    def _with_distribution(self, folder, entry_points):
        info = os.path.join(folder, "tme_probe-0.0.dist-info")
        os.makedirs(info)
        with open(os.path.join(info, "METADATA"), "w") as stream:
            stream.write("Metadata-Version: 2.1\nName: tme-probe\nVersion: 0.0\n")
        with open(os.path.join(info, "entry_points.txt"), "w") as stream:
            stream.write('[tme_monitor.techniques]\n' + entry_points)
        sys.path.insert(0, folder)
        self.addCleanup(sys.path.remove, folder)

    def test_missing_module_is_skipped_with_a_warning(self):
        import warnings

        from TMEMonitorApp import techniques
        with tempfile.TemporaryDirectory() as folder:
            self._with_distribution(folder, "ghost = NoSuchTechniqueModuleLib.technique\n")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                found = techniques._entry_points()
        self.assertTrue(any("NoSuchTechniqueModuleLib" in str(w.message) for w in caught))
        self.assertNotIn("ghost", [t.name for t in found])

    def test_present_but_broken_module_raises(self):
        from TMEMonitorApp import techniques
        with tempfile.TemporaryDirectory() as folder:
            package = os.path.join(folder, "BrokenProbeModuleLib")
            os.makedirs(package)
            open(os.path.join(package, "__init__.py"), "w").close()
            with open(os.path.join(package, "technique.py"), "w") as stream:
                stream.write("import BrokenProbeModuleLib.missing_part\n")  # the package is present but broken
            self._with_distribution(folder, "broken = BrokenProbeModuleLib.technique\n")
            with self.assertRaises(ModuleNotFoundError):
                techniques._entry_points()
            for name in [m for m in sys.modules if m.startswith("BrokenProbeModuleLib")]:
                del sys.modules[name]


if __name__ == "__main__":
    unittest.main()
