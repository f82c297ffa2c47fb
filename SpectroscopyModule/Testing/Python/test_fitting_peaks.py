"""AMARES-style peak fitting (lmfit) on analytic Lorentzian/Gaussian lines, 1H and 31P."""
import unittest

import numpy as np

from SpectroscopyModuleLib.fitting.peak_fitting import Peak, fit_peaks
from SpectroscopyModuleLib.synthetic import SyntheticMRS
from TMEMonitorLib.errors import InputError

MHZ, N, DWELL = 123.2, 2048, 1 / 2000


def _line(ppm, amplitude, lw_hz, t, mhz=MHZ, ref=4.65, gaussian=False):
    f = (ref - ppm) * mhz
    decay = np.exp(-(np.pi * lw_hz * t) ** 2 / (4 * np.log(2))) if gaussian else np.exp(-np.pi * lw_hz * t)
    return amplitude * decay * np.exp(2j * np.pi * f * t)


class PeakFitTest(unittest.TestCase):
    def setUp(self):
        self.t = np.arange(N) * DWELL
        self.rng = np.random.default_rng(5)

    def test_choline_creatine_naa_with_linked_widths(self):
        fid = (_line(3.21, 9.0, 6.0, self.t) + _line(3.03, 6.0, 6.0, self.t)
               + _line(2.01, 9.0, 6.0, self.t)) * np.exp(1j * 0.6)
        fid += 0.02 * (self.rng.standard_normal(N) + 1j * self.rng.standard_normal(N))
        peaks = [Peak("Cho", 3.20, linewidth_group="all"), Peak("Cr", 3.02, linewidth_group="all"),
                 Peak("NAA", 2.00, linewidth_group="all")]
        r = fit_peaks(SyntheticMRS(fid, DWELL, MHZ), peaks, ppm_range=(1.8, 3.5))
        self.assertTrue(r.success)
        for name, amp, ppm in (("Cho", 9.0, 3.21), ("Cr", 6.0, 3.03), ("NAA", 9.0, 2.01)):
            self.assertAlmostEqual(r.amplitudes[name], amp, delta=0.02 * amp)
            self.assertAlmostEqual(r.ppm[name], ppm, delta=0.002)
            self.assertLess(r.crlb_percent[name], 2.0)
            self.assertLess(abs(r.amplitudes[name] - amp), 4 * r.amplitude_stderr[name] + 1e-3)
        self.assertEqual(r.linewidth_hz["Cho"], r.linewidth_hz["NAA"])
        self.assertAlmostEqual(r.linewidth_hz["Cr"], 6.0, delta=0.1)
        self.assertAlmostEqual(r.phase0_deg, np.rad2deg(0.6), delta=1.0)
        self.assertAlmostEqual(r.ratio("Cho", "Cr"), 1.5, delta=0.04)

    def test_phosphorus_doublet_with_amplitude_ratio(self):
        # 31P at 51.7 MHz (3 T), PCr reference at 0 ppm; gamma-ATP doublet split by 16 Hz
        mhz = 51.7
        j_ppm = 16.0 / mhz
        fid = (_line(0.0, 10.0, 8.0, self.t, mhz, 0.0) + _line(-2.48 + j_ppm / 2, 2.0, 10.0, self.t, mhz, 0.0)
               + _line(-2.48 - j_ppm / 2, 2.0, 10.0, self.t, mhz, 0.0))
        fid += 0.01 * (self.rng.standard_normal(N) + 1j * self.rng.standard_normal(N))
        mrs = SyntheticMRS(fid, DWELL, mhz, nucleus="31P", ppm_reference=0.0)
        peaks = [Peak("PCr", 0.0, 0.1, 5.0), Peak("gATP_a", -2.48 + j_ppm / 2, 0.05, 8.0, linewidth_group="atp"),
                 Peak("gATP_b", -2.48 - j_ppm / 2, 0.05, 8.0, linewidth_group="atp",
                      amplitude_ratio=("gATP_a", 1.0))]
        r = fit_peaks(mrs, peaks, ppm_range=(-4.0, 1.5))
        self.assertAlmostEqual(r.amplitudes["PCr"], 10.0, delta=0.2)
        self.assertAlmostEqual(r.amplitudes["gATP_a"] + r.amplitudes["gATP_b"], 4.0, delta=0.15)
        self.assertAlmostEqual(r.amplitudes["gATP_a"], r.amplitudes["gATP_b"], places=9)
        self.assertAlmostEqual(r.linewidth_hz["gATP_a"], 10.0, delta=0.7)

    def test_gaussian_lineshape(self):
        fid = _line(1.3, 5.0, 12.0, self.t, gaussian=True)
        r = fit_peaks(SyntheticMRS(fid, DWELL, MHZ), [Peak("Lip", 1.3, lineshape="gaussian", linewidth_hz=8)],
                      baseline=False)
        self.assertAlmostEqual(r.amplitudes["Lip"], 5.0, delta=0.01)
        self.assertAlmostEqual(r.linewidth_hz["Lip"], 12.0, delta=0.1)

    def test_bad_input(self):
        mrs = SyntheticMRS(_line(2.0, 1.0, 5.0, self.t), DWELL, MHZ)
        with self.assertRaises(InputError):
            fit_peaks(mrs, [])
        with self.assertRaises(InputError):
            fit_peaks(mrs, [Peak("a", 2.0), Peak("a", 3.0)])
        with self.assertRaises(InputError):
            fit_peaks(mrs, [Peak("a", 2.0, lineshape="triangle")])
        with self.assertRaises(InputError):
            fit_peaks(mrs, [Peak("a", 2.0, amplitude_ratio=("b", 1.0))])


if __name__ == "__main__":
    unittest.main()
