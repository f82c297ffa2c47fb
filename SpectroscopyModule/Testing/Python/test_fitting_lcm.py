"""Linear-combination fitting: recovery of known concentrations, CRLB coverage, MRSI grid."""
import unittest
from types import SimpleNamespace

import numpy as np

from SpectroscopyModuleLib.basis import simulate_basis
from SpectroscopyModuleLib.fitting import fit_lcm, fit_lcm_grid
from SpectroscopyModuleLib.synthetic import NORMAL_BRAIN_MM, synthesize_mrsi, synthesize_spectrum
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as fit_status

MHZ, TE, N_POINTS, DWELL = 123.2, 0.030, 1024, 1 / 2000
TRUTH = NORMAL_BRAIN_MM
POOLS = {"tNAA": ("NAA", "NAAG"), "tCr": ("Cr", "PCr"), "tCho": ("GPC", "PCh"),
         "Ins": ("Ins",), "Glu": ("Glu",)}


def _basis(extra=()):
    return simulate_basis(MHZ, TE, "PRESS", list(TRUTH) + list(extra), N_POINTS, DWELL)


class SingleVoxelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.basis = _basis()
        mrs = synthesize_spectrum(TRUTH, MHZ, TE, "PRESS", N_POINTS, DWELL, linewidth_hz=6.0, snr=300,
                                  rng=3, shift_hz=3.0, phase0_deg=40.0)
        cls.result = fit_lcm(mrs, cls.basis)

    def test_recovers_concentrations_and_nuisance_parameters(self):
        r = self.result
        self.assertEqual(r.status, fit_status.OK)
        for pool, parts in POOLS.items():
            est = sum(r.amplitudes[p] for p in parts)
            true = sum(TRUTH[p] for p in parts)
            self.assertAlmostEqual(est / true, 1.0, delta=0.03, msg=pool)
        self.assertAlmostEqual(r.shift_hz, 3.0, delta=0.2)
        self.assertAlmostEqual(r.phase0_deg, 40.0, delta=3.0)
        self.assertLess(abs(r.phase1_deg_per_ppm), 2.0)
        self.assertAlmostEqual(r.fwhm_hz, 6.0, delta=0.5)
        self.assertAlmostEqual(r.fwhm_ppm, r.fwhm_hz / MHZ, places=9)
        self.assertGreater(r.r2, 0.99)

    def test_spectra_are_consistent(self):
        r = self.result
        k = r.ppm.size
        for arr in (r.spectrum, r.fit_spectrum, r.baseline, r.residual):
            self.assertEqual(arr.shape, (k,))
        np.testing.assert_allclose(r.fit_spectrum, sum(r.components.values()) + r.baseline, atol=1e-9)
        np.testing.assert_allclose(r.residual, r.spectrum - r.fit_spectrum, atol=1e-9)
        np.testing.assert_array_less(np.diff(r.ppm), 0)
        self.assertGreaterEqual(r.ppm.min(), 0.2 - 1e-9)
        self.assertLessEqual(r.ppm.max(), 4.2 + 1e-9)
        # phase-corrected: the NAA singlet is absorptive and positive
        naa = r.components["NAA"]
        peak = np.argmax(np.abs(naa))
        self.assertGreater(naa[peak].real, 0.99 * np.abs(naa[peak]))
        self.assertAlmostEqual(r.ppm[peak], 2.008 + 3.0 / MHZ, delta=0.01)   # data shifted by +3 Hz

    def test_ratio_with_sums(self):
        r = self.result
        expected = (r.amplitudes["NAA"] + r.amplitudes["NAAG"]) / (r.amplitudes["Cr"] + r.amplitudes["PCr"])
        self.assertAlmostEqual(r.ratio("NAA+NAAG", "Cr+PCr"), expected, places=12)
        self.assertAlmostEqual(r.ratio("tNAA", "tCr"), expected, places=12)
        self.assertAlmostEqual(r.ratio("NAA+NAAG", "Cr+PCr"), 11.5 / 8.5, delta=0.03 * 11.5 / 8.5)
        self.assertGreater(r.ratio_sd("NAA+NAAG", "Cr+PCr"), 0)
        with self.assertRaises(InputError):
            r.ratio("NAA+Unobtainium", "Cr")

    def test_bad_input(self):
        mrs = synthesize_spectrum({"NAA": 10.0, "Cr": 8.0}, MHZ, TE, "PRESS", N_POINTS, DWELL, rng=0)
        two = SimpleNamespace(fid=np.stack([mrs.fid, mrs.fid]), dwell_s=DWELL, spectrometer_mhz=MHZ)
        with self.assertRaises(InputError):
            fit_lcm(two, self.basis)
        with self.assertRaises(InputError):
            fit_lcm(mrs, self.basis, not_an_option=1)
        with self.assertRaises(InputError):
            fit_lcm(mrs, self.basis, ppm_range=(20.0, 21.0))
        with self.assertRaises(InputError):
            fit_lcm(SimpleNamespace(fid=mrs.fid, dwell_s=DWELL, spectrometer_mhz=63.9), self.basis)
        with self.assertRaises(InputError):
            fit_lcm(SimpleNamespace(fid=np.zeros(N_POINTS, complex), dwell_s=DWELL,
                                    spectrometer_mhz=MHZ), self.basis)


