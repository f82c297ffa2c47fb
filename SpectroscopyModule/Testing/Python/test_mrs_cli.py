"""``tme-monitor mrs``: arguments, files written (CSV, JSON, NRRD maps, .mrb), errors and exit codes."""
import contextlib
import io as text_io
import json
import os
import shutil
import tempfile
import unittest
from unittest import mock

import numpy as np

from SpectroscopyModuleLib import pipeline
from SpectroscopyModuleLib.io import write_nifti_mrs
from SpectroscopyModuleLib.synthetic import TUMOUR_MM, synthesize_mrsi, synthesize_spectrum
from TMEMonitorLib import scene as tme_scene
from TMEMonitorApp.cli.main import build_parser, run_captured

MHZ, TE, N_POINTS, DWELL = 123.2, 0.030, 1024, 1 / 2000
TRUTH_CHO_CR = (TUMOUR_MM["GPC"] + TUMOUR_MM["PCh"]) / (TUMOUR_MM["Cr"] + TUMOUR_MM["PCr"])


def run_cli(argv):
    return run_captured(argv)


def svs_data(seed=0):
    mrs = synthesize_spectrum(TUMOUR_MM, MHZ, TE, "PRESS", N_POINTS, DWELL, linewidth_hz=6.0, snr=100, rng=seed)
    mrs.affine = np.diag([20.0, 20.0, 20.0, 1.0])
    mrs.dim_tags = []
    return mrs


def placeholder_file(name):
    """An existing (empty) file for the path argument of a run whose reading is mocked."""
    path = os.path.join(tempfile.mkdtemp(), name)
    open(path, "w").close()
    return path


class ArgumentsTest(unittest.TestCase):
    def test_settings_from_arguments(self):
        from SpectroscopyModuleLib.cli import settings_from_args
        folder = tempfile.mkdtemp()      # the path options must name existing files
        self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        for name in ("x.nii.gz", "x", "b.basis"):
            open(os.path.join(folder, name), "w").close()
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(folder)
        args = build_parser().parse_args(["mrs", "x.nii.gz", "--out", "o", "--sequence", "STEAM", "--te", "0.011",
                                          "--process", "average,coil_combine", "--ppm-range", "4.0", "0.5"])
        settings = settings_from_args(args)
        self.assertEqual(settings.sequence, "STEAM")
        self.assertEqual(settings.te_s, 0.011)
        self.assertEqual(settings.processing, ("coil_combine", "average"))
        self.assertEqual(settings.ppm_range, (0.5, 4.0))
        self.assertEqual(settings.basis_source, "simulate")
        basis = settings_from_args(build_parser().parse_args(["mrs", "x", "--out", "o", "--basis", "b.basis",
                                                              "--process", "none"]))
        self.assertEqual((basis.basis_source, basis.basis_path, basis.processing), ("file", "b.basis", ()))
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(text_io.StringIO()):
            build_parser().parse_args(["mrs", "x", "--out", "o", "--basis", "b", "--simulate-basis"])

    def test_bad_input_exit_code_and_nothing_written(self):
        out = os.path.join(tempfile.mkdtemp(), "out")
        code, _, err = run_cli(["mrs", "/no/such/file.nii.gz", "--out", out])
        self.assertEqual(code, 2)
        self.assertIn("does not exist", err)
        code, _, err = run_cli(["mrs", "/no/such/file.nii.gz", "--out", out, "--te", "30"])
        self.assertEqual(code, 2)
        self.assertIn("TE", err)
        code, _, err = run_cli(["mrs", "/no/such/file.nii.gz", "--out", out, "--process", "denoise"])
        self.assertEqual(code, 2)
        self.assertFalse(os.path.exists(out))


