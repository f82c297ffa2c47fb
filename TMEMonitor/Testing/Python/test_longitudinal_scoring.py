"""Response criteria and repeatability against hand-computed cases, exactly at the thresholds."""
import unittest

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.longitudinal import repeatability, response_criteria


class RecistTest(unittest.TestCase):
    visits = ["baseline", "v1", "v2", "v3"]
    days = [0, 42, 84, 126]

    def categories(self, sums, new=None):
        n = len(sums)
        return [c.category for c in response_criteria.recist(self.visits[:n], sums, self.days[:n], new)]

    def test_pr_exactly_at_30_percent(self):
        self.assertEqual(self.categories([100.0, 70.0]), ["PR"])
        self.assertEqual(self.categories([10.0, 7.0]), ["PR"])               # -30 % with rounding noise
        self.assertEqual(self.categories([100.0, 70.1]), ["SD"])

    def test_pd_needs_20_percent_from_nadir_and_5_mm(self):
        self.assertEqual(self.categories([100.0, 50.0, 60.0]), ["PR", "PD"])   # +20 %, +10 mm
        self.assertEqual(self.categories([40.0, 20.0, 24.0]), ["PR", "PR"])    # +20 % but +4 mm
        self.assertEqual(self.categories([40.0, 20.0, 25.0]), ["PR", "PD"])    # +25 %, exactly +5 mm
        self.assertEqual(self.categories([50.0, 30.0, 35.9]), ["PR", "SD"])    # +5.9 mm but +19.7 %
        self.assertEqual(self.categories([50.0, 30.0, 36.0]), ["PR", "PD"])    # exactly +20 % and +6 mm

    def test_nadir_is_the_smallest_sum_so_far_baseline_included(self):
        calls = response_criteria.recist(self.visits, [100.0, 120.0, 80.0, 96.0], self.days)
        # 120 is +20 % from the baseline nadir (and +20 mm): PD; later nadir 80 -> 96 is +20 %, +16 mm: PD.
        self.assertEqual([c.category for c in calls], ["PD", "SD", "PD"])
        self.assertEqual(calls[2].numbers["nadir"], 80.0)
        self.assertAlmostEqual(calls[2].numbers["change_from_nadir_percent"], 20.0)

    def test_new_lesion_complete_response_and_reappearance(self):
        self.assertEqual(self.categories([100.0, 90.0], new=[False, True]), ["PD"])
        self.assertEqual(self.categories([100.0, 0.0]), ["CR"])
        self.assertEqual(self.categories([100.0, 0.0, 3.0]), ["CR", "PD"])

    def test_missing_measurement_is_not_evaluable(self):
        calls = response_criteria.recist(self.visits[:3], [100.0, None, 60.0], self.days[:3])
        self.assertEqual([c.category for c in calls], ["NE", "PR"])
        self.assertIsNone(calls[0].numbers["value"])
        with self.assertRaises(InputError):
            response_criteria.recist(["b", "f"], [0.0, 10.0], [0, 30])

    def test_confirmation(self):
        calls = response_criteria.recist(self.visits, [100.0, 60.0, 65.0, 90.0], self.days)
        self.assertTrue(calls[0].confirmed)                  # PR day 42, PR again day 84 (42 days later)
        self.assertEqual(response_criteria.best_overall_response(calls), "PR")
        calls = response_criteria.recist(self.visits[:3], [100.0, 60.0, 85.0], self.days[:3])
        self.assertFalse(calls[0].confirmed)                 # SD at the confirming visit
        self.assertEqual(response_criteria.best_overall_response(calls), "SD")
        self.assertEqual(response_criteria.best_overall_response(calls, require_confirmation=False), "PR")
        calls = response_criteria.recist(["b", "v1", "v2"], [100.0, 60.0, 60.0], [0, 42, 60])
        self.assertIsNone(calls[0].confirmed)                # only 18 days later: not yet confirmable
        calls = response_criteria.recist(["b", "v1", "v2"], [100.0, 60.0, 60.0], [0, 42, 70])
        self.assertTrue(calls[0].confirmed)                  # exactly 28 days
        self.assertEqual(calls[0].numbers["change_from_baseline_percent"], -40.0)

    def test_volumetric_and_rano_thresholds(self):
        self.assertEqual(response_criteria.volumetric(["b", "f"], [10.0, 3.5], [0, 30])[0].category, "PR")   # -65 %
        self.assertEqual(response_criteria.volumetric(["b", "f"], [10.0, 3.51], [0, 30])[0].category, "SD")
        self.assertEqual(response_criteria.volumetric(["b", "f"], [10.0, 17.3], [0, 30])[0].category, "PD")  # +73 %
        rano = response_criteria.rano(["b", "f", "g"], [400.0, 200.0, 250.0], [0, 30, 60],
                                      volumes_ml=[20.0, 7.0, 9.8])
        self.assertEqual([(c.criterion, c.category) for c in rano],
                         [("RANO 2.0", "PR"), ("RANO 2.0", "PD"),                 # -50 %, then +25 % from nadir
                          ("RANO 2.0 volumetric", "PR"), ("RANO 2.0 volumetric", "PD")])   # -65 %, +40 %

    def test_functional_call(self):
        calls = response_criteria.functional(["b", "f"], [{}, {"ADC": 1, "Ktrans": 0}])
        self.assertEqual(calls[0].category, "functional response")
        self.assertIn("not clinical", calls[0].criterion)
        calls = response_criteria.functional(["b", "f"], [{}, {"ADC": -1, "Ktrans": 1}])
        self.assertEqual(calls[0].category, "functional progression")
        calls = response_criteria.functional(["b", "f"], [{}, {"ADC": 1, "Ktrans": 1}])
        self.assertEqual(calls[0].category, "mixed")
        calls = response_criteria.functional(["b", "f"], [{}, {"ADC": 0, "Ktrans": None}])
        self.assertEqual(calls[0].category, "no real functional change")
        calls = response_criteria.functional(["b", "f"], [{}, {"ADC": None}])
        self.assertEqual(calls[0].category, "NE")


