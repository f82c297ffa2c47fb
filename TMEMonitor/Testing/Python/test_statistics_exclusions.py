"""Statistics per label of a multi-label mask, with untrusted voxels left out and counted
(issue 13): planted label maps, bound-hitting, failed and physically impossible voxels."""
import unittest

import numpy as np

from TMEMonitorLib import plausibility
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.statistics import label_masks, region_statistics, statistics_table


def _rows(columns):
    return {(s, p): i for i, (s, p) in enumerate(zip(columns["segment"], columns["parameter"]))}


class MultiLabelTest(unittest.TestCase):
    def setUp(self):
        # 1 x 4 x 6 grid: label 2 (rim) on the left, label 4 (core) on the right, background row 0.
        self.labels = np.zeros((1, 4, 6), np.uint8)
        self.labels[0, 1:, :3] = 2
        self.labels[0, 1:, 3:] = 4
        self.ktrans = np.where(self.labels == 2, 0.20, np.where(self.labels == 4, 0.02, 0.0)).astype(np.float32)

    def test_one_row_per_label_with_its_name(self):
        columns, _ = statistics_table({"Ktrans": self.ktrans}, {"tissue labels": self.labels}, np.eye(4),
                                      label_names={2: "viable rim", 4: "necrotic core"})
        rows = _rows(columns)
        self.assertEqual(sorted(s for s, _ in rows), ["necrotic core", "viable rim"])
        self.assertAlmostEqual(columns["mean"][rows[("viable rim", "Ktrans")]], 0.20, places=6)
        self.assertAlmostEqual(columns["mean"][rows[("necrotic core", "Ktrans")]], 0.02, places=6)
        self.assertEqual(columns["n"][rows[("viable rim", "Ktrans")]], 9)
        self.assertAlmostEqual(columns["volume_ml"][rows[("necrotic core", "Ktrans")]], 9 / 1000.0)

    def test_unnamed_labels_are_named_by_region_and_value(self):
        columns, _ = statistics_table({"Ktrans": self.ktrans}, {"habitats": self.labels}, np.eye(4))
        self.assertEqual(sorted(set(columns["segment"])), ["habitats label 2", "habitats label 4"])

    def test_per_region_label_names_and_bool_masks_side_by_side(self):
        columns, _ = statistics_table({"Ktrans": self.ktrans},
                                      {"tumour": self.labels > 0, "habitats": self.labels},
                                      np.eye(4), label_names={"habitats": {2: "rim", 4: "core"}})
        self.assertEqual(sorted(set(columns["segment"])), ["core", "rim", "tumour"])
        self.assertAlmostEqual(columns["mean"][_rows(columns)[("tumour", "Ktrans")]], 0.11, places=6)

    def test_label_masks_in_value_order(self):
        masks = label_masks(self.labels, {4: "core"})
        self.assertEqual(list(masks), ["label 2", "core"])
        self.assertEqual(int(masks["core"].sum()), 9)


class ExclusionTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(3)
        self.shape = (2, 10, 10)
        self.mask = np.ones(self.shape, bool)
        self.ktrans = rng.normal(0.1, 0.01, self.shape).astype(np.float32)
        self.status = np.zeros(self.shape, np.uint8)
        # Planted: 5 voxels at the 5 /min bound, 3 failed fits (value kept, not NaN), 2 negative.
        self.ktrans.flat[:5] = 5.0
        self.status.flat[:5] = fit_status.HIT_BOUND
        self.ktrans.flat[5:8] = 3.0
        self.status.flat[5:8] = fit_status.FAILED
        self.ktrans.flat[8:10] = -0.5
        self.clean = self.ktrans.ravel()[10:]

    def test_bound_failed_and_impossible_voxels_are_excluded_and_counted(self):
        columns, _ = statistics_table({"Ktrans": self.ktrans}, {"tumour": self.mask}, np.eye(4), status=self.status)
        self.assertEqual(columns["n_excluded_bound"][0], 5)
        self.assertEqual(columns["n_excluded_failed"][0], 3)
        self.assertEqual(columns["n_excluded_implausible"][0], 2)
        self.assertEqual(columns["n"][0], self.clean.size)
        self.assertAlmostEqual(columns["mean"][0], float(self.clean.mean()), places=5)
        self.assertLess(abs(columns["skewness"][0]), 1.0)       # pooled, the bound voxels give a huge skew
        pooled = region_statistics(self.ktrans, self.mask)
        self.assertGreater(pooled["skewness"], 3.0)
        self.assertAlmostEqual(columns["fraction failed"][0], 3 / 200)

    def test_status_governs_only_the_maps_it_applies_to(self):
        iauc = np.full(self.shape, 10.0, np.float32)
        columns, _ = statistics_table({"Ktrans": self.ktrans, "iAUC60": iauc}, {"tumour": self.mask}, np.eye(4),
                                      status=self.status, status_applies_to=("Ktrans",))
        rows = _rows(columns)
        self.assertEqual(columns["n"][rows[("tumour", "iAUC60")]], 200)
        self.assertEqual(columns["n_excluded_bound"][rows[("tumour", "iAUC60")]], 0)
        self.assertEqual(columns["n_excluded_bound"][rows[("tumour", "Ktrans")]], 5)

    def test_impossible_values_excluded_without_a_status_map(self):
        adc = np.full(self.shape, 1.0e-3)
        adc.flat[:4] = -2.0e-4
        ve = np.full(self.shape, 0.3)
        ve.flat[:3] = 1.4
        columns, _ = statistics_table({"ADC": adc, "ve": ve}, {"tumour": self.mask}, np.eye(4))
        rows = _rows(columns)
        self.assertEqual(columns["n_excluded_implausible"][rows[("tumour", "ADC")]], 4)
        self.assertEqual(columns["n_excluded_implausible"][rows[("tumour", "ve")]], 3)
        self.assertAlmostEqual(columns["mean"][rows[("tumour", "ADC")]], 1.0e-3)


class FlagImplausibleTest(unittest.TestCase):
    def test_status_map_marks_impossible_values(self):
        status = np.array([[[0, 0, 2, 1, 3, 0]]], np.uint8)
        adc = np.array([[[1e-3, -1e-4, -1e-4, -1e-4, -1e-4, np.nan]]])
        ve = np.array([[[0.5, 0.5, 0.5, 0.5, 0.5, 1.2]]])
        flagged = plausibility.flag_implausible(status, {"ADC": adc, "ve": ve})
        # ok stays ok; ok and hit-bound with an impossible value become IMPLAUSIBLE; failed and masked keep
        # their reason; NaN is missing, not impossible (ve > 1 flags the last voxel).
        self.assertEqual(flagged.ravel().tolist(), [0, fit_status.IMPLAUSIBLE, fit_status.IMPLAUSIBLE, 1, 3,
                                                    fit_status.IMPLAUSIBLE])
        self.assertEqual(status.ravel().tolist(), [0, 0, 2, 1, 3, 0])            # input untouched
        self.assertEqual(fit_status.NAMES[fit_status.IMPLAUSIBLE], "implausible value")

    def test_quantities_without_limits_are_never_flagged(self):
        values = np.array([[[-5.0, 1e9]]])
        self.assertFalse(plausibility.implausible_mask("iAUC60", values).any())
        self.assertTrue(plausibility.implausible_mask("se_Ktrans", values).any())


if __name__ == "__main__":
    unittest.main()


class LabelMapMasksTest(unittest.TestCase):
    """A multi-label label-map node gives one mask per label, named by its colour table."""

    def test_rows_named_by_the_colour_table(self):
        from TMEMonitorLib import scene as tme_scene
        from TMEMonitorLib.scene.inputs import label_map_masks
        scene = tme_scene.create_scene()
        try:
            labels = np.zeros((1, 4, 6), np.uint8)
            labels[0, 1:, :3] = 2
            labels[0, 1:, 3:] = 4
            colors = tme_scene.label_color_node(scene, "tissue", tme_scene.TISSUE_LABELS)
            node = tme_scene.add_label_map(scene, labels, np.eye(4), "tissue labels", colors)
            masks = label_map_masks(node, labels.shape, np.eye(4))
            self.assertEqual(list(masks), ["viable rim", "necrotic core"])
            self.assertEqual(int(masks["necrotic core"].sum()), 9)
            single = tme_scene.add_label_map(scene, (labels > 0).astype(np.uint8), np.eye(4), "tumour")
            self.assertEqual(label_map_masks(single, labels.shape, np.eye(4)), {})
        finally:
            tme_scene.release_scene(scene)
