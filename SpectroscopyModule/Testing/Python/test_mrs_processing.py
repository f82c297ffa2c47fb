"""MRS processing steps (SpectroscopyModuleLib.processing) on synthetic Lorentzian FIDs with known truth."""
import json
import unittest
from types import SimpleNamespace

import numpy as np

from SpectroscopyModuleLib.io.mrs_data import MRSData
from SpectroscopyModuleLib import processing
from SpectroscopyModuleLib.processing import (align, apodise, average, coil_combine, ecc, history_entries,
                                              hlsvd_water_removal, phase, reference, reject_outliers, zero_fill)
from TMEMonitorLib.errors import InputError

MHZ = 123.2
DWELL = 1 / 2000
N = 1024
WATER = 4.65
PEAKS = ((2.01, 1.0), (3.03, 0.8), (3.20, 0.6))          # NAA, Cr, Cho: (ppm, amplitude)


def t_axis(n=N):
    return np.arange(n) * DWELL


def lorentz(ppm, amplitude=1.0, lw=5.0, n=N):
    t = t_axis(n)
    return amplitude * np.exp(-np.pi * lw * t) * np.exp(2j * np.pi * (WATER - ppm) * MHZ * t)


def clean_fid(peaks=PEAKS, lw=5.0, n=N):
    return sum(lorentz(p, a, lw, n) for p, a in peaks)


def noise(rng, shape, sd):
    return sd * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))


def mrs_of(fid, tags=()):
    return MRSData(fid, DWELL, MHZ, te_s=0.03, dim_tags=list(tags))


def spec(fid, zero_fill_to=None):
    return np.fft.fftshift(np.fft.fft(fid, n=zero_fill_to, axis=-1), axes=-1)


def ppm(n=N):
    return WATER - np.fft.fftshift(np.fft.fftfreq(n, DWELL)) / MHZ


def snr(fid):
    """NAA peak (magnitude) over the SD of the real spectrum in a signal-free band (7-12 ppm)."""
    s, p = spec(fid), ppm(fid.shape[-1])
    peak = np.abs(s[..., np.abs(p - 2.01) < 0.05]).max(axis=-1)
    return peak / s[..., (p > 7) & (p < 12)].real.std(axis=-1)


def fwhm_hz(fid, factor=16):
    """FWHM (Hz) of the tallest peak of the real spectrum, by linear interpolation at half height."""
    n = fid.shape[-1] * factor
    s = spec(fid, n).real
    f = np.fft.fftshift(np.fft.fftfreq(n, DWELL))
    i = int(np.argmax(s))
    half = s[i] / 2
    left = i
    while s[left] > half:
        left -= 1
    right = i
    while s[right] > half:
        right += 1
    fl = np.interp(half, [s[left], s[left + 1]], [f[left], f[left + 1]])
    fr = np.interp(half, [s[right], s[right - 1]], [f[right], f[right - 1]])
    return fr - fl


def peak_ppm(fid, factor=16):
    n = fid.shape[-1] * factor
    return ppm(n)[np.argmax(np.abs(spec(fid, n)), axis=-1)]


