"""Spectroscopy readers on the vendored scanner files and on files written by our own writers.

Sign conventions are judged by where known resonances land: with the NIfTI-MRS convention
(ppm = 4.65 - f / MHz) brain metabolites fall at NAA 2.01, Cr 3.03, Cho 3.21 ppm up to a common
frequency offset; with the wrong sign they mirror about 4.65 ppm and the pattern is gone.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

from SpectroscopyModuleLib import io as mrs_io
from TMEMonitorLib.errors import InputError, MetadataError

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "Testing", "Data", "mrs-formats")
SIEMENS = os.path.join(DATA, "suspect_testdata", "siemens")
PHILIPS_DCM = os.path.join(DATA, "suspect_testdata", "philips_dicom", "MRSshortTELN_IM-0001-0002.dcm")
LCMODEL = os.path.join(DATA, "suspect_testdata", "lcmodel_outputs")
NIFTI_7T = os.path.join(DATA, "nifti_mrs_7T_steam")
LPS_TO_RAS = np.array([-1.0, -1.0, 1.0])
BRAIN_PEAKS_PPM = (2.01, 3.03, 3.21)        # NAA CH3, Cr CH3, Cho N(CH3)3 (Govindaraju et al. 2000)


def pattern_score(mrs, fid=None, peaks=BRAIN_PEAKS_PPM, search_ppm=0.35):
    """(best common shift in ppm, score): the height of narrow peaks above the local baseline (the
    magnitude spectrum minus its running median over 0.3 ppm, in units of its own SD) summed at the
    peak positions, maximised over a common shift. The water wing has no narrow peaks."""
    from scipy.ndimage import median_filter
    fid = np.asarray(mrs.fid if fid is None else fid).reshape(-1, mrs.fid.shape[-1]).mean(axis=0)
    fid = fid * np.exp(-np.pi * 4.0 * np.arange(fid.size) * mrs.dwell_s)
    n = 8 * fid.size
    spectrum = np.abs(np.fft.fftshift(np.fft.fft(fid, n)))
    ppm = 4.65 - np.fft.fftshift(np.fft.fftfreq(n, mrs.dwell_s)) / mrs.spectrometer_mhz
    step = abs(ppm[1] - ppm[0])
    narrow = spectrum - median_filter(spectrum, size=int(0.3 / step) | 1)
    window = (ppm > 0.5) & (ppm < 4.2)
    narrow = narrow / narrow[window].std()
    order = np.argsort(ppm)
    shifts = np.arange(-search_ppm, search_ppm, 0.002)
    scores = [np.interp(np.array(peaks) + s, ppm[order], narrow[order]).sum() for s in shifts]
    best = int(np.argmax(scores))
    return float(shifts[best]), float(scores[best])


def lorentzian_fid(n_points=1024, dwell_s=1 / 2000.0, mhz=123.2, lines=((2.01, 3.0), (3.03, 2.0), (3.21, 1.5)),
                   linewidth_hz=4.0):
    t = np.arange(n_points) * dwell_s
    fid = np.zeros(n_points, complex)
    for ppm, amplitude in lines:
        fid += amplitude * np.exp(2j * np.pi * (4.65 - ppm) * mhz * t - np.pi * linewidth_hz * t)
    return fid


def peak_ppm(mrs, fid=None, low=1.8, high=2.2):
    fid = np.asarray(mrs.fid if fid is None else fid).reshape(-1, mrs.fid.shape[-1]).mean(axis=0)
    n = 8 * fid.size
    spectrum = np.abs(np.fft.fftshift(np.fft.fft(fid, n)))
    ppm = 4.65 - np.fft.fftshift(np.fft.fftfreq(n, mrs.dwell_s)) / mrs.spectrometer_mhz
    window = (ppm > low) & (ppm < high)
    return float(ppm[window][np.argmax(spectrum[window])])


class SiemensTest(unittest.TestCase):
    def setUp(self):
        self.rda = mrs_io.read_mrs(os.path.join(SIEMENS, "SVS_30.rda"))
        self.ima = mrs_io.read_mrs(os.path.join(SIEMENS, "SVS_30.IMA"))

    def test_rda_header_fields(self):
        mrs = self.rda
        self.assertEqual(mrs.metadata["source_format"], "Siemens RDA")
        self.assertEqual(mrs.fid.shape, (1, 1, 1, 1024))
        self.assertAlmostEqual(mrs.dwell_s, 833e-6, places=12)
        self.assertAlmostEqual(mrs.spectrometer_mhz, 123.234655, places=6)
        self.assertEqual(mrs.nucleus, "1H")
        self.assertAlmostEqual(mrs.te_s, 0.030)
        self.assertAlmostEqual(mrs.tr_s, 2.0)

    def test_rda_voxel_geometry_matches_its_voi_position(self):
        # VOIPosition Sag/Cor/Tra (LPS) of the header is the voxel centre; sizes 20 x 40 x 20 mm.
        centre_ras = np.array([41.602906, 21.569007, -4.958838]) * LPS_TO_RAS
        np.testing.assert_allclose(self.rda.affine[:3, 3], centre_ras, atol=0.02)
        np.testing.assert_allclose(mrs_io.geometry.voxel_size_mm(self.rda.affine), [20, 40, 20], atol=1e-6)

    def test_same_acquisition_as_rda_and_csa_dicom_gives_the_same_fid_and_geometry(self):
        self.assertEqual(self.ima.metadata["source_format"], "Siemens DICOM (CSA)")
        np.testing.assert_allclose(self.ima.fid, self.rda.fid, rtol=1e-5, atol=1e-3 * np.abs(self.rda.fid).max())
        np.testing.assert_allclose(self.ima.affine, self.rda.affine, atol=0.02)
        self.assertAlmostEqual(self.ima.dwell_s, 833.4e-6, places=10)      # RealDwellTime (ns) is exact
        self.assertAlmostEqual(self.ima.spectrometer_mhz, self.rda.spectrometer_mhz, places=6)
        self.assertAlmostEqual(self.ima.te_s, 0.030)
        self.assertAlmostEqual(self.ima.tr_s, 2.0)

    def test_sign_convention_puts_brain_metabolites_in_place(self):
        shift, score = pattern_score(self.rda)
        _, mirrored = pattern_score(self.rda, np.conj(self.rda.fid))
        self.assertGreater(score, 1.5 * mirrored)
        self.assertLess(abs(shift), 0.1)                    # uncorrected frequency offset of the scan

    def test_xa_enhanced_dicom(self):
        mrs = mrs_io.read_mrs(os.path.join(SIEMENS, "SVS_XA60.dcm"))
        self.assertEqual(mrs.metadata["source_format"], "DICOM MR Spectroscopy Storage")
        self.assertEqual(mrs.fid.shape, (1, 1, 1, 1024))
        self.assertAlmostEqual(mrs.dwell_s, 1 / 1199.9040076793856, places=12)
        self.assertAlmostEqual(mrs.spectrometer_mhz, 123.255089, places=6)
        self.assertAlmostEqual(mrs.te_s, 0.030)
        self.assertAlmostEqual(mrs.tr_s, 2.0)
        # Image Position of MR Spectroscopy Storage is the voxel centre (= mid-slab position).
        np.testing.assert_allclose(mrs.affine[:3, 3], np.array([0.0, 57.4411546053, -8.03878618421]) * LPS_TO_RAS,
                                   atol=1e-3)
        np.testing.assert_allclose(mrs_io.geometry.voxel_size_mm(mrs.affine), [30, 30, 30])
        # Phantom: a CH3 triplet near 1.0 ppm and a CH2 quartet near 3.5 ppm (J about 7 Hz) once
        # conjugated; without conjugation they would sit at 8.3 and 5.8 ppm.
        self.assertTrue(0.8 < peak_ppm(mrs, low=0.5, high=1.5) < 1.3)
        self.assertTrue(3.3 < peak_ppm(mrs, low=3.0, high=4.2) < 3.7)


class PhilipsDicomTest(unittest.TestCase):
    def test_fields_water_frame_and_convention(self):
        mrs = mrs_io.read_mrs(PHILIPS_DCM)
        self.assertEqual(mrs.fid.shape, (1, 1, 1, 1024))
        self.assertAlmostEqual(mrs.spectrometer_mhz, 63.89575, places=5)
        self.assertAlmostEqual(mrs.dwell_s, 1 / 999.9999389648438, places=12)
        self.assertAlmostEqual(mrs.te_s, 0.03191360092163086, places=9)
        self.assertAlmostEqual(mrs.tr_s, 2.0)
        self.assertIsNotNone(mrs.water_reference)          # the unsuppressed last frame
        self.assertGreater(np.abs(mrs.water_reference.fid[..., 0]).max(), 100 * np.abs(mrs.fid[..., :4]).mean())
        np.testing.assert_allclose(mrs.affine[:3, 3], np.array([6.06960916519165, 15.2077388763427, 3.96309661865234])
                                   * LPS_TO_RAS, atol=1e-4)
        np.testing.assert_allclose(mrs_io.geometry.voxel_size_mm(mrs.affine), [25, 25, 15], atol=1e-4)
        shift, score = pattern_score(mrs)
        _, mirrored = pattern_score(mrs, np.conj(mrs.fid))
        self.assertGreater(score, 1.5 * mirrored)
        self.assertLess(abs(shift), 0.3)


class NiftiMrsTest(unittest.TestCase):
    def test_7t_raw_dimensions_and_header(self):
        mrs = mrs_io.read_mrs(os.path.join(NIFTI_7T, "metab_raw.nii.gz"))
        self.assertEqual(mrs.fid.shape, (1, 1, 1, 4, 16, 4096))
        self.assertEqual(mrs.dim_tags, ["DIM_COIL", "DIM_DYN"])
        self.assertAlmostEqual(mrs.dwell_s, 8.33e-5, places=9)
        self.assertAlmostEqual(mrs.spectrometer_mhz, 297.219948, places=6)
        self.assertAlmostEqual(mrs.te_s, 0.011)
        self.assertAlmostEqual(mrs.tr_s, 5.0)
        self.assertEqual(mrs.nucleus, "1H")
        for key in ("PatientName", "PatientDoB", "PatientSex", "PatientWeight", "InstitutionAddress"):
            self.assertNotIn(key, mrs.metadata)        # stripped when vendored
        np.testing.assert_allclose(mrs_io.geometry.voxel_size_mm(mrs.affine), [20, 20, 20])

    def test_processed_spectrum_has_naa_at_2_01_ppm(self):
        mrs = mrs_io.read_mrs(os.path.join(NIFTI_7T, "metab.nii.gz"))
        self.assertAlmostEqual(peak_ppm(mrs), 2.01, delta=0.02)

    def test_write_read_round_trip_keeps_data_tags_header_and_history(self):
        mrs = mrs_io.read_mrs(os.path.join(NIFTI_7T, "metab_raw.nii.gz"))
        mrs.history.append({"Method": "test step", "Details": "none"})
        folder = tempfile.mkdtemp()
        try:
            path = mrs_io.write_nifti_mrs(mrs, os.path.join(folder, "copy.nii.gz"))
            back = mrs_io.read_mrs(path)
        finally:
            shutil.rmtree(folder)
        np.testing.assert_array_equal(back.fid, mrs.fid)
        self.assertEqual(back.dim_tags, mrs.dim_tags)
        self.assertEqual(back.history[-1]["Method"], "test step")
        self.assertEqual(back.metadata["ProtocolName"], "STEAM_metab")
        np.testing.assert_allclose(back.affine, mrs.affine)
        self.assertAlmostEqual(back.dwell_s, mrs.dwell_s)


class WrittenFormatsTest(unittest.TestCase):
    """Our writers produce the vendor layouts; the readers must give back the NIfTI-MRS FID."""

    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.fid = lorentzian_fid()
        self.dwell, self.mhz = 1 / 2000.0, 123.2

    def tearDown(self):
        shutil.rmtree(self.folder)

    def check(self, mrs, atol):
        np.testing.assert_allclose(mrs.fid.reshape(-1), self.fid, atol=atol)
        self.assertAlmostEqual(mrs.dwell_s, self.dwell, places=9)
        self.assertAlmostEqual(mrs.spectrometer_mhz, self.mhz, places=5)
        self.assertAlmostEqual(peak_ppm(mrs), 2.01, delta=0.01)

    def test_philips_sdat_vax_floats_and_conjugation(self):
        path = mrs_io.write_sdat(os.path.join(self.folder, "svs"), self.fid, self.dwell, self.mhz, te_s=0.035,
                                 tr_s=2.0, geometry={"lr_size": 20, "ap_size": 15, "cc_size": 10,
                                                     "lr_off_center": 5.0, "ap_off_center": -3.0,
                                                     "cc_off_center": 12.0})
        mrs = mrs_io.read_mrs(path)
        self.assertEqual(mrs.metadata["source_format"], "Philips SPAR/SDAT")
        self.check(mrs, atol=1e-5)
        self.assertAlmostEqual(mrs.te_s, 0.035)
        np.testing.assert_allclose(mrs.affine[:3, 3], [-5.0, 3.0, 12.0])
        np.testing.assert_allclose(mrs_io.geometry.voxel_size_mm(mrs.affine), [20, 15, 10])
        # The file itself holds the conjugate, as VAX floats (1.0 is bytes 80 40 00 00).
        with open(path, "rb") as handle:
            stored = mrs_io.vax.vax_to_float32(handle.read())
        np.testing.assert_allclose(stored[1], -self.fid[0].imag, atol=1e-6)
        self.assertEqual(mrs_io.vax.float32_to_vax(np.array([1.0], np.float32)), bytes([0x80, 0x40, 0, 0]))
        # .SPAR given instead of .SDAT reads the same.
        np.testing.assert_array_equal(mrs_io.read_mrs(path[:-5] + ".SPAR").fid, mrs.fid)

    def test_lcmodel_raw_with_and_without_dwell_time(self):
        path = mrs_io.write_lcmodel_raw(os.path.join(self.folder, "svs.RAW"), self.fid, self.dwell, self.mhz, te_s=0.03)
        mrs = mrs_io.read_mrs(path)
        self.check(mrs, atol=1e-5)
        self.assertAlmostEqual(mrs.te_s, 0.03)
        with open(path) as handle:
            text = handle.read()
        bare = os.path.join(self.folder, "bare.RAW")
        with open(bare, "w") as handle:
            handle.write("\n".join(line for line in text.splitlines() if "DELTAT" not in line))
        with self.assertRaises(MetadataError) as caught:
            mrs_io.read_mrs(bare)
        self.assertIn("DELTAT", str(caught.exception))
        given = mrs_io.read_mrs(bare, dwell_s=self.dwell)
        self.check(given, atol=1e-5)
        self.assertEqual(given.metadata["dwell_source"], "argument")

    def test_jmrui_text(self):
        path = mrs_io.write_jmrui_text(os.path.join(self.folder, "svs.txt"), self.fid, self.dwell, self.mhz)
        mrs = mrs_io.read_mrs(path)
        self.assertEqual(mrs.metadata["source_format"], "jMRUI text")
        self.check(mrs, atol=1e-5)
        two = mrs_io.write_jmrui_text(os.path.join(self.folder, "two.txt"), np.stack([self.fid, 2 * self.fid]),
                                      self.dwell, self.mhz)
        both = mrs_io.read_mrs(two)
        self.assertEqual(both.fid.shape, (1, 1, 1, 2, 1024))
        self.assertEqual(both.dim_tags, ["DIM_DYN"])

    def test_rda_converted_to_every_writable_format_reads_back_the_same(self):
        rda = mrs_io.read_mrs(os.path.join(SIEMENS, "SVS_30.rda"))
        fid = rda.fid.reshape(-1)
        scale = np.abs(fid).max()
        paths = [mrs_io.write_nifti_mrs(rda, os.path.join(self.folder, "a.nii.gz")),
                 mrs_io.write_lcmodel_raw(os.path.join(self.folder, "a.RAW"), fid, rda.dwell_s, rda.spectrometer_mhz),
                 mrs_io.write_jmrui_text(os.path.join(self.folder, "a.txt"), fid, rda.dwell_s, rda.spectrometer_mhz),
                 mrs_io.write_sdat(os.path.join(self.folder, "a"), fid, rda.dwell_s, rda.spectrometer_mhz)]
        for path in paths:
            back = mrs_io.read_mrs(path)
            np.testing.assert_allclose(back.fid.reshape(-1), fid, atol=2e-6 * scale, err_msg=path)
            self.assertAlmostEqual(back.dwell_s, rda.dwell_s, places=9)

    def test_overrides_are_recorded(self):
        path = mrs_io.write_jmrui_text(os.path.join(self.folder, "svs.txt"), self.fid, self.dwell, self.mhz)
        mrs = mrs_io.read_mrs(path, te_s=0.144)
        self.assertEqual(mrs.te_s, 0.144)
        self.assertEqual(mrs.metadata["overrides"]["te_s"], {"value": 0.144, "header": None})
        with self.assertRaises(InputError):
            mrs_io.read_mrs(path, echo=1)


class ErrorsTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.folder)

    def write(self, name, content):
        path = os.path.join(self.folder, name)
        with open(path, "wb") as handle:
            handle.write(content)
        return path

    def test_missing_and_unknown_files(self):
        with self.assertRaises(InputError):
            mrs_io.read_mrs(os.path.join(self.folder, "nothing.rda"))
        with self.assertRaises(InputError) as caught:
            mrs_io.read_mrs(self.write("data.bin", b"\x00\x01" * 100))
        self.assertIn("unknown spectroscopy format", str(caught.exception))

    def test_truncated_rda(self):
        with open(os.path.join(SIEMENS, "SVS_30.rda"), "rb") as handle:
            raw = handle.read()
        with self.assertRaises(InputError) as caught:
            mrs_io.read_mrs(self.write("cut.rda", raw[:-4000]))
        self.assertIn("truncated: 12384 bytes of data after the header, 16384 expected", str(caught.exception))

    def test_plain_nifti_image_is_not_spectroscopy(self):
        import nibabel
        path = os.path.join(self.folder, "image.nii.gz")
        nibabel.save(nibabel.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4)), path)
        with self.assertRaises(InputError) as caught:
            mrs_io.read_mrs(path)
        self.assertIn("NIfTI-MRS", str(caught.exception))

    def test_all_zero_data(self):
        path = mrs_io.write_jmrui_text(os.path.join(self.folder, "zero.txt"), np.zeros(64, complex), 5e-4, 123.2)
        with self.assertRaises(InputError) as caught:
            mrs_io.read_mrs(path)
        self.assertIn("no signal", str(caught.exception))

    def test_sdat_without_spar(self):
        with self.assertRaises(InputError) as caught:
            mrs_io.read_mrs(self.write("lonely.SDAT", b"\x00" * 64))
        self.assertIn(".SPAR", str(caught.exception))


class Spec2niiBridgeTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.twix = os.path.join(self.folder, "meas_MID1_svs.dat")
        with open(self.twix, "wb") as handle:
            handle.write(b"\x00" * 128)

    def tearDown(self):
        shutil.rmtree(self.folder)

    def test_converter_output_is_read_and_labelled(self):
        source = mrs_io.read_mrs(os.path.join(NIFTI_7T, "metab.nii.gz"))
        calls = []

        def fake_run(command, capture_output, text):
            calls.append(command)
            out = command[command.index("-o") + 1]
            mrs_io.write_nifti_mrs(source, os.path.join(out, "svs.nii.gz"))
            return subprocess.CompletedProcess(command, 0, "", "")
        from SpectroscopyModuleLib.io import spec2nii_bridge
        original = spec2nii_bridge._spec2nii_command
        spec2nii_bridge._spec2nii_command = lambda: ["spec2nii"]
        try:
            converted = spec2nii_bridge.convert_with_spec2nii(self.twix, run=fake_run)
        finally:
            spec2nii_bridge._spec2nii_command = original
        self.assertEqual(calls[0][:2], ["spec2nii", "twix"])
        self.assertEqual(converted[0].metadata["source_format"], "twix via spec2nii")
        np.testing.assert_array_equal(converted[0].fid, source.fid)

    def test_failure_is_reported_with_the_converter_message(self):
        from SpectroscopyModuleLib.io import spec2nii_bridge

        def failing(command, capture_output, text):
            return subprocess.CompletedProcess(command, 1, "", "Traceback...\nValueError: not a twix file")
        original = spec2nii_bridge._spec2nii_command
        spec2nii_bridge._spec2nii_command = lambda: ["spec2nii"]
        try:
            with self.assertRaises(InputError) as caught:
                spec2nii_bridge.convert_with_spec2nii(self.twix, run=failing)
        finally:
            spec2nii_bridge._spec2nii_command = original
        self.assertIn("not a twix file", str(caught.exception))


class FitResultReadersTest(unittest.TestCase):
    def test_lcmodel_table(self):
        fit = mrs_io.read_lcmodel_table(os.path.join(LCMODEL, "svs_97.TABLE"))
        self.assertEqual(len(fit.amplitudes), 37)                  # "38 lines ... = NCONC+1"
        self.assertAlmostEqual(fit.amplitudes["NAA+NAAG"], 0.148)
        self.assertEqual(fit.sd_percent["GPC"], 2.0)
        self.assertAlmostEqual(fit.ratios["Ins"], 1.186)
        self.assertEqual(fit.ratio_reference, "Cr+PCr")
        self.assertEqual(fit.quality, {"fwhm_ppm": 0.043, "snr": 13.0, "shift_ppm": 0.0, "phase0_deg": 21.0,
                                       "phase1_deg_per_ppm": 12.2})

    def test_lcmodel_coord_curves(self):
        fit = mrs_io.read_lcmodel_coord(os.path.join(LCMODEL, "svs_97.COORD"))
        for name in ("ppm", "data", "fit", "baseline"):
            self.assertEqual(fit.spectra[name].shape, (799,))
        self.assertAlmostEqual(fit.spectra["ppm"][0], 4.0)
        self.assertAlmostEqual(fit.spectra["ppm"][-1], 0.203982)
        self.assertIn("NAA", fit.spectra["components"])
        self.assertAlmostEqual(fit.spectra["data"][0], 5.80668)

    def test_lcmodel_csv_matches_table(self):
        table = mrs_io.read_lcmodel_table(os.path.join(LCMODEL, "svs_97.TABLE"))
        csv = mrs_io.read_lcmodel_csv(os.path.join(LCMODEL, "svs_97.CSV"))
        for name in ("NAA", "GPC", "Ins", "Cr+PCr"):
            self.assertAlmostEqual(csv.amplitudes[name], table.amplitudes[name])
            self.assertAlmostEqual(csv.sd_percent[name], table.sd_percent[name])

    def test_tarquin(self):
        fit = mrs_io.read_tarquin_results(os.path.join(DATA, "suspect_testdata", "tarquin_outputs",
                                                       "tarquin_results.txt"))
        self.assertEqual(len(fit.amplitudes), 34)
        self.assertAlmostEqual(fit.amplitudes["NAA"], 0.002788)
        self.assertAlmostEqual(fit.sd_percent["NAA"], 5.361)
        self.assertEqual(fit.sd_percent["Gln"], float("inf"))
        self.assertAlmostEqual(fit.quality["fwhm_ppm"], 0.04754)
        self.assertAlmostEqual(fit.quality["te_s"], 0.03)


if __name__ == "__main__":
    unittest.main()
