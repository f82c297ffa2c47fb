"""DCELogic on a headless scene: nodes in (sequences, label maps, segmentations), nodes out
(maps with units, status and curve-type label maps, statistics table, AIF chart, sequences),
bad input refused with the scene left as it was."""
import os
import tempfile
import unittest
from unittest import mock

import numpy as np

from dce_fixtures import DELAY_S, synthetic_dce
from DCEModuleLib.logic import DCELogic
from DCEModuleLib.settings import DCESettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.scene import hierarchy


def oblique_ijk_to_ras():
    angle = np.deg2rad(10.0)
    directions = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0, 0, 1.0]])
    return tme_scene.make_ijk_to_ras((1.5, 1.25, 4.0), (-30.0, 12.5, 8.0), directions)


def node_count(scene):
    return scene.GetNumberOfNodes()


class DCELogicTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = synthetic_dce()

    def setUp(self):
        d = self.data
        self.scene = tme_scene.create_scene()
        self.ijk = oblique_ijk_to_ras()
        self.dce = tme_scene.array_to_sequence(self.scene, d.signal, d.t_s, self.ijk, "DCE",
                                               axis_source="synthetic frame times")
        tme_scene.set_acquisition_attributes(self.dce, d.metadata)
        self.vfa = tme_scene.array_to_sequence(self.scene, d.vfa, d.flips_deg, self.ijk, "VFA",
                                               axis_name="flip_angle", axis_unit="deg")
        self.mask = tme_scene.add_label_map(self.scene, d.tissue, self.ijk, "tissue")
        self.logic = DCELogic(self.scene)
        self.settings = DCESettings(aif_delay_s=DELAY_S)

    def tearDown(self):
        tme_scene.release_scene(self.scene)

    def test_maps_units_status_table_and_chart(self):
        result = self.logic.run(self.dce, self.settings, vfa_node=self.vfa, mask_node=self.mask)
        d = self.data
        ktrans_node = result.map_nodes["Ktrans"]
        self.assertEqual(ktrans_node.GetVoxelValueUnits().GetCodeValue(), "/min")
        self.assertEqual(ktrans_node.GetVoxelValueUnits().GetCodingSchemeDesignator(), "UCUM")
        self.assertEqual(result.map_nodes["ve"].GetVoxelValueUnits().GetCodeValue(), "1")
        self.assertEqual(result.map_nodes["T10"].GetVoxelValueUnits().GetCodeValue(), "s")
        np.testing.assert_allclose(tme_scene.node_ijk_to_ras(ktrans_node), self.ijk, atol=1e-9)
        ktrans = tme_scene.volume_to_array(ktrans_node)
        np.testing.assert_allclose(ktrans[d.tissue], d.truth["Ktrans"][d.tissue], rtol=0.01)
        np.testing.assert_array_equal(ktrans[d.artery], np.nan)
        self.assertEqual(ktrans_node.GetAttribute("TMEMonitor.TR_s"), "0.005")
        self.assertEqual(ktrans_node.GetAttribute("TMEMonitor.Source.TR_s"), "acquisition metadata")

        status = tme_scene.volume_to_array(result.status_node)
        self.assertTrue(result.status_node.IsA("vtkMRMLLabelMapVolumeNode"))
        np.testing.assert_array_equal(status[d.tissue], fit_status.OK)
        np.testing.assert_array_equal(status[d.artery], fit_status.MASKED)
        self.assertTrue(result.curve_type_node.IsA("vtkMRMLLabelMapVolumeNode"))

        columns = tme_scene.table_to_columns(result.table_node)
        row = [i for i, (s, p) in enumerate(zip(columns["segment"], columns["parameter"]))
               if s == "tissue" and p == "Ktrans"]
        self.assertEqual(len(row), 1)
        self.assertAlmostEqual(columns["mean"][row[0]], float(np.mean(d.truth["Ktrans"][d.tissue])), delta=1e-3)
        self.assertEqual(columns["unit"][row[0]], "1/min")
        self.assertEqual(columns["n"][row[0]], int(d.tissue.sum()))
        self.assertNotIn("se_Ktrans", columns["parameter"])

        chart = result.aif_chart_node
        self.assertEqual(chart.GetNumberOfPlotSeriesNodes(), 2)
        self.assertIn("population (parker)", chart.GetAttribute("TMEMonitor.AIFSource"))
        aif_table = tme_scene.table_to_columns(chart.GetNthPlotSeriesNode(0).GetTableNode())
        np.testing.assert_allclose(aif_table["plasma AIF"], d.cp_mM, rtol=1e-9)

    def test_segmentation_as_mask_with_statistics_per_segment(self):
        d = self.data
        labels = np.where(d.tissue, 1, 0).astype(np.uint8)
        labels[1][d.tissue[1]] = 2                                  # second slice: another segment
        label_node = tme_scene.add_label_map(self.scene, labels, self.ijk, "habitats")
        segmentation = tme_scene.labelmap_to_segmentation(self.scene, label_node, "habitats")
        result = self.logic.run(self.dce, self.settings, vfa_node=self.vfa, mask_node=segmentation)
        ktrans = tme_scene.volume_to_array(result.map_nodes["Ktrans"])
        np.testing.assert_array_equal(np.isfinite(ktrans), d.tissue)
        columns = tme_scene.table_to_columns(result.table_node)
        segments = sorted(set(columns["segment"]))
        self.assertEqual(len(segments), 3)                          # the union and its two segments
        counts = {s: n for s, p, n in zip(columns["segment"], columns["parameter"], columns["n"]) if p == "Ktrans"}
        union = segmentation.GetName()
        self.assertEqual(counts[union], int(d.tissue.sum()))
        self.assertEqual(sorted(v for k, v in counts.items() if k != union),
                         sorted([int(d.tissue[0].sum()), int(d.tissue[1].sum())]))

    def test_model_selection_map(self):
        result = self.logic.run(self.dce, DCESettings(aif_delay_s=DELAY_S, select_model=True), vfa_node=self.vfa,
                                mask_node=self.mask)
        node = result.map_nodes["model"]
        np.testing.assert_array_equal(tme_scene.volume_to_array(node)[self.data.tissue], 3)
        self.assertIn("3 extended_tofts", node.GetAttribute("TMEMonitor.ModelCodes"))
        self.assertNotIn("model", tme_scene.table_to_columns(result.table_node)["parameter"])

    def test_vfa_on_another_grid_is_refused_and_scene_unchanged(self):
        moved = self.ijk.copy()
        moved[:3, 3] += 5.0
        vfa = tme_scene.array_to_sequence(self.scene, self.data.vfa, self.data.flips_deg, moved, "VFA moved",
                                          axis_name="flip_angle", axis_unit="deg")
        before = node_count(self.scene)
        with self.assertRaises(InputError) as caught:
            self.logic.run(self.dce, self.settings, vfa_node=vfa, mask_node=self.mask)
        self.assertIn("VFA moved", str(caught.exception))
        self.assertEqual(node_count(self.scene), before)

    def test_missing_metadata_is_refused_and_scene_unchanged(self):
        self.dce.RemoveAttribute("TMEMonitor.flip_angle_deg")
        before = node_count(self.scene)
        with self.assertRaises(MetadataError) as caught:
            self.logic.run(self.dce, self.settings, vfa_node=self.vfa, mask_node=self.mask)
        self.assertIn("flip angle", str(caught.exception))
        self.assertEqual(node_count(self.scene), before)

    def test_failure_while_writing_removes_the_nodes_written(self):
        before = node_count(self.scene)
        with mock.patch.object(tme_scene, "add_table", side_effect=RuntimeError("disk full")):
            with self.assertRaises(RuntimeError):
                self.logic.run(self.dce, self.settings, vfa_node=self.vfa, mask_node=self.mask)
        self.assertEqual(node_count(self.scene), before)

    def test_mask_on_another_grid_is_refused(self):
        mask = tme_scene.add_label_map(self.scene, self.data.tissue[:, :, :7], self.ijk, "small mask")
        before = node_count(self.scene)
        with self.assertRaises(InputError):
            self.logic.run(self.dce, self.settings, vfa_node=self.vfa, mask_node=mask)
        self.assertEqual(node_count(self.scene), before)

    def test_outputs_under_a_subject_hierarchy_folder(self):
        patient = hierarchy.add_patient(self.scene, "patient")
        visit = hierarchy.add_visit(self.scene, patient, "baseline", "2024-01-15", day=-3)
        result = self.logic.run(self.dce, self.settings, vfa_node=self.vfa, mask_node=self.mask, parent_item=visit,
                                name_prefix="baseline DCE")
        self.assertIsNotNone(result.folder_item)
        children = hierarchy.children_nodes(self.scene, result.folder_item)
        for node in [*result.map_nodes.values(), result.status_node, result.table_node, result.aif_chart_node]:
            self.assertIn(node, children)
        self.assertIn(result.map_nodes["Ktrans"], hierarchy.children_nodes(self.scene, visit))
        self.assertEqual(result.map_nodes["Ktrans"].GetName(), "baseline DCE Ktrans")

    def test_concentration_fitted_sequences_and_curve_plot(self):
        settings = DCESettings(aif_delay_s=DELAY_S, write_concentration=True, write_fitted_curves=True)
        result = self.logic.run(self.dce, settings, vfa_node=self.vfa, mask_node=self.mask)
        d = self.data
        for node in (result.concentration_node, result.fitted_node):
            array, values, name, unit, ijk = tme_scene.sequence_to_array(node)
            self.assertEqual(array.shape, d.signal.shape)
            np.testing.assert_allclose(values, d.t_s)
            self.assertEqual((name, unit), ("time", "s"))
            np.testing.assert_allclose(ijk, self.ijk, atol=1e-9)
        fitted, *_ = tme_scene.sequence_to_array(result.fitted_node)
        np.testing.assert_allclose(fitted[:, 1, 3, 5], d.ct_mM[1, 3, 5], atol=1e-4)
        chart = self.logic.curve_plot(result, voxel=(1, 3, 5))
        table = tme_scene.table_to_columns(chart.GetNthPlotSeriesNode(0).GetTableNode())
        np.testing.assert_allclose(table["measured"], d.ct_mM[1, 3, 5], atol=1e-4)
        np.testing.assert_allclose(table["fitted"], d.ct_mM[1, 3, 5], atol=1e-4)
        mean_chart = self.logic.curve_plot(result, name="tumour mean")
        mean_table = tme_scene.table_to_columns(mean_chart.GetNthPlotSeriesNode(0).GetTableNode())
        np.testing.assert_allclose(mean_table["measured"], d.ct_mM[d.tissue].mean(axis=0), atol=1e-4)

    def test_curve_plot_needs_the_curves(self):
        result = self.logic.run(self.dce, self.settings, vfa_node=self.vfa, mask_node=self.mask)
        with self.assertRaises(InputError):
            self.logic.curve_plot(result, voxel=(0, 1, 1))

    def test_measured_aif_marks_its_voxels(self):
        roi = tme_scene.add_label_map(self.scene, self.data.artery, self.ijk, "artery")
        result = self.logic.run(self.dce, DCESettings(aif_source="measured"), vfa_node=self.vfa, mask_node=self.mask,
                                aif_mask_node=roi)
        np.testing.assert_array_equal(tme_scene.volume_to_array(result.aif_voxels_node) > 0, self.data.artery)
        ktrans = tme_scene.volume_to_array(result.map_nodes["Ktrans"])[self.data.tissue]
        np.testing.assert_allclose(ktrans, self.data.truth["Ktrans"][self.data.tissue], rtol=0.01)

    def test_scene_saved_and_read_back(self):
        result = self.logic.run(self.dce, self.settings, vfa_node=self.vfa, mask_node=self.mask)
        expected = tme_scene.volume_to_array(result.map_nodes["Ktrans"])
        with tempfile.TemporaryDirectory() as folder:
            path = tme_scene.save_scene(self.scene, os.path.join(folder, "dce.mrb"))
            loaded = tme_scene.load_scene(path)
            try:
                node = loaded.GetFirstNodeByName(result.map_nodes["Ktrans"].GetName())
                self.assertIsNotNone(node)
                np.testing.assert_array_equal(tme_scene.volume_to_array(node), expected)
                self.assertEqual(node.GetVoxelValueUnits().GetCodeValue(), "/min")
            finally:
                tme_scene.release_scene(loaded)


if __name__ == "__main__":
    unittest.main()
