"""MRML adapters on a real headless slicer-core scene: round trips, units, geometry, .mrb."""
import datetime
import os
import tempfile
import unittest

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError


def oblique_ijk_to_ras():
    angle = np.deg2rad(12.0)
    directions = np.array([[np.cos(angle), -np.sin(angle), 0.0],
                           [np.sin(angle), np.cos(angle), 0.0],
                           [0.0, 0.0, 1.0]])
    return tme_scene.make_ijk_to_ras((0.9, 1.1, 3.5), (-40.0, 22.5, 7.25), directions)


class SceneAdapterTest(unittest.TestCase):
    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.rng = np.random.default_rng(1)

    def test_volume_round_trip_exact(self):
        array = self.rng.normal(size=(3, 5, 7)).astype(np.float32)
        matrix = oblique_ijk_to_ras()
        node = tme_scene.array_to_volume(self.scene, array, matrix, "vol")
        back = tme_scene.volume_to_array(node)
        self.assertEqual(back.dtype, np.float32)
        np.testing.assert_array_equal(back, array)
        shape, matrix_back = tme_scene.volume_geometry(node)
        self.assertEqual(shape, (3, 5, 7))
        np.testing.assert_allclose(matrix_back, matrix, atol=1e-12)

    def test_rejects_non_3d(self):
        with self.assertRaises(InputError):
            tme_scene.array_to_volume(self.scene, np.zeros((2, 2)), np.eye(4), "bad")

    def test_sequence_round_trip_with_uneven_index(self):
        array = self.rng.normal(size=(4, 2, 3, 5)).astype(np.float32)
        times = np.array([0.0, 1.7, 3.1, 10.123456789])
        sequence = tme_scene.array_to_sequence(self.scene, array, times, oblique_ijk_to_ras(), "dce",
                                               axis_source="DICOM TriggerTime (0018,1060)")
        back, values, name, unit, matrix = tme_scene.sequence_to_array(sequence)
        np.testing.assert_array_equal(back, array)
        np.testing.assert_array_equal(values, times)
        self.assertEqual((name, unit), ("time", "s"))
        np.testing.assert_allclose(matrix, oblique_ijk_to_ras(), atol=1e-12)
        self.assertIn("TriggerTime", tme_scene.axis_provenance(sequence)["axis_values"])

    def test_b_sequence_unit(self):
        sequence = tme_scene.array_to_sequence(self.scene, np.ones((2, 1, 2, 2)), [0, 800], np.eye(4), "dwi", axis_name="b")
        self.assertEqual(sequence.GetIndexUnit(), "s/mm2")

    def test_sequence_frame_count_mismatch(self):
        with self.assertRaises(InputError):
            tme_scene.array_to_sequence(self.scene, np.ones((3, 1, 2, 2)), [0, 1], np.eye(4), "x")

    def test_parameter_map_units_and_display(self):
        values = np.full((2, 4, 4), np.nan, dtype=np.float32)
        values[:, 1:3, 1:3] = [[0.1, 0.2], [0.3, 0.4]]
        node = tme_scene.add_parameter_map(self.scene, values, np.eye(4), "Ktrans", "Ktrans", "1/min")
        self.assertEqual(node.GetVoxelValueUnits().GetCodeValue(), "/min")
        self.assertEqual(node.GetVoxelValueUnits().GetCodingSchemeDesignator(), "UCUM")
        self.assertEqual(node.GetVoxelValueQuantity().GetCodeValue(), "Ktrans")
        display = node.GetDisplayNode()
        self.assertTrue(display.GetApplyThreshold())
        self.assertAlmostEqual(display.GetLowerThreshold(), 0.1, places=6)
        self.assertIn("viridis", display.GetColorNode().GetName())
        self.assertGreater(display.GetWindow(), 0)
        self.assertTrue(0.1 <= display.GetLevel() <= 0.4)

    def test_unknown_unit_rejected(self):
        with self.assertRaises(ValueError):
            tme_scene.add_parameter_map(self.scene, np.ones((1, 2, 2)), np.eye(4), "x", "x", "furlongs")

    def test_table_with_units_and_missing(self):
        node = tme_scene.add_table(self.scene, "biomarkers", {"visit": ["a", "b"], "ADC": [1.1e-3, None]},
                                   units={"ADC": "mm2/s"})
        self.assertEqual(node.GetColumnUnitLabel("ADC"), "mm2/s")
        columns = tme_scene.table_to_columns(node)
        self.assertEqual(columns["visit"], ["a", "b"])
        self.assertTrue(np.isnan(columns["ADC"][1]))

    def test_plot_chart(self):
        chart = tme_scene.add_plot(self.scene, "curve", [0, 1, 2], {"measured": [1, 2, 3], "fit": [1, 2, 2.9]},
                                   "time", "concentration", "s", "mM", styles={"measured": "markers"})
        self.assertEqual(chart.GetNumberOfPlotSeriesNodes(), 2)

    def test_hierarchy_and_mrb_round_trip(self):
        hierarchy = tme_scene.hierarchy
        patient = hierarchy.add_patient(self.scene, "Synthetic patient", "TME-001", datetime.date(2026, 1, 5))
        baseline = hierarchy.add_visit(self.scene, patient, "baseline", datetime.date(2026, 1, 2), day=-3, role="baseline")
        week2 = hierarchy.add_visit(self.scene, patient, "week 2", datetime.date(2026, 1, 19), day=14)
        array = self.rng.normal(size=(2, 3, 4)).astype(np.float32)
        node = tme_scene.add_parameter_map(self.scene, array, oblique_ijk_to_ras(), "ADC baseline", "ADC", "mm2/s")
        hierarchy.place(self.scene, node, baseline)
        labels = tme_scene.add_label_map(self.scene, (array > 0).astype(np.uint8), oblique_ijk_to_ras(), "tumour",
                                         tme_scene.label_color_node(self.scene, "tissue", tme_scene.TISSUE_LABELS))
        hierarchy.place(self.scene, labels, week2)
        sequence = tme_scene.array_to_sequence(self.scene, np.stack([array, 2 * array]), [0.0, 2.5], oblique_ijk_to_ras(), "dce")
        hierarchy.place(self.scene, sequence, baseline)
        tme_scene.add_table(self.scene, "stats", {"a": [1.0, 2.0]}, units={"a": "mm"})

        path = os.path.join(tempfile.mkdtemp(), "patient.mrb")
        tme_scene.save_scene(self.scene, path)
        loaded = tme_scene.load_scene(path)
        visits = hierarchy.visits(loaded, hierarchy.find_item(loaded, "Synthetic patient"))
        self.assertEqual([v[1] for v in visits], ["baseline", "week 2"])
        self.assertEqual(visits[1][3], 14)
        adc = loaded.GetFirstNodeByName("ADC baseline")
        np.testing.assert_array_equal(tme_scene.volume_to_array(adc), array)
        np.testing.assert_allclose(tme_scene.node_ijk_to_ras(adc), oblique_ijk_to_ras(), atol=1e-5)
        self.assertEqual(adc.GetVoxelValueUnits().GetCodeValue(), "mm2/s")
        self.assertEqual(adc.GetAttribute("TMEMonitor.Unit"), "mm2/s")
        seq = loaded.GetFirstNodeByName("dce")
        back, values, name, unit, _ = tme_scene.sequence_to_array(seq)
        np.testing.assert_array_equal(values, [0.0, 2.5])
        np.testing.assert_allclose(back[1], 2 * array)
        names = [n.GetName() for n in hierarchy.children_nodes(loaded, visits[0][0])]
        self.assertIn("ADC baseline", names)
        self.assertIsNotNone(loaded.GetFirstNodeByName("TME viridis"))
        self.assertEqual(loaded.GetFirstNodeByName("stats").GetColumnUnitLabel("a"), "mm")

    def test_visit_without_date(self):
        patient = tme_scene.hierarchy.add_patient(self.scene, "p")
        with self.assertRaises(InputError):
            tme_scene.hierarchy.add_visit(self.scene, patient, "v", None)


