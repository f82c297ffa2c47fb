"""A failed operation leaves the scene as it was (issue 11): run_visit_analyses with a good DCE and a
bad DWI keeps none of the DCE outputs, nodes and subject-hierarchy items counted before and after."""
import unittest

import numpy as np
import slicer
import vtk

from TMEMonitorApp import dashboard
from TMEMonitorApp.demo import build_demo_scene
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError


def scene_counts(scene):
    """(nodes, subject-hierarchy items) of a scene."""
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    ids = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, True)
    return scene.GetNumberOfNodes(), ids.GetNumberOfIds()


class VisitAnalysesRollbackTest(unittest.TestCase):
    def test_good_dce_and_bad_dwi_leave_the_scene_as_it_was(self):
        scene = tme_scene.create_scene()
        self.addCleanup(tme_scene.release_scene, scene)
        visit = build_demo_scene(scene, size="tiny", seed=0, n_visits=1).visits[0]
        # The visit's DWI replaced by a one-b-value series: the diffusion step (after DCE) refuses it.
        visit.nodes["dwi"].RemoveAttribute(dashboard.ROLE)
        bad = tme_scene.array_to_sequence(scene, np.ones((1,) + visit.visit.labels.shape, np.float32), [0.0],
                                          visit.visit.ijk_to_ras, "bad DWI", axis_name="b")
        bad.SetAttribute(dashboard.ROLE, "dwi")
        tme_scene.hierarchy.place(scene, bad, visit.item)
        before = scene_counts(scene)
        with self.assertRaisesRegex(InputError, "b-value"):
            dashboard.run_visit_analyses(scene, visit.item)
        self.assertEqual(scene_counts(scene), before)
        self.assertEqual(dashboard.visit_biomarker_maps(scene, visit.item), {})


if __name__ == "__main__":
    unittest.main()
