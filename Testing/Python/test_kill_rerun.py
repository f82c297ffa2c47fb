"""Kill-and-rerun: real ``tme-monitor dce`` / ``dwi`` / ``demo`` runs in a subprocess, stopped by
SIGTERM (or SIGKILL) at named points and after delays; then the output folder must hold the
previous set byte for byte, or the new set complete (manifest sizes and sha256 match), with no
staging folder, temporary file, Slicer ``TempWrite*`` folder or cache folder left anywhere, and a
rerun must complete.

Stopping at a named point uses the documented test hook ``TME_MONITOR_TEST_KILL_AT=<stage>``
(TMEMonitorLib.termination.checkpoint: the process sends itself SIGTERM there; ``<stage>:KILL``
sends SIGKILL). Stages: inputs-read, after-fit, files-staged, before-commit, mid-commit."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz import cli_inputs  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Utilities"))
from update_cmake_lists import MODULES  # noqa: E402  (every module folder: the one list)

MODULE_FOLDERS = [os.path.join(ROOT, m) for m in MODULES]
CODE = ("import sys; sys.path[:0] = %r; from TMEMonitorApp.cli.main import main; sys.exit(main(sys.argv[1:]))"
        % MODULE_FOLDERS)


def _digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def snapshot(folder):
    """{relative path: sha256} of every file under ``folder``."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            found[os.path.relpath(path, folder)] = _digest(path)
    return found


def leftovers(folder):
    """Names in ``folder`` (recursively) that a finished or cleanly stopped run must not leave."""
    bad = []
    for root, folders, names in os.walk(folder):
        for name in folders + names:
            if name.startswith((".tme-staging-", ".tme-partial-", "TempWrite", "tme-monitor-cache-", "_tmp")):
                bad.append(os.path.relpath(os.path.join(root, name), folder))
    return bad


class KillAndRerunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="tme-kill-")
        cls.paths = cli_inputs.make_all(cls.folder)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def setUp(self):
        self.out = tempfile.mkdtemp(dir=self.folder, prefix="out-")
        self.tmp = tempfile.mkdtemp(dir=self.folder, prefix="systemp-")     # the run's system temp folder

    def start(self, argv, kill_at=None):
        env = dict(os.environ, TMPDIR=self.tmp, MPLBACKEND="Agg")
        env.pop("TME_MONITOR_TEST_KILL_AT", None)
        if kill_at:
            env["TME_MONITOR_TEST_KILL_AT"] = kill_at
        return subprocess.Popen([sys.executable, "-c", CODE] + list(argv), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def run_command(self, argv, kill_at=None, timeout=300):
        process = self.start(argv, kill_at)
        stdout, stderr = process.communicate(timeout=timeout)
        return process.returncode, stdout, stderr

    def dce(self, *extra):
        return ["dce", self.paths["dce"], "--out", self.out, "--input-kind", "concentration",
                "--no-semi-quantitative", *extra]

    def dwi(self, models="adc"):
        return ["dwi", self.paths["dwi"], "--out", self.out, "--models", models, "--high-b", "none"]

    def assert_complete(self, folder, command=None):
        with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as handle:
            manifest = json.load(handle)
        if command:
            self.assertEqual(manifest["command"], command)
        for relative, entry in manifest["files"].items():
            path = os.path.join(folder, relative)
            self.assertTrue(os.path.isfile(path), relative)
            self.assertEqual(os.path.getsize(path), entry["bytes"], relative)
            self.assertEqual(_digest(path), entry["sha256"], relative)
        return manifest

    def assert_clean(self):
        self.assertEqual(leftovers(self.out), [])
        self.assertEqual(os.listdir(self.tmp), [], "files left in the system temp folder")

    def test_sigterm_at_each_stage_keeps_the_previous_set(self):
        code, _, stderr = self.run_command(self.dce("--model", "tofts"))
        self.assertEqual(code, 0, stderr)
        self.assert_complete(self.out, "dce")
        before = snapshot(self.out)
        for stage in ("inputs-read", "after-fit", "files-staged", "before-commit"):
            with self.subTest(stage=stage):
                code, _, stderr = self.run_command(self.dce("--model", "extended_tofts"), kill_at=stage)
                self.assertEqual(code, 143, stderr)
                self.assertIn("SIGTERM", stderr)
                self.assertEqual(snapshot(self.out), before, "previous outputs changed")
                self.assert_clean()
        code, _, stderr = self.run_command(self.dce("--model", "extended_tofts"))       # the rerun completes
        self.assertEqual(code, 0, stderr)
        manifest = self.assert_complete(self.out, "dce")
        self.assertIn("vp.nrrd", manifest["files"])
        self.assert_clean()

    def test_sigterm_inside_the_swap_completes_the_new_set(self):
        self.assertEqual(self.run_command(self.dce("--model", "tofts"))[0], 0)
        code, _, stderr = self.run_command(self.dce("--model", "extended_tofts"), kill_at="mid-commit")
        self.assertEqual(code, 143, stderr)
        manifest = self.assert_complete(self.out, "dce")
        self.assertIn("extended_tofts", manifest["arguments"])
        self.assert_clean()

    def test_sigkill_inside_the_swap_is_completed_by_the_next_run(self):
        self.assertEqual(self.run_command(self.dwi("adc,ivim"))[0], 0)
        code, _, _ = self.run_command(self.dwi("adc"), kill_at="mid-commit:KILL")
        self.assertEqual(code, -signal.SIGKILL)
        self.assertTrue(any(name.startswith(".tme-staging-") for name in os.listdir(self.out)))
        code, _, stderr = self.run_command(["info", self.paths["dwi"]])      # not an --out command: no change
        self.assertEqual(code, 0, stderr)
        code, _, stderr = self.run_command(self.dwi("adc"))
        self.assertEqual(code, 0, stderr)
        self.assert_complete(self.out, "dwi")
        self.assertEqual(leftovers(self.out), [])

    def test_sigkill_before_the_swap_leaves_the_previous_set_and_the_rerun_cleans_up(self):
        self.assertEqual(self.run_command(self.dwi("adc"))[0], 0)
        before = snapshot(self.out)
        code, _, _ = self.run_command(self.dwi("adc,ivim"), kill_at="files-staged:KILL")
        self.assertEqual(code, -signal.SIGKILL)
        after = {k: v for k, v in snapshot(self.out).items() if not k.startswith(".tme-staging-")}
        self.assertEqual(after, before)
        code, _, stderr = self.run_command(self.dwi("adc,ivim"))
        self.assertEqual(code, 0, stderr)
        self.assert_complete(self.out, "dwi")
        self.assertEqual(leftovers(self.out), [])

    def test_rerun_with_fewer_models_sets_the_old_files_aside(self):
        self.assertEqual(self.run_command(self.dwi("adc,ivim"))[0], 0)
        first = self.assert_complete(self.out, "dwi")
        ivim_files = sorted(f for f in first["files"] if "ivim" in f.lower() or f in ("D.nrrd", "f.nrrd", "Dstar.nrrd"))
        self.assertTrue(ivim_files)
        user_file = os.path.join(self.out, "my_notes.txt")
        with open(user_file, "w") as handle:
            handle.write("not written by tme-monitor")
        code, _, stderr = self.run_command(self.dwi("adc"))
        self.assertEqual(code, 0, stderr)
        second = self.assert_complete(self.out, "dwi")
        for name in ivim_files:
            self.assertNotIn(name, second["files"])
            self.assertFalse(os.path.exists(os.path.join(self.out, name)), name)
            self.assertTrue(os.path.isfile(os.path.join(self.out, "previous", name)), name)
        self.assertTrue(os.path.isfile(user_file))          # never touches what it did not write

    def test_sigterm_after_delays_gives_old_or_complete_new_set(self):
        self.assertEqual(self.run_command(self.dwi("adc"))[0], 0)
        before = snapshot(self.out)
        outcomes = []
        for delay in (0.5, 2.0, 3.5):
            process = self.start(self.dwi("adc,ivim"))
            time.sleep(delay)
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=300)
            outcomes.append(process.returncode)
            with self.subTest(delay=delay):
                self.assertIn(process.returncode, (0, 143, -signal.SIGTERM), stderr)
                if process.returncode == 0:
                    self.assert_complete(self.out, "dwi")
                elif snapshot(self.out) != before:
                    self.assert_complete(self.out, "dwi")      # stopped inside the swap: the new set
                self.assertEqual(leftovers(self.out), [])

    def test_demo_stopped_part_way_leaves_nothing_and_reruns(self):
        process = self.start(["demo", "--size", "tiny", "--out", self.out])
        time.sleep(8.0)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=300)
        self.assertIn(process.returncode, (143, 0), stderr)
        if process.returncode == 143:
            self.assertEqual(snapshot(self.out), {})
        self.assert_clean()


if __name__ == "__main__":
    unittest.main()
