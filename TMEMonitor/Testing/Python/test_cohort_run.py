"""Cohort runs end to end on a tiny synthetic 2-site cohort (4 patients x 2 visits): a 2-worker
LocalCluster gives the serial run's table exactly, a corrupt series fails its patient alone, a
killed run resumed redoes no finished patient and ends identical, an unreachable scheduler is a
clear error. The kill is real: the run is a subprocess killed with SIGKILL once two patients are
finished (no hook in the code under test), so the third is typically half-written in .partial."""
import csv
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from TMEMonitorApp.cohort import load_cohort_results, runner, status
from TMEMonitorApp.cohort.synthetic import write_demo_cohort

SETTINGS = {"dwi": {"fit_ivim": False}, "harmonisation": {"covariates": ["age"], "biomarkers": ["ADC", "Ktrans"]}}


def _read(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def _quiet(*_args, **_kwargs):
    pass


@unittest.skipUnless(importlib.util.find_spec("distributed") and importlib.util.find_spec("pyarrow"),
                     "cohort runs need the [cohort] extra (dask, distributed, pyarrow); headless only")
class CohortRunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="tme-cohort-test-")
        cls.manifest = write_demo_cohort(os.path.join(cls.root, "demo"), 4, 2, seed=1, n_visits=2)
        cls.external = os.path.join(cls.root, "demo", "external.csv")
        cls.settings = os.path.join(cls.root, "settings.json")
        with open(cls.settings, "w") as stream:
            json.dump(SETTINGS, stream)
        cls.serial_dir = os.path.join(cls.root, "serial")
        cls.serial = runner.run_cohort(cls.manifest, cls.serial_dir, settings_path=cls.settings, serial=True,
                                       external_path=cls.external, harmonise=True, log=_quiet)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_serial_outputs(self):
        self.assertEqual(self.serial.exit_code, 0)
        rows = _read(os.path.join(self.serial_dir, "cohort.csv"))
        self.assertEqual({r["patient"] for r in rows}, {"P001", "P002", "P003", "P004"})
        adc = [r for r in rows if r["biomarker"] == "ADC"]
        self.assertTrue(all(r["value_harmonised"] for r in adc))           # harmonised and raw both kept
        self.assertTrue(all(r["value"] != r["value_harmonised"] for r in adc if r["site"] == "site-B"))
        ctdna = [r for r in rows if r["source"] == "external"]
        self.assertTrue(any(r["response_category"] == "molecular response" for r in ctdna))
        import pyarrow.parquet as pq
        table = pq.read_table(os.path.join(self.serial_dir, "cohort.parquet"))
        self.assertEqual(table.num_rows, len(rows))
        self.assertIn(b"tme_monitor.settings", table.schema.metadata)
        loaded = load_cohort_results(self.serial_dir)
        self.assertTrue({"waterfall", "spider", "swimmer", "early_change_scatter"} <= set(loaded["plots"]))
        self.assertTrue(os.path.isfile(loaded["patients"]["P001"]["scene"]))
        with open(os.path.join(self.serial_dir, "P001", "report.json")) as stream:
            self.assertEqual(json.load(stream)["cohort"]["settings"]["dwi"], {"fit_ivim": False})
        html = open(loaded["report_html"]).read()
        self.assertIn("Values shown: harmonised", html)
        self.assertIn("data:image/png;base64,", html)

    def test_two_workers_identical_and_a_corrupt_series_fails_alone(self):
        manifest = os.path.join(self.root, "demo", "manifest_with_corrupt.csv")
        rows = _read(self.manifest)
        bad_dce = os.path.join(self.root, "demo", "corrupt_dce.seq.nrrd")
        source = next(r["path"] for r in rows if r["patient"] == "P001" and r["role"] == "dce")
        with open(os.path.join(self.root, "demo", source), "rb") as stream:
            data = stream.read()
        with open(bad_dce, "wb") as stream:
            stream.write(data[: len(data) // 3])                               # truncated file
        extra = [dict(r, patient="P999", path=os.path.relpath(bad_dce, os.path.dirname(manifest))
                      if r["role"] == "dce" else r["path"]) for r in rows if r["patient"] == "P001"]
        with open(manifest, "w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows + extra)
        out = os.path.join(self.root, "dask")
        outcome = runner.run_cohort(manifest, out, settings_path=self.settings, workers=2, external_path=self.external,
                                    harmonise=True, log=_quiet)
        self.assertEqual(outcome.exit_code, 1)
        self.assertEqual(outcome.failed, ["P999"])
        states = {r["patient"]: r for r in _read(os.path.join(out, "status.csv"))}
        self.assertEqual({p: s["state"] for p, s in states.items()},
                         {"P001": "done", "P002": "done", "P003": "done", "P004": "done", "P999": "failed"})
        self.assertIn("corrupt_dce.seq.nrrd", states["P999"]["error"])
        with open(os.path.join(out, "cohort.csv"), "rb") as a, open(os.path.join(self.serial_dir, "cohort.csv"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_killed_run_resumes_without_redoing_finished_patients(self):
        out = os.path.join(self.root, "killed")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), MPLBACKEND="Agg")
        command = [sys.executable, "-m", "TMEMonitorApp.cli.main", "cohort", "run", self.manifest, "--out", out,
                   "--serial", "--settings", self.settings, "--external", self.external, "--harmonise"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while process.poll() is None:
                finished = [p for p in ("P001", "P002", "P003", "P004")
                            if (status.read_status(os.path.join(out, p)) or {}).get("state") == "done"]
                if len(finished) >= 2:
                    os.kill(process.pid, signal.SIGKILL)
                    break
                time.sleep(0.1)
        finally:
            process.wait()
        self.assertEqual(process.returncode, -signal.SIGKILL, "the run ended before it could be killed")
        self.assertFalse(os.path.exists(os.path.join(out, "cohort.csv")))
        tokens = {p: status.read_status(os.path.join(out, p))["run_token"] for p in finished}
        outcome = runner.run_cohort(self.manifest, out, settings_path=self.settings, serial=True, resume=True,
                                    external_path=self.external, harmonise=True, log=_quiet)
        self.assertEqual(outcome.exit_code, 0)
        self.assertEqual(sorted(outcome.skipped), sorted(finished))
        self.assertEqual(sorted(outcome.processed), sorted(set(("P001", "P002", "P003", "P004")) - set(finished)))
        for patient, token in tokens.items():
            self.assertEqual(status.read_status(os.path.join(out, patient))["run_token"], token)
        self.assertEqual(os.listdir(os.path.join(out, ".partial")), [])
        with open(os.path.join(out, "cohort.csv"), "rb") as a, open(os.path.join(self.serial_dir, "cohort.csv"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_unreachable_scheduler_is_a_clear_error(self):
        from TMEMonitorApp.cli.main import run_captured
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        out = os.path.join(self.root, "never")
        started = time.perf_counter()
        code, _, err = run_captured(["cohort", "run", self.manifest, "--out", out, "--settings", self.settings,
                                     "--scheduler", f"tcp://127.0.0.1:{port}", "--connect-timeout", "2"])
        print(f"unreachable scheduler reported after {time.perf_counter() - started:.1f} s")
        self.assertEqual(code, 2)
        self.assertIn(f"could not reach the Dask scheduler at 'tcp://127.0.0.1:{port}' within 2 s", err)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