class MonteCarloTest(unittest.TestCase):
    """Bias and CRLB coverage over noise realisations, fitted as one batched grid per condition."""
    N = 16

    @classmethod
    def setUpClass(cls):
        cls.basis = _basis()
        cls.results = {}
        for snr in (20, 50):
            for lw in (4.0, 8.0):
                rng = np.random.default_rng(int(snr * 10 + lw))
                maps = {n: np.full((cls.N, 1), v) for n, v in TRUTH.items()}
                mrsi = synthesize_mrsi(maps, MHZ, TE, "PRESS", N_POINTS, DWELL, linewidth_hz=lw, snr=snr,
                                       rng=rng, shift_hz=rng.uniform(-2, 2, (cls.N, 1)),
                                       phase0_deg=rng.uniform(-20, 20, (cls.N, 1)))
                cls.results[(snr, lw)] = fit_lcm_grid(mrsi, cls.basis)

    def test_bias_of_major_metabolites(self):
        for (snr, lw), grid in self.results.items():
            np.testing.assert_array_equal(grid.status, fit_status.OK, err_msg=str((snr, lw)))
            for pool, parts in POOLS.items():
                est = sum(grid.amplitudes[p] for p in parts).ravel()
                true = sum(TRUTH[p] for p in parts)
                rel = est / true - 1.0
                se = rel.std(ddof=1) / np.sqrt(rel.size)
                tol = max(0.03, 3 * se)      # a few % or three standard errors of the mean
                self.assertLess(abs(rel.mean()), tol, f"{pool} SNR {snr} lw {lw}: bias {rel.mean():+.3f}")
                if snr == 50 and pool in ("tNAA", "tCr"):
                    self.assertLess(abs(rel.mean()), 0.03, f"{pool} SNR 50 lw {lw}")

    def test_crlb_coverage(self):
        hits, total = 0, 0
        for grid in self.results.values():
            for name in ("NAA", "Cr", "Ins", "Glu", "GPC", "GSH"):
                amp = grid.amplitudes[name].ravel()
                crlb = grid.crlb_abs[name].ravel()
                hits += int(np.sum(np.abs(amp - TRUTH[name]) < 2 * crlb))
                total += amp.size
        coverage = hits / total
        print(f"CRLB coverage (|error| < 2 CRLB): {coverage:.2f} of {total} fits (nominal 0.95)")
        self.assertGreater(coverage, 0.80)
        self.assertLessEqual(coverage, 1.0)

    def test_crlb_shrinks_with_snr(self):
        low = np.median(self.results[(20, 4.0)].crlb_percent["NAA"])
        high = np.median(self.results[(50, 4.0)].crlb_percent["NAA"])
        self.assertAlmostEqual(low / high, 50 / 20, delta=0.5)


class GridTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.basis = _basis()
        rng = np.random.default_rng(7)
        cls.maps = {n: np.full((2, 3), v) for n, v in TRUTH.items()}
        cls.maps["PCh"] = np.array([[0.3, 1.0, 2.0], [3.0, 4.0, 0.6]])
        cls.mrsi = synthesize_mrsi(cls.maps, MHZ, TE, "PRESS", N_POINTS, DWELL, linewidth_hz=5.0, snr=60,
                                   rng=rng, phase0_deg=rng.uniform(-30, 30, (2, 3)))

    def test_grid_matches_single_voxel(self):
        grid = fit_lcm_grid(self.mrsi, self.basis)
        single = fit_lcm(SimpleNamespace(fid=self.mrsi.fid[1, 2], dwell_s=DWELL, spectrometer_mhz=MHZ),
                         self.basis)
        for name in ("NAA", "Cr", "PCh", "Ins", "Glu"):
            self.assertAlmostEqual(grid.amplitudes[name][1, 2] / single.amplitudes[name], 1.0, delta=0.01, msg=name)
        voxel = grid.voxel((1, 2))
        self.assertAlmostEqual(voxel.amplitudes["NAA"], grid.amplitudes["NAA"][1, 2], places=9)
        tcho = grid.ratio("GPC+PCh", "Cr+PCr")
        expected = (self.maps["GPC"] + self.maps["PCh"]) / (self.maps["Cr"] + self.maps["PCr"])
        np.testing.assert_allclose(tcho, expected, rtol=0.12)
        self.assertEqual(np.corrcoef(tcho.ravel(), expected.ravel())[0, 1] > 0.95, True)

    def test_mask_and_no_signal(self):
        fids = self.mrsi.fid.copy()
        fids[0, 0] = 0.0
        mask = np.ones((2, 3), bool)
        mask[1, 1] = False
        grid = fit_lcm_grid(fids, self.basis, mask=mask)
        self.assertEqual(grid.status[0, 0], fit_status.NO_SIGNAL)
        self.assertEqual(grid.status[1, 1], fit_status.MASKED)
        self.assertTrue(np.isnan(grid.amplitudes["NAA"][1, 1]))
        self.assertEqual(grid.status[0, 1], fit_status.OK)
        maps = grid.as_dict()
        for key in ("NAA", "NAA_crlb_percent", "status", "rmse", "r2"):
            self.assertEqual(maps[key].shape, (2, 3))
        with self.assertRaises(IndexError):
            grid.voxel((1, 1))
        with self.assertRaises(InputError):
            fit_lcm_grid(fids, self.basis, mask=np.ones((3, 3), bool))

    def test_three_dimensional_grid(self):
        fids = np.stack([self.mrsi.fid, self.mrsi.fid], axis=2)       # (2, 3, 2, n)
        grid = fit_lcm_grid(fids, self.basis, dwell_s=DWELL, spectrometer_mhz=MHZ)
        self.assertEqual(grid.amplitudes["NAA"].shape, (2, 3, 2))
        np.testing.assert_allclose(grid.amplitudes["NAA"][..., 0], grid.amplitudes["NAA"][..., 1], rtol=1e-6)


class OptionsTest(unittest.TestCase):
    def test_shift_group_and_lorentzian_lineshape(self):
        basis = _basis()
        t = np.arange(N_POINTS) * DWELL
        conc = dict(TRUTH, Lac=4.0)
        clean = sum(c * basis[n] for n, c in conc.items() if n != "Lac")
        clean = clean + conc["Lac"] * basis["Lac"] * np.exp(-2j * np.pi * 2.0 * t)   # Lac +2 Hz
        fid = clean * np.exp(-np.pi * 5.0 * t - 2j * np.pi * 1.0 * t)                 # all +1 Hz
        fid = fid + 0.002 * np.array([1, 1j]) @ np.random.default_rng(1).standard_normal((2, N_POINTS))
        mrs = SimpleNamespace(fid=fid, dwell_s=DWELL, spectrometer_mhz=MHZ)
        r = fit_lcm(mrs, basis, shift_groups={"Lac": ["Lac"]}, lineshape="lorentzian", fit_phase1=False)
        self.assertAlmostEqual(r.shift_hz, 1.0, delta=0.1)
        self.assertAlmostEqual(r.group_shift_hz["Lac"], 2.0, delta=0.3)
        self.assertAlmostEqual(r.metabolite_shift_hz["Lac"], 3.0, delta=0.3)
        self.assertAlmostEqual(r.metabolite_shift_hz["NAA"], 1.0, delta=0.1)
        self.assertEqual(r.gaussian_linewidth_hz, 0.0)
        self.assertEqual(r.phase1_deg_per_ppm, 0.0)
        self.assertAlmostEqual(r.linewidth_hz, 5.0, delta=0.2)
        self.assertAlmostEqual(r.amplitudes["Lac"] / 4.0, 1.0, delta=0.05)
        with self.assertRaises(InputError):
            fit_lcm(mrs, basis, shift_groups={"x": ["Unobtainium"]})
        with self.assertRaises(InputError):
            fit_lcm(mrs, basis, lineshape="triangle")


class MacromoleculeBaselineTest(unittest.TestCase):
    def test_fit_with_macromolecules(self):
        mm = {"MM09": 3.0, "MM12": 2.0, "MM14": 2.5, "MM17": 1.5, "MM20": 4.0}
        basis = _basis(extra=mm)
        mrs = synthesize_spectrum(TRUTH, MHZ, TE, "PRESS", N_POINTS, DWELL, linewidth_hz=5.0, snr=100,
                                  rng=11, macromolecules=mm)
        r = fit_lcm(mrs, basis)
        for pool in ("tNAA", "tCr", "tCho", "Ins"):
            est = sum(r.amplitudes[p] for p in POOLS[pool])
            true = sum(TRUTH[p] for p in POOLS[pool])
            self.assertAlmostEqual(est / true, 1.0, delta=0.05, msg=pool)
        self.assertAlmostEqual(r.amplitudes["MM09"] / 3.0, 1.0, delta=0.15)


if __name__ == "__main__":
    unittest.main()
