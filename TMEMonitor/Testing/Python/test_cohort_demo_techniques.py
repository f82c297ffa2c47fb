"""``cohort demo`` synthesises each visit through the registered techniques' synthesize() (no technique
module named by the cohort code): the chosen techniques' input roles are what the manifest lists,
an unknown name is a clear error naming --techniques before anything is written, and the known site
effect on ADC and Ktrans is in the truth as before."""
import csv
import json
import os
import shutil
import tempfile
import unittest

from TMEMonitorApp import techniques as registry
from TMEMonitorApp.cohort import patient_runner
from TMEMonitorApp.cohort.synthetic import site_effects, write_demo_cohort
from TMEMonitorLib.errors import InputError


def _roles(manifest):
    with open(manifest, newline="") as stream:
        return {(r["visit"], r["role"]) for r in csv.DictReader(stream)}


class CohortDemoTechniquesTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="tme-cohort-demo-techniques-")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def test_default_is_dce_and_dwi_from_the_registry(self):
        chosen = patient_runner.demo_techniques()
        self.assertEqual([t.name for t in chosen], ["dce", "dwi"])
        self.assertTrue(all(t is registry.get(t.name) for t in chosen))

    def test_only_the_chosen_techniques_roles_and_the_site_effect(self):
        manifest = write_demo_cohort(os.path.join(self.root, "dce"), 2, 2, seed=2, n_visits=2, techniques=["dce"])
        roles = {role for _, role in _roles(manifest)}
        expected = {r.role for r in registry.get("dce").inputs} | {"anatomy", "tumour"}   # anatomy: phantom S0
        self.assertEqual(roles, expected)
        with open(os.path.join(self.root, "dce", "truth.json")) as stream:
            truth = json.load(stream)
        self.assertEqual(truth["techniques"], ["dce"])
        site_b = truth["patients"]["P002"]
        scale, shift = site_effects(1)["Ktrans"]
        self.assertEqual(site_b["site_effect"]["Ktrans"], {"multiplicative": scale, "additive": shift})
        for visit in site_b["visits"].values():
            biological, acquired = visit["biological"]["Ktrans_mean"], visit["as_acquired"]["Ktrans_mean"]
            self.assertAlmostEqual(acquired, scale * biological + shift, places=4)   # known truth, tumour mean

    def test_unknown_technique_is_a_clear_error_before_writing(self):
        out = os.path.join(self.root, "bad")
        with self.assertRaises(InputError) as caught:
            write_demo_cohort(out, 2, 1, n_visits=2, techniques=["dce", "no-such-technique"])
        self.assertIn("--techniques", str(caught.exception))
        self.assertIn("no-such-technique", str(caught.exception))
        self.assertFalse(os.path.exists(out))

    def test_cli_flag(self):
        from TMEMonitorApp.cli.main import main
        out = os.path.join(self.root, "cli")
        self.assertEqual(main(["cohort", "demo", "--patients", "1", "--sites", "1", "--visits", "2", "--out", out,
                               "--techniques", "dwi,bogus"]), 2)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(main(["cohort", "demo", "--patients", "1", "--sites", "1", "--visits", "2", "--out", out,
                               "--techniques", "dwi"]), 0)
        self.assertEqual({role for _, role in _roles(os.path.join(out, "manifest.csv"))}, {"dwi", "anatomy", "tumour"})


if __name__ == "__main__":
    unittest.main()