class RepeatabilityTest(unittest.TestCase):
    def test_real_change_exactly_at_the_threshold(self):
        self.assertFalse(repeatability.is_real_change(1.0, 1.15, 15.0))     # +15 % with RC 15 %: not real
        self.assertFalse(repeatability.is_real_change(1.0, 0.85, 15.0))
        self.assertTrue(repeatability.is_real_change(1.0, 1.1501, 15.0))
        self.assertTrue(repeatability.is_real_change(1.0, 0.8499, 15.0))
        self.assertFalse(repeatability.is_real_change(2.0, 2.5, 0.5, relative=False))
        self.assertTrue(repeatability.is_real_change(2.0, 2.5001, 0.5, relative=False))
        self.assertIsNone(repeatability.is_real_change(1.0, None, 15.0))
        self.assertIsNone(repeatability.is_real_change(1.0, float("nan"), 15.0))
        self.assertIsNone(repeatability.is_real_change(1.0, 2.0, None))
        self.assertEqual(repeatability.real_change_direction(1.0, 0.5, 15.0), -1)
        self.assertEqual(repeatability.real_change_direction(1.0, 1.1, 15.0), 0)

    def test_defaults_per_organ_and_overrides(self):
        self.assertEqual(repeatability.rc_percent("ADC", "brain"), 8.0)
        self.assertEqual(repeatability.rc_percent("ADC", "breast"), 15.0)
        self.assertEqual(repeatability.rc_percent("ADC", "prostate"), 27.0)
        self.assertEqual(repeatability.rc_percent("ADC", "liver"), 27.0)
        self.assertEqual(repeatability.rc_percent("Ktrans", "breast", {"Ktrans": 30.0}), 30.0)
        self.assertIsNone(repeatability.rc_percent("unknown biomarker"))

    def test_rc_from_test_retest(self):
        # relative: wCV from pairs (1, 1.1) and (2, 2.2)
        rc = repeatability.rc_from_test_retest([1.0, 2.0], [1.1, 2.2])
        wcv = np.sqrt(np.mean([(0.1 ** 2 / 2) / 1.05 ** 2, (0.2 ** 2 / 2) / 2.1 ** 2]))
        self.assertAlmostEqual(rc, 2.77 * wcv * 100)
        # absolute: differences 0.2 and -0.2 -> wSD = sqrt(0.04 / 2)
        rc = repeatability.rc_from_test_retest([1.0, 3.0, np.nan], [1.2, 2.8, 5.0], relative=False)
        self.assertAlmostEqual(rc, 2.77 * np.sqrt(0.02))
        with self.assertRaises(InputError):
            repeatability.rc_from_test_retest([1.0, 2.0], [1.0])

    def test_rc_recovers_the_simulated_wcv(self):
        rng = np.random.default_rng(1)
        truth = rng.uniform(0.8e-3, 1.6e-3, 4000)
        wcv = 0.05
        scan1 = truth * (1 + wcv * rng.standard_normal(truth.size))
        scan2 = truth * (1 + wcv * rng.standard_normal(truth.size))
        self.assertAlmostEqual(repeatability.rc_from_test_retest(scan1, scan2), 2.77 * 5.0, delta=0.5)


if __name__ == "__main__":
    unittest.main()
