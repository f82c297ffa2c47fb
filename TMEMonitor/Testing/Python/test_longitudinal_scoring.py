"""Response scoring against hand-computed cases: RECIST/volumetric/RANO, real change, PRM, habitats."""
import unittest

import numpy as np

from TMEMonitorLib.longitudinal import repeatability, response_criteria, response_maps


class RecistTest(unittest.TestCase):
    visits = ["baseline", "v1", "v2", "v3"]
    days = [0, 42, 84, 126]

    def categories(self, sums, new=None):
        return [c.category for c in response_criteria.recist(self.visits[:len(sums)], sums, self.days[:len(sums)], new)]

    def test_pr_at_exactly_30_percent(self):
        self.assertEqual(self.categories([100.0, 70.0]), ["PR"])
        self.assertEqual(self.categories([100.0, 70.1]), ["SD"])

    def test_pd_from_nadir_needs_20_percent_and_5_mm(self):
        # nadir 50 -> 60 is +20 % and +10 mm: PD; nadir 20 -> 24 is +20 % but only +4 mm: not PD.
        self.assertEqual(self.categories([100.0, 50.0, 60.0]), ["PR", "PD"])
        self.assertEqual(self.categories([40.0, 20.0, 24.0]), ["PR", "PR"])
        self.assertEqual(self.categories([40.0, 20.0, 25.0]), ["PR", "PD"])

    def test_new_lesion_and_complete_response(self):
        self.assertEqual(self.categories([100.0, 90.0], new=[False, True]), ["PD"])
        self.assertEqual(self.categories([100.0, 0.0]), ["CR"])

    def test_confirmation_needs_a_later_response(self):
        calls = response_criteria.recist(self.visits, [100.0, 60.0, 65.0, 90.0], self.days)
        self.assertTrue(calls[0].confirmed)          # PR at day 42, PR again at day 84 (>= 28 days)
        calls = response_criteria.recist(self.visits[:3], [100.0, 60.0, 85.0], self.days[:3])
        self.assertFalse(calls[0].confirmed)
        self.assertEqual(calls[0].numbers["change_from_baseline_percent"], -40.0)

    def test_volumetric_and_rano_thresholds(self):
        volumetric = response_criteria.volumetric(["b", "f"], [10.0, 3.5], [0, 30])
        self.assertEqual(volumetric[0].category, "PR")                      # -65 %
        rano = response_criteria.rano(["b", "f", "g"], [400.0, 200.0, 250.0], [0, 30, 60])
        self.assertEqual([c.category for c in rano], ["PR", "PD"])            # -50 %, then +25 % from nadir

    def test_functional_call(self):
        calls = response_criteria.functional(["b", "f"], [{}, {"ADC": 1, "Ktrans": 0}])
        self.assertEqual(calls[0].category, "functional response")
        calls = response_criteria.functional(["b", "f"], [{}, {"ADC": -1, "Ktrans": 1}])
        self.assertEqual(calls[0].category, "functional progression")


class RepeatabilityTest(unittest.TestCase):
    def test_real_change_at_the_threshold(self):
        self.assertFalse(repeatability.is_real_change(1.0, 1.15, 15.0 + 1e-9))
        self.assertTrue(repeatability.is_real_change(1.0, 1.1501, 15.0))
        self.assertTrue(repeatability.is_real_change(1.0, 0.84, 15.0))
        self.assertIsNone(repeatability.is_real_change(1.0, None, 15.0))
        self.assertIsNone(repeatability.is_real_change(1.0, 2.0, None))

    def test_defaults_per_organ(self):
        self.assertEqual(repeatability.rc_percent("ADC", "brain"), 8.0)
        self.assertEqual(repeatability.rc_percent("ADC", "prostate"), 27.0)
        self.assertEqual(repeatability.rc_percent("Ktrans", "breast", {"Ktrans": 30.0}), 30.0)

    def test_rc_from_test_retest(self):
        # wCV from pairs (1, 1.1) and (2, 2.2): each |d| / mean = 0.1/1.05 and 0.2/2.1
        rc = repeatability.rc_from_test_retest([1.0, 2.0], [1.1, 2.2])
        wcv = np.sqrt(np.mean([(0.1 ** 2 / 2) / 1.05 ** 2, (0.2 ** 2 / 2) / 2.1 ** 2]))
        self.assertAlmostEqual(rc, 2.77 * wcv * 100)


class ResponseMapTest(unittest.TestCase):
    def test_prm_fractions(self):
        baseline = np.full((1, 2, 5), 1.0)
        follow = np.array([[[1.5, 1.5, 1.0, 0.4, 1.05], [np.nan, 1.0, 1.0, 1.0, 1.0]]])
        mask = np.ones_like(baseline, bool)
        labels, fractions, scatter = response_maps.parametric_response_map(baseline, follow, mask, 0.2)
        self.assertEqual(labels[0, 0].tolist(), [1, 1, 3, 2, 3])
        self.assertEqual(labels[0, 1, 0], 0)                     # missing follow-up value: not classified
        self.assertAlmostEqual(fractions["increased"], 2 / 9)
        self.assertAlmostEqual(fractions["decreased"], 1 / 9)
        self.assertEqual(scatter[0].size, 9)

    def test_habitats_rules(self):
        adc = np.array([[[0.8e-3, 0.8e-3, 2.5e-3, np.nan]]])
        ktrans = np.array([[[0.3, 0.05, 0.3, 0.3]]])
        labels = response_maps.habitats(adc, ktrans, np.ones_like(adc, bool))
        self.assertEqual(labels[0, 0].tolist(), [1, 2, 3, 0])
        volumes = response_maps.habitat_volumes_ml(labels, 0.5)
        self.assertEqual(volumes["necrotic"], 0.5)

    def test_threshold_from_normal_tissue(self):
        rng = np.random.default_rng(0)
        base = rng.normal(1.0, 0.1, 10000)
        follow = base + rng.normal(0, 0.05, 10000)
        threshold = response_maps.threshold_from_normal_tissue(base, follow, np.ones(10000, bool))
        self.assertAlmostEqual(threshold, 1.96 * 0.05, delta=0.005)


if __name__ == "__main__":
    unittest.main()
