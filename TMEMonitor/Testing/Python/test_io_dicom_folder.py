"""DICOM folders: series selection, bad files, geometry checks, oblique RAS geometry, rescaling,
enhanced multi-frame MR and 3D volumes."""
import os
import shutil
import tempfile
import unittest

import numpy as np

import dicom_writer
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.io import describe, list_dicom_series, read_series, read_volume

LPS_TO_RAS = np.array([-1.0, -1.0, 1.0])


def _data(n_frames=3, n_slices=4, rows=5, cols=6, seed=2):
    return np.random.default_rng(seed).integers(-100, 2000, (n_frames, n_slices, rows, cols))


def _timed(n_frames, step_ms=2000.0):
    return [{"TemporalPositionIdentifier": f + 1, "TriggerTime": step_ms * f} for f in range(n_frames)]


class DicomFolderTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_two_series_need_a_choice(self):
        dce, dwi = _data(seed=3), _data(n_frames=2, seed=4)
        dce_paths = dicom_writer.write_series(self.folder, dce, frame_tags=_timed(3), series_number=7,
                                              description="DCE dynamic", prefix="A")
        dicom_writer.write_series(self.folder, dwi, frame_tags=[{"DiffusionBValue": 0.0}, {"DiffusionBValue": 800.0}],
                                  series_number=9, description="DWI trace", prefix="B")
        with self.assertRaises(InputError) as caught:
            read_series(self.folder)
        message = str(caught.exception)
        self.assertIn("2 DICOM series", message)
        self.assertIn("series 7: 'DCE dynamic' (3 frame(s)", message)
        self.assertIn("series 9: 'DWI trace' (2 frame(s)", message)
        np.testing.assert_array_equal(read_series(self.folder, series=7).array, dce)
        np.testing.assert_array_equal(read_series(self.folder, series="DWI trace").array, dwi)
        np.testing.assert_array_equal(read_series(self.folder, series="dwi").array, dwi)
        import pydicom
        uid = pydicom.dcmread(dce_paths[0][0]).SeriesInstanceUID
        self.assertEqual(read_series(self.folder, series=uid).axis_name, "time")
        with self.assertRaisesRegex(InputError, "no series matches series='T1 map'"):
            read_series(self.folder, series="T1 map")
        listing = {s["series_number"]: s for s in list_dicom_series(self.folder)}
        self.assertEqual((listing[7]["frames"], listing[9]["frames"]), (3, 2))
        self.assertEqual(listing[7]["images"], 12)

    def test_non_dicom_files_are_skipped_with_a_warning(self):
        data = _data()
        dicom_writer.write_series(os.path.join(self.folder, "sub"), data, frame_tags=_timed(3))
        with open(os.path.join(self.folder, "notes.txt"), "w") as handle:
            handle.write("scanner notes\n")
        series = read_series(self.folder)
        np.testing.assert_array_equal(series.array, data)
        self.assertTrue(any("not DICOM" in w and "notes.txt" in w for w in series.warnings))

    def test_corrupted_file_is_named(self):
        paths = dicom_writer.write_series(self.folder, _data(), frame_tags=_timed(3))
        victim = paths[1][2]
        with open(victim, "r+b") as handle:
            handle.truncate(os.path.getsize(victim) - 7)     # cut into the pixel data
        with self.assertRaisesRegex(InputError, os.path.basename(victim) + ".*pixel data"):
            read_series(self.folder)
        with open(victim, "r+b") as handle:
            handle.truncate(150)                             # cut into the file meta header
        with self.assertRaisesRegex(InputError, os.path.basename(victim) + ".*corrupted"):
            read_series(self.folder)

    def test_folder_without_dicom(self):
        with open(os.path.join(self.folder, "readme.md"), "w") as handle:
            handle.write("nothing here")
        with self.assertRaisesRegex(InputError, "no DICOM images found in " + self.folder):
            read_series(self.folder)
        with self.assertRaisesRegex(InputError, "does not exist"):
            read_series(os.path.join(self.folder, "missing"))

    def test_orientation_differing_between_frames(self):
        data = _data()
        dicom_writer.write_series(self.folder, data[:2], frame_tags=_timed(2), prefix="A")
        tilted = dict(_timed(3)[2], ImageOrientationPatient=[1.0, 0.0, 0.0, 0.0, 0.8, 0.6])
        dicom_writer.write_series(self.folder, data[2:], frame_tags=[tilted], prefix="B",
                                  series_uid=self._uid_of_folder())
        with self.assertRaisesRegex(InputError, "geometry differs between frames.*temporal position 3"):
            read_series(self.folder)

    def test_slice_positions_differing_between_frames(self):
        data = _data()
        uid = None
        for f in range(3):
            origin = (0.0, 0.0, 0.0) if f != 1 else (0.0, 0.0, 1.5)   # frame 2 shifted along the normal
            paths = dicom_writer.write_series(self.folder, data[f:f + 1], origin=origin, spacing=(1, 1, 3),
                                              frame_tags=[_timed(3)[f]], prefix="F%d_" % f, series_uid=uid)
            uid = uid or self._uid_of(paths[0][0])
        with self.assertRaisesRegex(InputError, "slice positions differ between frames: temporal position 2"):
            read_series(self.folder)

    def test_missing_slice_in_one_frame(self):
        paths = dicom_writer.write_series(self.folder, _data(), frame_tags=_timed(3))
        os.remove(paths[2][1])
        with self.assertRaisesRegex(InputError, "temporal position 3 is missing 1 of 4 slice"):
            read_series(self.folder)

    def test_oblique_geometry_matches_image_position_patient(self):
        angle = np.deg2rad(25.0)
        row = np.array([np.cos(angle), np.sin(angle), 0.0])
        column = np.array([0.0, np.sin(0.3), -np.cos(0.3)])
        column -= row * np.dot(row, column)
        column /= np.linalg.norm(column)
        origin, spacing = np.array([-40.0, 12.5, 30.0]), (0.7, 0.9, 3.3)
        data = _data()
        paths = dicom_writer.write_series(self.folder, data, origin=origin, spacing=spacing,
                                          row_direction=row, column_direction=column, frame_tags=_timed(3))
        series = read_series(self.folder)
        np.testing.assert_array_equal(series.array, data)
        import pydicom
        for k in range(data.shape[1]):
            ipp = np.array(pydicom.dcmread(paths[0][k]).ImagePositionPatient, dtype=float)
            ras = series.ijk_to_ras @ np.array([0, 0, k, 1.0])
            np.testing.assert_allclose(ras[:3], ipp * LPS_TO_RAS, atol=1e-4)
        for i, j, k in ((5, 4, 3), (2, 0, 1)):
            expected = dicom_writer.voxel_lps(origin, spacing, row, column, i, j, k) * LPS_TO_RAS
            np.testing.assert_allclose((series.ijk_to_ras @ [i, j, k, 1.0])[:3], expected, atol=1e-4)
        np.testing.assert_allclose(series.spacing, spacing, atol=1e-6)

    def test_slices_sorted_along_the_normal_not_by_file(self):
        # coronal: normal = row × column = (0, -1, 0) in LPS, i.e. +A in RAS. File names are
        # shuffled and instance numbers run against the normal: k must follow the normal.
        data = _data()
        dicom_writer.write_series(self.folder, data, row_direction=(1, 0, 0), column_direction=(0, 0, 1),
                                  spacing=(1, 1, 2), frame_tags=_timed(3), shuffle_seed=5,
                                  slice_tags=lambda f, k: {"InstanceNumber": 100 - 4 * f - k})
        series = read_series(self.folder)
        np.testing.assert_array_equal(series.array, data)
        np.testing.assert_allclose(series.ijk_to_ras[:3, 2], [0, 2, 0], atol=1e-9)

    def test_rescale_and_philips_scale(self):
        data = _data()
        tags = [{**t, dicom_writer.PHILIPS_SCALE_SLOPE: 4.0, dicom_writer.PHILIPS_SCALE_INTERCEPT: 2.0}
                for t in _timed(3)]
        dicom_writer.write_series(self.folder, data, frame_tags=tags, rescale=(0.5, -10.0))
        series = read_series(self.folder)
        np.testing.assert_array_equal(series.array, data * 0.5 - 10.0)
        self.assertTrue(series.metadata["rescale_applied"])
        self.assertEqual(series.metadata["philips_scale_slope"], [4.0])
        self.assertTrue(any("philips_floating_point=True" in w for w in series.warnings))
        floating = read_series(self.folder, philips_floating_point=True)
        np.testing.assert_allclose(floating.array, (data - 2.0) / 4.0)

    def test_read_volume_of_a_3d_series_and_refusal_of_4d(self):
        data = _data(n_frames=1)
        dicom_writer.write_series(self.folder, data, origin=(1, 2, 3), spacing=(0.5, 0.6, 2.0))
        volume = read_volume(self.folder)
        np.testing.assert_array_equal(volume.array, data[0])
        np.testing.assert_allclose(volume.origin, [-1, -2, 3])
        np.testing.assert_allclose(volume.spacing, [0.5, 0.6, 2.0])
        self.assertAlmostEqual(volume.metadata["flip_angle_deg"], 12.0)
        with self.assertRaisesRegex(InputError, "single frame.*read_volume"):
            read_series(self.folder)
        other = tempfile.mkdtemp()
        try:
            dicom_writer.write_series(other, _data(), frame_tags=_timed(3))
            with self.assertRaisesRegex(InputError, "3 frames.*read_series"):
                read_volume(other)
        finally:
            shutil.rmtree(other)

    def test_metadata_and_describe(self):
        dicom_writer.write_series(self.folder, _data(), frame_tags=_timed(3), description="DCE")
        series = read_series(self.folder)
        self.assertAlmostEqual(series.metadata["TR_s"], 0.0045)
        self.assertAlmostEqual(series.metadata["TE_s"], 0.0018)
        self.assertEqual(series.metadata["field_strength_T"], 3.0)
        self.assertEqual(series.metadata["series_description"], "DCE")
        text = describe(series)
        for expected in ("3 frame(s) along time", "[0, 2, 4] s", "TriggerTime", "Spacing (mm)", "flip_angle_deg: 12"):
            self.assertIn(expected, text)

    def _uid_of_folder(self):
        import pydicom
        first = sorted(os.listdir(self.folder))[0]
        return pydicom.dcmread(os.path.join(self.folder, first)).SeriesInstanceUID

    @staticmethod
    def _uid_of(path):
        import pydicom
        return pydicom.dcmread(path).SeriesInstanceUID


class EnhancedMultiFrameTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_enhanced_diffusion(self):
        data = _data(n_frames=3, n_slices=3)
        path = dicom_writer.write_enhanced(os.path.join(self.folder, "dwi.dcm"), data, origin=(5, 6, 7),
                                           spacing=(1.5, 1.25, 4.0), b_values=[0, 500, 1000], rescale=(2.0, 1.0))
        for source in (self.folder, path):
            series = read_series(source)
            self.assertEqual(series.axis_name, "b")
            np.testing.assert_allclose(series.axis_values, [0, 500, 1000])
            np.testing.assert_array_equal(series.array, data * 2.0 + 1.0)
            np.testing.assert_allclose(series.origin, [-5, -6, 7])
            np.testing.assert_allclose(series.spacing, [1.5, 1.25, 4.0])
            self.assertIn("MRDiffusionSequence", series.provenance["axis_values"])

    def test_enhanced_dynamic(self):
        data = _data(n_frames=3, n_slices=2)
        stamps = ["20240101101500", "20240101101507.5", "20240101101515"]
        dicom_writer.write_enhanced(os.path.join(self.folder, "dce.dcm"), data, frame_datetimes=stamps)
        series = read_series(self.folder)
        np.testing.assert_allclose(series.axis_values, [0, 7.5, 15])
        np.testing.assert_array_equal(series.array, data)
        self.assertIn("(0020,9128) TemporalPositionIndex", series.provenance["axis_values"])
        self.assertIn("FrameAcquisitionDateTime", series.provenance["axis_values"])


if __name__ == "__main__":
    unittest.main()
