"""``tme-monitor dce`` on files: a synthetic .seq.nrrd DCE series and VFA volumes as NRRD in,
maps, statistics and a scene bundle out; bad input gives exit code 2 and a message."""
import csv
import os
import shutil
import tempfile
import unittest

import numpy as np

from dce_fixtures import DELAY_S, FIELD_T, FLIP_DEG, TR_S, synthetic_dce
from TMEMonitorLib import io
from TMEMonitorLib import scene as tme_scene
from TMEMonitorApp.cli.main import run_captured


class DCECommandLineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = d = synthetic_dce()
        cls.folder = tempfile.mkdtemp(prefix="tme-dce-cli-")
        ijk = tme_scene.make_ijk_to_ras((1.5, 1.25, 4.0), (-30.0, 12.5, 8.0))
        scene = tme_scene.create_scene()
        try:
            series = tme_scene.array_to_sequence(scene, d.signal, d.t_s, ijk, "DCE")
            cls.series_path = tme_scene.write_node(series, os.path.join(cls.folder, "dce.seq.nrrd"))
            cls.vfa_paths = []
            for flip, volume in zip(d.flips_deg, d.vfa):
                node = tme_scene.array_to_volume(scene, volume, ijk, f"VFA {flip:g}")
                cls.vfa_paths.append(tme_scene.write_node(node, os.path.join(cls.folder, f"vfa_{flip:g}.nrrd")))
            mask = tme_scene.add_label_map(scene, d.tissue, ijk, "tissue")
            cls.mask_path = tme_scene.write_node(mask, os.path.join(cls.folder, "tissue.nrrd"))
        finally:
            tme_scene.release_scene(scene)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def command(self, out, *extra):
        return ["dce", self.series_path, "--out", out, "--vfa", *self.vfa_paths,
                "--flip-angles", ",".join(f"{a:g}" for a in self.data.flips_deg), "--tr", str(TR_S),
                "--flip-angle", str(FLIP_DEG), "--field", str(FIELD_T), "--aif-delay", str(DELAY_S), *extra]

    def run_cli(self, argv):
        return run_captured(argv)

    def test_maps_statistics_and_scene_written(self):
        out = os.path.join(self.folder, "out")
        code, stdout, stderr = self.run_cli(self.command(out, "--mask", self.mask_path, "--fitted"))
        self.assertEqual(code, 0, stderr)
        for name in ("Ktrans.nrrd", "ve.nrrd", "vp.nrrd", "fit_status.nrrd", "statistics.csv", "aif.csv",
                     "dce.mrb", "fitted.seq.nrrd"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        d = self.data
        ktrans = io.read_volume(os.path.join(out, "Ktrans.nrrd")).array
        np.testing.assert_allclose(ktrans[d.tissue], d.truth["Ktrans"][d.tissue], rtol=0.01)
        np.testing.assert_array_equal(ktrans[d.artery], np.nan)
        with open(os.path.join(out, "statistics.csv"), newline="") as handle:
            rows = list(csv.DictReader(handle))
        ve_row = next(r for r in rows if r["parameter"] == "ve")
        self.assertAlmostEqual(float(ve_row["mean"]), float(np.mean(d.truth["ve"][d.tissue])), delta=1e-3)
        self.assertEqual(int(float(ve_row["n"])), int(d.tissue.sum()))
        self.assertIn("AIF: population (parker), delay 22.0 s", stdout)
        self.assertIn("TR_s: 0.005 (user setting)", stdout)
        fitted = io.read_series(os.path.join(out, "fitted.seq.nrrd"))
        np.testing.assert_allclose(fitted.axis_values, d.t_s, atol=1e-9)
        np.testing.assert_allclose(fitted.array[:, 1, 3, 5], d.ct_mM[1, 3, 5], atol=1e-4)
        scene = tme_scene.load_scene(os.path.join(out, "dce.mrb"))
        try:
            self.assertIsNotNone(scene.GetFirstNodeByName("DCE Ktrans"))
        finally:
            tme_scene.release_scene(scene)

    def test_aif_table_from_csv(self):
        d = self.data
        table = os.path.join(self.folder, "aif.csv")
        with open(table, "w") as handle:
            handle.write("time (s),cp (mM)\n")
            handle.writelines(f"{t:.12g},{c:.12g}\n" for t, c in zip(d.t_s, d.cp_mM))
        out = os.path.join(self.folder, "out_table")
        code, stdout, stderr = self.run_cli(self.command(out, "--aif", "table", "--aif-table", table,
                                                         "--mask", self.mask_path, "--no-semi-quantitative"))
        self.assertEqual(code, 0, stderr)
        self.assertIn("AIF: table", stdout)
        vp = io.read_volume(os.path.join(out, "vp.nrrd")).array
        np.testing.assert_allclose(vp[d.tissue], d.truth["vp"][d.tissue], rtol=0.01)
        self.assertFalse(os.path.exists(os.path.join(out, "iAUC60.nrrd")))

    def test_flip_angle_count_mismatch_exits_with_2(self):
        argv = self.command(os.path.join(self.folder, "bad"))
        argv[argv.index("--flip-angles") + 1] = "2,5"
        code, _, stderr = self.run_cli(argv)
        self.assertEqual(code, 2)
        self.assertIn("--flip-angles gives 2 angles for 5 --vfa files", stderr)
        self.assertFalse(os.path.exists(os.path.join(self.folder, "bad")))

    def test_missing_flip_angle_exits_with_2(self):
        argv = self.command(os.path.join(self.folder, "bad2"))
        index = argv.index("--flip-angle")
        del argv[index:index + 2]
        code, _, stderr = self.run_cli(argv)
        self.assertEqual(code, 2)
        self.assertIn("flip angle", stderr)
        self.assertFalse(os.path.exists(os.path.join(self.folder, "bad2")))

    def test_missing_series_file_exits_with_2(self):
        code, _, stderr = self.run_cli(["dce", os.path.join(self.folder, "absent.seq.nrrd"), "--out", self.folder,
                                        "--t10", "1.2"])
        self.assertEqual(code, 2)
        self.assertIn("does not exist", stderr)


if __name__ == "__main__":
    unittest.main()
