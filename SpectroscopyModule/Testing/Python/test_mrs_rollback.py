"""A spectroscopy run that fails while writing its outputs leaves the scene as it was (no results
table, chart, voxel box or folder left behind), for a single voxel and for MRSI."""
import unittest
from unittest import mock

import numpy as np
import slicer
import vtk

from SpectroscopyModuleLib.logic import SpectroscopyLogic
from SpectroscopyModuleLib.synthesis import TUMOUR_MM, synthesize_mrsi, synthesize_spectrum
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.scene import hierarchy


def scene_counts(scene):
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    ids = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, True)
    return scene.GetNumberOfNodes(), ids.GetNumberOfIds()


class SpectroscopyRollbackTest(unittest.TestCase):
    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.addCleanup(tme_scene.release_scene, self.scene)
        patient = hierarchy.add_patient(self.scene, "P", "P1")
        self.visit = hierarchy.add_visit(self.scene, patient, "baseline", "2026-01-05")

    def test_single_voxel_failure_at_the_chart_leaves_no_table(self):
        spectrum = synthesize_spectrum(TUMOUR_MM, snr=60.0, rng=np.random.default_rng(0))
        logic = SpectroscopyLogic(self.scene)
        before = scene_counts(self.scene)
        with mock.patch.object(SpectroscopyLogic, "spectrum_chart", side_effect=RuntimeError("chart failed")), \
                self.assertRaisesRegex(RuntimeError, "chart failed"):
            logic.run_svs(spectrum, parent_item=self.visit, name_prefix="MRS")
        self.assertEqual(scene_counts(self.scene), before)
        result = logic.run_svs(spectrum, parent_item=self.visit, name_prefix="MRS")
        self.assertIsNotNone(result.table_node)

    def test_mrsi_failure_at_the_grid_outline_leaves_no_map(self):
        maps = {name: np.full((2, 2, 1), value) for name, value in TUMOUR_MM.items()}
        grid = synthesize_mrsi(maps, snr=40.0, rng=np.random.default_rng(1))
        logic = SpectroscopyLogic(self.scene)
        before = scene_counts(self.scene)
        with mock.patch.object(SpectroscopyLogic, "grid_outline", side_effect=RuntimeError("outline failed")), \
                self.assertRaisesRegex(RuntimeError, "outline failed"):
            logic.run_mrsi(grid, parent_item=self.visit, name_prefix="MRSI")
        self.assertEqual(scene_counts(self.scene), before)


if __name__ == "__main__":
    unittest.main()
