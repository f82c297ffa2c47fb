"""The command line's answers to the issue-11 cases: each a clear error naming the flag, before any
work, or a value used and reported as what it is (an override, with a warning)."""
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz import cli_inputs  # noqa: E402
from TMEMonitorApp.cli.main import run_captured  # noqa: E402


class CommandLineValidationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="tme-cli-validation-")
        cls.paths = cli_inputs.make_all(cls.folder)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def out(self, name):
        return os.path.join(self.folder, name)

    def refused(self, argv, *fragments):
        code, stdout, stderr = run_captured(argv)
        self.assertEqual(code, 2, stderr)
        self.assertNotIn("Traceback", stderr)
        for fragment in fragments:
            self.assertIn(fragment, stderr)
        return stderr

    def test_b_value_series_refused_by_dce_naming_the_axis_and_command(self):
        out = self.out("dce-from-dwi")
        self.refused(["dce", self.paths["dwi"], "--out", out, "--input-kind", "concentration"],
                     "indexed by 'b'", "tme-monitor dwi")
        self.assertFalse(os.path.exists(out))

    def test_out_on_a_file_or_unwritable_place_is_checked_first(self):
        started = time.perf_counter()
        self.refused(["dce", self.paths["dce"], "--out", self.paths["text"], "--input-kind", "concentration"],
                     "--out", "existing file")
        self.refused(["dwi", self.paths["dwi"], "--out", os.path.join(self.paths["text"], "sub")], "--out")
        self.refused(["mrs", self.paths["mrs"], "--out", "/proc/tme-monitor-out"], "--out")
        # refused at parse time / before reading: far below one analysis
        self.assertLess(time.perf_counter() - started, 30.0)

    def test_mrs_override_reported_as_override_with_a_warning(self):
        out = self.out("mrs-override")
        code, stdout, stderr = run_captured(["mrs", self.paths["mrs"], "--out", out, "--process", "none",
                                             "--metabolites", "NAA,Cr,PCh", "--spectrometer-mhz", "297.2"])
        self.assertIn(code, (0, 2), stderr)           # a 297.2 MHz basis on 123.2 MHz data may fail to fit
        text = stdout + stderr
        self.assertIn("override: --spectrometer-mhz 297.2", text)
        self.assertIn("file says 123.2", text)
        self.assertIn("warning:", text)
        if code == 0:
            self.assertIn("command line --spectrometer-mhz (override", stdout)
            self.assertNotIn("297.2 (NIfTI", stdout)

    def test_mrs_processing_limits(self):
        base = ["mrs", self.paths["mrs"], "--out", self.out("mrs-limits")]
        self.refused(base + ["--line-broadening", "1e6"], "--line-broadening", "[0, 50] Hz")
        self.refused(base + ["--zero-fill", "4096"], "--zero-fill", "[1, 8]")
        self.refused(base + ["--metabolites", ","], "--metabolites", "names nothing")
        self.refused(base + ["--metabolites", "NAA,Unobtainium"], "--metabolites", "Unobtainium")
        self.refused(base + ["--dwell-time=-1"], "--dwell-time")
        self.refused(base + ["--te", "nan"], "--te", "finite")

    def test_bvals_binary_file_names_the_flag(self):
        self.refused(["dwi", self.paths["dwi"], "--out", self.out("dwi-bvals"), "--bvals", self.paths["binary"]],
                     "--bvals", "binary")
        self.refused(["dwi", self.paths["dwi"], "--out", self.out("dwi-bvals"), "--bvals", "0,inf,1000"],
                     "--bvals")

    def test_negative_nan_inf_numbers_and_wrong_types(self):
        base = ["dce", self.paths["dce"], "--out", self.out("dce-numbers"), "--input-kind", "concentration"]
        for option, value in (("--t10", "-1"), ("--hematocrit", "nan"), ("--relaxivity", "inf"),
                              ("--aif-voxels", "2.5"), ("--baseline-frames", "many"), ("--flip-angle", "1e308")):
            with self.subTest(option=option, value=value):
                self.refused(base + [f"{option}={value}"], option)

    def test_a_good_run_writes_a_manifest(self):
        out = self.out("dwi-ok")
        code, stdout, stderr = run_captured(["dwi", self.paths["dwi"], "--out", out, "--models", "adc",
                                             "--high-b", "none"])
        self.assertEqual(code, 0, stderr)
        from TMEMonitorLib.output_folder import read_manifest
        manifest = read_manifest(out)
        self.assertEqual(manifest["command"], "dwi")
        self.assertIn("ADC.nrrd", manifest["files"])
        self.assertEqual(len(manifest["files"]["ADC.nrrd"]["sha256"]), 64)


if __name__ == "__main__":
    unittest.main()