class CommandOutputsTest(unittest.TestCase):
    """The command's outputs, with the reader replaced by a synthetic spectrum (readers tested on their own)."""

    def test_single_voxel_outputs(self):
        out = os.path.join(tempfile.mkdtemp(), "svs")
        try:
            import matplotlib  # noqa: F401
            png = ["--png"]
        except ImportError:
            png = []
        with mock.patch.object(pipeline, "load_mrs", return_value=svs_data()):
            code, text, _ = run_cli(["mrs", placeholder_file("synthetic.nii.gz"), "--out", out, "--process", "none"] + png)
        self.assertEqual(code, 0)
        if png:
            self.assertGreater(os.path.getsize(os.path.join(out, "spectrum.png")), 10000)
        self.assertIn("tCho/tCr", text)
        for name in ("results.csv", "results.json", "mrs.mrb"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        with open(os.path.join(out, "results.json")) as handle:
            text_json = handle.read()
        self.assertNotIn("Infinity", text_json)                        # strict JSON: inf/NaN written as null
        self.assertNotIn("NaN", text_json)
        results = json.loads(text_json)
        self.assertEqual(results["kind"], "single voxel")
        self.assertAlmostEqual(results["biomarkers"]["tCho/tCr"], TRUTH_CHO_CR, delta=0.08 * TRUTH_CHO_CR)
        self.assertAlmostEqual(results["acquisition"]["spectrometer_mhz"]["value"], MHZ)
        undetected = [n for n, a in results["amplitudes"].items() if a == 0]
        self.assertTrue(undetected)
        self.assertTrue(all(results["crlb_percent"][n] is None for n in undetected))
        with open(os.path.join(out, "results.csv")) as handle:
            header = handle.readline()
        self.assertIn("CRLB %", header)
        scene = tme_scene.load_scene(os.path.join(out, "mrs.mrb"))
        self.assertEqual(scene.GetNumberOfNodesByClass("vtkMRMLMarkupsROINode"), 1)
        self.assertEqual(scene.GetNumberOfNodesByClass("vtkMRMLPlotChartNode"), 1)

    def test_mrsi_outputs_keep_geometry(self):
        affine = np.diag([10.0, 10.0, 12.0, 1.0])
        affine[:3, 3] = (-20.0, 15.0, 4.0)
        maps = {name: np.full((4, 4), value) for name, value in TUMOUR_MM.items()}
        mrsi = synthesize_mrsi(maps, MHZ, TE, "PRESS", N_POINTS, DWELL, snr=80, rng=3, affine=affine)
        mrsi.dim_tags = []
        out = os.path.join(tempfile.mkdtemp(), "mrsi")
        with mock.patch.object(pipeline, "load_mrs", return_value=mrsi):
            code, _, _ = run_cli(["mrs", placeholder_file("grid.nii.gz"), "--out", out, "--process", "none"])
        self.assertEqual(code, 0)
        for name in ("tCho_tCr.nrrd", "tCho.nrrd", "fit_status.nrrd", "quality.nrrd", "summary.csv", "results.json",
                     "mrsi.mrb"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        from TMEMonitorLib import io as volume_io
        volume = volume_io.read_volume(os.path.join(out, "tCho_tCr.nrrd"))
        self.assertEqual(volume.array.shape, (1, 4, 4))
        np.testing.assert_allclose(volume.ijk_to_ras, affine, atol=1e-4)
        self.assertAlmostEqual(float(np.nanmedian(volume.array)), TRUTH_CHO_CR, delta=0.1)


class NiftiMrsFileTest(unittest.TestCase):
    """The whole command on a NIfTI-MRS file written from the synthetic spectrum."""

    def test_single_voxel_file(self):
        folder = tempfile.mkdtemp()
        path = write_nifti_mrs(svs_data(), os.path.join(folder, "svs.nii.gz"))
        code, _, err = run_cli(["mrs", path, "--out", os.path.join(folder, "out"), "--simulate-basis",
                                "--process", "coil_combine,average", "--ppm-range", "0.2", "4.2"])
        self.assertEqual(code, 0, err)
        with open(os.path.join(folder, "out", "results.json")) as handle:
            results = json.load(handle)
        self.assertAlmostEqual(results["biomarkers"]["tCho/tCr"], TRUTH_CHO_CR, delta=0.08 * TRUTH_CHO_CR)
        self.assertAlmostEqual(results["acquisition"]["te_s"]["value"], TE, places=6)


if __name__ == "__main__":
    unittest.main()


class VendorFormatFileTest(unittest.TestCase):
    """LCModel .RAW without a dwell time: refused with a clear message, read with --dwell-time."""

    def test_raw_needs_and_takes_the_dwell_time(self):
        from SpectroscopyModuleLib import io as mrs_io
        folder = tempfile.mkdtemp()
        full = mrs_io.write_lcmodel_raw(os.path.join(folder, "full.RAW"), svs_data().fid, DWELL, MHZ, te_s=TE)
        with open(full) as handle:
            text = handle.read()
        bare = os.path.join(folder, "svs.RAW")
        with open(bare, "w") as handle:
            handle.write("\n".join(line for line in text.splitlines() if "DELTAT" not in line))
        code, _, err = run_cli(["mrs", bare, "--out", os.path.join(folder, "refused"), "--process", "none"])
        self.assertNotEqual(code, 0)
        self.assertIn("DELTAT", err)
        self.assertFalse(os.path.exists(os.path.join(folder, "refused", "results.json")))
        code, _, err = run_cli(["mrs", bare, "--out", os.path.join(folder, "out"), "--process", "none",
                                "--dwell-time", str(DWELL)])
        self.assertEqual(code, 0, err)
        with open(os.path.join(folder, "out", "results.json")) as handle:
            results = json.load(handle)
        self.assertAlmostEqual(results["biomarkers"]["tCho/tCr"], TRUTH_CHO_CR, delta=0.08 * TRUTH_CHO_CR)
