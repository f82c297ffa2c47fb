"""DiffusionLogic through the whole MRML path on a headless scene: sequence / diffusion-weighted
volume in, maps with units and geometry, per-model status maps, computed high-b images, statistics
per segment, b-value provenance on every output, the signal plot, and bad input refused with the
scene left exactly as it was."""
import unittest
from unittest import mock

import numpy as np
import vtk

from DiffusionModuleLib import logic as logic_module
from DiffusionModuleLib.logic import DiffusionLogic
from DiffusionModuleLib.settings import DiffusionSettings
from DiffusionModuleLib.synthesis import ivim_signal
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.scene import attribute_names
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.fitting import status as fit_status
from TMEMonitorLib.scene import hierarchy

B = np.array([0, 10, 20, 50, 100, 200, 400, 600, 800, 1000], dtype=float)
SHAPE = (3, 6, 7)
SOURCE = "DICOM DiffusionBValue (0018,9087)"

B_VALUES_SOURCE = attribute_names.source_attribute("b_values")


def oblique_ijk_to_ras():
    angle = np.deg2rad(8.0)
    directions = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0, 0, 1.0]])
    return tme_scene.make_ijk_to_ras((1.25, 1.5, 3.0), (-20.0, 15.0, 4.0), directions)


def synthetic_dwi():
    """Noise-free IVIM series with two tissues (left / right half) and a background with no signal."""
    tissue = np.zeros(SHAPE, bool)
    tissue[:, 1:5, 1:6] = True
    left = tissue.copy()
    left[:, :, 3:] = False
    truth = {"D": np.where(left, 0.8e-3, 1.6e-3), "f": np.where(left, 0.15, 0.06),
             "Dstar": np.where(left, 0.03, 0.05), "S0": np.full(SHAPE, 1000.0)}
    signal = ivim_signal(truth["S0"], truth["D"], truth["f"], truth["Dstar"], B)
    signal[~tissue] = 0.0
    return np.moveaxis(signal, -1, 0).astype(np.float32), tissue, left, truth


def loglinear_adc(curves, b):
    return -np.polyfit(b, np.log(curves), 1)[0]          # curves: (n_b, voxels)


def node_ids(scene):
    return {scene.GetNthNode(i).GetID() for i in range(scene.GetNumberOfNodes())}


class DiffusionWorkflowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.signal, cls.tissue, cls.left, cls.truth = synthetic_dwi()

    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.ijk = oblique_ijk_to_ras()
        self.node = tme_scene.array_to_sequence(self.scene, self.signal, B, self.ijk, "DWI", axis_name="b",
                                                axis_source=SOURCE)
        labels = self.tissue.astype(np.uint8) + self.left.astype(np.uint8)   # 1 right half, 2 left half
        self.mask = tme_scene.add_label_map(self.scene, self.tissue, self.ijk, "tissue")
        self.labels = tme_scene.add_label_map(self.scene, labels, self.ijk, "halves")
        self.logic = DiffusionLogic(self.scene)

    def tearDown(self):
        tme_scene.release_scene(self.scene)

    def test_exact_recovery_units_geometry_and_status(self):
        result = self.logic.run(self.node, DiffusionSettings(ivim_method="full"), mask_node=self.mask)
        t = self.tissue
        d = tme_scene.volume_to_array(result.map_nodes["D"])
        np.testing.assert_allclose(d[t], self.truth["D"][t], rtol=2e-3)
        np.testing.assert_allclose(tme_scene.volume_to_array(result.map_nodes["f"])[t], self.truth["f"][t], atol=2e-3)
        np.testing.assert_allclose(tme_scene.volume_to_array(result.map_nodes["Dstar"])[t], self.truth["Dstar"][t],
                                   rtol=0.02)
        adc = tme_scene.volume_to_array(result.map_nodes["ADC"])
        np.testing.assert_allclose(adc[t], loglinear_adc(self.signal[:, t], B), rtol=1e-5)
        np.testing.assert_array_equal(adc[~t], np.nan)
        np.testing.assert_allclose(tme_scene.node_ijk_to_ras(result.map_nodes["ADC"]), self.ijk, atol=1e-9)
        units = {name: result.map_nodes[name].GetVoxelValueUnits().GetCodeValue()
                 for name in ("ADC", "D", "Dstar", "f", "S0")}
        self.assertEqual(units, {"ADC": "mm2/s", "D": "mm2/s", "Dstar": "mm2/s", "f": "1", "S0": "[arb'U]"})
        self.assertEqual(result.map_nodes["ADC"].GetVoxelValueUnits().GetCodingSchemeDesignator(), "UCUM")
        self.assertEqual(sorted(result.status_nodes), ["adc", "ivim"])
        for model, node in result.status_nodes.items():
            self.assertTrue(node.IsA("vtkMRMLLabelMapVolumeNode"))
            status = tme_scene.volume_to_array(node)
            np.testing.assert_array_equal(status[t], fit_status.OK, err_msg=str(model))
            np.testing.assert_array_equal(status[~t], fit_status.MASKED, err_msg=str(model))
        computed = tme_scene.volume_to_array(result.computed_high_b_nodes[1400.0])
        expected = ivim_signal(self.truth["S0"], self.truth["D"], self.truth["f"], self.truth["Dstar"], [1400.0])
        np.testing.assert_allclose(computed[t], expected[..., 0][t], rtol=0.01)

    def test_b_values_and_source_recorded_on_every_output(self):
        result = self.logic.run(self.node, mask_node=self.mask)
        outputs = [*result.map_nodes.values(), *result.status_nodes.values(),
                   *result.computed_high_b_nodes.values(), result.table_node]
        for node in outputs:
            self.assertEqual(attribute_names.get(node, B_VALUES_SOURCE), SOURCE, node.GetName())
            self.assertEqual(node.GetAttribute("TMEMonitor.b_values"), " ".join(f"{b:g}" for b in B))
        self.assertEqual(result.map_nodes["ADC"].GetAttribute("TMEMonitor.b_range"), "0 1000")
        self.assertEqual(result.map_nodes["ADC"].GetAttribute("TMEMonitor.Source.b_range"), "default (every b-value)")
        self.assertEqual(result.map_nodes["D"].GetAttribute("TMEMonitor.b_threshold"), "200.0")
        self.assertEqual(result.b_values_source, SOURCE)

    def test_statistics_per_segment_with_histogram_metrics(self):
        segmentation = tme_scene.labelmap_to_segmentation(self.scene, self.labels, "halves")
        result = self.logic.run(self.node, mask_node=self.mask, statistics_segmentation=segmentation)
        columns = tme_scene.table_to_columns(result.table_node)
        for key in ("median", "p10", "p90", "skewness", "kurtosis", "entropy", "fraction failed", "volume_ml"):
            self.assertIn(key, columns)
        self.assertNotIn("se_ADC", columns["parameter"])
        segments = sorted(set(columns["segment"]))
        self.assertEqual(len(segments), 2)
        d_rows = [i for i, p in enumerate(columns["parameter"]) if p == "D"]
        means = sorted(columns["mean"][i] for i in d_rows)
        np.testing.assert_allclose(means, [0.8e-3, 1.6e-3], rtol=2e-3)
        counts = sorted(columns["n"][i] for i in d_rows)
        self.assertEqual(counts, sorted([int(self.left.sum()), int((self.tissue & ~self.left).sum())]))
        unit = {columns["parameter"][i]: columns["unit"][i] for i in range(len(columns["parameter"]))}
        self.assertEqual(unit["ADC"], "mm2/s")
        self.assertEqual(unit["f"], "")
        self.assertEqual({columns["fraction failed"][i] for i in d_rows}, {0.0})

    def test_subject_hierarchy_folder(self):
        patient = hierarchy.add_patient(self.scene, "patient")
        visit = hierarchy.add_visit(self.scene, patient, "baseline", "2026-01-05")
        result = self.logic.run(self.node, mask_node=self.mask, parent_item=visit, name_prefix="baseline DWI")
        names = {n.GetName() for n in hierarchy.children_nodes(self.scene, visit)}
        self.assertIn("baseline DWI ADC", names)
        self.assertIn(result.table_node.GetName(), names)
        self.assertIn(result.status_nodes["ivim"].GetName(), names)

    def test_signal_plot_voxel_and_region(self):
        result = self.logic.run(self.node, DiffusionSettings(fit_ivim=False), mask_node=self.mask)
        voxel = tuple(np.argwhere(self.tissue)[0])
        chart = self.logic.signal_plot(result, self.node, voxel=voxel)
        columns = tme_scene.table_to_columns(chart.GetNthPlotSeriesNode(0).GetTableNode())
        np.testing.assert_allclose(columns["b"], B)
        np.testing.assert_allclose(columns["measured"], self.signal[(slice(None),) + voxel], rtol=1e-6)
        adc = tme_scene.volume_to_array(result.map_nodes["ADC"])[voxel]
        s0 = tme_scene.volume_to_array(result.map_nodes["S0"])[voxel]
        np.testing.assert_allclose(columns["ADC fit"], s0 * np.exp(-B * adc), rtol=1e-5)
        # From the analysis and the array, over a region: the mean of the measured curves.
        region_chart = self.logic.signal_plot(result.analysis, self.signal, mask=self.left)
        region = tme_scene.table_to_columns(region_chart.GetNthPlotSeriesNode(0).GetTableNode())
        np.testing.assert_allclose(region["measured"], self.signal[:, self.left].mean(axis=1), rtol=1e-5)
        with self.assertRaises(InputError):
            self.logic.signal_plot(result, self.signal[:3])

    def test_noise_sigma_attribute_used_for_rician_correction(self):
        tme_scene.set_acquisition_attributes(self.node, {"noise_sigma": 5.0})
        result = self.logic.run(self.node, DiffusionSettings(fit_ivim=False, rician_correction=True),
                                mask_node=self.mask)
        self.assertEqual(result.analysis.noise_sigma, 5.0)
        self.assertIn("noise_sigma attribute", result.analysis.noise_sigma_source)
        self.assertEqual(result.map_nodes["ADC"].GetAttribute("TMEMonitor.rician_noise_sigma"), "5.0")

    def test_typed_b_values_for_a_series_without_them(self):
        frames = tme_scene.array_to_sequence(self.scene, self.signal, np.arange(B.size), self.ijk, "frames",
                                             axis_name="frame", axis_unit="")
        with self.assertRaises(MetadataError):
            self.logic.run(frames)
        result = self.logic.run(frames, DiffusionSettings(fit_ivim=False), mask_node=self.mask, b_values=B)
        adc = tme_scene.volume_to_array(result.map_nodes["ADC"])
        np.testing.assert_allclose(adc[self.tissue], loglinear_adc(self.signal[:, self.tissue], B), rtol=1e-5)
        self.assertEqual(attribute_names.get(result.map_nodes["ADC"], B_VALUES_SOURCE), "typed by the user")
        chart = self.logic.signal_plot(result, frames, voxel=tuple(np.argwhere(self.tissue)[0]))
        self.assertEqual(chart.GetNumberOfPlotSeriesNodes(), 2)

    def test_diffusion_weighted_volume_node(self):
        node = self.scene.AddNewNodeByClass("vtkMRMLDiffusionWeightedVolumeNode", "DWI volume")
        image = vtk.vtkImageData()
        image.SetDimensions(SHAPE[2], SHAPE[1], SHAPE[0])
        from vtk.util import numpy_support
        components = np.ascontiguousarray(np.moveaxis(self.signal, 0, -1)).reshape(-1, B.size)
        image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(components, deep=True))
        node.SetAndObserveImageData(image)
        tme_scene.geometry.set_node_ijk_to_ras(node, self.ijk)
        node.SetNumberOfGradients(B.size)
        for index, b in enumerate(B):
            node.SetBValue(index, b)
            node.SetDiffusionGradient(index, [0.0, 0.0, 1.0] if b > 0 else [0.0, 0.0, 0.0])
        result = self.logic.run(node, DiffusionSettings(fit_ivim=False), mask_node=self.mask)
        adc = tme_scene.volume_to_array(result.map_nodes["ADC"])
        np.testing.assert_allclose(adc[self.tissue], loglinear_adc(self.signal[:, self.tissue], B), rtol=1e-5)
        self.assertIn("diffusion-weighted volume", result.b_values_source)

    def assertSceneUnchanged(self, call, error=InputError):
        before = node_ids(self.scene)
        with self.assertRaises(error):
            call()
        self.assertEqual(node_ids(self.scene), before)

    def test_bad_input_leaves_the_scene_untouched(self):
        single = tme_scene.array_to_sequence(self.scene, self.signal[:1], [0.0], self.ijk, "one b", axis_name="b")
        wrong_grid = tme_scene.add_label_map(self.scene, np.ones((3, 6, 6), np.uint8), self.ijk, "wrong grid")
        no_low_b = tme_scene.array_to_sequence(self.scene, self.signal[4:], B[4:], self.ijk, "no low b", axis_name="b")
        zeros = tme_scene.array_to_sequence(self.scene, np.zeros_like(self.signal), B, self.ijk, "zeros", axis_name="b")
        cases = {
            "single b": lambda: self.logic.run(single),
            "mask grid": lambda: self.logic.run(self.node, mask_node=wrong_grid),
            "IVIM without low b": lambda: self.logic.run(no_low_b),
            "kurtosis without high b": lambda: self.logic.run(self.node, DiffusionSettings(fit_kurtosis=True)),
            "all zero": lambda: self.logic.run(zeros),
            "no model": lambda: self.logic.run(self.node, DiffusionSettings(fit_adc=False, fit_ivim=False)),
            "typed b count": lambda: self.logic.run(self.node, b_values=[0, 500]),
            "no node": lambda: self.logic.run(None),
        }
        for name, call in cases.items():
            with self.subTest(case=name):
                self.assertSceneUnchanged(call)

    def test_failure_while_writing_rolls_back(self):
        with mock.patch.object(logic_module.tme_scene, "add_table", side_effect=RuntimeError("disk full")):
            self.assertSceneUnchanged(lambda: self.logic.run(self.node, mask_node=self.mask), RuntimeError)


