"""Water-scaled concentrations (mM) from a synthetic spectrum and water reference of known content.

The metabolite spectrum is made with concentrations c x R_M (their relaxation attenuation at
TE/TR) and the water FID with 2 protons x 55.51 M x water content x R_W, so that the
Gasparovic formula must give back c."""
import unittest

import numpy as np

from SpectroscopyModuleLib import pipeline, quantification
from SpectroscopyModuleLib.io import MRSData
from SpectroscopyModuleLib.settings import SpectroscopySettings
from SpectroscopyModuleLib.synthetic import synthesize_spectrum
from SpectroscopyModuleLib.water_scaling import water_amplitude
from TMEMonitorLib.errors import InputError

MHZ, TE, TR, N_POINTS, DWELL = 123.2, 0.030, 2.0, 2048, 1 / 2000
TRUTH_MM = {"NAA": 8.0, "Cr": 4.0, "PCr": 3.0, "GPC": 1.5, "PCh": 0.5, "Ins": 5.0, "Glu": 8.0}
FRACTIONS = {"gm": 0.3, "wm": 0.6, "csf": 0.1}


def attenuation(name):
    t1, t2 = quantification.METABOLITE_RELAXATION_3T.get(name, quantification.DEFAULT_METABOLITE_RELAXATION)
    return quantification.relaxation_attenuation(TE, TR, t1, t2)


def water_fid(fractions, sequence="PRESS"):
    t = np.arange(N_POINTS) * DWELL
    visible = sum(fractions[k] * quantification.WATER_CONTENT[k]
                  * quantification.relaxation_attenuation(TE, TR, *quantification.WATER_RELAXATION_3T[k])
                  for k in ("gm", "wm", "csf"))
    amplitude = 2.0 * quantification.WATER_CONCENTRATION_MM * visible / (1.0 - fractions["csf"])
    amplitude *= 0.5 if sequence == "STEAM" else 1.0
    return amplitude * np.exp(-np.pi * 5.0 * t) * np.exp(1j * 0.4)         # on resonance, phased off by 0.4 rad


class WaterScalingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        attenuated = {name: value * attenuation(name) for name, value in TRUTH_MM.items()}
        cls.mrs = synthesize_spectrum(attenuated, MHZ, TE, "PRESS", N_POINTS, DWELL, linewidth_hz=5.0, snr=200,
                                      rng=1, tr_s=TR)
        cls.mrs.water_reference = MRSData(water_fid(FRACTIONS).reshape(1, 1, 1, -1), DWELL, MHZ, te_s=TE, tr_s=TR)
        cls.settings = SpectroscopySettings(processing=(), tissue_fractions=FRACTIONS,
                                            metabolites=tuple(TRUTH_MM))
        cls.analysis = pipeline.analyse_svs(cls.mrs, cls.settings)

    def test_concentrations_recovered(self):
        mm = self.analysis.concentrations_mM
        for pool, parts in (("tNAA", ("NAA",)), ("tCr", ("Cr", "PCr")), ("tCho", ("GPC", "PCh"))):
            true = sum(TRUTH_MM[p] for p in parts)
            self.assertAlmostEqual(mm[pool], true, delta=0.05 * true, msg=pool)
        self.assertAlmostEqual(mm["Ins"], TRUTH_MM["Ins"], delta=0.08 * TRUTH_MM["Ins"])
        self.assertIn("Gasparovic", self.analysis.concentration_source)
        self.assertAlmostEqual(self.analysis.biomarkers["tCho (mM)"], mm["tCho"])

    def test_no_water_no_mm_and_steam_factor(self):
        plain = pipeline.analyse_svs(synthesize_spectrum({"NAA": 8.0, "Cr": 4.0}, MHZ, TE, "PRESS", N_POINTS, DWELL,
                                                         snr=100, rng=2, tr_s=TR), SpectroscopySettings(processing=()))
        self.assertEqual(plain.concentrations_mM, {})
        press = water_amplitude(water_fid(FRACTIONS, "PRESS"), "PRESS")
        steam = water_amplitude(water_fid(FRACTIONS, "STEAM"), "STEAM")
        self.assertAlmostEqual(press / steam, 1.0, places=6)      # both in per-molecule units

    def test_missing_tr_is_a_warning_and_bad_fractions_an_error(self):
        mrs = MRSData(self.mrs.fid, DWELL, MHZ, te_s=TE, tr_s=None)
        mrs.water_reference = self.mrs.water_reference
        analysis = pipeline.analyse_svs(mrs, self.settings)
        self.assertEqual(analysis.concentrations_mM, {})
        self.assertTrue(any("TE and TR" in w for w in analysis.warnings))
        with self.assertRaises(InputError):
            SpectroscopySettings(tissue_fractions={"gm": 0.8, "wm": 0.5, "csf": 0.1}).validated()


if __name__ == "__main__":
    unittest.main()
