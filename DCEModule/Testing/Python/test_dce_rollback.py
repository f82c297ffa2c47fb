"""A DCE run that fails at its last step leaves the scene as it was: no node and no
subject-hierarchy item (folder, or items of the removed nodes) remains."""
import unittest
from unittest import mock

import numpy as np
import slicer
import vtk

from DCEModuleLib import logic as dce_logic
from DCEModuleLib.logic import DCELogic
from DCEModuleLib.settings import DCESettings
from DCEModuleLib.synthesis import synthesize_dce
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.phantom import make_patient
from TMEMonitorLib.scene import hierarchy


def scene_counts(scene):
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    ids = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, True)
    return scene.GetNumberOfNodes(), ids.GetNumberOfIds()


class DCERollbackTest(unittest.TestCase):
    def test_failure_at_the_last_step_leaves_no_node_and_no_hierarchy_item(self):
        scene = tme_scene.create_scene()
        self.addCleanup(tme_scene.release_scene, scene)
        visit = make_patient(shape=(4, 32, 32), n_visits=1, seed=1).visits[0]
        data = synthesize_dce(visit, rng=np.random.default_rng(0))
        patient = hierarchy.add_patient(scene, "P", "P1")
        item = hierarchy.add_visit(scene, patient, "baseline", visit.date, day=visit.day)
        dce = tme_scene.array_to_sequence(scene, data["signal"], data["t_s"], visit.ijk_to_ras, "DCE")
        tme_scene.set_acquisition_attributes(dce, data["metadata"])
        mask = tme_scene.add_label_map(scene, (visit.labels > 0).astype(np.uint8), visit.ijk_to_ras, "mask")
        hierarchy.place(scene, dce, item)
        before = scene_counts(scene)
        # The last thing the run writes is the acquisition record on its maps: make it fail.
        failing = mock.patch.object(dce_logic.tme_scene, "set_acquisition_attributes",
                                    side_effect=RuntimeError("disk full"))
        with failing, self.assertRaisesRegex(RuntimeError, "disk full"):
            DCELogic(scene).run(dce, DCESettings(fixed_t10_s=1.5), mask_node=mask, parent_item=item, name_prefix="x")
        self.assertEqual(scene_counts(scene), before)
        # The same run without the failure writes its folder and maps.
        result = DCELogic(scene).run(dce, DCESettings(fixed_t10_s=1.5), mask_node=mask, parent_item=item, name_prefix="x")
        self.assertIsNotNone(result.folder_item)
        self.assertGreater(scene_counts(scene)[1], before[1])


if __name__ == "__main__":
    unittest.main()
