"""Processing and fitting on the vendored scanner files (Testing/Data/mrs-formats).

The 7 T example ships both the raw data (4 coils x 16 transients, water reference) and the
spectrum FSL-MRS processed from them: our coil combination, eddy-current correction, alignment
and averaging must reproduce that spectrum, and the fit must give the same ratios from either.
"""
import os
import unittest

import numpy as np

from SpectroscopyModuleLib import io as mrs_io
from SpectroscopyModuleLib import pipeline
from SpectroscopyModuleLib.processing import reference
from SpectroscopyModuleLib.settings import SpectroscopySettings

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "Testing", "Data", "mrs-formats")
SEVEN_T = os.path.join(DATA, "nifti_mrs_7T_steam")
METABOLITES = ("NAA", "NAAG", "Cr", "PCr", "GPC", "PCh", "Ins", "Glu", "Gln", "Tau", "GSH", "Lac")
CHAIN = ("coil_combine", "ecc", "align", "average", "reference")


def normalised_magnitude(mrs, low=0.5, high=4.2, line_broadening_hz=3.0):
    fid = np.asarray(mrs.fid).reshape(-1)
    fid = fid * np.exp(-np.pi * line_broadening_hz * np.arange(fid.size) * mrs.dwell_s)
    n = 8192
    spectrum = np.abs(np.fft.fftshift(np.fft.fft(fid, n)))
    ppm = mrs.ppm_reference - np.fft.fftshift(np.fft.fftfreq(n, mrs.dwell_s)) / mrs.spectrometer_mhz
    order = np.argsort(ppm)
    values = np.interp(np.linspace(low, high, 2000), ppm[order], spectrum[order])
    return values / np.linalg.norm(values)


def naa_ppm(mrs):
    fid = np.asarray(mrs.fid).reshape(-1)
    n = 8 * fid.size
    spectrum = np.abs(np.fft.fftshift(np.fft.fft(fid, n)))
    ppm = mrs.ppm_reference - np.fft.fftshift(np.fft.fftfreq(n, mrs.dwell_s)) / mrs.spectrometer_mhz
    window = (ppm > 1.85) & (ppm < 2.15)
    return float(ppm[window][np.argmax(spectrum[window])])


class SevenTeslaChainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.raw = mrs_io.read_mrs(os.path.join(SEVEN_T, "metab_raw.nii.gz"))
        cls.fsl = mrs_io.read_mrs(os.path.join(SEVEN_T, "metab.nii.gz"))
        cls.water = os.path.join(SEVEN_T, "wref_raw.nii.gz")

    def processed(self, steps):
        settings = SpectroscopySettings(processing=steps, water_reference_path=self.water).validated()
        return pipeline.apply_processing(self.raw, settings)

    def test_processing_reproduces_the_fsl_mrs_spectrum(self):
        plain, _ = self.processed(("coil_combine", "average"))
        full, log = self.processed(CHAIN)
        self.assertEqual([outcome for _, outcome in log], ["applied"] * len(CHAIN))
        reference_spectrum = normalised_magnitude(self.fsl)
        plain_match = float(normalised_magnitude(plain) @ reference_spectrum)
        full_match = float(normalised_magnitude(full) @ reference_spectrum)
        self.assertGreater(full_match, 0.99)            # measured 0.998
        self.assertGreater(full_match, plain_match)     # eddy-current correction matters (0.984 without)
        self.assertEqual(full.fid.shape, (1, 1, 1, 4096))
        self.assertEqual(full.dim_tags, [])
        self.assertAlmostEqual(naa_ppm(full), 2.01, delta=0.01)
        self.assertEqual(len(full.history), len(CHAIN))

    def test_outlier_rejection_step_keeps_consistent_transients(self):
        processed, log = self.processed(("coil_combine", "align", "reject_outliers", "average"))
        self.assertEqual(dict(log)["reject_outliers"], "applied")
        self.assertEqual(processed.fid.shape, (1, 1, 1, 4096))
        self.assertIn("Outlier removal", [step["Method"] for step in processed.history])
        self.assertIn("0 of 16 transients dropped", processed.history[2]["Details"])      # a clean acquisition

    def test_fit_of_our_processing_matches_the_fit_of_fsl_processing(self):
        ours = pipeline.analyse_svs(self.raw, SpectroscopySettings(sequence="STEAM", processing=CHAIN,
                                                                  water_reference_path=self.water,
                                                                  metabolites=METABOLITES))
        theirs = pipeline.analyse_svs(self.fsl, SpectroscopySettings(sequence="STEAM", processing=(),
                                                                    metabolites=METABOLITES))
        for ratio in ("tNAA/tCr", "tCho/tCr", "Ins/tCr"):
            self.assertAlmostEqual(ours.ratios[ratio], theirs.ratios[ratio], delta=0.06 * theirs.ratios[ratio],
                                   msg=ratio)
        # Healthy adult brain at 7 T: tNAA/tCr about 1.2-1.7 (e.g. Tkac et al., MRM 2009, doi:10.1002/mrm.22086).
        self.assertTrue(1.1 < ours.ratios["tNAA/tCr"] < 1.8)


