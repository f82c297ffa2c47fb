"""Adding acquisitions to a visit from files (NIfTI, NRRD) and DICOM folders, on a headless scene:
node kind, axis, geometry, role and place in the subject hierarchy; errors leave the scene untouched."""
import os
import shutil
import tempfile
import unittest

import numpy as np
import SimpleITK as sitk

import dicom_writer
from TMEMonitorApp import dashboard
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.scene import hierarchy

SPACING = (1.5, 1.5, 3.0)
ORIGIN_LPS = (-20.0, 10.0, 5.0)


def write_image(path, array):
    """(slices, rows, cols) or (frames, slices, rows, cols) with SimpleITK, geometry in LPS."""
    image = sitk.GetImageFromArray(np.asarray(array), isVector=False)
    n = image.GetDimension()
    image.SetSpacing(SPACING + (1.0,) * (n - 3))
    image.SetOrigin(ORIGIN_LPS + (0.0,) * (n - 3))
    sitk.WriteImage(image, path)
    return path


def expected_ijk_to_ras():
    matrix = np.diag([*SPACING, 1.0])
    matrix[:3, 3] = ORIGIN_LPS
    return np.diag([-1.0, -1, 1, 1]) @ matrix


class AddSeriesToVisitTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.folder, True)
        self.scene = tme_scene.create_scene()
        self.addCleanup(tme_scene.release_scene, self.scene)
        self.patient = hierarchy.add_patient(self.scene, "Files")
        self.visit = dashboard.add_visit(self.scene, self.patient, "baseline", "2026-01-05")
        rng = np.random.default_rng(0)
        self.volume = rng.uniform(10, 100, (4, 6, 7)).astype(np.float32)
        self.series = rng.uniform(10, 100, (5, 4, 6, 7)).astype(np.float32)

    def node_count(self):
        return self.scene.GetNumberOfNodes()

    def test_nifti_nrrd_volumes_and_series(self):
        anatomy = dashboard.add_series_to_visit(self.scene, self.visit, write_image(
            os.path.join(self.folder, "t2.nrrd"), self.volume), "anatomy")
        self.assertTrue(anatomy.IsA("vtkMRMLScalarVolumeNode"))
        np.testing.assert_allclose(tme_scene.volume_to_array(anatomy), self.volume)
        np.testing.assert_allclose(tme_scene.node_ijk_to_ras(anatomy), expected_ijk_to_ras(), atol=1e-6)
        self.assertEqual(anatomy.GetName(), "baseline anatomy")

        labels = np.zeros((4, 6, 7), np.uint8)
        labels[1:3, 1:3, 1:3], labels[1:3, 3:5, 4:6] = 1, 2
        tumour = dashboard.add_series_to_visit(self.scene, self.visit, write_image(
            os.path.join(self.folder, "tumour.nii.gz"), labels), "tumour")
        self.assertTrue(tumour.IsA("vtkMRMLSegmentationNode"))
        self.assertEqual(tumour.GetSegmentation().GetNumberOfSegments(), 2)
        tissue = dashboard.add_series_to_visit(self.scene, self.visit, write_image(
            os.path.join(self.folder, "labels.nii.gz"), labels), "labels")
        self.assertTrue(tissue.IsA("vtkMRMLLabelMapVolumeNode"))

        path = write_image(os.path.join(self.folder, "dce.nii.gz"), self.series)
        with self.assertRaises(MetadataError):                       # NIfTI without frame times
            dashboard.add_series_to_visit(self.scene, self.visit, path, "dce")
        dce = dashboard.add_series_to_visit(self.scene, self.visit, path, "dce", frame_time_s=4.0)
        self.assertTrue(dce.IsA("vtkMRMLSequenceNode"))
        self.assertEqual((dce.GetIndexName(), dce.GetIndexUnit(), dce.GetNumberOfDataNodes()), ("time", "s", 5))
        series = tme_scene.series_from_node(dce, expected_axis="time")
        np.testing.assert_allclose(series.axis_values, [0, 4, 8, 12, 16])
        np.testing.assert_allclose(series.array, self.series)

        dwi_path = write_image(os.path.join(self.folder, "dwi.nii.gz"), self.series)
        with open(os.path.join(self.folder, "dwi.bval"), "w") as handle:
            handle.write("0 50 200 500 800\n")
        dwi = dashboard.add_series_to_visit(self.scene, self.visit, dwi_path, "dwi")
        self.assertEqual(dwi.GetIndexName(), "b")
        with self.assertRaises(InputError):                          # a b-value series is not a DCE
            dashboard.add_series_to_visit(self.scene, self.visit, dwi_path, "dce", replace=True)

        vfa_path = write_image(os.path.join(self.folder, "vfa.nii.gz"), self.series[:3])
        with self.assertRaises(InputError):
            dashboard.add_series_to_visit(self.scene, self.visit, vfa_path, "vfa")
        vfa = dashboard.add_series_to_visit(self.scene, self.visit, vfa_path, "vfa", flip_angles_deg=[2, 10, 15])
        self.assertEqual(tme_scene.series_from_node(vfa).axis_name, "flip_angle")

        roles = dashboard.visit_nodes_by_role(self.scene, self.visit)
        self.assertEqual(set(roles), {"anatomy", "tumour", "labels", "dce", "dwi", "vfa"})
        self.assertIs(roles["dce"], dce)
        for node in roles.values():
            self.assertIn(node, hierarchy.children_nodes(self.scene, self.visit))
            self.assertTrue(os.path.isabs(node.GetAttribute(dashboard.SOURCE_PATH)))

    def test_dicom_folder(self):
        frames = [{"TemporalPositionIdentifier": f + 1, "TriggerTime": 3000.0 * f} for f in range(3)]
        data = np.random.default_rng(1).integers(0, 2000, (3, 4, 5, 6))
        folder = os.path.join(self.folder, "dce_dicom")
        dicom_writer.write_series(folder, data, spacing=(1.0, 1.0, 2.0), frame_tags=frames)
        dce = dashboard.add_series_to_visit(self.scene, self.visit, folder, "dce")
        series = tme_scene.series_from_node(dce, expected_axis="time")
        np.testing.assert_allclose(series.axis_values, [0, 3, 6])
        np.testing.assert_allclose(series.array, data)
        self.assertIs(dashboard.visit_nodes_by_role(self.scene, self.visit)["dce"], dce)

    def test_errors_leave_the_scene_untouched(self):
        path = write_image(os.path.join(self.folder, "t2.nrrd"), self.volume)
        before = self.node_count()
        with self.assertRaises(InputError):
            dashboard.add_series_to_visit(self.scene, self.visit, os.path.join(self.folder, "none.nii"), "anatomy")
        with self.assertRaises(InputError):
            dashboard.add_series_to_visit(self.scene, self.visit, path, "spectroscopy")
        with self.assertRaises(InputError):
            dashboard.add_series_to_visit(self.scene, self.patient, path, "anatomy")    # not a visit
        with self.assertRaises(InputError):                                               # not labels
            dashboard.add_series_to_visit(self.scene, self.visit, path, "tumour")
        self.assertEqual(self.node_count(), before)
        first = dashboard.add_series_to_visit(self.scene, self.visit, path, "anatomy")
        count = self.node_count()
        with self.assertRaises(InputError):                                              # role taken
            dashboard.add_series_to_visit(self.scene, self.visit, path, "anatomy")
        self.assertEqual(self.node_count(), count)
        second = dashboard.add_series_to_visit(self.scene, self.visit, path, "anatomy", name="T2 again", replace=True)
        self.assertIs(dashboard.visit_nodes_by_role(self.scene, self.visit)["anatomy"], second)
        self.assertIsNone(first.GetAttribute(dashboard.ROLE))


if __name__ == "__main__":
    unittest.main()