class CoilCombinationTest(unittest.TestCase):
    def coils(self, gains, sd=0.02, n_dyn=1, seed=0):
        rng = np.random.default_rng(seed)
        signal = clean_fid()
        x = gains[:, None, None] * signal + noise(rng, (gains.size, n_dyn, N), sd)
        return x, signal

    def test_equal_gain_coils_give_sqrt_n_snr(self):
        rng = np.random.default_rng(1)
        gains = 0.5 * np.exp(1j * rng.uniform(-np.pi, np.pi, 8))
        x, _ = self.coils(gains, n_dyn=4)
        out = coil_combine(mrs_of(x, ["DIM_COIL", "DIM_DYN"]))
        self.assertEqual(out.fid.shape, (4, N))
        self.assertEqual(out.dim_tags, ["DIM_DYN"])
        single = np.mean([snr(x[c]).mean() for c in range(8)])
        gain = snr(out.fid).mean() / single
        self.assertAlmostEqual(gain, np.sqrt(8), delta=0.15 * np.sqrt(8))
        # Coils phased to the signal: the combined first point is real and positive.
        first = out.fid[:, 0]
        np.testing.assert_array_less(np.abs(np.angle(first)), np.deg2rad(3))

    def test_unequal_coils_beat_the_best_coil_and_approach_the_optimum(self):
        rng = np.random.default_rng(2)
        gains = rng.uniform(0.05, 1.0, 8) * np.exp(1j * rng.uniform(-np.pi, np.pi, 8))
        x, _ = self.coils(gains, n_dyn=8, seed=3)
        single = np.array([snr(x[c]).mean() for c in range(8)])
        optimum = np.sqrt(np.sum(single ** 2))
        for method in ("first_point", "svd"):
            combined = snr(coil_combine(mrs_of(x, ["DIM_COIL", "DIM_DYN"]), method=method).fid).mean()
            self.assertGreater(combined, single.max() * 1.05, method)
            self.assertGreater(combined, 0.9 * optimum, method)

    def test_water_reference_weights_and_mrsi_grid(self):
        rng = np.random.default_rng(4)
        gains = rng.uniform(0.2, 1.0, 4) * np.exp(1j * rng.uniform(-np.pi, np.pi, 4))
        signal = clean_fid()
        grid = gains[None, None, :, None] * signal + noise(rng, (2, 3, 4, N), 0.01)
        water = MRSData(gains[:, None] * lorentz(WATER, 50.0) + noise(rng, (4, N), 0.01), DWELL, MHZ,
                        dim_tags=["DIM_COIL"])
        out = coil_combine(mrs_of(grid, ["DIM_COIL"]), water_reference=water)
        self.assertEqual(out.fid.shape, (2, 3, N))
        expected = np.sum(np.abs(gains) ** 2) / np.sum(np.abs(gains)) * signal
        self.assertLess(np.abs(out.fid[..., :200] - expected[:200]).max(), 0.05)

    def test_errors_and_plain_objects(self):
        with self.assertRaises(InputError) as caught:
            coil_combine(mrs_of(np.ones((3, 64), complex), ["DIM_DYN"]))
        self.assertIn("DIM_COIL", str(caught.exception))
        with self.assertRaises(InputError):
            coil_combine(mrs_of(np.ones((3, 64), complex), ["DIM_COIL"]), method="magic")
        water = mrs_of(np.ones((2, 64), complex), ["DIM_COIL"])
        with self.assertRaises(InputError):
            coil_combine(mrs_of(np.ones((3, 64), complex), ["DIM_COIL"]), water_reference=water)
        # Noise-free constant coils on a bare object (as the pipeline may pass): equal weights, an MRSData back.
        raw = SimpleNamespace(fid=np.ones((2, 64), complex), dwell_s=DWELL, spectrometer_mhz=MHZ, dim_tags=["DIM_COIL"])
        out = coil_combine(raw)
        self.assertIsInstance(out, MRSData)
        np.testing.assert_allclose(out.fid, np.ones(64))
        self.assertEqual(out.history[-1]["Method"], "RF coil combination")


