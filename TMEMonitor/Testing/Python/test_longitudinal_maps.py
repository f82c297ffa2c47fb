"""Parametric response maps and habitats on constructed maps with known answers."""
import unittest

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.longitudinal import habitats, response_maps


class ParametricResponseMapTest(unittest.TestCase):
    def test_fractions_labels_and_threshold_edges(self):
        baseline = np.full((1, 2, 5), 1.0)
        follow = np.array([[[1.5, 1.25, 1.0, 0.4, 1.05], [np.nan, 0.75, 1.0, 1.0, 1.0]]])
        mask = np.ones_like(baseline, bool)
        mask[0, 1, 4] = False
        labels, fractions, scatter = response_maps.parametric_response_map(baseline, follow, mask, 0.25)
        # +0.25 and -0.25 sit exactly at the threshold: unchanged; NaN and outside: 0.
        self.assertEqual(labels[0].tolist(), [[1, 3, 3, 2, 3], [0, 3, 3, 3, 0]])
        self.assertAlmostEqual(fractions["increased"], 1 / 8)
        self.assertAlmostEqual(fractions["decreased"], 1 / 8)
        self.assertAlmostEqual(fractions["unchanged"], 6 / 8)
        self.assertEqual(scatter[0].size, 8)
        volumes = response_maps.prm_volumes_ml(labels, 0.002)
        self.assertAlmostEqual(volumes["unchanged"], 0.012)
        with self.assertRaises(InputError):
            response_maps.parametric_response_map(baseline, follow[..., :4], mask, 0.25)
        with self.assertRaises(InputError):
            response_maps.parametric_response_map(baseline, follow, mask, float("nan"))

    def test_threshold_from_normal_tissue_and_test_retest(self):
        rng = np.random.default_rng(0)
        base = rng.normal(1.0, 0.1, 20000)
        follow = base + rng.normal(0, 0.05, 20000)
        mask = np.ones(20000, bool)
        self.assertAlmostEqual(response_maps.threshold_from_normal_tissue(base, follow, mask), 1.96 * 0.05,
                               delta=0.004)
        # differences of two scans each with SD 0.05 -> wSD 0.05 -> RC = 2.77 x 0.05
        scan1, scan2 = base + rng.normal(0, 0.05, 20000), base + rng.normal(0, 0.05, 20000)
        self.assertAlmostEqual(response_maps.threshold_from_test_retest(scan1, scan2, mask), 2.77 * 0.05, delta=0.004)
        with self.assertRaises(InputError):
            response_maps.threshold_from_normal_tissue(base[:5], follow[:5], mask[:5])


class HabitatTest(unittest.TestCase):
    def constructed(self):
        """A 10x10 tumour: 40 perfused viable, 30 poorly perfused, 30 necrotic voxels (+ noise-free)."""
        adc = np.full((1, 10, 10), 1.0e-3)
        ktrans = np.full((1, 10, 10), 0.25)
        adc[0, 4:7] = 1.1e-3
        ktrans[0, 4:7] = 0.04
        adc[0, 7:] = 2.6e-3
        ktrans[0, 7:] = 0.01
        return adc, ktrans, np.ones((1, 10, 10), bool)

    def test_rule_based_volumes(self):
        adc, ktrans, mask = self.constructed()
        adc[0, 0, 0] = np.nan
        labels = habitats.rule_based_habitats(adc, ktrans, mask)
        volumes = habitats.habitat_volumes_ml(labels, 0.5)
        self.assertEqual(volumes, {"viable perfused": 19.5, "viable poorly perfused": 15.0, "necrotic": 15.0})
        self.assertEqual(labels[0, 0, 0], 0)                 # ADC missing: undetermined, not a habitat
        # exactly at the documented thresholds: ADC 1.8e-3 is necrotic, Ktrans 0.12 perfused
        edge = habitats.rule_based_habitats(np.array([1.8e-3, 1.0e-3]), np.array([0.3, 0.12]), np.ones(2, bool))
        self.assertEqual(edge.tolist(), [habitats.NECROTIC, habitats.VIABLE_PERFUSED])

    def test_kmeans_finds_and_names_the_three_habitats(self):
        adc, ktrans, mask = self.constructed()
        rng = np.random.default_rng(3)
        adc = adc * (1 + 0.03 * rng.standard_normal(adc.shape))
        ktrans = ktrans * (1 + 0.03 * rng.standard_normal(ktrans.shape))
        labels, centroids = habitats.kmeans_habitats(adc, ktrans, mask, seed=0)
        expected = habitats.rule_based_habitats(*self.constructed())
        np.testing.assert_array_equal(labels, expected)
        self.assertAlmostEqual(centroids["necrotic"][0], 2.6e-3, delta=0.05e-3)
        self.assertAlmostEqual(centroids["viable perfused"][1], 0.25, delta=0.01)
        again, _ = habitats.kmeans_habitats(adc, ktrans, mask, seed=0)
        np.testing.assert_array_equal(again, labels)
        with self.assertRaises(InputError):
            habitats.kmeans_habitats(adc[..., :2], ktrans[..., :2], np.zeros((1, 10, 2), bool))


if __name__ == "__main__":
    unittest.main()
