"""``tme-monitor hypoxia`` on files: a multi-echo .seq.nrrd with --echo-times, an OE .seq.nrrd with the gas
timing, T10 and enhancement maps; maps, statistics and a scene out; bad input gives exit code 2."""
import csv
import os
import shutil
import tempfile
import unittest

import numpy as np

from hypoxia_test_data import FLIP_DEG, FRAME_TIMES_S, GRE_TE_S, TR_S, synthetic_visit
from TMEMonitorLib import io
from TMEMonitorLib import scene as tme_scene


def run_hypoxia(argv):
    """``tme-monitor hypoxia ...`` in this process: (exit code, stdout, stderr)."""
    from TMEMonitorApp.cli.main import run_captured
    return run_captured(argv)


class HypoxiaCommandLineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.visit = v = synthetic_visit()
        cls.folder = tempfile.mkdtemp(prefix="tme-hypoxia-cli-")
        ijk = tme_scene.make_ijk_to_ras((1.0, 1.0, 3.0), (-8.0, 4.0, 2.0))
        scene = tme_scene.create_scene()
        try:
            gre = tme_scene.array_to_sequence(scene, v.gre, np.arange(GRE_TE_S.size), ijk, "GRE", axis_name="echo",
                                              axis_unit="")
            cls.gre_path = tme_scene.write_node(gre, os.path.join(cls.folder, "gre.seq.nrrd"))
            oe = tme_scene.array_to_sequence(scene, v.oe, FRAME_TIMES_S, ijk, "OE")
            cls.oe_path = tme_scene.write_node(oe, os.path.join(cls.folder, "oe.seq.nrrd"))
            paths = {}
            for name, array in (("t10", v.phantom.t1_s), ("enh", v.phantom.enhancement)):
                node = tme_scene.array_to_volume(scene, array, ijk, name)
                paths[name] = tme_scene.write_node(node, os.path.join(cls.folder, f"{name}.nrrd"))
            mask = tme_scene.add_label_map(scene, v.phantom.tumour, ijk, "tumour")
            paths["mask"] = tme_scene.write_node(mask, os.path.join(cls.folder, "mask.nrrd"))
            cls.paths = paths
        finally:
            tme_scene.release_scene(scene)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def command(self, out, *extra):
        return ["hypoxia", "--out", out, "--gre", self.gre_path, "--echo-times",
                ",".join(f"{v * 1000:g}" for v in GRE_TE_S), "--oe", self.oe_path, "--gas-on", "120", "--gas-off", "420",
                "--tr", str(TR_S), "--flip-angle", str(FLIP_DEG), "--t10-map", self.paths["t10"],
                "--enhancement", self.paths["enh"], "--enhancement-threshold", "0.1", "--mask", self.paths["mask"],
                "--no-noise-floor", *extra]

    def test_maps_statistics_and_scene_written(self):
        out = os.path.join(self.folder, "out")
        code, stdout, stderr = run_hypoxia(self.command(out))
        self.assertEqual(code, 0, stderr)
        for name in ("R2star.nrrd", "T2star.nrrd", "dR1.nrrd", "status_R2star.nrrd", "perfused_oxy_r.nrrd",
                     "statistics.csv", "hypoxia.mrb"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        p = self.visit.phantom
        r2star = io.read_volume(os.path.join(out, "R2star.nrrd")).array
        np.testing.assert_allclose(r2star[p.tumour], p.r2star_per_s[p.tumour], rtol=1e-5)
        classes = io.read_volume(os.path.join(out, "perfused_oxy_r.nrrd")).array
        np.testing.assert_array_equal(classes[p.hypoxic], 3)
        self.assertIn("command line --echo-times", stdout)
        with open(os.path.join(out, "statistics.csv"), newline="") as handle:
            rows = list(csv.DictReader(handle))
        hypoxic = [r for r in rows if r["parameter"] == "hypoxic_fraction"]
        self.assertAlmostEqual(float(hypoxic[0]["mean"]), p.hypoxic.sum() / p.tumour.sum(), places=6)

    def test_bad_input_exit_code_and_nothing_written(self):
        cases = [("--echo-times", "2,6,4,10,14,18,22,26"), ("--echo-times", "2,6"), ("--gas-on", "9000")]
        for index, (flag, value) in enumerate(cases):
            out = os.path.join(self.folder, f"bad{index}")
            argv = self.command(out)
            argv[argv.index(flag) + 1] = value
            with self.subTest(flag=flag, value=value):
                code, _, stderr = run_hypoxia(argv)
                self.assertEqual(code, 2)
                self.assertIn("error", stderr)
                self.assertFalse(os.path.exists(out))
        out = os.path.join(self.folder, "no-te")
        argv = self.command(out)
        i = argv.index("--echo-times")
        del argv[i:i + 2]
        code, _, stderr = run_hypoxia(argv)
        self.assertEqual(code, 2)
        self.assertIn("--echo-times", stderr)
        self.assertFalse(os.path.exists(out))


class HypoxiaT1SeriesCommandLineTest(unittest.TestCase):
    """--t1-air-series / --t1-gas-series with --t1-method ir: inversion times from BIDS sidecars (a folder of
    per-TI NIfTI files) or typed for a 4D file (--ti-gas); Delta R1 exact on noise-free data."""
    TI_S = np.array([0.05, 0.15, 0.4, 0.9, 1.8, 3.5])

    @classmethod
    def setUpClass(cls):
        import json

        import SimpleITK as sitk
        from TMEMonitorLib.relaxometry.inversion_recovery import inversion_recovery_signal
        cls.phantom = p = synthetic_visit().phantom
        cls.folder = tempfile.mkdtemp(prefix="tme-hypoxia-t1-")
        t1_gas = 1.0 / (1.0 / p.t1_s + p.delta_r1_per_s)
        air = np.moveaxis(inversion_recovery_signal(1000.0, -1900.0, p.t1_s, cls.TI_S), -1, 0)
        gas = np.moveaxis(inversion_recovery_signal(1000.0, -1900.0, t1_gas, cls.TI_S), -1, 0)
        cls.air_folder = os.path.join(cls.folder, "ir_air")
        os.makedirs(cls.air_folder)
        # file names in an order that differs from the inversion times: the sidecars decide
        for index, (ti, image) in enumerate(zip(cls.TI_S, air)):
            base = os.path.join(cls.air_folder, f"ir_{(index * 7) % 11}")
            sitk.WriteImage(sitk.GetImageFromArray(image.astype(np.float32)), base + ".nii.gz")
            with open(base + ".json", "w") as handle:
                json.dump({"InversionTime": float(ti), "EchoTime": 0.01}, handle)
        cls.gas_4d = os.path.join(cls.folder, "ir_gas.nii.gz")
        sitk.WriteImage(sitk.JoinSeries([sitk.GetImageFromArray(v.astype(np.float32)) for v in gas]), cls.gas_4d)
        cls.small_4d = os.path.join(cls.folder, "ir_small.nii.gz")
        sitk.WriteImage(sitk.JoinSeries([sitk.GetImageFromArray(v[:, :8].astype(np.float32)) for v in gas]),
                        cls.small_4d)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def command(self, out, gas=None, *extra):
        return ["hypoxia", "--out", out, "--t1-air-series", self.air_folder, "--t1-gas-series", gas or self.gas_4d,
                "--t1-method", "ir", "--ti-gas", ",".join(f"{v * 1000:g}" for v in self.TI_S), *extra]

    def test_delta_r1_from_ir_series(self):
        out = os.path.join(self.folder, "out")
        code, stdout, stderr = run_hypoxia(self.command(out))
        self.assertEqual(code, 0, stderr)
        p = self.phantom
        d_r1 = io.read_volume(os.path.join(out, "dR1.nrrd")).array
        np.testing.assert_allclose(d_r1, p.delta_r1_per_s, atol=1e-5)
        t1_air = io.read_volume(os.path.join(out, "T1_air.nrrd")).array
        np.testing.assert_allclose(t1_air, p.t1_s, rtol=1e-5)
        for name in ("status_T1_air.nrrd", "status_T1_gas.nrrd", "status_dR1.nrrd", "T1_air_r2.nrrd"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        self.assertIn("BIDS sidecar InversionTime", stdout)
        self.assertIn("command line --ti-gas", stdout)
        self.assertIn("inversion recovery", stdout)

    def test_dicom_folder_with_one_series_per_inversion_time(self):
        import dicom_writer
        from HypoxiaModuleLib.t1_series import read_t1_series
        from TMEMonitorLib.relaxometry.inversion_recovery import fit_inversion_recovery, inversion_recovery_signal
        t1 = np.linspace(0.4, 2.0, 12).reshape(1, 3, 4)
        folder = os.path.join(self.folder, "ir_dicom")
        order = [3, 0, 5, 1, 4, 2]             # series numbers not in TI order
        for number, index in enumerate(order):
            image = inversion_recovery_signal(1000.0, -1900.0, t1, self.TI_S[index:index + 1])[..., 0]
            dicom_writer.write_series(folder, np.rint(image)[None].astype(np.int16), series_number=number + 1,
                                      frame_tags=[{"InversionTime": float(self.TI_S[index] * 1000.0)}],
                                      prefix=f"S{number}_", description="IR")
        array, ti, source, _, _ = read_t1_series(folder, "ir")
        np.testing.assert_allclose(ti, self.TI_S)
        self.assertIn("DICOM InversionTime", source)
        fit = fit_inversion_recovery(np.moveaxis(array, 0, -1), ti)
        np.testing.assert_allclose(fit["T1"], t1, rtol=0.01)          # stored as integers

    def test_vfa_and_look_locker_series(self):
        import SimpleITK as sitk
        from HypoxiaModuleLib import synthesis
        from TMEMonitorLib.relaxometry.look_locker import look_locker_signal
        p = self.phantom
        t1_gas = 1.0 / (1.0 / p.t1_s + p.delta_r1_per_s)
        flips, tr = np.array([2.0, 5.0, 10.0, 15.0, 20.0]), 0.004
        times = np.linspace(0.1, 4.0, 10)
        cases = {"vfa": (lambda t1: synthesis.vfa(t1, 1000.0, flips, tr),
                         ["--vfa-flip-angles", ",".join(f"{v:g}" for v in flips), "--vfa-tr", str(tr)]),
                 "look-locker": (lambda t1: look_locker_signal(100.0, 180.0, t1 / 0.8, times),
                                 ["--ti-air", ",".join(f"{v * 1000:g}" for v in times),
                                  "--ti-gas", ",".join(f"{v * 1000:g}" for v in times)])}
        for method, (model, extra) in cases.items():
            paths = {}
            for epoch, t1 in (("air", p.t1_s), ("gas", t1_gas)):
                volumes = np.moveaxis(model(t1), -1, 0)
                paths[epoch] = os.path.join(self.folder, f"{method}_{epoch}.nii.gz")
                sitk.WriteImage(sitk.JoinSeries([sitk.GetImageFromArray(v.astype(np.float32)) for v in volumes]),
                                paths[epoch])
            out = os.path.join(self.folder, f"out-{method}")
            with self.subTest(method=method):
                code, stdout, stderr = run_hypoxia(["hypoxia", "--out", out, "--t1-air-series", paths["air"],
                                                    "--t1-gas-series", paths["gas"], "--t1-method", method, *extra])
                self.assertEqual(code, 0, stderr)
                d_r1 = io.read_volume(os.path.join(out, "dR1.nrrd")).array
                np.testing.assert_allclose(d_r1, p.delta_r1_per_s, atol=1e-5)
        code, _, stderr = run_hypoxia(["hypoxia", "--out", os.path.join(self.folder, "bad-vfa"), "--t1-air-series",
                                       paths["air"], "--t1-gas-series", paths["gas"], "--t1-method", "vfa", "--ti-air",
                                       "1,2,3"])
        self.assertEqual(code, 2)
        self.assertIn("--vfa-flip-angles", stderr)

    def test_bad_t1_series_refused_nothing_written(self):
        ti = ",".join(f"{v * 1000:g}" for v in self.TI_S)
        cases = [(["hypoxia", "--t1-air-series", self.air_folder, "--t1-gas-series", self.gas_4d], "inversion times"),
                 (self.command("", self.small_4d), "grid"),
                 (["hypoxia", "--t1-air-series", self.air_folder, "--t1-gas-series", self.gas_4d, "--ti-gas",
                   ti[:ti.rindex(",")]], "5 inversion time"),
                 (["hypoxia", "--t1-air-series", self.air_folder, "--ti-gas", ti], "--t1-gas-series"),
                 (["hypoxia", "--t1-air-series", self.air_folder, "--t1-gas-series", self.gas_4d, "--ti-gas",
                   "50,150,150,900,1800,3500"], "duplicate")]
        for index, (argv, words) in enumerate(cases):
            out = os.path.join(self.folder, f"bad{index}")
            argv = [a if a else out for a in argv]
            if "--out" not in argv:
                argv = argv[:1] + ["--out", out] + argv[1:]
            with self.subTest(words=words):
                code, _, stderr = run_hypoxia(argv)
                self.assertEqual(code, 2, stderr)
                self.assertIn(words, stderr)
                self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