if __name__ == "__main__":
    unittest.main()


class InputResolutionTest(unittest.TestCase):
    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.ijk = tme_scene.make_ijk_to_ras((1.0, 1.0, 2.0), (3.0, 4.0, 5.0))
        self.labels = np.zeros((3, 8, 8), np.uint8)
        self.labels[1, 2:5, 2:6] = 2
        self.labels[1, 5, 5] = 4

    def test_segmentation_to_mask_on_series_grid(self):
        from TMEMonitorLib.scene import inputs
        label_node = tme_scene.add_label_map(self.scene, self.labels, self.ijk, "labels",
                                             tme_scene.label_color_node(self.scene, "tissue", tme_scene.TISSUE_LABELS))
        segmentation = tme_scene.labelmap_to_segmentation(self.scene, label_node, "tumour")
        self.assertEqual(segmentation.GetSegmentation().GetNumberOfSegments(), 2)
        nodes_before = self.scene.GetNumberOfNodes()
        mask = inputs.mask_from_node(self.scene, segmentation, self.labels.shape, self.ijk)
        np.testing.assert_array_equal(mask, self.labels > 0)
        self.assertEqual(self.scene.GetNumberOfNodes(), nodes_before, "temporary nodes must be removed")

    def test_mask_on_other_grid_is_refused(self):
        label_node = tme_scene.add_label_map(self.scene, self.labels, self.ijk, "labels")
        with self.assertRaises(InputError):
            tme_scene.mask_from_node(self.scene, label_node, (3, 8, 9), self.ijk)

    def test_series_from_sequence_converts_ms(self):
        sequence = tme_scene.array_to_sequence(self.scene, np.ones((3, 1, 2, 2)), [0, 500, 1000], np.eye(4), "dce",
                                               axis_unit="ms")
        series = tme_scene.series_from_node(sequence, expected_axis="time")
        np.testing.assert_allclose(series.axis_values, [0.0, 0.5, 1.0])

    def test_series_axis_mismatch(self):
        from TMEMonitorLib.errors import MetadataError
        sequence = tme_scene.array_to_sequence(self.scene, np.ones((2, 1, 2, 2)), [0, 800], np.eye(4), "dwi", axis_name="b")
        with self.assertRaises(MetadataError):
            tme_scene.series_from_node(sequence, expected_axis="time")

    def test_nan_frame_refused(self):
        array = np.ones((3, 1, 2, 2))
        array[1] = np.nan
        sequence = tme_scene.array_to_sequence(self.scene, array, [0, 1, 2], np.eye(4), "dce")
        with self.assertRaises(InputError):
            tme_scene.series_from_node(sequence, expected_axis="time")

    def test_acquisition_metadata_round_trip(self):
        sequence = tme_scene.array_to_sequence(self.scene, np.ones((2, 1, 2, 2)), [0, 1], np.eye(4), "dce")
        tme_scene.set_acquisition_attributes(sequence, {"TR_s": 0.005, "flip_angle_deg": 15, "manufacturer": "X"})
        metadata = tme_scene.acquisition_metadata(sequence)
        self.assertEqual(metadata["TR_s"], 0.005)
        self.assertEqual(metadata["manufacturer"], "X")