class DemoWorkflowTest(unittest.TestCase):
    """The module's self-test workflow on the project's synthetic patient (Rician noise, SNR 50)."""

    def test_demo_visit(self):
        from TMEMonitorApp.demo import build_demo_scene
        scene = tme_scene.create_scene()
        try:
            build = build_demo_scene(scene, size="tiny", seed=2, n_visits=1)
            visit = build.visits[0]
            mask = visit.visit.tumour_mask
            mask_node = tme_scene.add_label_map(scene, mask, visit.visit.ijk_to_ras, "tumour mask")
            result = DiffusionLogic(scene).run(visit.nodes["dwi"], DiffusionSettings(rician_correction=True),
                                               mask_node=mask_node, statistics_segmentation=visit.nodes["tumour"])
            for name, tolerance in (("ADC", 0.05), ("D", 0.05), ("f", 0.15), ("Dstar", 0.15)):
                fitted = np.nanmedian(tme_scene.volume_to_array(result.map_nodes[name])[mask])
                truth = np.median(visit.visit.truth[name][mask])
                self.assertLess(abs(fitted / truth - 1), tolerance, name)
            self.assertIn("phantom b-values", result.b_values_source)
            self.assertEqual(result.analysis.noise_sigma, float(visit.nodes["dwi"].GetAttribute("TMEMonitor.noise_sigma")))
            columns = tme_scene.table_to_columns(result.table_node)
            self.assertIn("ADC", columns["parameter"])
        finally:
            tme_scene.release_scene(scene)


if __name__ == "__main__":
    unittest.main()
