"""4D NIfTI with a BIDS JSON sidecar or FSL .bval/.bvec; NaN frames; 3D volumes from files."""
import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import SimpleITK as sitk

from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.io import read_series, read_volume

LPS_TO_RAS = np.array([-1.0, -1.0, 1.0])


def _rotation(angle_deg):
    a = np.deg2rad(angle_deg)
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])


def write_nifti_4d(path, array, spacing=(0.9, 1.1, 2.5), origin=(-20.0, 10.0, 5.0), rotation=None):
    """Write (frames, slices, rows, cols) with SimpleITK; geometry in ITK LPS."""
    image = sitk.GetImageFromArray(np.asarray(array), isVector=False)
    direction = np.eye(4)
    direction[:3, :3] = np.eye(3) if rotation is None else rotation
    image.SetDirection(direction.ravel().tolist())
    image.SetSpacing(tuple(spacing) + (1.0,))
    image.SetOrigin(tuple(origin) + (0.0,))
    sitk.WriteImage(image, path)
    return image


class NiftiSeriesTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.path = os.path.join(self.folder, "sub-01_dce.nii.gz")
        self.data = np.random.default_rng(6).normal(100.0, 20.0, (5, 3, 4, 6)).astype(np.float32)

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def _sidecar(self, **content):
        with open(os.path.join(self.folder, "sub-01_dce.json"), "w") as handle:
            json.dump(content, handle)

    def test_frame_times_from_sidecar_and_geometry(self):
        write_nifti_4d(self.path, self.data, rotation=_rotation(20.0))
        times = [0.0, 3.0, 6.0, 12.0, 18.0]
        self._sidecar(FrameTimesStart=times, RepetitionTime=0.0041, EchoTime=0.0012, FlipAngle=15,
                      MagneticFieldStrength=1.5, Manufacturer="Siemens")
        series = read_series(self.path)
        self.assertEqual(series.axis_name, "time")
        np.testing.assert_allclose(series.axis_values, times)
        np.testing.assert_array_equal(series.array, self.data.astype(float))
        self.assertIn("FrameTimesStart", series.provenance["axis_values"])
        self.assertEqual(series.metadata["TR_s"], 0.0041)
        self.assertEqual(series.metadata["flip_angle_deg"], 15.0)
        self.assertEqual(series.metadata["field_strength_T"], 1.5)
        self.assertEqual(series.metadata["manufacturer"], "Siemens")
        self.assertTrue(any("uneven" in w for w in series.warnings))
        # voxel (i, j, k) in RAS against ITK's own index → LPS mapping
        image3d = sitk.ReadImage(self.path)[:, :, :, 0]
        for index in ((0, 0, 0), (5, 3, 2), (2, 1, 1)):
            lps = np.array(image3d.TransformIndexToPhysicalPoint(index))
            np.testing.assert_allclose((series.ijk_to_ras @ (list(index) + [1.0]))[:3], lps * LPS_TO_RAS, atol=1e-4)

    def test_volume_timing_and_repetition_time_rules(self):
        write_nifti_4d(self.path, self.data)
        self._sidecar(RepetitionTime=0.0045, MRAcquisitionType="3D")
        with self.assertRaisesRegex(MetadataError, "excitation TR.*frame_time_s="):
            read_series(self.path)
        self._sidecar(RepetitionTime=2.0, ScanningSequence="EP")
        np.testing.assert_allclose(read_series(self.path).axis_values, [0, 2, 4, 6, 8])
        self._sidecar(RepetitionTime=3.5, RepetitionTimeExcitation=0.005)
        series = read_series(self.path)
        np.testing.assert_allclose(series.axis_values, [0, 3.5, 7, 10.5, 14])
        self.assertEqual(series.metadata["TR_s"], 0.005)
        self._sidecar(VolumeTiming=[10.0, 12.0, 14.0, 16.0, 18.0])
        np.testing.assert_allclose(read_series(self.path).axis_values, [0, 2, 4, 6, 8])

    def test_no_timing_needs_an_override(self):
        write_nifti_4d(self.path, self.data)
        with self.assertRaisesRegex(MetadataError, "cannot tell the 4D axis.*pixdim\\[4\\].*frame_time_s="):
            read_series(self.path)
        series = read_series(self.path, frame_time_s=4.0)
        np.testing.assert_allclose(series.axis_values, [0, 4, 8, 12, 16])
        self.assertIn("user override", series.provenance["axis_values"])

    def test_bval_and_bvec(self):
        write_nifti_4d(self.path, self.data)
        base = self.path[:-7]
        with open(base + ".bval", "w") as handle:
            handle.write("0 100 100 800 800\n")
        vectors = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=float)
        np.savetxt(base + ".bvec", vectors.T)
        series = read_series(self.path)
        self.assertEqual(series.axis_name, "b")
        np.testing.assert_allclose(series.axis_values, [0, 100, 100, 800, 800])
        np.testing.assert_allclose(series.metadata["b_vectors"], vectors)
        self.assertEqual(series.provenance["axis_values"], "FSL sub-01_dce.bval")
        with open(base + ".bval", "w") as handle:
            handle.write("0 100 800\n")
        with self.assertRaisesRegex(MetadataError, "3 b-values but the image has 5 frames"):
            read_series(self.path)

    def test_nan_filled_frame_is_refused_and_scattered_nan_reported(self):
        data = self.data.copy()
        data[2] = np.nan
        write_nifti_4d(self.path, data)
        with self.assertRaisesRegex(InputError, "1 frame\\(s\\) contain only NaN.*frame 3"):
            read_series(self.path, frame_time_s=1.0)
        data = self.data.copy()
        data[1, 0, 0, 0] = np.nan
        write_nifti_4d(self.path, data)
        series = read_series(self.path, frame_time_s=1.0)
        self.assertTrue(any("1 non-finite voxel" in w for w in series.warnings))

    def test_read_volume_from_files(self):
        volume_path = os.path.join(self.folder, "t1.nii.gz")
        image = sitk.GetImageFromArray(self.data[0])
        image.SetSpacing((0.5, 0.75, 3.0))
        image.SetOrigin((1.0, 2.0, 3.0))
        sitk.WriteImage(image, volume_path)
        volume = read_volume(volume_path)
        np.testing.assert_array_equal(volume.array, self.data[0].astype(float))
        np.testing.assert_allclose(volume.origin, [-1, -2, 3])
        np.testing.assert_allclose(volume.spacing, [0.5, 0.75, 3.0])
        empty = sitk.GetImageFromArray(np.full((2, 2, 2), np.nan, dtype=np.float32))
        sitk.WriteImage(empty, os.path.join(self.folder, "empty.nii"))
        with self.assertRaisesRegex(InputError, "only NaN"):
            read_volume(os.path.join(self.folder, "empty.nii"))
        nrrd_path = os.path.join(self.folder, "t1.nrrd")
        sitk.WriteImage(image, nrrd_path)
        np.testing.assert_array_equal(read_volume(nrrd_path).array, self.data[0].astype(float))
        write_nifti_4d(self.path, self.data)
        with self.assertRaisesRegex(InputError, "4D.*use read_series"):
            read_volume(self.path)
        with self.assertRaisesRegex(InputError, "is 3D"):
            read_series(volume_path, frame_time_s=1.0)

    def test_other_4d_format_needs_overrides(self):
        path = os.path.join(self.folder, "dce.mha")
        write_nifti_4d(path, self.data)
        with self.assertRaisesRegex(MetadataError, "frame_time_s="):
            read_series(path)
        series = read_series(path, axis_name="b", axis_values=[0, 10, 20, 500, 1000])
        self.assertEqual(series.axis_name, "b")
        np.testing.assert_array_equal(series.array, self.data.astype(float))


if __name__ == "__main__":
    unittest.main()
