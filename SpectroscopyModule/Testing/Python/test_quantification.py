"""Clinical ratios, water scaling (Gasparovic 2006), SNR, linewidth and quality flags."""
import unittest
from types import SimpleNamespace

import numpy as np

from SpectroscopyModuleLib import quantification as q
from SpectroscopyModuleLib.synthetic import SyntheticMRS
from TMEMonitorLib.errors import InputError

MHZ, N, DWELL = 123.2, 2048, 1 / 2000


def _lorentzian_mrs(ppm, amplitude, lw_hz, noise=0.0, seed=0, extra=()):
    t = np.arange(N) * DWELL
    fid = amplitude * np.exp(2j * np.pi * (4.65 - ppm) * MHZ * t - np.pi * lw_hz * t)
    for p, a, lw in extra:
        fid = fid + a * np.exp(2j * np.pi * (4.65 - p) * MHZ * t - np.pi * lw * t)
    rng = np.random.default_rng(seed)
    fid = fid + noise * (rng.standard_normal(N) + 1j * rng.standard_normal(N))
    return SyntheticMRS(fid, DWELL, MHZ)


class RatioTest(unittest.TestCase):
    AMPS = {"NAA": 8.0, "NAAG": 2.0, "Cr": 4.0, "PCr": 4.0, "GPC": 1.5, "PCh": 0.5, "Lac": 2.0,
            "Cit": 10.0, "Ins": 6.0, "Glu": 8.0, "Gln": 2.0}

    def test_sums_and_ratios(self):
        self.assertEqual(q.ratio(self.AMPS, "NAA+NAAG", "Cr+PCr"), 10.0 / 8.0)
        self.assertEqual(q.ratio(self.AMPS, "tCho", "tCr"), 2.0 / 8.0)
        sums = q.clinical_sums(self.AMPS)
        self.assertEqual(sums, {"tNAA": 10.0, "tCr": 8.0, "tCho": 2.0, "Glx": 10.0})
        ratios = q.clinical_ratios(self.AMPS)
        self.assertAlmostEqual(ratios["tCho/tCr"], 0.25)
        self.assertAlmostEqual(ratios["tCho/tNAA"], 0.2)
        self.assertAlmostEqual(ratios["Lac/tCr"], 0.25)
        self.assertAlmostEqual(ratios["(tCho+tCr)/Cit"], 1.0)
        self.assertNotIn("(tCho+tCr+PA)/Cit", ratios)

    def test_prostate_ratio_with_polyamines_and_maps(self):
        amps = {"GPC": np.array([1.0, 2.0]), "PCh": np.array([1.0, 2.0]), "Cr": np.array([2.0, 2.0]),
                "PA": np.array([1.0, 1.0]), "Cit": np.array([10.0, 0.0])}
        ratios = q.clinical_ratios(amps)
        np.testing.assert_allclose(ratios["(tCho+tCr+PA)/Cit"][0], 0.5)
        self.assertTrue(np.isnan(ratios["(tCho+tCr+PA)/Cit"][1]))    # no citrate: undefined
        with self.assertRaises(InputError):
            q.ratio(amps, "NAA", "Cr")
        with self.assertRaises(InputError):
            q.ratio(amps, "Cr+", "Cit")


