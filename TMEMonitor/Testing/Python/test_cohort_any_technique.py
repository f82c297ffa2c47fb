"""The cohort runner knows no technique by name: a technique module's input roles are manifest
roles, its settings class checks its settings section, and its analysis runs through the
dashboard's "run visit analyses". Checked with the hypoxia module (multi-echo GRE + O2 dynamics),
which the cohort code never names."""
import csv
import importlib.util
import json
import os
import shutil
import tempfile
import unittest

from TMEMonitorApp import techniques as registry
from TMEMonitorApp.cohort import manifest as manifest_module
from TMEMonitorApp.cohort import patient_runner, runner
from TMEMonitorApp.cohort import settings as settings_module
from TMEMonitorApp.cohort.synthetic import write_demo_cohort
from TMEMonitorLib.errors import InputError


def _quiet(*_args, **_kwargs):
    pass


class ManifestRolesFromTechniquesTest(unittest.TestCase):
    def test_every_technique_input_is_a_manifest_role(self):
        known = manifest_module.known_roles()
        for technique in registry.techniques():
            for role in technique.inputs:
                self.assertIn(role.role, known, technique.name)
                self.assertEqual(manifest_module.canonical_role(role.role), role.role)
        self.assertEqual(manifest_module.canonical_role("Multi-Echo GRE"), "multi_echo_gre")
        self.assertEqual(manifest_module.canonical_role("tumor"), "tumour")
        self.assertIsNone(manifest_module.canonical_role("bold fmri"))
        self.assertIn("multi_echo_gre", manifest_module.analysed_roles())
        self.assertNotIn("oe_dynamic", manifest_module.analysed_roles())      # optional input only

    def test_unknown_role_names_the_known_ones(self):
        root = tempfile.mkdtemp(prefix="tme-cohort-roles-")
        self.addCleanup(shutil.rmtree, root, True)
        image = os.path.join(root, "x.nrrd")
        open(image, "w").close()
        rows = [manifest_module.Row(2, "P1", "baseline", "2026-01-01", "bold fmri", image),
                manifest_module.Row(3, "P1", "baseline", "2026-01-01", "tumour", image)]
        result = manifest_module.validate(rows)
        text = " | ".join(str(p) for p in result.problems)
        self.assertIn("unknown role 'bold fmri'", text)
        self.assertIn("multi_echo_gre", text)
        for technique in registry.techniques():           # every registered technique's inputs are listed
            self.assertIn(technique.inputs[0].role, text)
        self.assertIn("no series a technique can analyse", text)


class TechniqueSettingsSectionsTest(unittest.TestCase):
    @unittest.skipUnless(registry.get("hypoxia"), "the hypoxia technique is not importable here (needs slicer-core)")
    def test_a_registered_technique_section_is_checked_by_its_class(self):
        settings = settings_module.merge(settings_module.load_settings(), {"hypoxia": {"r2star_method": "loglinear"}})
        by_technique = patient_runner.technique_settings(settings)
        self.assertEqual(by_technique["hypoxia"].r2star_method, "loglinear")
        self.assertEqual(set(by_technique) >= {"dce", "dwi", "hypoxia"}, True)
        with self.assertRaises(InputError) as caught:
            patient_runner.technique_settings(settings_module.merge(settings_module.load_settings(),
                                                                    {"hypoxia": {"no_such_key": 1}}))
        self.assertIn("section 'hypoxia'", str(caught.exception))
        with self.assertRaises(InputError) as caught:
            settings_module.merge(settings_module.load_settings(), {"bold": {}})
        self.assertIn("hypoxia", str(caught.exception))                  # the known sections are listed

    def test_hash_of_unchanged_settings_is_stable(self):
        # --resume compares this hash with the one of the earlier run: adding technique sections to
        # the code must not change it for a settings file that has none.
        defaults = settings_module.load_settings()
        self.assertEqual(sorted(settings_module.patient_settings(defaults)),
                         ["dce", "dwi", "registration", "response", "vfa"])


@unittest.skipUnless(importlib.util.find_spec("distributed") and importlib.util.find_spec("pyarrow"),
                     "cohort runs need the [cohort] extra (dask, distributed, pyarrow); headless only")
class HypoxiaCohortRunTest(unittest.TestCase):
    def test_hypoxia_biomarkers_reach_the_cohort_table(self):
        root = tempfile.mkdtemp(prefix="tme-cohort-hypoxia-")
        self.addCleanup(shutil.rmtree, root, True)
        manifest = write_demo_cohort(os.path.join(root, "demo"), 1, 1, seed=3, n_visits=2, techniques=["hypoxia"])
        settings = os.path.join(root, "settings.json")
        with open(settings, "w") as stream:
            # no DCE in this cohort: the OE Delta R1 takes a fixed pre-gas T1 from the hypoxia section
            json.dump({"hypoxia": {"r2star_method": "loglinear", "t10_s": 1.5}, "registration": {"method": "none"}},
                      stream)
        result = runner.run_cohort(manifest, os.path.join(root, "out"), settings_path=settings, serial=True, log=_quiet)
        self.assertEqual(result.exit_code, 0)
        with open(os.path.join(root, "out", "cohort.csv"), newline="") as stream:
            rows = list(csv.DictReader(stream))
        r2star = [r for r in rows if r["biomarker"] == "R2star"]
        self.assertEqual(len(r2star), 2)                                  # both visits measured
        self.assertTrue(all(10.0 < float(r["value"]) < 200.0 and r["unit"] == "1/s" for r in r2star))
        self.assertEqual(len([r for r in rows if r["biomarker"] == "dR1"]), 2)
        with open(os.path.join(root, "out", "P001", "report.json")) as stream:
            self.assertEqual(json.load(stream)["cohort"]["settings"]["hypoxia"],
                             {"r2star_method": "loglinear", "t10_s": 1.5})


if __name__ == "__main__":
    unittest.main()


class SettingsFileErrorsTest(unittest.TestCase):
    """The cohort's --settings file goes through the one settings-file reader: a binary file is a clear
    error naming the flag (it was a UnicodeDecodeError traceback), as are a missing file and bad JSON."""

    def test_bad_settings_files_name_the_flag(self):
        root = tempfile.mkdtemp(prefix="tme-cohort-settings-")
        self.addCleanup(shutil.rmtree, root, True)
        binary, bad_json = os.path.join(root, "s.json"), os.path.join(root, "t.json")
        with open(binary, "wb") as stream:
            stream.write(bytes(range(128, 256)))
        with open(bad_json, "w") as stream:
            stream.write("{dce: }")
        for path, text in ((binary, "not a text file"), (bad_json, "not valid JSON"),
                           (os.path.join(root, "none.json"), "file not found")):
            with self.assertRaises(InputError) as caught:
                settings_module.load_settings(path)
            self.assertIn("--settings", str(caught.exception))
            self.assertIn(text, str(caught.exception))
