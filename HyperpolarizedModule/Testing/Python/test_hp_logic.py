"""HyperpolarizedLogic on a headless scene: metabolite sequence nodes in; kPL / AUC ratio / SNR maps on the
13C grid's own geometry with units, status map, per-segment statistics after taking an anatomy
segmentation to the 13C grid, dynamic plot with the fit; bad input refused with the scene as it was."""
import os
import tempfile
import unittest

import numpy as np

from HyperpolarizedModuleLib import segment_grid, synthesis
from HyperpolarizedModuleLib.logic import HyperpolarizedLogic
from HyperpolarizedModuleLib.settings import HyperpolarizedSettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st
from TMEMonitorLib.scene import hierarchy


class HyperpolarizedLogicTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.phantom = synthesis.phantom_grid(shape=(1, 10, 10), n_frames=16, kpl_tumour=0.06, kpl_normal=0.015)

    def setUp(self):
        p = self.phantom
        self.scene = tme_scene.create_scene()
        times = np.arange(p.pyruvate.shape[0]) * p.tr_s
        self.nodes = {}
        for metabolite, array, flip in (("pyruvate", p.pyruvate, 20.0), ("lactate", p.lactate, 30.0)):
            node = tme_scene.array_to_sequence(self.scene, array, times, p.ijk_to_ras, metabolite,
                                               axis_source="synthetic frame times")
            tme_scene.set_acquisition_attributes(node, {"flip_angle_deg": flip})
            self.nodes[metabolite] = node
        # Anatomy: a 2 mm grid over the same field; the tumour drawn there.
        self.anatomy_ijk = tme_scene.make_ijk_to_ras((2.0, 2.0, 15.0), (-64.0, -64.0, 0.0))
        fine = np.zeros((1, 60, 60), bool)
        k, j, i = np.indices(fine.shape)
        coarse = self.phantom.tumour[0]
        ci = np.clip(np.rint((i * 2.0 - 64.0 + 60.0) / 10.0).astype(int), 0, 9)
        cj = np.clip(np.rint((j * 2.0 - 64.0 + 60.0) / 10.0).astype(int), 0, 9)
        fine = coarse[cj, ci] & (k == 0)
        self.tumour_fine = fine
        self.logic = HyperpolarizedLogic(self.scene)

    def tearDown(self):
        tme_scene.release_scene(self.scene)

    def test_maps_status_statistics_plot(self):
        p = self.phantom
        label = tme_scene.add_label_map(self.scene, self.tumour_fine.astype(np.uint8), self.anatomy_ijk, "tumour")
        segmentation = tme_scene.labelmap_to_segmentation(self.scene, label, "anatomy segments")
        body = tme_scene.add_label_map(self.scene, p.body.astype(np.uint8), p.ijk_to_ras, "body")
        patient = hierarchy.add_patient(self.scene, "P1")
        visit = hierarchy.add_visit(self.scene, patient, "baseline", "2024-01-01")
        result = self.logic.run(self.nodes, HyperpolarizedSettings(), mask_node=body,
                                statistics_segmentation=segmentation, parent_item=visit)
        kpl_node = result.map_nodes["kPL"]
        self.assertEqual(kpl_node.GetVoxelValueUnits().GetCodeValue(), "/s")
        np.testing.assert_allclose(tme_scene.node_ijk_to_ras(kpl_node), p.ijk_to_ras, atol=1e-9)
        kpl = tme_scene.volume_to_array(kpl_node)
        self.assertEqual(kpl.shape, p.body.shape)
        np.testing.assert_allclose(kpl[p.body], p.kpl[p.body], rtol=1e-4)
        self.assertTrue(np.all(np.isnan(kpl[~p.body])))
        status = tme_scene.volume_to_array(result.status_node)
        np.testing.assert_array_equal(status[p.body], st.OK)
        np.testing.assert_array_equal(status[~p.body], st.MASKED)
        auc = tme_scene.volume_to_array(result.map_nodes["AUC_ratio"])
        np.testing.assert_allclose(auc[p.body], p.lactate.sum(0)[p.body] / p.pyruvate.sum(0)[p.body], rtol=1e-6)
        for name in ("SNR", "r2", "se_kPL", "lactate_TTP", "lactate_mean_time", "nrmse"):
            self.assertIn(name, result.map_nodes)
        self.assertIn("flip_angle_deg attribute", kpl_node.GetAttribute("TMEMonitor.flip_pyruvate"))
        self.assertIn("frame times", kpl_node.GetAttribute("TMEMonitor.TR"))
        # Statistics: the anatomy segment on the 13C grid by coverage
        expected = segment_grid.on_grid(self.tumour_fine, self.anatomy_ijk, p.body.shape, p.ijk_to_ras)
        segment = next(iter(result.segment_masks))        # named by the label's colour-table entry
        np.testing.assert_array_equal(result.segment_masks[segment], expected)
        self.assertGreater((expected & p.tumour).sum() / expected.sum(), 0.8)
        columns = tme_scene.table_to_columns(result.table_node)
        rows = [i for i, (s, n) in enumerate(zip(columns["segment"], columns["parameter"]))
                if s == segment and n == "kPL"]
        self.assertEqual(len(rows), 1)
        mean = float(columns["mean"][rows[0]])
        self.assertAlmostEqual(mean, float(np.nanmean(kpl[expected])), places=6)
        self.assertIsNotNone(result.folder_item)
        chart = self.logic.dynamic_plot(result, voxel=tuple(int(v) for v in np.argwhere(p.tumour)[0]))
        self.assertIsNotNone(chart)
        chart = self.logic.dynamic_plot(result, segment=segment)
        self.assertIsNotNone(chart)
        with self.assertRaises(InputError):
            self.logic.dynamic_plot(result, segment="liver")
        path = os.path.join(tempfile.mkdtemp(prefix="tme-hp-"), "scene.mrb")
        tme_scene.save_scene(self.scene, path)
        self.assertTrue(os.path.getsize(path) > 0)

    def _assert_refused(self, nodes, settings, text):
        before = self.scene.GetNumberOfNodes()
        with self.assertRaises(InputError) as context:
            self.logic.run(nodes, settings)
        self.assertIn(text, str(context.exception))
        self.assertEqual(self.scene.GetNumberOfNodes(), before)

    def test_bad_input_refused_scene_untouched(self):
        p = self.phantom
        times = np.arange(p.pyruvate.shape[0]) * p.tr_s
        short = tme_scene.array_to_sequence(self.scene, p.lactate[:-2], times[:-2], p.ijk_to_ras, "short")
        shifted_ijk = p.ijk_to_ras.copy()
        shifted_ijk[0, 3] += 5.0
        moved = tme_scene.array_to_sequence(self.scene, p.lactate, times, shifted_ijk, "moved")
        noise = tme_scene.array_to_sequence(self.scene, np.random.default_rng(0).random(p.pyruvate.shape) * 0.01,
                                            times, p.ijk_to_ras, "noise")
        self._assert_refused({**self.nodes, "lactate": short}, None, "frames")
        self._assert_refused({**self.nodes, "lactate": moved}, None, "grid")
        self._assert_refused({**self.nodes, "pyruvate": noise}, HyperpolarizedSettings(flip_pyruvate_deg=20.0), "noise")
        self._assert_refused(self.nodes, HyperpolarizedSettings(flip_lactate_deg=list(range(5, 20))), "flip")
        self._assert_refused(self.nodes, HyperpolarizedSettings(flip_pyruvate_deg=0.35), "radians")
        self._assert_refused({"pyruvate": self.nodes["pyruvate"]}, None, "lactate")

    def test_roll_back_when_writing_fails(self):
        from unittest import mock
        before = self.scene.GetNumberOfNodes()
        with mock.patch("TMEMonitorLib.scene.add_table", side_effect=RuntimeError("disk full")):
            with self.assertRaises(RuntimeError):
                self.logic.run(self.nodes, HyperpolarizedSettings())
        self.assertEqual(self.scene.GetNumberOfNodes(), before)


if __name__ == "__main__":
    unittest.main()
