"""Dynamic 13C spectra -> amplitude series (the Spectroscopy module's peak fit) -> kPL: synthetic spectra
built from known kinetic curves (Lorentzian lines, noise), the NIfTI-MRS (DIM_DYN) and .mat readers through
``tme-monitor hp13c --spectra``, and bad input refused before anything is written."""
import os
import shutil
import tempfile
import unittest

import numpy as np
from scipy import io as sio

from HyperpolarizedModuleLib import dynamic_spectra as ds
from HyperpolarizedModuleLib import kinetics, synthesis
from TMEMonitorLib.errors import InputError

MHZ, DWELL, CENTRE, POINTS = 32.1, 1.0 / 5000.0, 177.0, 256      # 13C at 3 T, 5 kHz, centred between pyr/lac
TR, FRAMES, FP, FL = 3.0, 18, 10.0, 30.0
KPL = np.array([0.03, 0.07])


def kinetic_amplitudes(scale=100.0):
    curves = synthesis.simulate(KPL, TR, FRAMES, FP, FL)
    return {m: np.moveaxis(curves[m], -1, 0) * scale for m in ("pyruvate", "lactate")}    # (frames, voxels)


def kpl_of(amplitudes):
    pyr = np.moveaxis(amplitudes["pyruvate"].reshape(FRAMES, -1), 0, -1)
    lac = np.moveaxis(amplitudes["lactate"].reshape(FRAMES, -1), 0, -1)
    return kinetics.fit_kpl(pyr, lac, TR, FP, FL)


class DynamicSpectraFitTest(unittest.TestCase):
    def test_noise_free_amplitudes_and_kpl(self):
        truth = kinetic_amplitudes()
        fid = ds.synthesize_fids(truth, DWELL, MHZ, CENTRE, n_points=POINTS, phase_rad=0.7, ppm_offset=0.15)
        fitted = ds.fit_dynamic_spectra(fid, DWELL, MHZ, CENTRE)
        self.assertEqual(fitted.amplitudes["lactate"].shape, (FRAMES, 1, 1, 2))      # (frames, k, j, i)
        for m in truth:
            error = np.abs(fitted.amplitudes[m][:, 0, 0, :] - truth[m]) / truth[m].max()
            self.assertLess(error.max(), 1e-5, m)
        self.assertTrue(np.all(fitted.quality == ds.QUALITY_GOOD))
        np.testing.assert_allclose(kpl_of(fitted.amplitudes)["kPL"], KPL, rtol=1e-4)

    def test_noisy_spectra(self):
        truth = kinetic_amplitudes()
        fid = ds.synthesize_fids(truth, DWELL, MHZ, CENTRE, n_points=POINTS, noise_sd=2.0, phase_rad=-0.4,
                                 ppm_offset=-0.2, rng=3)
        fitted = ds.fit_dynamic_spectra(fid, DWELL, MHZ, CENTRE)
        errors = np.concatenate([(fitted.amplitudes[m][:, 0, 0, :] - truth[m]).ravel() for m in truth])
        # amplitudes within 2 % of the pyruvate peak, and the fit's own SE is the right size (within 50 %)
        self.assertLess(np.max(np.abs(errors)) / truth["pyruvate"].max(), 0.02)
        self.assertLess(abs(np.sqrt(np.mean(errors ** 2)) / fitted.amplitude_sd - 1.0), 0.5)
        self.assertGreaterEqual(np.mean(fitted.quality == ds.QUALITY_GOOD), 0.9)
        fit = kpl_of(fitted.amplitudes)
        np.testing.assert_allclose(fit["kPL"], KPL, rtol=0.03)      # stated tolerance: 3 % at this SNR

    def test_bad_frames_are_flagged(self):
        truth = kinetic_amplitudes()
        fid = ds.synthesize_fids(truth, DWELL, MHZ, CENTRE, n_points=POINTS, noise_sd=1.0, rng=4)
        # an unmodelled line (a 13C-urea peak at 163 ppm, inside the window) spoils one frame of one voxel
        t = np.arange(POINTS) * DWELL
        fid[5, 1] += 200.0 * np.exp(2j * np.pi * (CENTRE - 168.5) * MHZ * t - np.pi * 10 * t)
        fitted = ds.fit_dynamic_spectra(fid, DWELL, MHZ, CENTRE)
        self.assertEqual(fitted.quality[5, 0, 0, 1], ds.QUALITY_POOR)
        self.assertEqual(fitted.poor_frames[0, 0, 1], 1)
        self.assertEqual(fitted.poor_frames[0, 0, 0], 0)

    def test_bad_input(self):
        fid = ds.synthesize_fids(kinetic_amplitudes(), DWELL, MHZ, CENTRE, n_points=POINTS)
        with self.assertRaisesRegex(InputError, "spectral axis"):
            ds.fit_dynamic_spectra(fid[..., 0], DWELL, MHZ, CENTRE)              # (frames, voxels): no spectral axis
        with self.assertRaisesRegex(InputError, "spectral axis"):
            ds.fit_dynamic_spectra(fid[:, 0, 0], DWELL, MHZ, CENTRE)             # (frames,)
        with self.assertRaisesRegex(InputError, "bicarbonate at 161 ppm lies outside the spectral width"):
            ds.fit_dynamic_spectra(fid, 1.0 / 1000.0, MHZ, CENTRE, metabolites=("pyruvate", "lactate", "bicarbonate"))
        with self.assertRaisesRegex(InputError, "centre"):
            ds.fit_dynamic_spectra(fid, DWELL, MHZ, None)
        with self.assertRaisesRegex(InputError, "complex"):
            ds.fit_dynamic_spectra(fid.real, DWELL, MHZ, CENTRE)
        with self.assertRaisesRegex(InputError, "dwell"):
            ds.fit_dynamic_spectra(fid, 2.0, MHZ, CENTRE)