class AlignmentTest(unittest.TestCase):
    def transients(self, shape, seed=0, sd=0.005):
        rng = np.random.default_rng(seed)
        shifts = rng.uniform(-6, 6, shape)
        phases = rng.uniform(-40, 40, shape)
        t = t_axis()
        fid = (clean_fid() * np.exp(1j * (2 * np.pi * shifts[..., None] * t + np.deg2rad(phases)[..., None]))
               + noise(rng, shape + (N,), sd))
        return fid, shifts, phases

    def check(self, applied, injected, tolerance, axis=-1):
        error = applied + injected
        error = error - error.mean(axis=axis, keepdims=True)
        self.assertLess(np.abs(error).max(), tolerance)

    def test_recovers_shifts_and_phases(self):
        fid, shifts, phases = self.transients((16,))
        out = align(mrs_of(fid, ["DIM_DYN"]))
        params = out.history[-1]["Parameters"]
        self.check(np.array(params["shifts_hz"]), shifts, 0.1)
        self.check(np.array(params["phases_deg"]), phases, 2.0)
        self.assertEqual(out.fid.shape, fid.shape)
        self.assertEqual(out.history[-1]["Method"], "Frequency and phase correction")
        # The aligned transients agree: their spread is down to the noise.
        spread = np.abs(out.fid - out.fid.mean(axis=0)).max()
        self.assertLess(spread, 0.05)

    def test_mrsi_grid_with_coils_and_two_transient_axes(self):
        fid, shifts, phases = self.transients((2, 2, 3, 4), seed=5)
        out = align(mrs_of(fid, ["DIM_DYN", "DIM_AVG"]))
        applied = out.metadata["alignment"]
        self.assertEqual(applied["shifts_hz"].shape, (2, 2, 3, 4))
        a = (applied["shifts_hz"] + shifts).reshape(4, 12)
        self.assertLess(np.abs(a - a.mean(axis=1, keepdims=True)).max(), 0.1)
        p = (applied["phases_deg"] + phases).reshape(4, 12)
        self.assertLess(np.abs(p - p.mean(axis=1, keepdims=True)).max(), 2.0)

    def test_reference_choices(self):
        fid, shifts, phases = self.transients((6,), seed=7)
        first = align(mrs_of(fid, ["DIM_DYN"]), reference="first", iterations=1)
        applied = np.array(first.history[-1]["Parameters"]["shifts_hz"])
        self.assertLess(np.abs(applied[1:] - (shifts[0] - shifts[1:])).max(), 0.1)
        target = clean_fid()
        given = align(mrs_of(fid, ["DIM_DYN"]), reference=target, iterations=1)
        self.assertLess(np.abs(np.array(given.history[-1]["Parameters"]["shifts_hz"]) + shifts).max(), 0.1)
        with self.assertRaises(InputError):
            align(mrs_of(fid, ["DIM_DYN"]), reference=np.ones(10, complex))

    def test_needs_transients(self):
        with self.assertRaises(InputError) as caught:
            align(mrs_of(np.ones((4, 64), complex), ["DIM_COIL"]))
        self.assertIn("transient", str(caught.exception))


class AveragingTest(unittest.TestCase):
    def test_mean_shape_and_tags(self):
        rng = np.random.default_rng(0)
        fid = noise(rng, (2, 1, 3, 5, 128), 1.0)
        out = average(mrs_of(fid, ["DIM_COIL", "DIM_DYN"]))
        self.assertEqual(out.fid.shape, (2, 1, 3, 128))
        self.assertEqual(out.dim_tags, ["DIM_COIL"])
        np.testing.assert_allclose(out.fid, fid.mean(axis=3))
        self.assertEqual(out.history[-1]["Parameters"]["n_transients"], 5)
        both = average(mrs_of(noise(rng, (4, 2, 3, 128), 1.0), ["DIM_DYN", "DIM_COIL", "DIM_AVG"]))
        self.assertEqual(both.fid.shape, (2, 128))
        self.assertEqual(both.dim_tags, ["DIM_COIL"])

    def test_outliers_are_dropped(self):
        rng = np.random.default_rng(1)
        fid = np.tile(clean_fid(), (20, 1)) + noise(rng, (20, N), 0.02)
        fid[3] *= np.exp(1j * np.deg2rad(120))                    # phase jump
        fid[11] += lorentz(1.3, 3.0, 20.0)                        # lipid-like artefact
        mrs = mrs_of(fid, ["DIM_DYN"])
        out = reject_outliers(mrs, threshold=3.0)
        self.assertEqual(out.fid.shape, (18, N))
        self.assertEqual(out.history[-1]["Parameters"]["dropped_transients"], [3, 11])
        self.assertEqual(out.history[-1]["Parameters"]["n_dropped"], 2)
        averaged = average(mrs, reject=True)
        self.assertEqual(averaged.fid.shape, (N,))
        self.assertEqual([h["Method"] for h in averaged.history], ["Outlier removal", "Signal averaging"])
        np.testing.assert_allclose(averaged.fid, np.delete(fid, [3, 11], axis=0).mean(axis=0))
        # Clean data: nothing dropped.
        clean = reject_outliers(mrs_of(np.tile(clean_fid(), (10, 1)) + noise(rng, (10, N), 0.02), ["DIM_DYN"]))
        self.assertEqual(clean.fid.shape, (10, N))

    def test_needs_transients(self):
        with self.assertRaises(InputError):
            average(mrs_of(np.ones((4, 64), complex), ["DIM_COIL"]))
        with self.assertRaises(InputError):
            reject_outliers(mrs_of(np.ones(64, complex)))


