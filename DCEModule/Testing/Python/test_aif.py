"""Population AIFs (analytic properties), haematocrit, measured AIF, AIF CSV reading and
automatic AIF detection on synthetic volumes with planted arteries and decoys."""
import os
import tempfile
import unittest
import warnings

import numpy as np

from DCEModuleLib import aif, population_aif
from DCEModuleLib.signal import concentration_to_spgr
from TMEMonitorLib.errors import InputError


def _tofts_tissue(t, cp, ktrans_per_min, ve):
    """Tofts tissue curve by convolution on a fine grid (test helper, not the library's)."""
    fine = np.arange(0.0, t[-1] + 0.05, 0.05)
    cp_fine = np.interp(fine, t, cp)
    kt, kep = ktrans_per_min / 60.0, ktrans_per_min / 60.0 / ve
    kernel = kt * np.exp(-kep * fine) * 0.05
    return np.interp(t, fine, np.convolve(cp_fine, kernel)[: fine.size])


def synthetic_volume(seed=0):
    """6x6x4 volume, 3 s frames: tissue, 8 arteries, partial-volume and inflow decoys."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 240.0, 3.0)
    shape = (6, 6, 4)
    blood = aif.parker(t, delay_s=15.0)
    cp = aif.blood_to_plasma(blood)
    tissue_classes = [_tofts_tissue(t, cp, k, v) for k, v in ((0.1, 0.3), (0.25, 0.4), (0.05, 0.2), (0.4, 0.5))]
    vol = np.empty(shape + (t.size,))
    for i, idx in enumerate(np.ndindex(shape)):
        vol[idx] = tissue_classes[i % len(tissue_classes)] * rng.uniform(0.8, 1.2)
    arteries = [(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 0), (4, 4, 2), (4, 5, 2), (5, 4, 2), (5, 5, 2)]
    for idx in arteries:
        vol[idx] = blood * rng.uniform(0.95, 1.05)
    partial = [(2, 2, 1), (2, 3, 1), (3, 2, 1), (3, 3, 1)]
    for idx in partial:  # one third artery, two thirds tissue
        vol[idx] = 0.33 * blood + 0.67 * tissue_classes[1]
    no_washout = (0, 5, 3)  # inflow-like: huge first pass that never washes out
    vol[no_washout] = np.maximum.accumulate(2.5 * blood)
    elevated = (5, 0, 3)  # inflow-like: strong arterial shape on an elevated baseline
    vol[elevated] = 2.2 * blood + 4.0
    vol += rng.normal(0.0, 0.02, vol.shape)
    return t, vol, blood, arteries, partial, no_washout, elevated


class PopulationAIFTest(unittest.TestCase):
    def test_zero_before_delay_and_shift(self):
        t = np.arange(0.0, 300.0, 0.5)
        for fn in (aif.parker, aif.georgiou, aif.mcgrath_preclinical):
            with self.subTest(fn=fn.__name__):
                shifted = fn(t, delay_s=12.5)
                np.testing.assert_array_equal(shifted[t < 12.5], 0.0)
                np.testing.assert_allclose(shifted[25:], fn(t[:-25]), rtol=0, atol=1e-12)

    def test_parker_peak(self):
        # first Gaussian (T1 = 0.17046 min) dominates; the second pulls the peak later
        t = np.linspace(0, 60, 60001)
        c = aif.parker(t)
        self.assertTrue(0.17046 < t[np.argmax(c)] / 60.0 < 0.18)
        self.assertAlmostEqual(c.max(), 6.07, delta=0.02)

    def test_mcgrath_peak_and_tail(self):
        self.assertAlmostEqual(float(aif.mcgrath_preclinical(7.0)), 3.4 + 1.81, places=12)
        self.assertAlmostEqual(float(aif.mcgrath_preclinical(107.0)),
                               3.4 * np.exp(-4.5) + 1.81 * np.exp(-0.15), places=12)

    def test_georgiou_table3_close_to_refined(self):
        t = np.arange(0.0, 300.0, 0.5)
        refined = aif.georgiou(t)
        table = aif.georgiou(t, parameters=population_aif.GEORGIOU_TABLE3)
        np.testing.assert_allclose(table, refined, rtol=0.02, atol=0.1)

    def test_non_finite_times_rejected(self):
        with self.assertRaises(InputError):
            aif.parker([0.0, np.nan])


class HaematocritAndMeasuredAIFTest(unittest.TestCase):
    def test_blood_to_plasma(self):
        np.testing.assert_allclose(aif.blood_to_plasma([0.58, 1.16], 0.42), [1.0, 2.0])
        np.testing.assert_allclose(aif.plasma_to_blood(aif.blood_to_plasma(3.0, 0.3), 0.3), 3.0)
        for bad in (-0.1, 1.0, "x"):
            with self.subTest(hct=bad), self.assertRaises(InputError):
                aif.blood_to_plasma(1.0, bad)

    def test_measured_aif_mean_over_roi(self):
        t = np.arange(0.0, 120.0, 2.0)
        vol = np.zeros((3, 4, t.size))
        roi = np.zeros((3, 4), bool)
        roi[1, 1:3] = True
        vol[1, 1] = aif.parker(t)
        vol[1, 2] = 3 * aif.parker(t)
        vol[2, 2] = np.nan  # outside the ROI: ignored
        np.testing.assert_allclose(aif.measured_aif(vol, roi, 0.4), 2 * aif.parker(t) / 0.6)
        with self.assertRaises(InputError):
            aif.measured_aif(vol, np.zeros((3, 4), bool), 0.4)
        with self.assertRaises(InputError):
            aif.measured_aif(vol, np.ones((4, 3), bool), 0.4)


class ReadAIFCSVTest(unittest.TestCase):
    def _write(self, text):
        handle = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8")
        handle.write(text)
        handle.close()
        self.addCleanup(os.remove, handle.name)
        return handle.name

    def test_units_from_header(self):
        cases = {
            "time_s,conc_mM\n0,0\n2,1.5\n4,3.0\n": (1.0, 1.0),
            "\ufefftime_min;Cb (mM)\n0;0\n2;1.5\n4;3.0\n": (60.0, 1.0),
            "time (ms)\tAIF [uM]\n0\t0\n2\t1.5\n4\t3.0\n": (1e-3, 1e-3),
            "# exported AIF\nt_s  c_mmol/L\n0 0\n2 1.5\n4 3.0\n": (1.0, 1.0),
        }
        for text, (t_factor, c_factor) in cases.items():
            with self.subTest(header=text.splitlines()[0]):
                t_s, c = aif.read_aif_csv(self._write(text))
                np.testing.assert_allclose(t_s, np.array([0, 2, 4]) * t_factor)
                np.testing.assert_allclose(c, np.array([0, 1.5, 3.0]) * c_factor)

    def test_missing_time_unit_needs_argument(self):
        path = self._write("0,0\n2,1.5\n4,3\n")
        with self.assertRaises(InputError):
            aif.read_aif_csv(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_s, c = aif.read_aif_csv(path, time_unit="min")
        np.testing.assert_allclose(t_s, [0, 120, 240])

    def test_bad_tables_rejected(self):
        for text in ("time_s,c_mM\n0,0\n0,1\n", "time_s,c_mM\n0,0\n", "time_s,c_mM\n0,a\n1,2\n"):
            with self.subTest(text=text), self.assertRaises(InputError):
                aif.read_aif_csv(self._write(text))


class DetectAIFTest(unittest.TestCase):
    def test_concentration_volume(self):
        t, vol, blood, arteries, partial, no_washout, elevated = synthetic_volume()
        res = aif.detect_aif(vol, t, n_voxels=6)
        chosen = set(zip(*[i.tolist() for i in res["indices"]]))
        self.assertEqual(len(chosen), 6)
        self.assertTrue(chosen <= set(arteries), f"chosen {chosen}")
        # the detected AIF follows the planted arterial curve
        self.assertLess(abs(res["aif_blood"].max() - blood.max()) / blood.max(), 0.06)
        np.testing.assert_allclose(res["aif_plasma"], res["aif_blood"] / 0.58)
        # decoys are candidates, and rejected for the right reason
        cand = res["candidates"]
        reasons = {np.unravel_index(f, vol.shape[:-1]): r for f, r in zip(cand["flat_index"], cand["rejected"])}
        self.assertEqual(reasons[no_washout], "inflow")
        self.assertEqual(reasons[elevated], "inflow")
        for idx in partial:
            with self.subTest(partial=idx):
                self.assertEqual(reasons[idx], "partial_volume")
        np.testing.assert_array_equal(cand["selected"],
                                      (cand["rejected"] == "") & np.isin(cand["flat_index"], res["flat_indices"]))

    def test_signal_volume_and_mask(self):
        t, vol, _, arteries, partial, no_washout, elevated = synthetic_volume(seed=1)
        vol = np.maximum(vol, 0.0)
        signal = concentration_to_spgr(vol, 1000.0, 1.4, 0.004, 20.0, 4.5)
        res = aif.detect_aif(signal, t, n_voxels=4, input_type="signal")
        chosen = set(zip(*[i.tolist() for i in res["indices"]]))
        self.assertTrue(chosen <= set(arteries), f"chosen {chosen}")
        self.assertIsNone(res["aif_plasma"])
        self.assertEqual(res["aif_signal"].shape, t.shape)
        # a mask that hides the first artery group leaves only the second
        mask = np.ones(vol.shape[:-1], bool)
        mask[:2, :2, 0] = False
        res = aif.detect_aif(vol, t, mask=mask, n_voxels=4)
        chosen = set(zip(*[i.tolist() for i in res["indices"]]))
        self.assertEqual(chosen, {(4, 4, 2), (4, 5, 2), (5, 4, 2), (5, 5, 2)})

    def test_bad_input_raises(self):
        t = np.arange(0.0, 60.0, 2.0)
        with self.assertRaises(InputError):  # nothing enhances
            aif.detect_aif(np.ones((4, 4, t.size)), t)
        t, vol = synthetic_volume()[:2]
        for kwargs in (dict(mask=np.ones((6, 6), bool)), dict(n_voxels=0), dict(input_type="magnitude")):
            with self.subTest(**{k: str(v)[:20] for k, v in kwargs.items()}), self.assertRaises(InputError):
                aif.detect_aif(vol, t, **kwargs)


if __name__ == "__main__":
    unittest.main()
