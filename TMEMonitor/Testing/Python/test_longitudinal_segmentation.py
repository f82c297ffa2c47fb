"""Masks across visits: propagation through a known shift, threshold refinement, RECIST/RANO
sizes on constructed shapes, lesion identity (matched, new, disappeared)."""
import unittest

import numpy as np
import SimpleITK as sitk

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.longitudinal import segmentation_tools as seg

IJK_TO_RAS = np.diag([2.0, 1.0, 5.0, 1.0])          # 2 mm columns, 1 mm rows, 5 mm slices


class PropagationTest(unittest.TestCase):
    def test_mask_follows_a_known_translation(self):
        baseline = np.zeros((4, 30, 30), bool)
        baseline[1:3, 10:20, 5:10] = True
        # Registration transform baseline -> follow-up: the anatomy moved +4 mm in R (2 columns)
        # and -3 mm in A (3 rows). ITK works in LPS, so the translation is (-4, +3, 0).
        transform = sitk.TranslationTransform(3, (-4.0, 3.0, 0.0))
        propagated = seg.propagate_mask(baseline, IJK_TO_RAS, baseline.shape, IJK_TO_RAS, transform)
        expected = np.zeros_like(baseline)
        expected[1:3, 7:17, 7:12] = True
        np.testing.assert_array_equal(propagated, expected)

    def test_mask_follows_a_bspline_plus_linear_transform(self):
        from TMEMonitorLib.longitudinal import itk_geometry
        ijk_to_ras = np.diag([2.0, 2.0, 4.0, 1.0])
        shape = (6, 32, 32)
        bspline = sitk.BSplineTransformInitializer(itk_geometry.reference_image(shape, ijk_to_ras), [2, 2, 1])
        parameters = np.array(bspline.GetParameters())
        parameters[:parameters.size // 3] = -2.0          # every control point: LPS x -2 mm = R +2 mm
        bspline.SetParameters(tuple(parameters))
        # baseline -> follow-up: B-spline first, then a translation of A +4 mm (LPS y -4)
        transform = sitk.CompositeTransform([sitk.TranslationTransform(3, (0.0, -4.0, 0.0)), bspline])
        baseline = np.zeros(shape, bool)
        baseline[2:4, 10:20, 10:16] = True
        propagated = seg.propagate_mask(baseline, ijk_to_ras, shape, ijk_to_ras, transform)   # inverted field
        expected = np.zeros(shape, bool)
        expected[2:4, 12:22, 11:17] = True                # +2 rows (4 mm), +1 column (2 mm)
        np.testing.assert_array_equal(propagated, expected)

    def test_threshold_refinement_keeps_bright_voxels_near_the_mask(self):
        mask = np.zeros((1, 10, 10), bool)
        mask[0, 3:6, 3:6] = True
        image = np.zeros((1, 10, 10))
        image[0, 2:7, 2:7] = 5.0                     # lesion one voxel larger than the propagated mask
        image[0, 4, 4] = np.nan
        image[0, 0, 0] = 5.0                         # bright but far away
        refined = seg.refine_by_threshold(mask, image, low=4.0, high=6.0, dilation_voxels=1)
        expected = np.zeros_like(mask)
        expected[0, 2:7, 2:7] = True
        expected[0, 4, 4] = False
        expected[0, 2, 2] = expected[0, 2, 6] = expected[0, 6, 2] = expected[0, 6, 6] = False   # 3D cross dilation
        np.testing.assert_array_equal(refined, expected)
        with self.assertRaises(InputError):
            seg.refine_by_threshold(mask, image, low=6.0, high=4.0)


class SizeTest(unittest.TestCase):
    def test_longest_diameter_volume_and_bidimensional_product(self):
        mask = np.zeros((3, 20, 20), bool)
        mask[1, 2:8, 3:12] = True                    # 6 rows x 9 columns in slice 1
        self.assertAlmostEqual(seg.longest_diameter_mm(mask, IJK_TO_RAS), np.hypot(8 * 2.0, 5 * 1.0))
        self.assertAlmostEqual(seg.volume_ml(mask, IJK_TO_RAS), 54 * 10.0 / 1000.0)
        rectangle = np.zeros((1, 20, 20), bool)
        rectangle[0, 5:6, 2:12] = True               # a 1-voxel line: 18 mm long, perpendicular 0
        self.assertAlmostEqual(seg.bidimensional_product_mm2(rectangle, IJK_TO_RAS), 0.0)
        disc = np.zeros((1, 41, 41), bool)
        j, i = np.mgrid[:41, :41]
        disc[0] = (i - 20) ** 2 + (j - 20) ** 2 <= 15 ** 2
        product = seg.bidimensional_product_mm2(disc, np.eye(4))
        self.assertAlmostEqual(product, 30.0 * 30.0, delta=0.05 * 900)   # diameter x perpendicular diameter


class LesionMatchTest(unittest.TestCase):
    def test_matched_new_and_disappeared(self):
        baseline = np.zeros((2, 40, 40), bool)
        follow = np.zeros((2, 40, 40), bool)
        baseline[0, 5:10, 5:10] = True               # lesion A, shrinks but overlaps
        follow[0, 6:9, 6:9] = True
        baseline[0, 20:24, 20:24] = True             # lesion B, moved 6 voxels: no overlap, close centroid
        follow[0, 26:30, 20:24] = True
        baseline[1, 30:34, 2:6] = True               # lesion C disappears
        follow[1, 2:5, 30:34] = True                 # a new lesion far from everything
        matches = seg.match_lesions(baseline, follow, np.eye(4), max_centroid_distance_mm=8.0)
        status = sorted((m.status, m.overlap_voxels > 0) for m in matches)
        self.assertEqual(status, [("disappeared", False), ("matched", False), ("matched", True), ("new", False)])
        moved = [m for m in matches if m.status == "matched" and m.overlap_voxels == 0][0]
        self.assertAlmostEqual(moved.centroid_distance_mm, 6.0)
        with self.assertRaises(InputError):
            seg.match_lesions(baseline, follow[:1], np.eye(4))


if __name__ == "__main__":
    unittest.main()