class EddyCurrentTest(unittest.TestCase):
    def test_time_varying_phase_is_removed(self):
        t = t_axis()
        eddy = 1.5 * np.exp(-t / 0.04) + 0.3                      # rad: decaying eddy-current phase + offset
        rng = np.random.default_rng(0)
        metabolites = clean_fid() * np.exp(1j * eddy)
        data = np.stack([metabolites + noise(rng, N, 0.002) for _ in range(3)])
        water = MRSData(np.tile(lorentz(WATER, 100.0, 3.0) * np.exp(1j * eddy), (2, 1)), DWELL, MHZ,
                        dim_tags=["DIM_DYN"])
        out = ecc(mrs_of(np.broadcast_to(data, (2, 2, 3, N)).copy(), ["DIM_DYN"]), water)
        self.assertEqual(out.fid.shape, (2, 2, 3, N))
        self.assertLess(np.abs(out.fid - clean_fid()).max(), 0.02)
        before = np.abs(data - clean_fid()).max()
        self.assertGreater(before, 0.5)
        self.assertEqual(out.history[-1]["Method"], "Eddy current correction")
        # A shorter reference: its last phase is held (the eddy currents have decayed by then).
        short = MRSData(water.fid[:, :512], DWELL, MHZ, dim_tags=["DIM_DYN"])
        held = ecc(mrs_of(data, ["DIM_DYN"]), short)
        self.assertLess(np.abs(held.fid - clean_fid()).max(), 0.02)
        with self.assertRaises(InputError):
            ecc(mrs_of(data, ["DIM_DYN"]), None)
        with self.assertRaises(InputError):
            ecc(mrs_of(data, ["DIM_DYN"]), MRSData(water.fid, DWELL / 2, MHZ, dim_tags=["DIM_DYN"]))


class HLSVDTest(unittest.TestCase):
    def test_water_removed_and_naa_kept(self):
        rng = np.random.default_rng(0)
        n = 2048
        metabolites = clean_fid(n=n)
        fid = metabolites + lorentz(WATER, 200.0, 6.0, n) + lorentz(4.72, 40.0, 10.0, n) + noise(rng, n, 0.005)
        out = hlsvd_water_removal(mrs_of(fid))
        basis = np.stack([lorentz(p, 1.0, 5.0, n) for p, _ in PEAKS], axis=1)
        amplitudes = np.linalg.lstsq(basis, out.fid, rcond=None)[0]
        self.assertAlmostEqual(abs(amplitudes[0]), 1.0, delta=0.02)
        self.assertAlmostEqual(abs(amplitudes[1]), 0.8, delta=0.02 * 0.8)
        water_band = np.abs(ppm(n) - WATER) < 0.2
        before = np.abs(spec(fid)[water_band]).max()
        after = np.abs(spec(out.fid)[water_band]).max()
        self.assertLess(after, 0.01 * before)
        self.assertEqual(out.history[-1]["Method"], "Nuisance peak removal")