class SpectraCommandLineTest(unittest.TestCase):
    """``tme-monitor hp13c --spectra`` with NIfTI-MRS (DIM_DYN) and .mat files."""

    @classmethod
    def setUpClass(cls):
        from SpectroscopyModuleLib.io.mrs_data import MRSData
        from SpectroscopyModuleLib.io.nifti_mrs import write_nifti_mrs
        cls.folder = tempfile.mkdtemp(prefix="tme-hp13c-spectra-")
        truth = kinetic_amplitudes()
        fid = ds.synthesize_fids(truth, DWELL, MHZ, CENTRE, n_points=POINTS, noise_sd=1.0, rng=5)  # (frames, i, pts)
        cls.fid = fid
        # NIfTI-MRS: (x, y, z, [dyn,] points) in memory -> DIM_DYN as the 5th dimension on disk
        voxels_first = np.moveaxis(fid, 0, -2)[:, None, None]                  # (x, 1, 1, frames, points)
        affine = np.diag([20.0, 20.0, 20.0, 1.0])
        cls.nifti = write_nifti_mrs(MRSData(voxels_first, DWELL, MHZ, nucleus="13C", affine=affine,
                                            dim_tags=["DIM_DYN"]), os.path.join(cls.folder, "dyn.nii.gz"))
        cls.static = write_nifti_mrs(MRSData(voxels_first[:, :, :, 0], DWELL, MHZ, nucleus="13C", affine=affine),
                                     os.path.join(cls.folder, "static.nii.gz"))
        cls.mat = os.path.join(cls.folder, "dyn.mat")
        sio.savemat(cls.mat, {"fids": fid, "spectral_width_hz": 1.0 / DWELL, "spectrometer_mhz": MHZ,
                              "centre_ppm": CENTRE, "TR": TR, "flips": np.radians([[FP] * FRAMES, [FL] * FRAMES]),
                              "flip_unit": "rad"})

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def run_cli(self, argv):
        from test_hp_cli import run_hp13c
        return run_hp13c(["hp13c"] + argv)

    def test_nifti_mrs_with_a_dynamic_dimension(self):
        out = os.path.join(self.folder, "out-nifti")
        code, stdout, stderr = self.run_cli(["--spectra", self.nifti, "--centre-ppm", str(CENTRE), "--tr", str(TR),
                                             "--flip-pyruvate", str(FP), "--flip-lactate", str(FL), "--min-snr", "3",
                                             "--out", out])
        self.assertEqual(code, 0, stderr)
        from TMEMonitorLib import io
        kpl = io.read_volume(os.path.join(out, "kPL.nrrd")).array.ravel()
        np.testing.assert_allclose(kpl, KPL, rtol=0.03)
        self.assertTrue(os.path.exists(os.path.join(out, "spectral_fit_poor_frames.nrrd")))
        self.assertIn("peak fit", stdout)

    def test_mat_spectra(self):
        out = os.path.join(self.folder, "out-mat")
        code, stdout, stderr = self.run_cli(["--spectra", self.mat, "--mat-names", "spectra=fids", "--min-snr", "3",
                                             "--out", out])
        self.assertEqual(code, 0, stderr)
        from TMEMonitorLib import io
        np.testing.assert_allclose(io.read_volume(os.path.join(out, "kPL.nrrd")).array.ravel(), KPL, rtol=0.03)

    def test_bad_spectra_input_writes_nothing(self):
        cases = [
            (["--spectra", self.static, "--centre-ppm", "177", "--tr", "3", "--flip-pyruvate", "10",
              "--flip-lactate", "30"], "DIM_DYN"),
            (["--spectra", self.nifti, "--tr", "3", "--flip-pyruvate", "10", "--flip-lactate", "30"], "--centre-ppm"),
            (["--spectra", self.nifti, "--centre-ppm", "177", "--tr", "3", "--flip-pyruvate", "10,20",
              "--flip-lactate", "30"], "flip"),                           # schedule of 2 frames for 18
            (["--spectra", self.nifti, "--centre-ppm", "177", "--tr", "3", "--flip-pyruvate", "10",
              "--flip-lactate", "30", "--spectra-metabolites", "pyruvate,lactate,bicarbonate"], "--flip-bicarbonate"),
            (["--spectra", self.nifti, "--centre-ppm", "177", "--spectra-metabolites", "pyruvate,urea"],
             "--spectra-metabolites"),
            (["--spectra", self.nifti, "--mat", self.mat], "one kind of data"),
            (["--mat", self.mat, "--centre-ppm", "177"], "only with --spectra"),
        ]
        for argv, message in cases:
            out = os.path.join(self.folder, "bad")
            code, _, stderr = self.run_cli(argv + ["--out", out])
            self.assertEqual(code, 2, argv)
            self.assertIn(message, stderr, argv)
            self.assertFalse(os.path.exists(out), argv)


