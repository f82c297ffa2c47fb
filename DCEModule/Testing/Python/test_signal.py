"""SPGR signal equation, exact signal <-> concentration round trip, baseline detection."""
import unittest
import warnings

import numpy as np

from DCEModuleLib import agents, aif, signal
from TMEMonitorLib.errors import InputError

TR, FA, R1_AGENT = 0.004, 15.0, 4.5


class RelaxivityPresetTest(unittest.TestCase):
    def test_lookup_and_aliases(self):
        self.assertEqual(agents.relaxivity("gadobutrol", 3.0), 5.0)
        self.assertEqual(agents.relaxivity("Gadovist", 1.5), 5.2)
        self.assertEqual(agents.relaxivity("Dotarem", 1.5), agents.relaxivity("gadoterate meglumine", 1.5))
        self.assertEqual(agents.relaxivity("Gd-DTPA", 3.0, medium="blood"), 3.8)
        self.assertEqual(agents.relaxivity("gadobutrol", 7.0, medium="blood"), 4.2)
        self.assertEqual(agents.DEFAULT_HEMATOCRIT, 0.42)

    def test_nearest_field_warns(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.assertEqual(agents.relaxivity("gadobutrol", 2.89), 5.0)
        self.assertEqual(len(caught), 1)

    def test_unknown_raises(self):
        for agent, field, medium in (("unobtainium", 3.0, "plasma"), ("gadobutrol", 7.0, "plasma"),
                                     ("gadobutrol", -1.0, "plasma"), ("gadofosveset", 3.0, "blood"),
                                     ("gadobutrol", "high", "plasma")):
            with self.subTest(agent=agent, field=field, medium=medium), self.assertRaises(InputError):
                agents.relaxivity(agent, field, medium)


class SPGRSignalTest(unittest.TestCase):
    def test_ernst_angle_maximises_signal(self):
        t1_s = 1.3
        e1 = np.exp(-TR / t1_s)
        ernst = np.rad2deg(np.arccos(e1))
        angles = np.linspace(ernst - 3, ernst + 3, 601)
        s = signal.spgr_signal(1.0, 1.0 / t1_s, TR, angles)
        self.assertAlmostEqual(angles[np.argmax(s)], ernst, delta=0.02)

    def test_full_relaxation_limit(self):
        # TR >> T1: the signal tends to S0 sin(a)
        self.assertAlmostEqual(float(signal.spgr_signal(2.0, 1000.0, 0.1, 30.0)), 1.0, places=12)


class ConcentrationRoundTripTest(unittest.TestCase):
    def setUp(self):
        self.t = np.arange(0.0, 200.0, 2.0)
        cp = aif.blood_to_plasma(aif.parker(self.t, delay_s=20.0))
        scale = np.array([[0.05, 0.2, 1.0], [0.5, 0.0, 0.8]])
        self.conc = scale[..., None] * cp  # (2, 3, T), includes an all-zero voxel
        self.t10 = np.array([[0.8, 1.2, 1.6], [2.0, 1.0, 0.5]])
        self.s0 = np.array([[500.0, 1e3, 2e4], [3e3, 1e3, 800.0]])

    def test_round_trip_exact(self):
        sig = signal.concentration_to_spgr(self.conc, self.s0, self.t10, TR, FA, R1_AGENT)
        baseline = np.arange(8)  # the bolus arrives at 20 s = frame 10
        back = signal.spgr_to_concentration(sig, baseline, self.t10, TR, FA, R1_AGENT)
        np.testing.assert_allclose(back, self.conc, rtol=1e-9, atol=1e-10)

    def test_baseline_forms_and_scalar_t10(self):
        sig = signal.concentration_to_spgr(self.conc, self.s0, 1.2, TR, FA, R1_AGENT)
        mask = np.zeros(self.t.size, bool)
        mask[:8] = True
        for baseline in (slice(0, 8), np.arange(8), list(range(8)), mask):
            with self.subTest(baseline=str(type(baseline))):
                back = signal.spgr_to_concentration(sig, baseline, 1.2, TR, FA, R1_AGENT)
                np.testing.assert_allclose(back, self.conc, rtol=1e-9, atol=1e-10)

    def test_linear_approximation_is_not_used(self):
        # at high concentration the exact inversion differs from (S/S0 - 1) scaling
        sig = signal.concentration_to_spgr(self.conc, self.s0, self.t10, TR, 30.0, R1_AGENT)
        back = signal.spgr_to_concentration(sig, slice(0, 8), self.t10, TR, 30.0, R1_AGENT)
        np.testing.assert_allclose(back.max(), self.conc.max(), rtol=1e-9)

    def test_saturation_gives_nan_and_report(self):
        sig = signal.concentration_to_spgr(self.conc, self.s0, self.t10, TR, FA, R1_AGENT)
        s0_sin = self.s0[0, 2] * np.sin(np.deg2rad(FA))
        sig[0, 2, 30] = 1.01 * s0_sin  # beyond the saturation limit
        sig[1, 0, 40] = -5.0  # negative signal
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            conc, info = signal.spgr_to_concentration(sig, slice(0, 8), self.t10, TR, FA, R1_AGENT,
                                                      return_info=True)
        self.assertTrue(any("cannot be inverted" in str(w.message) for w in caught))
        self.assertTrue(np.isnan(conc[0, 2, 30]) and np.isnan(conc[1, 0, 40]))
        self.assertEqual(int(np.isnan(conc).sum()), 2)
        self.assertEqual(info["n_invalid_voxels"], 2)
        self.assertEqual(info["invalid_voxels"].tolist(), [[False, False, True], [True, False, False]])

    def test_bad_input(self):
        sig = np.ones((2, 3, 10))
        calls = [
            dict(t10_s=np.ones((3, 2))),
            dict(baseline=slice(20, 30)),
            dict(baseline=[12]),
            dict(baseline=np.ones(4, bool)),
            dict(flip_angle_deg=0.0),
            dict(tr_s=0.0),
            dict(r1_per_mM_s=-1.0),
        ]
        for extra in calls:
            kwargs = dict(baseline=slice(0, 3), t10_s=1.0, tr_s=TR, flip_angle_deg=FA, r1_per_mM_s=R1_AGENT)
            kwargs.update(extra)
            with self.subTest(**{k: str(v) for k, v in extra.items()}), self.assertRaises(InputError):
                signal.spgr_to_concentration(sig, **kwargs)


class BaselineFramesTest(unittest.TestCase):
    def _volume(self, delay_s, noise=0.0, seed=0):
        t = np.arange(0.0, 180.0, 3.0)
        rng = np.random.default_rng(seed)
        conc = aif.parker(t, delay_s=delay_s)[None, None, :] * rng.uniform(0.0, 0.3, (8, 8, 1))
        sig = signal.concentration_to_spgr(conc, 1e3, 1.2, TR, FA, R1_AGENT)
        return t, sig + rng.normal(0.0, noise, sig.shape)

    def test_pre_arrival_frames(self):
        for delay in (6.0, 15.0, 31.0, 60.0):
            with self.subTest(delay=delay):
                t, sig = self._volume(delay, noise=0.5)
                frames = signal.find_baseline_frames(sig, t)
                # the delayed Parker curve is already non-zero at t = delay
                first = int(np.argmax(t >= delay))
                self.assertEqual(frames.tolist(), list(range(first)))

    def test_single_curve(self):
        t = np.arange(0.0, 120.0, 2.0)
        curve = aif.parker(t, delay_s=19.0)
        np.testing.assert_array_equal(signal.find_baseline_frames(curve, t), np.arange(10))

    def test_no_baseline_raises(self):
        t, sig = self._volume(0.0)
        with self.assertRaises(InputError):
            signal.find_baseline_frames(sig, t)
        t = np.arange(0.0, 60.0, 2.0)
        curve = np.r_[0.0, 3.0, 6.0, 5.0, 4.0, np.full(25, 3.0)]  # one pre-contrast frame
        with self.assertRaises(InputError):
            signal.find_baseline_frames(curve, t)
        np.testing.assert_array_equal(signal.find_baseline_frames(curve, t, min_frames=1), [0])
        with self.assertRaises(InputError):
            signal.find_baseline_frames(np.ones((3, 30)), np.arange(30.0))  # no enhancement
        with self.assertRaises(InputError):
            signal.find_baseline_frames(np.ones((3, 30)), np.arange(29.0))  # wrong time count


if __name__ == "__main__":
    unittest.main()