class PhasingTest(unittest.TestCase):
    def test_automatic_zero_order(self):
        rng = np.random.default_rng(0)
        for true_deg in (37.0, -120.0, 170.0):
            fid = clean_fid() * np.exp(1j * np.deg2rad(true_deg)) + noise(rng, N, 0.01)
            out = phase(mrs_of(fid))
            applied = out.history[-1]["Parameters"]["zero_order_deg"]
            error = (applied + true_deg + 180) % 360 - 180
            self.assertLess(abs(error), 1.0, true_deg)

    def test_other_methods(self):
        fid = lorentz(2.01) * np.exp(1j * np.deg2rad(-65.0))
        for method in ("first_point", "integral"):
            out = phase(mrs_of(fid), method=method, ppm_range=(1.5, 2.5))
            self.assertAlmostEqual(out.history[-1]["Parameters"]["zero_order_deg"], 65.0,
                                   delta=0.01 if method == "first_point" else 5.0)
        with self.assertRaises(InputError):
            phase(mrs_of(fid), method="entropy")

    def test_vectorised_over_a_grid(self):
        true = np.array([[10.0, -50.0], [90.0, 0.0]])
        fid = clean_fid() * np.exp(1j * np.deg2rad(true))[..., None]
        out = phase(mrs_of(fid))
        applied = np.array(out.history[-1]["Parameters"]["zero_order_deg"])
        np.testing.assert_allclose(applied, -true, atol=1.0)

    def test_manual_zero_and_first_order(self):
        fid = clean_fid()
        out = phase(mrs_of(fid), zero_order_deg=30.0)
        np.testing.assert_allclose(out.fid, fid * np.exp(1j * np.deg2rad(30)))
        out = phase(mrs_of(fid), zero_order_deg=0.0, first_order_deg_per_ppm=10.0, pivot_ppm=2.01)
        expected = spec(fid) * np.exp(1j * np.deg2rad(10.0 * (ppm() - 2.01)))
        np.testing.assert_allclose(spec(out.fid), expected, atol=1e-9)
        with self.assertRaises(InputError):
            phase(mrs_of(fid), zero_order_deg="a lot")


class ApodisationZeroFillTest(unittest.TestCase):
    def test_exponential_broadens_by_the_given_hz(self):
        fid = lorentz(2.01, 1.0, 4.0, 2048)
        self.assertAlmostEqual(fwhm_hz(fid), 4.0, delta=0.1)
        out = apodise(mrs_of(fid), 3.0)
        self.assertAlmostEqual(fwhm_hz(out.fid), 7.0, delta=0.1)
        self.assertEqual(out.history[-1]["Method"], "Apodization")

    def test_gaussian(self):
        fid = lorentz(2.01, 1.0, 0.5, 2048)
        out = apodise(mrs_of(fid), 6.0, shape="gaussian")
        voigt = 0.5346 * 0.5 + np.sqrt(0.2166 * 0.25 + 36.0)             # Olivero & Longbothum 1977
        self.assertAlmostEqual(fwhm_hz(out.fid), voigt, delta=0.15)
        with self.assertRaises(InputError):
            apodise(mrs_of(fid), -1.0)
        with self.assertRaises(InputError):
            apodise(mrs_of(fid), 1.0, shape="sinebell")

    def test_zero_fill(self):
        fid = noise(np.random.default_rng(0), (2, 3, 256), 1.0)
        out = zero_fill(mrs_of(fid), 2)
        self.assertEqual(out.fid.shape, (2, 3, 512))
        self.assertEqual(out.n_points, 512)
        self.assertEqual(out.dwell_s, DWELL)
        np.testing.assert_array_equal(out.fid[..., :256], fid)
        np.testing.assert_array_equal(out.fid[..., 256:], 0)
        for bad in (0.5, 0, -2):
            with self.assertRaises(InputError):
                zero_fill(mrs_of(fid), bad)


