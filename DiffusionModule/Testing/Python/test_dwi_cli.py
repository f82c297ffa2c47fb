"""``tme-monitor dwi`` on files: a 4D NIfTI with its .bval (and a mask) written with SimpleITK in,
maps (NRRD), statistics CSV and a scene bundle out; b-value overrides; bad input gives exit code 2."""
import csv
import os
import shutil
import tempfile
import unittest

import numpy as np
import SimpleITK as sitk

from DiffusionModuleLib.signal_models import ivim_signal, kurtosis_signal
from TMEMonitorLib import io
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.scene import attribute_names
from TMEMonitorApp.cli.main import run_captured

B = np.array([0, 10, 20, 50, 100, 200, 400, 600, 800, 1000], dtype=float)
B_KURTOSIS = np.array([0, 500, 1000, 1500, 2000, 2500], dtype=float)
SHAPE = (2, 6, 7)

B_VALUES_SOURCE = attribute_names.source_attribute("b_values")


def write_nifti(path, signal_4d, spacing=(1.5, 1.25, 4.0)):
    frames = []
    for frame in signal_4d:
        image = sitk.GetImageFromArray(np.asarray(frame, np.float32))
        image.SetSpacing(spacing)
        frames.append(image)
    sitk.WriteImage(sitk.JoinSeries(frames), path)


def write_bval(path, b_values):
    with open(path, "w") as handle:
        handle.write(" ".join(f"{b:g}" for b in b_values) + "\n")


class DwiCommandLineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="tme-dwi-cli-")
        tissue = np.zeros(SHAPE, bool)
        tissue[:, 1:5, 1:6] = True
        cls.tissue = tissue
        cls.d = np.where(tissue, np.linspace(0.7e-3, 1.8e-3, SHAPE[2])[None, None, :], 1.0e-3)
        cls.f = np.full(SHAPE, 0.1)
        signal = ivim_signal(np.full(SHAPE, 1000.0), cls.d, cls.f, np.full(SHAPE, 0.04), B)
        cls.signal = np.moveaxis(signal, -1, 0)
        cls.series_path = os.path.join(cls.folder, "dwi.nii.gz")
        write_nifti(cls.series_path, cls.signal)
        write_bval(os.path.join(cls.folder, "dwi.bval"), B)
        mask = sitk.GetImageFromArray(tissue.astype(np.uint8))
        mask.SetSpacing((1.5, 1.25, 4.0))
        cls.mask_path = os.path.join(cls.folder, "mask.nii.gz")
        sitk.WriteImage(mask, cls.mask_path)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def run_cli(self, argv):
        return run_captured(argv)

    def test_maps_statistics_and_scene_written(self):
        out = os.path.join(self.folder, "out")
        code, stdout, stderr = self.run_cli(["dwi", self.series_path, "--out", out, "--mask", self.mask_path,
                                             "--models", "adc,ivim", "--ivim-method", "full"])
        self.assertEqual(code, 0, stderr)
        for name in ("ADC.nrrd", "D.nrrd", "f.nrrd", "Dstar.nrrd", "S0.nrrd", "fit_status_adc.nrrd",
                     "fit_status_ivim.nrrd", "computed_b1400.nrrd", "statistics.csv", "dwi.mrb"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        t = self.tissue
        d = io.read_volume(os.path.join(out, "D.nrrd")).array
        np.testing.assert_allclose(d[t], self.d[t], rtol=2e-3)
        np.testing.assert_array_equal(d[~t], np.nan)
        self.assertIn("dwi.bval", stdout)                   # the b-values' source is shown
        self.assertIn("b = 0, 10, 20, 50", stdout)
        with open(os.path.join(out, "statistics.csv"), newline="") as handle:
            rows = list(csv.DictReader(handle))
        d_row = next(r for r in rows if r["parameter"] == "D")
        self.assertAlmostEqual(float(d_row["mean"]), float(self.d[t].mean()), delta=2e-6)
        self.assertEqual(int(float(d_row["n"])), int(t.sum()))
        self.assertIn("entropy", d_row)
        scene = tme_scene.load_scene(os.path.join(out, "dwi.mrb"))
        try:
            node = scene.GetFirstNodeByName("DWI ADC")
            self.assertIsNotNone(node)
            self.assertIn("dwi.bval", attribute_names.get(node, B_VALUES_SOURCE))
            self.assertEqual(node.GetVoxelValueUnits().GetCodeValue(), "mm2/s")
        finally:
            tme_scene.release_scene(scene)

    def test_bvals_override_file_and_numbers(self):
        wrong = os.path.join(self.folder, "wrong")
        os.makedirs(wrong, exist_ok=True)
        series = os.path.join(wrong, "dwi.nii.gz")
        shutil.copy(self.series_path, series)
        write_bval(os.path.join(wrong, "dwi.bval"), B * 2)      # a wrong .bval beside the image
        right = os.path.join(wrong, "right.bval")
        write_bval(right, B)
        for override, source in ((right, "right.bval"), (",".join(f"{b:g}" for b in B), "command line --bvals")):
            out = os.path.join(wrong, "out")
            code, stdout, stderr = self.run_cli(["dwi", series, "--out", out, "--models", "adc", "--high-b", "none",
                                                 "--mask", self.mask_path, "--bvals", override])
            self.assertEqual(code, 0, stderr)
            self.assertIn(source, stdout)
            adc = io.read_volume(os.path.join(out, "ADC.nrrd")).array
            expected = -np.polyfit(B, np.log(self.signal[:, self.tissue]), 1)[0]
            np.testing.assert_allclose(adc[self.tissue], expected, rtol=1e-5)
            self.assertFalse(any(name.startswith("computed_b") for name in os.listdir(out)))

    def test_kurtosis_with_clip_and_rician(self):
        folder = os.path.join(self.folder, "dki")
        os.makedirs(folder, exist_ok=True)
        k = np.full(SHAPE, 0.9)
        signal = np.moveaxis(kurtosis_signal(np.full(SHAPE, 1000.0), self.d, k, B_KURTOSIS), -1, 0)
        path = os.path.join(folder, "dki.nii.gz")
        write_nifti(path, signal)
        write_bval(os.path.join(folder, "dki.bval"), B_KURTOSIS)
        out = os.path.join(folder, "out")
        code, stdout, stderr = self.run_cli(["dwi", path, "--out", out, "--models", "kurtosis", "--mask",
                                             self.mask_path, "--clip", "4095", "--rician", "--noise-sigma", "1e-3"])
        self.assertEqual(code, 0, stderr)
        fitted = io.read_volume(os.path.join(out, "K.nrrd")).array
        np.testing.assert_allclose(fitted[self.tissue], 0.9, rtol=1e-3)
        self.assertTrue(os.path.isfile(os.path.join(out, "D_kurtosis.nrrd")))
        self.assertIn("Rician bias corrected", stdout)

    def test_bad_input_exit_code_2(self):
        out = os.path.join(self.folder, "bad")
        cases = {
            "unknown model": (["--models", "magic"], "magic"),
            "b count": (["--bvals", "0,500"], "axis_values has 2"),
            "kurtosis without high b": (["--models", "kurtosis"], "kurtosis needs"),
            "b-value text": (["--bvals", "zero,one"], "--bvals"),
            "bad setting": (["--b-threshold", "-3"], "threshold"),
        }
        for name, (extra, message) in cases.items():
            with self.subTest(case=name):
                code, _, stderr = self.run_cli(["dwi", self.series_path, "--out", out, *extra])
                self.assertEqual(code, 2)
                self.assertIn(message, stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
