"""Density-matrix basis simulation against analytic spectra (singlets, A3X, AB) and brute force."""
import unittest

import numpy as np
from scipy.linalg import expm

from SpectroscopyModuleLib.basis import (DEFAULT_METABOLITES, get_metabolite, metabolite_lines,
                                         simulate_basis)
from SpectroscopyModuleLib.basis.density_matrix import receiver_phase, simulate_group_lines
from SpectroscopyModuleLib.basis.spin_systems import SpinGroup
from TMEMonitorLib.errors import InputError

MHZ = 123.2


def _ppm(freq_hz):
    return 4.65 - np.asarray(freq_hz) / MHZ


class SingletTest(unittest.TestCase):
    def test_creatine_lines_exact(self):
        f, a = metabolite_lines("Cr", MHZ, 0.030, "PRESS")
        order = np.argsort(_ppm(f))
        np.testing.assert_allclose(_ppm(f)[order], [3.027, 3.913], atol=0.002)
        np.testing.assert_allclose(a[order], [3.0, 2.0], atol=1e-9)   # protons, absorptive

    def test_singlet_fid_peak_position_and_area(self):
        b = simulate_basis(MHZ, 0.030, "PRESS", ["Cr", "Cho", "sIns"], 2048, 1 / 2000, linewidth_hz=2.0)
        n_zf = 16384
        ppm = 4.65 - np.fft.fftshift(np.fft.fftfreq(n_zf, b.dwell_s)) / MHZ
        for name, expected_ppm, protons in (("Cr", 3.027, 5.0), ("Cho", 3.185, None), ("sIns", 3.34, 6.0)):
            spec = np.fft.fftshift(np.fft.fft(b[name], n_zf)).real
            window = (ppm > expected_ppm - 0.05) & (ppm < expected_ppm + 0.05)
            peak_ppm = ppm[window][np.argmax(spec[window])]
            self.assertAlmostEqual(peak_ppm, expected_ppm, delta=0.002, msg=name)
            if protons is not None:   # all-singlet molecules: fid(0) counts protons at any TE
                self.assertAlmostEqual(b[name][0].real, protons, delta=1e-6, msg=name)
        f, a = metabolite_lines("Cho", MHZ, 0.030, "PRESS")
        singlet = np.abs(_ppm(f) - 3.185) < 0.002
        self.assertAlmostEqual(a[singlet].sum().real, 9.0, places=9)    # N(CH3)3

    def test_steam_half_of_press_and_slaser_equal(self):
        press = metabolite_lines("Cr", MHZ, 0.020, "PRESS")[1].sum()
        steam = metabolite_lines("Cr", MHZ, 0.020, "STEAM")[1].sum()
        slaser = metabolite_lines("Cr", MHZ, 0.020, "sLASER")[1].sum()
        self.assertAlmostEqual(abs(steam - press / 2), 0.0, places=9)
        self.assertAlmostEqual(abs(slaser - press), 0.0, places=9)

    def test_every_metabolite_counts_its_protons_at_te0(self):
        basis = simulate_basis(MHZ, 0.0, "PRESS", None, 512, 1 / 2000)
        self.assertEqual(set(basis), set(DEFAULT_METABOLITES))
        for name in basis:
            self.assertAlmostEqual(basis[name][0].real, get_metabolite(name).n_protons, places=6, msg=name)
            self.assertAlmostEqual(basis[name][0].imag, 0.0, places=6, msg=name)

    def test_aliases_and_errors(self):
        b = simulate_basis(MHZ, 0.03, "PRESS", ["Scyllo"], 256, 5e-4)
        self.assertIn("Scyllo", b)
        with self.assertRaises(InputError):
            simulate_basis(MHZ, 0.03, "PRESS", ["Unobtainium"], 256, 5e-4)
        with self.assertRaises(InputError):
            simulate_basis(MHZ, 30.0, "PRESS", ["Cr"], 256, 5e-4)   # TE given in ms
        with self.assertRaises(InputError):
            simulate_basis(MHZ, 0.03, "CSI-magic", ["Cr"], 256, 5e-4)