class WaterScalingTest(unittest.TestCase):
    def test_formula_without_relaxation(self):
        # TE -> 0 and TR >> T1: R = 1; pure white matter: [M] = S_M / S_W x 55510 mM x 0.65
        out = q.water_scaled_concentrations({"NAA": 2.0}, 10000.0, te_s=0.0, tr_s=100.0,
                                            fractions={"gm": 0.0, "wm": 1.0, "csf": 0.0})
        self.assertAlmostEqual(out["NAA"], 2.0 / 10000.0 * 55510.0 * 0.65, places=9)

    def test_partial_volume_and_relaxation(self):
        te, tr = 0.030, 2.0
        f = {"gm": 0.5, "wm": 0.3, "csf": 0.2}
        out = q.water_scaled_concentrations({"Cr": 1.0}, 1000.0, te, tr, f)
        rw = {k: np.exp(-te / t2) * (1 - np.exp(-tr / t1)) for k, (t1, t2) in q.WATER_RELAXATION_3T.items()}
        t1, t2 = q.METABOLITE_RELAXATION_3T["Cr"]
        rm = np.exp(-te / t2) * (1 - np.exp(-tr / t1))
        water = sum(f[k] * q.WATER_CONTENT[k] * rw[k] for k in f)
        expected = 1.0 / 1000.0 * 55510.0 * water / ((1 - 0.2) * rm)
        self.assertAlmostEqual(out["Cr"], expected, places=9)
        # raw peak areas: the 9 choline protons count against the 2 water protons
        raw = q.water_scaled_concentrations({"tCho": 9.0}, 1000.0, 0.0, 100.0,
                                            {"gm": 0, "wm": 1, "csf": 0}, metabolite_protons={"tCho": 9})
        self.assertAlmostEqual(raw["tCho"], 9.0 / 1000.0 * 2 / 9 * 55510.0 * 0.65, places=9)

    def test_bad_fractions(self):
        with self.assertRaises(InputError):
            q.water_scaled_concentrations({"NAA": 1.0}, 1.0, 0.03, 2.0, {"gm": 0.7, "wm": 0.7, "csf": 0.0})
        with self.assertRaises(InputError):
            q.water_scaled_concentrations({"NAA": 1.0}, 1.0, 0.03, 2.0, {"gm": 0.0, "wm": 0.0, "csf": 1.0})
        with self.assertRaises(InputError):
            q.water_scaled_concentrations({"NAA": 1.0}, 1.0, 30.0, 2.0, {"gm": 0.5, "wm": 0.5, "csf": 0.0})


class SpectrumMeasuresTest(unittest.TestCase):
    def test_linewidth_of_lorentzian(self):
        for lw in (3.0, 6.0, 12.0):
            mrs = _lorentzian_mrs(3.027, 10.0, lw)
            out = q.linewidth_fwhm(mrs, peak_ppm=3.027)
            self.assertAlmostEqual(out["fwhm_hz"], lw, delta=0.1 + 0.02 * lw)
            self.assertAlmostEqual(out["fwhm_ppm"], out["fwhm_hz"] / MHZ, places=12)
            self.assertAlmostEqual(out["peak_ppm"], 3.027, delta=0.002)

    def test_snr(self):
        # peak height of a Lorentzian of amplitude A: A / (pi lw dwell) in DFT units (for long FIDs);
        # noise SD of the spectrum = sigma_t sqrt(N)
        amp, lw, sigma = 10.0, 5.0, 0.05
        mrs = _lorentzian_mrs(2.008, amp, lw, noise=sigma, seed=2)
        expected = amp / (np.pi * lw * DWELL) / (sigma * np.sqrt(N))
        self.assertAlmostEqual(q.spectral_snr(mrs) / expected, 1.0, delta=0.1)

    def test_quality_flags(self):
        good = SimpleNamespace(amplitudes={"NAA": 10.0, "Cr": 8.0, "MM09": 1.0, "GABA": 0.0},
                               crlb_percent={"NAA": 3.0, "Cr": 25.0, "MM09": 90.0, "GABA": np.inf},
                               fwhm_ppm=0.05)
        out = q.quality_flags(good, crlb_threshold_percent=20.0)
        self.assertEqual(out["crlb_high"], ["Cr"])             # MM excluded, GABA reported apart
        self.assertEqual(out["not_detected"], ["GABA"])
        self.assertFalse(out["fwhm_high"])
        broad = SimpleNamespace(**dict(vars(good), fwhm_ppm=0.15))
        self.assertTrue(q.quality_flags(broad)["fwhm_high"])
        wet = _lorentzian_mrs(2.008, 1.0, 5.0, extra=((4.68, 50.0, 10.0),))
        spec = np.fft.fftshift(np.fft.fft(wet.fid))
        ppm = 4.65 - np.fft.fftshift(np.fft.fftfreq(N, DWELL)) / MHZ
        with_water = SimpleNamespace(**dict(vars(good), full_spectrum=spec, ppm_full=ppm))
        out = q.quality_flags(with_water, water_ratio_max=10.0)
        self.assertTrue(out["poor_water_suppression"])
        self.assertGreater(out["water_residual_ratio"], 10.0)
        self.assertEqual(len(out["flags"]), 2)


if __name__ == "__main__":
    unittest.main()
