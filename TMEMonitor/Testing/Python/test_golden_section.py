"""The vectorised golden-section search shared by the variable-projection T1 fits."""
import unittest

import numpy as np

from TMEMonitorLib.fitting.golden_section import INV_PHI, golden_section_minimise


class GoldenSectionTest(unittest.TestCase):
    def test_each_element_finds_its_own_minimum(self):
        target = np.array([-1.3, 0.0, 0.25, 2.9])
        calls = []

        def cost(x):
            calls.append(x.shape)
            return (x - target) ** 2 * np.array([1.0, 3.0, 0.1, 10.0])      # different curvatures
        lo, hi = np.full(4, -2.0), np.full(4, 3.0)
        found = golden_section_minimise(cost, lo, hi, 60)
        np.testing.assert_allclose(found, target, atol=5.0 * INV_PHI ** 60 + 1e-12)
        self.assertEqual(len(calls), 62)                  # two to start, then one per iteration
        self.assertTrue(all(shape == (4,) for shape in calls))

    def test_minimum_on_an_edge_converges_to_that_edge(self):
        found = golden_section_minimise(lambda x: x, np.array([1.0]), np.array([2.0]), 50)
        self.assertAlmostEqual(float(found[0]), 1.0, places=9)


if __name__ == "__main__":
    unittest.main()