class CoupledTest(unittest.TestCase):
    J_LAC = 6.933

    def _lactate_ch3(self, te, sequence="PRESS"):
        f, a = metabolite_lines("Lac", MHZ, te, sequence)
        sel = np.abs(_ppm(f) - 1.3142) < 0.1
        return f[sel], a[sel]

    def test_lactate_doublet_pulse_acquire(self):
        f, a = self._lactate_ch3(0.0, "FID")
        centre = (4.65 - 1.3142) * MHZ
        # the A3 part splits into near-degenerate transitions (second order, ~J^2/dnu): cluster them
        low, high = f < centre, f >= centre
        lines = [np.sum(f[s] * a[s].real) / np.sum(a[s].real) for s in (low, high)]
        self.assertAlmostEqual(lines[1] - lines[0], self.J_LAC, delta=0.1)   # doublet split by J
        self.assertAlmostEqual(_ppm(np.mean(lines)), 1.3142, delta=0.002)
        np.testing.assert_allclose([a[low].real.sum(), a[high].real.sum()], [1.5, 1.5], rtol=0.03)  # 2 % roof effect (J/dnu = 0.02)

    def test_lactate_press_inversion_at_te_1_over_j(self):
        # weak-coupling limit: CH3 doublet in-phase signal = 3 cos(pi J TE)
        for te in (0.072, 0.144, 0.288):
            _, a = self._lactate_ch3(te)
            self.assertAlmostEqual(a.sum().real, 3 * np.cos(np.pi * self.J_LAC * te), delta=0.1, msg=te)
        _, a = self._lactate_ch3(0.144)
        self.assertLess(a.sum().real, -2.9)   # inverted doublet at TE = 144 ms

    def test_citrate_ab_quartet_matches_analytic(self):
        # AB: lines at centre +- (C +- J)/2, C = sqrt(dnu^2 + J^2); intensities 1 -+ J/C (roof effect)
        f, a = metabolite_lines("Cit", MHZ, 0.0, "FID")
        order = np.argsort(f)
        f, a = f[order], a[order].real
        dnu = (2.68 - 2.54) * MHZ
        j = 15.1
        c = np.hypot(dnu, j)
        centre = (4.65 - 2.61) * MHZ
        expected_f = centre + np.array([-(c + j) / 2, -(c - j) / 2, (c - j) / 2, (c + j) / 2])
        expected_a = 2 * np.array([1 - j / c, 1 + j / c, 1 + j / c, 1 - j / c]) / 2
        np.testing.assert_allclose(f, expected_f, atol=1e-6)
        np.testing.assert_allclose(a, expected_a, rtol=1e-6)
        self.assertGreater(a[1] / a[0], 4.0)    # inner lines much taller (strong coupling)

    def test_citrate_press_matches_brute_force_propagation(self):
        """Independent check of the strongly coupled PRESS: expm propagators on a time grid."""
        te, n, dwell = 0.100, 256, 1 / 2000
        group = get_metabolite("Cit").groups[0]
        sx = np.array([[0, 1], [1, 0]]) / 2
        sy = np.array([[0, -1j], [1j, 0]]) / 2
        sz = np.array([[1, 0], [0, -1]]) / 2
        e = np.eye(2)
        ix, iy, iz = [(np.kron(s, e), np.kron(e, s)) for s in (sx, sy, sz)]
        nu = [(ppm - 4.65) * MHZ for ppm in group.shifts_ppm]
        j = group.couplings_hz[0][2]
        h = 2 * np.pi * (nu[0] * iz[0] + nu[1] * iz[1]
                         + j * (ix[0] @ ix[1] + iy[0] @ iy[1] + iz[0] @ iz[1]))
        fx, fy, fz = ix[0] + ix[1], iy[0] + iy[1], iz[0] + iz[1]

        def pulse(angle, op):
            r = expm(-1j * angle * op)
            return lambda rho: r @ rho @ r.conj().T

        def evolve(t):
            u = expm(-1j * h * t)
            return lambda rho: u @ rho @ u.conj().T
        rho = pulse(np.pi / 2, fx)(fz)
        for step in (evolve(te / 4), pulse(np.pi, fy), evolve(te / 2), pulse(np.pi, fy), evolve(te / 4)):
            rho = step(rho)
        u_dw = expm(-1j * h * dwell)
        signal = []
        for _ in range(n):
            signal.append(np.trace(rho @ (fx + 1j * fy)))
            rho = u_dw @ rho @ u_dw.conj().T
        # NIfTI-MRS convention (conjugate), per-proton normalisation Tr[Ix Ix] = d/4 = 1 here
        brute = np.conj(np.array(signal)) * group.scale
        brute *= np.exp(-1j * receiver_phase("PRESS", te, None, 0.010))
        basis = simulate_basis(MHZ, te, "PRESS", ["Cit"], n, dwell)["Cit"]
        np.testing.assert_allclose(brute, basis, atol=1e-6)

    def test_citrate_press_departs_from_weak_coupling(self):
        # strong coupling: the PRESS echo is not 4 cos(pi J TE) as for a weakly coupled pair
        weak = 4 * np.cos(np.pi * 15.1 * 0.144)
        strong = metabolite_lines("Cit", MHZ, 0.144, "PRESS")[1].sum().real
        self.assertGreater(abs(strong - weak), 1.0)
        self.assertLessEqual(abs(strong), 4.0 + 1e-9)

    def test_group_size_limit(self):
        with self.assertRaises(InputError):
            simulate_group_lines(SpinGroup(tuple([2.0] * 10)), MHZ)


if __name__ == "__main__":
    unittest.main()