if __name__ == "__main__":
    unittest.main()


class SpectraLogicTest(unittest.TestCase):
    """HyperpolarizedLogic.add_spectra_series: amplitude sequence nodes from a spectra file, then run()."""

    @classmethod
    def setUpClass(cls):
        SpectraCommandLineTest.setUpClass.__func__(cls)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_nodes_from_spectra_then_kpl(self):
        from HyperpolarizedModuleLib.logic import HyperpolarizedLogic
        from HyperpolarizedModuleLib.settings import HyperpolarizedSettings
        from TMEMonitorLib import scene as tme_scene
        scene = tme_scene.create_scene()
        try:
            logic = HyperpolarizedLogic(scene)
            before = scene.GetNumberOfNodes()
            with self.assertRaisesRegex(InputError, "TR"):               # the NIfTI-MRS MRSI file has no frame time
                logic.add_spectra_series(self.nifti, centre_ppm=CENTRE)
            self.assertEqual(scene.GetNumberOfNodes(), before)
            nodes, inputs = logic.add_spectra_series(self.mat)              # TR, flips and centre from the .mat
            self.assertEqual(sorted(nodes), ["lactate", "pyruvate"])
            result = logic.run(nodes, HyperpolarizedSettings(flip_pyruvate_deg=FP, flip_lactate_deg=FL, min_snr=3.0))
            np.testing.assert_allclose(result.analysis.maps["kPL"].ravel(), KPL, rtol=0.03)
            self.assertIn("spectral amplitudes", result.analysis.noise_source)
        finally:
            tme_scene.release_scene(scene)