class ReferencingTest(unittest.TestCase):
    def test_naa_moved_back(self):
        rng = np.random.default_rng(0)
        shifted = [(p + 0.1, a) for p, a in PEAKS]
        fid = clean_fid(shifted) + noise(rng, N, 0.01)
        self.assertAlmostEqual(peak_ppm(fid), 2.11, delta=0.005)
        out = reference(mrs_of(fid))
        self.assertAlmostEqual(peak_ppm(out.fid), 2.01, delta=0.005)
        self.assertAlmostEqual(out.history[-1]["Parameters"]["shift_hz"], 0.1 * MHZ, delta=0.5)
        self.assertEqual(out.history[-1]["Parameters"]["peak"], ["NAA/Cr/Cho"])
        single = reference(mrs_of(fid), peak="NAA")
        self.assertAlmostEqual(peak_ppm(single.fid), 2.01, delta=0.005)
        self.assertEqual(single.history[-1]["Parameters"]["peak"], ["NAA"])

    def test_tumour_pattern_without_naa_and_per_voxel_shifts(self):
        # Cho taller than Cr and no NAA: the Cr/Cho pattern, not the tallest peak, sets the shift.
        offsets = np.array([-0.08, 0.0, 0.05, 0.12])
        rng = np.random.default_rng(3)
        fid = np.stack([clean_fid([(3.03 + d, 0.6), (3.20 + d, 1.0), (1.33 + d, 0.5)]) for d in offsets])
        fid = (fid + noise(rng, fid.shape, 0.005)).reshape(2, 2, N)
        out = reference(mrs_of(fid))
        self.assertEqual(out.history[-1]["Parameters"]["peak"], ["NAA/Cr/Cho"])
        found = peak_ppm(out.fid.reshape(4, N))
        np.testing.assert_allclose(found, 3.20, atol=0.005)                 # Cho (tallest) back at 3.20
        np.testing.assert_allclose(out.history[-1]["Parameters"]["shift_hz"], offsets.reshape(2, 2) * MHZ, atol=0.6)
        # Water only: the pattern is not found, water is used.
        water = reference(mrs_of(lorentz(4.70, 1.0) + noise(rng, N, 0.001)))
        self.assertEqual(water.history[-1]["Parameters"]["peak"], ["water"])
        self.assertAlmostEqual(peak_ppm(water.fid), 4.65, delta=0.005)
        self.assertAlmostEqual(peak_ppm(reference(mrs_of(fid[0, 0]), peak=3.1, target_ppm=3.0).fid), 3.0, delta=0.005)
        with self.assertRaises(InputError):
            reference(mrs_of(fid), peak="unobtainium")


class HistoryTest(unittest.TestCase):
    def test_steps_in_order_and_serialisable(self):
        rng = np.random.default_rng(0)
        gains = np.exp(1j * rng.uniform(-np.pi, np.pi, 2))
        fid = gains[:, None, None] * clean_fid() + noise(rng, (2, 4, N), 0.01)
        mrs = mrs_of(fid, ["DIM_COIL", "DIM_DYN"])
        out = zero_fill(apodise(phase(average(align(coil_combine(mrs)))), 2.0), 2)
        entries = history_entries(out)
        self.assertEqual([e["Method"] for e in entries],
                         ["RF coil combination", "Frequency and phase correction", "Signal averaging", "Phasing",
                          "Apodization", "Zero-filling"])
        self.assertTrue(all(isinstance(e["Details"], str) and e["Program"] == "TME Monitor" for e in entries))
        json.dumps(history_entries(out, include_parameters=True))
        self.assertEqual(mrs.history, [])                                 # input untouched
        self.assertEqual(out.fid.shape, (2 * N,))

    def test_synthetic_container_and_pipeline_names(self):
        from SpectroscopyModuleLib.synthetic import SyntheticMRS
        raw = SyntheticMRS(clean_fid(), DWELL, MHZ)
        out = apodise(raw, 1.0)
        self.assertIsInstance(out, MRSData)
        self.assertEqual(len(out.history), 1)
        self.assertEqual(out.dim_tags, [])
        from SpectroscopyModuleLib.pipeline import PROCESSING_FUNCTIONS
        for name in PROCESSING_FUNCTIONS.values():
            self.assertTrue(callable(getattr(processing, name)), name)


if __name__ == "__main__":
    unittest.main()
