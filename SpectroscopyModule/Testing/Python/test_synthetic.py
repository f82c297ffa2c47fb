"""Synthetic spectra and MRSI grids: composition, noise level, shapes, demo use."""
import unittest

import numpy as np

from SpectroscopyModuleLib.basis import simulate_basis
from SpectroscopyModuleLib.fitting import fit_lcm
from SpectroscopyModuleLib.fitting.noise import spectral_noise_sd
from SpectroscopyModuleLib.synthetic import TUMOUR_MM, synthesize_mrsi, synthesize_spectrum
from TMEMonitorLib.errors import InputError

MHZ, TE, N, DWELL = 123.2, 0.030, 1024, 1 / 2000


class SyntheticSpectrumTest(unittest.TestCase):
    def test_noiseless_is_sum_of_basis(self):
        conc = {"NAA": 10.0, "Cr": 8.0, "GPC": 2.0}
        mrs = synthesize_spectrum(conc, snr=None, linewidth_hz=0.0)
        basis = simulate_basis(MHZ, TE, "PRESS", list(conc), N, DWELL)
        np.testing.assert_allclose(mrs.fid, sum(c * basis[n] for n, c in conc.items()), atol=1e-9)
        for attr in ("fid", "dwell_s", "spectrometer_mhz", "nucleus", "te_s", "tr_s", "affine", "metadata"):
            self.assertTrue(hasattr(mrs, attr), attr)
        self.assertEqual(mrs.nucleus, "1H")
        self.assertEqual(mrs.fid.shape, (N,))

    def test_noise_level_matches_target_snr(self):
        mrs = synthesize_spectrum({"NAA": 10.0, "Cr": 8.0}, snr=25, rng=4, linewidth_hz=5.0)
        spec = np.fft.fftshift(np.fft.fft(mrs.fid))
        ppm = 4.65 - np.fft.fftshift(np.fft.fftfreq(N, DWELL)) / MHZ
        measured = spectral_noise_sd(spec[None], ppm, (-3.0, 0.0))[0]
        self.assertAlmostEqual(measured / mrs.metadata["noise_sd_spectrum"], 1.0, delta=0.15)
        clean = np.fft.fftshift(np.fft.fft(mrs.metadata["clean_fid"]))
        sel = (ppm > 0.2) & (ppm < 4.2)
        self.assertAlmostEqual(np.abs(clean[sel]).max() / mrs.metadata["noise_sd_spectrum"], 25.0, places=6)

    def test_reproducible_with_seed(self):
        a = synthesize_spectrum({"NAA": 10.0}, rng=1)
        b = synthesize_spectrum({"NAA": 10.0}, rng=1)
        np.testing.assert_array_equal(a.fid, b.fid)

    def test_choline_falling_with_response_is_measured(self):
        """The demo use: a tumour whose choline falls at each visit."""
        basis = simulate_basis(MHZ, TE, "PRESS", list(TUMOUR_MM), N, DWELL)
        measured = []
        for visit, factor in enumerate((1.0, 0.7, 0.4)):
            conc = dict(TUMOUR_MM, GPC=TUMOUR_MM["GPC"] * factor, PCh=TUMOUR_MM["PCh"] * factor)
            mrs = synthesize_spectrum(conc, snr=40, rng=visit, linewidth_hz=6.0)
            measured.append(fit_lcm(mrs, basis).ratio("GPC+PCh", "Cr+PCr"))
        true = [(2.0 + 2.5) * f / 4.5 for f in (1.0, 0.7, 0.4)]
        np.testing.assert_allclose(measured, true, rtol=0.15)
        self.assertTrue(measured[0] > measured[1] > measured[2])

    def test_bad_input(self):
        with self.assertRaises(InputError):
            synthesize_spectrum({})
        with self.assertRaises(InputError):
            synthesize_spectrum({"NAA": -1.0})
        with self.assertRaises(InputError):
            synthesize_spectrum({"NAA": 1.0}, snr=0)
        basis = simulate_basis(MHZ, TE, "PRESS", ["NAA"], N, DWELL)
        with self.assertRaises(InputError):
            synthesize_spectrum({"Cr": 1.0}, basis=basis)


class SyntheticMRSITest(unittest.TestCase):
    def test_grid_shapes_and_maps(self):
        maps = {"NAA": np.array([[10.0, 5.0], [0.0, 2.0]]), "Cr": np.full((2, 2), 8.0)}
        mrsi = synthesize_mrsi(maps, snr=None, linewidth_hz=np.array([[3.0, 4.0], [5.0, 6.0]]))
        self.assertEqual(mrsi.fid.shape, (2, 2, N))
        basis = simulate_basis(MHZ, TE, "PRESS", ["NAA", "Cr"], N, DWELL)
        t = np.arange(N) * DWELL
        expected = (5.0 * basis["NAA"] + 8.0 * basis["Cr"]) * np.exp(-np.pi * 4.0 * t)
        np.testing.assert_allclose(mrsi.fid[0, 1], expected, atol=1e-9)

    def test_noise_is_common_to_all_voxels(self):
        maps = {"NAA": np.linspace(1, 10, 6).reshape(2, 3)}
        mrsi = synthesize_mrsi(maps, snr=20, rng=0)
        self.assertGreater(mrsi.metadata["noise_sd_spectrum"], 0)
        with self.assertRaises(InputError):
            synthesize_mrsi({"NAA": np.ones((2, 2)), "Cr": np.ones((3, 2))})
        with self.assertRaises(InputError):
            synthesize_mrsi({"NAA": -np.ones((2, 2))})


if __name__ == "__main__":
    unittest.main()
