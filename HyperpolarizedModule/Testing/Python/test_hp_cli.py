"""``tme-monitor hp13c`` on files: per-metabolite .seq.nrrd series and a MATLAB v5 .mat (UCSF layout,
flips in radians with flip_unit); maps, statistics and scene out; bad input gives exit code 2 and
writes nothing."""
import csv
import os
import shutil
import tempfile
import unittest

import numpy as np
from scipy import io as sio

from HyperpolarizedModuleLib import synthesis
from TMEMonitorLib import io
from TMEMonitorLib import scene as tme_scene


def run_hp13c(argv):
    """``tme-monitor hp13c ...`` in this process: (exit code, stdout, stderr)."""
    from TMEMonitorApp.cli.main import run_captured
    return run_captured(argv)


class HyperpolarizedCommandLineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = p = synthesis.phantom_grid(shape=(1, 8, 8), n_frames=14, kpl_tumour=0.07)
        cls.folder = tempfile.mkdtemp(prefix="tme-hp13c-cli-")
        times = np.arange(p.pyruvate.shape[0]) * p.tr_s
        scene = tme_scene.create_scene()
        try:
            cls.paths = {}
            for name, array in (("pyruvate", p.pyruvate), ("lactate", p.lactate), ("short", p.lactate[:-1])):
                node = tme_scene.array_to_sequence(scene, array, times[:array.shape[0]], p.ijk_to_ras, name)
                cls.paths[name] = tme_scene.write_node(node, os.path.join(cls.folder, f"{name}.seq.nrrd"))
            mask = tme_scene.add_label_map(scene, p.body, p.ijk_to_ras, "body")
            cls.paths["mask"] = tme_scene.write_node(mask, os.path.join(cls.folder, "body.nrrd"))
        finally:
            tme_scene.release_scene(scene)
        # UCSF layout: S (x, y, z, metabolites, t), flips (metabolites, t) in radians
        s = np.stack([np.transpose(p.pyruvate, (3, 2, 1, 0)), np.transpose(p.lactate, (3, 2, 1, 0))], axis=3)
        flips = np.radians(np.array([np.full(times.size, 20.0), np.full(times.size, 30.0)]))
        cls.mat = os.path.join(cls.folder, "hp.mat")
        sio.savemat(cls.mat, {"S": s, "TR": p.tr_s, "flips": flips, "flip_unit": "rad", "voxel_size_mm": [10, 10, 15],
                                "origin_mm": p.ijk_to_ras[:3, 3]})
        cls.mat_no_unit = os.path.join(cls.folder, "hp_no_unit.mat")
        sio.savemat(cls.mat_no_unit, {"S": s, "TR": p.tr_s, "flips": flips, "voxel_size_mm": [10, 10, 15],
                                        "origin_mm": p.ijk_to_ras[:3, 3]})

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def series_command(self, out, *extra):
        return ["hp13c", "--out", out, "--pyruvate", self.paths["pyruvate"], "--lactate", self.paths["lactate"],
                "--flip-pyruvate", "20", "--flip-lactate", "30", "--mask", self.paths["mask"], *extra]

    def test_series_maps_statistics_scene(self):
        out = os.path.join(self.folder, "out")
        code, stdout, stderr = run_hp13c(self.series_command(out))
        self.assertEqual(code, 0, stderr)
        for name in ("kPL.nrrd", "AUC_ratio.nrrd", "SNR.nrrd", "r2.nrrd", "status_kPL.nrrd", "statistics.csv",
                     "hp13c.mrb"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        kpl = io.read_volume(os.path.join(out, "kPL.nrrd"))
        np.testing.assert_allclose(kpl.ijk_to_ras, self.p.ijk_to_ras, atol=1e-6)
        np.testing.assert_allclose(kpl.array[self.p.body], self.p.kpl[self.p.body], rtol=1e-4)
        self.assertIn("settings (--flip-pyruvate, unit deg)", stdout)
        with open(os.path.join(out, "statistics.csv"), newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["parameter"] == "kPL"]
        self.assertEqual(len(rows), 1)

    def test_mat_ucsf_layout_radians_declared(self):
        out = os.path.join(self.folder, "mat")
        code, stdout, stderr = run_hp13c(["hp13c", "--out", out, "--mat", self.mat, "--mask", self.paths["mask"]])
        self.assertEqual(code, 0, stderr)
        kpl = io.read_volume(os.path.join(out, "kPL.nrrd")).array
        np.testing.assert_allclose(kpl[self.p.body], self.p.kpl[self.p.body], rtol=1e-4)
        self.assertIn(".mat variable 'flips' row 1, unit rad (from .mat variable 'flip_unit')", stdout)

    def test_mat_radians_read_as_degrees_fail_loudly(self):
        out = os.path.join(self.folder, "mat-bad")
        code, _, stderr = run_hp13c(["hp13c", "--out", out, "--mat", self.mat_no_unit])
        self.assertEqual(code, 2)
        self.assertIn("radians", stderr)
        self.assertFalse(os.path.exists(out))
        code, _, stderr = run_hp13c(["hp13c", "--out", out, "--mat", self.mat_no_unit, "--flip-unit", "rad",
                                     "--mask", self.paths["mask"]])
        self.assertEqual(code, 0, stderr)

    def test_bad_input_exit_code_and_nothing_written(self):
        cases = [(("--flip-lactate", "30,30,30"), "--flip-lactate"),
                 (("--lactate", self.paths["short"]), "frames"),
                 (("--flip-pyruvate", "0.3"), "radians"),
                 (("--flip-pyruvate", "abc"), "--flip-pyruvate")]
        for index, ((flag, value), text) in enumerate(cases):
            out = os.path.join(self.folder, f"bad{index}")
            argv = self.series_command(out)
            argv[argv.index(flag) + 1] = value
            with self.subTest(flag=flag, value=value):
                code, _, stderr = run_hp13c(argv)
                self.assertEqual(code, 2)
                self.assertIn(text, stderr)
                self.assertFalse(os.path.exists(out))
        out = os.path.join(self.folder, "no-flip")
        argv = self.series_command(out)
        i = argv.index("--flip-lactate")
        del argv[i:i + 2]
        code, _, stderr = run_hp13c(argv)
        self.assertEqual(code, 2)
        self.assertIn("--flip-lactate", stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
