"""The hyperpolarized technique as the app sees it: discovered (``tme-monitor hp13c``), its synthetic 13C
acquisition of the phantom on its own coarse grid, each visit analysed, tumour kPL falling in the responder
and not in the non-responder; the glycolysis truth of the phantom."""
import unittest

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.phantom import LABELS, glycolysis, make_patient


class GlycolysisTruthTest(unittest.TestCase):
    def test_tissue_values_and_the_responders_fall(self):
        patient = make_patient(shape=(4, 32, 32), n_visits=3, responder=True)
        labels = patient.visits[0].labels
        kpl = glycolysis.kpl_map(labels, 0)
        self.assertEqual(kpl.dtype, np.float32)
        np.testing.assert_array_equal(kpl[labels == LABELS["viable_rim"]], np.float32(0.040))
        np.testing.assert_array_equal(kpl[labels == LABELS["normal"]], np.float32(0.010))
        np.testing.assert_array_equal(kpl[labels == 0], 0.0)
        self.assertEqual(glycolysis.delivery_map(labels)[labels == 0].max(), 0.0)
        truth = [glycolysis.truth_summary(v.labels, v.tumour_mask, i, True)[glycolysis.TRUTH_KEY]
                 for i, v in enumerate(patient.visits)]
        self.assertGreater(truth[0], truth[1])
        self.assertGreater(truth[1], truth[2])
        rim_week6 = glycolysis.kpl_map(patient.visits[2].labels, 2)[patient.visits[2].labels == LABELS["viable_rim"]]
        np.testing.assert_allclose(rim_week6, 0.040 * 0.40, rtol=1e-6)
        # a non-responder's kPL per tissue stays
        np.testing.assert_array_equal(glycolysis.kpl_map(labels, 2, responder=False), kpl)


class HyperpolarizedTechniqueTest(unittest.TestCase):
    def test_discovered_with_its_command(self):
        from TMEMonitorApp import techniques
        from TMEMonitorApp.cli.main import build_parser
        technique = techniques.get("hp13c")
        self.assertIsNotNone(technique)
        self.assertEqual(technique.required_roles(), ("hp_pyruvate", "hp_lactate"))
        kpl = {b.name: b for b in technique.biomarkers}["kPL"]
        self.assertEqual((kpl.unit, kpl.responding_direction, kpl.truth_key), ("1/s", -1, "kPL_mean"))
        self.assertIsNone(kpl.rc_percent)
        commands = build_parser()._subparsers._group_actions[0].choices
        self.assertIn("hp13c", commands)

    def test_coarse_grid_over_the_phantoms_field_of_view(self):
        from HyperpolarizedModuleLib.synthesis import coarse_grid
        patient = make_patient(shape=(4, 32, 32), n_visits=1)
        visit = patient.visits[0]
        shape, ijk = coarse_grid(visit.labels.shape, visit.ijk_to_ras, 8, 2)
        self.assertEqual(shape, (2, 8, 8))
        np.testing.assert_allclose(np.diag(ijk)[:3], [25.0, 25.0, 20.0])

        def corners(grid_shape, grid_ijk):       # outer faces of the first and last voxels (RAS, mm)
            lo = grid_ijk @ np.array([-0.5, -0.5, -0.5, 1.0])
            hi = grid_ijk @ np.array([grid_shape[2] - 0.5, grid_shape[1] - 0.5, grid_shape[0] - 0.5, 1.0])
            return lo[:3], hi[:3]
        for a, b in zip(corners(shape, ijk), corners(visit.labels.shape, visit.ijk_to_ras)):
            np.testing.assert_allclose(a, b, atol=1e-9)

    def _analysed_demo(self, responder):
        from TMEMonitorApp import demo
        from TMEMonitorApp.dashboard.analyses import run_visit_analyses
        from TMEMonitorLib.longitudinal.registration import resample_to_reference
        scene = tme_scene.create_scene()
        self.addCleanup(tme_scene.release_scene, scene)
        build = demo.build_demo_scene(scene, size="tiny", seed=3, n_visits=3, responder=responder, only=["hp13c"])
        measured = []
        for visit in build.visits:
            pyruvate = visit.nodes["hp_pyruvate"]
            series = tme_scene.series_from_node(pyruvate, expected_axis="time")
            self.assertEqual(series.array.shape, (20, 2, 12, 12))
            np.testing.assert_allclose(np.linalg.norm(series.ijk_to_ras[:3, :3], axis=0), [200 / 12, 200 / 12, 20.0])
            self.assertEqual(pyruvate.GetAttribute("TMEMonitor.flip_angle_deg"), "20.0")
            results = run_visit_analyses(scene, visit.item)
            self.assertEqual(list(results), ["hp13c"])
            kpl_node = results["hp13c"].map_nodes["kPL"]
            self.assertEqual(kpl_node.GetAttribute("TMEMonitor.Biomarker"), "kPL")
            # the tumour mean as the dashboard measures it: the 13C value at each anatomy voxel (nearest)
            kpl = resample_to_reference(tme_scene.volume_to_array(kpl_node), tme_scene.node_ijk_to_ras(kpl_node),
                                        visit.visit.labels.shape, visit.visit.ijk_to_ras, interpolation="nearest")
            measured.append(float(np.nanmean(kpl[visit.visit.tumour_mask])))
        return measured

    def test_tumour_kpl_falls_in_the_responder_only(self):
        responder = self._analysed_demo(True)
        self.assertLess(responder[1], 0.85 * responder[0])
        self.assertLess(responder[2], 0.70 * responder[0])
        non_responder = self._analysed_demo(False)
        self.assertGreater(non_responder[2], 0.95 * non_responder[0])
        # the coarse grid dilutes the tumour with normal tissue (partial volume), never inflates it
        truth = glycolysis.truth_summary(make_patient(shape=(4, 32, 32), n_visits=1, seed=3).visits[0].labels,
                                         make_patient(shape=(4, 32, 32), n_visits=1, seed=3).visits[0].tumour_mask)
        self.assertLess(responder[0], truth[glycolysis.TRUTH_KEY])
        self.assertGreater(responder[0], glycolysis.KPL_PER_S[LABELS["normal"]])


if __name__ == "__main__":
    unittest.main()
