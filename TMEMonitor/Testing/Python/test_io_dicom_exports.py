"""Scanner export patterns: GE-style first frame without TriggerTime, Siemens one series per
b-value, multi-echo series; one clear message per distinct fault."""
import os
import shutil
import tempfile
import unittest

import numpy as np
import pydicom

import dicom_writer
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.io import describe, read_series, read_volume


def _data(n_frames=4, n_slices=3, rows=4, cols=5, seed=0):
    return np.random.default_rng(seed).integers(0, 3000, (n_frames, n_slices, rows, cols))


class GeTriggerTimeTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.data = _data()

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_first_frame_without_trigger_time_is_taken_as_zero(self):
        # QIBA DCE DRO v6/v9 style: TriggerTime on every frame but the first (0 omitted)
        tags = [{"TriggerTime": None}] + [{"TriggerTime": 5000.0 * f} for f in range(1, 4)]
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        series = read_series(self.folder)
        self.assertEqual(series.axis_name, "time")
        np.testing.assert_allclose(series.axis_values, [0, 5, 10, 15])
        np.testing.assert_array_equal(series.array, self.data)
        self.assertIn("first frame was taken as TriggerTime 0", series.provenance["axis_values"])
        self.assertTrue(any("absent on the 3 image(s) of the first frame" in w for w in series.warnings))

    def test_a_gap_elsewhere_is_not_filled(self):
        tags = [{"TriggerTime": 0.0}, {"TriggerTime": None}, {"TriggerTime": 10000.0}, {"TriggerTime": 15000.0}]
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        with self.assertRaisesRegex(MetadataError, "TriggerTime is missing on 3 of 12 images"):
            read_series(self.folder)

    def test_decreasing_rest_is_not_filled(self):
        tags = [{"TriggerTime": None}, {"TriggerTime": 15000.0}, {"TriggerTime": 10000.0}, {"TriggerTime": 5000.0}]
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        with self.assertRaisesRegex(MetadataError, "TriggerTime is missing on 3 of 12 images"):
            read_series(self.folder)


class DistinctFaultsTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_duplicate_instance(self):
        paths = dicom_writer.write_series(self.folder, _data(), frame_tags=[{"TemporalPositionIdentifier": f + 1}
                                                                          for f in range(4)])
        shutil.copy(paths[1][1], os.path.join(self.folder, "copy_of_one.dcm"))
        with self.assertRaisesRegex(InputError, "same image \\(SOPInstanceUID .*a file is duplicated"):
            read_series(self.folder)

    def test_two_images_at_one_position(self):
        paths = dicom_writer.write_series(self.folder, _data(n_frames=1))
        ds = pydicom.dcmread(paths[0][1])
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        ds.InstanceNumber = 99
        ds.save_as(os.path.join(self.folder, "extra.dcm"))
        with self.assertRaisesRegex(InputError, "slice positions hold different numbers of images.*duplicated"):
            read_series(self.folder)
        with self.assertRaisesRegex(InputError, "2 image\\(s\\) at some slice positions.*missing or duplicated"):
            read_volume(self.folder)

    def test_degenerate_orientation(self):
        dicom_writer.write_series(self.folder, _data(n_frames=1), slice_tags=lambda f, k: {
            "ImageOrientationPatient": [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]})
        with self.assertRaisesRegex(InputError, "ImageOrientationPatient .* is degenerate"):
            read_volume(self.folder)

    def test_zero_pixel_spacing_and_nan_position(self):
        dicom_writer.write_series(self.folder, _data(n_frames=1), slice_tags=lambda f, k: {"PixelSpacing": [0.0, 1.0]})
        with self.assertRaisesRegex(InputError, "PixelSpacing \\[0.0, 1.0\\] must be positive"):
            read_volume(self.folder)

    def test_absurd_rescale(self):
        dicom_writer.write_series(self.folder, _data(n_frames=1), rescale=(1e301, 0.0))
        with self.assertRaisesRegex(InputError, "RescaleSlope = 1e\\+301 is not a usable rescale value"):
            read_volume(self.folder)


class SiemensPerBSeriesTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.data = _data(n_frames=3, seed=4)
        self.b_values = (0.0, 500.0, 1000.0)
        for f, b in enumerate(self.b_values):
            dicom_writer.write_series(
                self.folder, self.data[f:f + 1], frame_tags=[{dicom_writer.SIEMENS_B_VALUE: str(int(b)),
                                                              "ProtocolName": "ep2d_diff_3b"}],
                series_number=3001 + f, description="ep2d_diff_b%d_TRACEW" % b, prefix="S%d_" % f)

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_series_differing_only_in_b_are_merged(self):
        series = read_series(self.folder)
        self.assertEqual(series.axis_name, "b")
        np.testing.assert_allclose(series.axis_values, self.b_values)
        np.testing.assert_array_equal(series.array, self.data)
        self.assertIn("3 series differing only in b-value merged", series.provenance["series_merged"])
        self.assertIn("series 3002 (b=500)", series.provenance["series_merged"])
        self.assertEqual(series.metadata["frame_series"], ["series 3001", "series 3002", "series 3003"])
        self.assertIn("series_merged", describe(series))

    def test_series_still_chooses_one_or_several(self):
        with self.assertRaisesRegex(InputError, "single frame"):
            read_series(self.folder, series=3002)
        two = read_series(self.folder, series="3001+3003")
        np.testing.assert_allclose(two.axis_values, [0, 1000])
        np.testing.assert_array_equal(two.array, self.data[[0, 2]])

    def test_other_geometry_is_not_merged(self):
        dicom_writer.write_series(self.folder, _data(n_frames=1, seed=9), origin=(0, 0, 7.0),
                                  frame_tags=[{dicom_writer.SIEMENS_B_VALUE: "1500", "ProtocolName": "ep2d_diff_3b"}],
                                  series_number=3004, description="ep2d_diff_b1500_TRACEW", prefix="X")
        with self.assertRaisesRegex(InputError, "(?s)holds 4 DICOM series.*series=\\[...\\]: 3001\\+3002\\+3003"):
            read_series(self.folder)


class MultiEchoDicomTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_echoes_become_frames_sorted_by_echo_time(self):
        data = _data(n_frames=4, seed=3)
        echo_ms = [12.0, 3.0, 24.0, 6.0]          # written out of order
        dicom_writer.write_series(self.folder, data, frame_tags=[{"EchoTime": te, "EchoNumbers": i + 1}
                                                                 for i, te in enumerate(echo_ms)])
        series = read_series(self.folder)
        self.assertEqual(series.axis_name, "echo_time")
        self.assertEqual(series.axis_unit, "s")
        order = np.argsort(echo_ms)
        np.testing.assert_allclose(series.axis_values, np.sort(echo_ms) / 1000.0)
        np.testing.assert_array_equal(series.array, data[order])
        self.assertEqual(series.array.shape, (4, 3, 4, 5))
        self.assertIn("EchoTime", series.provenance["axis_values"])


if __name__ == "__main__":
    unittest.main()
