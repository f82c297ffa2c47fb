"""LCModel .RAW/.BASIS sign convention on files written by other tools (suspect, spec2nii), the
control file found by content, pathlib paths (Testing/Data/lcmodel-sign/README.md)."""
import os
import pathlib
import shutil
import tempfile
import unittest

import numpy as np

from SpectroscopyModuleLib import io as mrs_io
from SpectroscopyModuleLib.basis import read_basis
from TMEMonitorLib.errors import InputError, MetadataError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "Testing", "Data", "lcmodel-sign")
RDA = os.path.join(ROOT, "Testing", "Data", "mrs-formats", "suspect_testdata", "siemens", "SVS_30.rda")


def peak_ppm(mrs, low=1.5, high=4.0):
    fid = mrs.fid.reshape(-1, mrs.n_points)[0]
    spectrum = np.abs(mrs.spectrum(fid))
    ppm = mrs.ppm_axis()
    window = (ppm > low) & (ppm < high)
    return float(ppm[window][np.argmax(spectrum[window])])


def tallest_ppm(mrs):
    fid = mrs.fid.reshape(-1, mrs.n_points)[0]
    return float(mrs.ppm_axis()[np.argmax(np.abs(mrs.spectrum(fid)))])


class ToolWrittenRawTest(unittest.TestCase):
    def test_raw_written_by_suspect_from_philips_sdat_equals_the_conjugated_sdat(self):
        sdat = mrs_io.read_mrs(os.path.join(DATA, "phantom_philips.SDAT"))
        raw = mrs_io.read_mrs(os.path.join(DATA, "phantom_philips_suspect.RAW"), dwell_s=sdat.dwell_s)
        fid, reference = raw.fid.ravel(), sdat.fid.ravel()
        np.testing.assert_allclose(fid, reference, atol=1e-5 * np.abs(reference).max())
        self.assertAlmostEqual(tallest_ppm(raw), 2.01, delta=0.01)      # NAA, not mirrored to 7.29
        self.assertAlmostEqual(raw.spectrometer_mhz, 127.75, places=5)
        self.assertAlmostEqual(raw.te_s, 0.035)

    def test_sdat_convention_agrees_with_spec2nii(self):
        sdat = mrs_io.read_mrs(os.path.join(DATA, "phantom_philips.SDAT"))
        converted = mrs_io.read_mrs(os.path.join(DATA, "phantom_philips_spec2nii.nii.gz"))
        np.testing.assert_allclose(sdat.fid.ravel(), converted.fid.ravel(), atol=1e-5 * np.abs(sdat.fid).max())

    def test_raw_written_by_suspect_from_siemens_rda_equals_the_rda(self):
        rda = mrs_io.read_mrs(RDA)
        raw = mrs_io.read_mrs(os.path.join(DATA, "SVS_30_suspect.RAW"), dwell_s=rda.dwell_s)
        reference = rda.fid.ravel()
        np.testing.assert_allclose(raw.fid.ravel(), reference, rtol=0, atol=1e-5 * np.abs(reference).max())
        self.assertAlmostEqual(peak_ppm(raw), peak_ppm(rda), places=6)
        self.assertAlmostEqual(peak_ppm(raw, 1.5, 2.5), 1.96, delta=0.05)  # NAA (unreferenced), not 7.3

    def test_spec2nii_raw_converter_is_the_mirror_image(self):
        # Documented disagreement: spec2nii conjugates .RAW data (see the README).
        raw = mrs_io.read_mrs(os.path.join(DATA, "SVS_30_suspect.RAW"), dwell_s=1 / 2000)
        converted = mrs_io.read_mrs(os.path.join(DATA, "SVS_30_suspect_RAW_spec2nii.nii.gz"))
        np.testing.assert_allclose(converted.fid.ravel(), np.conj(raw.fid.ravel()),
                                   atol=1e-4 * np.abs(raw.fid).max())

    def test_basis_made_from_a_tool_written_raw_keeps_naa_at_2_ppm(self):
        # LCModel's makebasis stores the DFT of a .RAW FID: build that block from the suspect file.
        raw = mrs_io.read_mrs(os.path.join(DATA, "phantom_philips_suspect.RAW"), dwell_s=1 / 2000)
        data = np.roll(np.fft.fft(raw.fid.ravel()), 3)
        lines = [" $SEQPAR", " HZPPPM = 127.75", " ECHOT = 35.", " $END", " $BASIS1", " IDBASI = 'x',",
                 " FMTBAS = '(2E15.6)',", " BADELT = 5.0E-04,", f" NDATAB = {data.size}", " $END",
                 " $BASIS", " ID = 'PH',", " METABO = 'PH',", " CONC = 1.,", " ISHIFT = 3", " $END"]
        lines += [f"{v.real:15.6E}{v.imag:15.6E}" for v in data]
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "phantom.BASIS"
            path.write_text("\n".join(lines) + "\n")
            basis = read_basis(path)                                  # a pathlib.Path is accepted
        fid = basis["PH"]
        spectrum = np.abs(np.fft.fftshift(np.fft.fft(fid)))
        ppm = 4.65 - np.fft.fftshift(np.fft.fftfreq(fid.size, basis.dwell_s)) / basis.spectrometer_mhz
        self.assertAlmostEqual(float(ppm[np.argmax(spectrum)]), 2.01, delta=0.01)
        np.testing.assert_allclose(fid, raw.fid.ravel(), atol=1e-5 * np.abs(fid).max())


class ControlFileTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.raw = os.path.join(self.folder, "subject01.RAW")
        shutil.copy(os.path.join(DATA, "SVS_30_suspect.RAW"), self.raw)

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def write(self, name, text):
        with open(os.path.join(self.folder, name), "w") as handle:
            handle.write(text)

    def test_control_file_found_by_content_under_any_name(self):
        self.write("other.ctl", " $LCMODL\n FILRAW='/data/other.RAW'\n DELTAT=1.0e-3\n $END\n")
        self.write("notes.txt", "DELTAT=9 but no namelist\n")
        self.write("lcm_run_7", " $LCMODL\n TITLE='run'\n FILRAW='/scanner/export/subject01.RAW'\n"
                                " DELTAT= 5.000E-04\n HZPPPM= 1.232347E+02\n $END\n")
        mrs = mrs_io.read_mrs(pathlib.Path(self.raw))                 # pathlib.Path accepted
        self.assertAlmostEqual(mrs.dwell_s, 5e-4)
        self.assertEqual(mrs.metadata["dwell_source"], "control file lcm_run_7")
        self.assertTrue(mrs.metadata["lcmodel_control_file"].endswith("lcm_run_7"))

    def test_control_file_for_another_raw_is_not_used(self):
        self.write("control.file", " $LCMODL\n FILRAW='other.RAW'\n DELTAT=1.0e-3\n $END\n")
        with self.assertRaisesRegex(MetadataError, "subject01.RAW.*DELTAT"):
            mrs_io.read_mrs(self.raw)

    def test_generic_control_without_filraw_is_the_fallback(self):
        self.write("control", " $LCMODL\n DELTAT=5.0e-4\n $END\n")
        self.assertAlmostEqual(mrs_io.read_mrs(self.raw).dwell_s, 5e-4)

    def test_bad_dwell_in_control_file_names_the_file_and_field(self):
        self.write("job.control", " $LCMODL\n FILRAW='subject01.RAW'\n DELTAT=0.\n $END\n")
        with self.assertRaisesRegex(MetadataError, "subject01.RAW.*DELTAT in control file job.control"):
            mrs_io.read_mrs(self.raw)


if __name__ == "__main__":
    unittest.main()