class NoiseOnRealBaselinesTest(unittest.TestCase):
    def test_noise_estimate_ignores_a_smooth_baseline(self):
        from SpectroscopyModuleLib.fitting.noise import spectral_noise_sd
        rng = np.random.default_rng(0)
        ppm = np.linspace(-0.3, 9.5, 1024)[::-1]
        baseline = 5e3 * np.exp(-(ppm + 0.3)) + 2e3 * (ppm - 1.0) ** 2         # filter roll-off and a hump
        spectrum = baseline + 100.0 * (rng.standard_normal(ppm.size) + 1j * rng.standard_normal(ppm.size))
        self.assertAlmostEqual(float(spectral_noise_sd(spectrum[None], ppm)[0]), 100.0, delta=25.0)

    def test_siemens_rda_fits_with_brain_like_ratios(self):
        # 3 T PRESS TE 30 ms (left superior temporal gyrus): with residual water removed and the
        # ppm axis referenced, NAA is reliable and the ratios are in the normal adult range.
        analysis = pipeline.analyse_svs(os.path.join(DATA, "suspect_testdata/siemens/SVS_30.rda"),
                                        SpectroscopySettings(processing=("water_removal", "reference")))
        self.assertLess(analysis.fit.crlb_percent["NAA"], 15.0)
        self.assertTrue(1.0 < analysis.ratios["tNAA/tCr"] < 2.0)
        self.assertTrue(0.1 < analysis.ratios["tCho/tCr"] < 0.4)


class VendorReferencingTest(unittest.TestCase):
    def test_referencing_puts_naa_at_2_01_ppm(self):
        for name in ("suspect_testdata/siemens/SVS_30.rda", "suspect_testdata/philips_dicom/MRSshortTELN_IM-0001-0002.dcm"):
            mrs = mrs_io.read_mrs(os.path.join(DATA, name))
            before = naa_ppm(mrs)
            after = naa_ppm(reference(mrs))
            self.assertGreater(abs(before - 2.01), 0.03, name)      # both scans are off-resonance
            self.assertAlmostEqual(after, 2.01, delta=0.01, msg=name)

    def test_water_frame_stored_with_philips_data_drives_eddy_current_correction(self):
        mrs = mrs_io.read_mrs(os.path.join(DATA, "suspect_testdata/philips_dicom/MRSshortTELN_IM-0001-0002.dcm"))
        processed, log = pipeline.apply_processing(mrs, SpectroscopySettings(processing=("ecc", "reference")).validated())
        self.assertEqual(dict(log), {"ecc": "applied", "reference": "applied"})
        self.assertAlmostEqual(naa_ppm(processed), 2.01, delta=0.01)


if __name__ == "__main__":
    unittest.main()
