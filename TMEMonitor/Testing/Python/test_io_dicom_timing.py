"""Frame times of 4D DICOM series: tag precedence, uneven spacing, midnight, plausibility, overrides."""
import shutil
import tempfile
import unittest

import numpy as np

import dicom_writer
from TMEMonitorLib.errors import MetadataError
from TMEMonitorLib.io import read_series
from TMEMonitorLib.io.dicom_timing import parse_dt, parse_tm


def _data(n_frames=4, n_slices=3, rows=4, cols=5, seed=0):
    return np.random.default_rng(seed).integers(-200, 3000, (n_frames, n_slices, rows, cols))


def _clock(seconds):
    seconds = seconds % 86400.0
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return "%02d%02d%09.6f" % (h, m, s)


class DicomTimeParsingTest(unittest.TestCase):
    def test_tm_forms(self):
        self.assertAlmostEqual(parse_tm("235959.5"), 86399.5)
        self.assertAlmostEqual(parse_tm("10:20:30"), 37230.0)
        self.assertAlmostEqual(parse_tm("1020"), 37200.0)
        self.assertIsNone(parse_tm("25"))
        self.assertIsNone(parse_tm(""))

    def test_dt_across_midnight_and_offset(self):
        self.assertAlmostEqual(parse_dt("20240102000001.25") - parse_dt("20231231235959"), 86400 + 2.25)
        self.assertAlmostEqual(parse_dt("20240101120000+0100") - parse_dt("20240101120000"), -3600.0)


class DicomFrameTimesTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.data = _data()

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_temporal_position_with_trigger_time(self):
        trigger_ms = [0.0, 4200.0, 8400.0, 12600.0]
        # TPI gives the order; acquisition times (all equal here) must not be used
        tags = [{"TemporalPositionIdentifier": f + 1, "TriggerTime": trigger_ms[f], "AcquisitionTime": "101010"}
                for f in range(4)]
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        series = read_series(self.folder)
        self.assertEqual(series.axis_name, "time")
        np.testing.assert_allclose(series.axis_values, [0.0, 4.2, 8.4, 12.6], atol=1e-12)
        np.testing.assert_array_equal(series.array, self.data)
        self.assertIn("(0020,0100) TemporalPositionIdentifier", series.provenance["axis_values"])
        self.assertIn("(0018,1060) TriggerTime", series.provenance["axis_values"])
        self.assertEqual(series.warnings, [])

    def test_trigger_time_decreasing_with_temporal_position_is_refused(self):
        tags = [{"TemporalPositionIdentifier": f + 1, "TriggerTime": [0.0, 5000.0, 3000.0, 9000.0][f]}
                for f in range(4)]
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        with self.assertRaisesRegex(MetadataError, "increase strictly.*frame 3"):
            read_series(self.folder)

    def test_acquisition_time_only_uneven_spacing_kept(self):
        starts = np.array([0.0, 2.0, 4.0, 10.0])       # uneven: 2, 2, 6 s
        n_slices = self.data.shape[1]
        # 2D multi-slice: each slice 0.1 s after the previous; the frame time is its first slice
        dicom_writer.write_series(
            self.folder, self.data,
            slice_tags=lambda f, k: {"AcquisitionTime": _clock(36000.0 + starts[f] + 0.1 * (n_slices - 1 - k))})
        series = read_series(self.folder)
        np.testing.assert_allclose(series.axis_values, starts, atol=1e-6)
        np.testing.assert_array_equal(series.array, self.data)
        self.assertIn("(0008,0032) AcquisitionTime", series.provenance["axis_values"])
        uneven = [w for w in series.warnings if "uneven" in w]
        self.assertEqual(len(uneven), 1)
        self.assertIn("min 2 s", uneven[0])
        self.assertIn("max 6 s", uneven[0])

    def test_midnight_crossing_with_acquisition_date(self):
        seconds = [86390.0, 86398.0, 86406.0, 86414.0]  # 23:59:50 then past midnight
        tags = [{"AcquisitionDate": "20240101" if s < 86400 else "20240102", "AcquisitionTime": _clock(s)}
                for s in seconds]
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        series = read_series(self.folder)
        np.testing.assert_allclose(series.axis_values, [0, 8, 16, 24], atol=1e-6)
        np.testing.assert_array_equal(series.array, self.data)

    def test_midnight_crossing_without_date_is_unwrapped_with_warning(self):
        seconds = [86390.0, 86398.0, 86406.0, 86414.0]
        dicom_writer.write_series(self.folder, self.data, frame_tags=[{"AcquisitionTime": _clock(s)} for s in seconds])
        series = read_series(self.folder)
        np.testing.assert_allclose(series.axis_values, [0, 8, 16, 24], atol=1e-6)
        np.testing.assert_array_equal(series.array, self.data)
        self.assertTrue(any("midnight" in w for w in series.warnings))

    def test_acquisition_datetime(self):
        stamps = ["20240101235955", "20240102000000.5", "20240102000006", "20240102000011.5"]
        dicom_writer.write_series(self.folder, self.data, frame_tags=[{"AcquisitionDateTime": s} for s in stamps])
        series = read_series(self.folder)
        np.testing.assert_allclose(series.axis_values, [0, 5.5, 11, 16.5], atol=1e-6)
        self.assertIn("AcquisitionDateTime", series.provenance["axis_values"])

    def test_span_over_a_day_is_an_error_and_two_hours_a_warning(self):
        tags = [{"AcquisitionDateTime": "2024010%d120000" % (f + 1)} for f in range(4)]
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        with self.assertRaisesRegex(MetadataError, "more than a day"):
            read_series(self.folder)
        shutil.rmtree(self.folder)
        tags = [{"AcquisitionDateTime": "202401011%d0000" % f} for f in range(4)]   # 3 h
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        series = read_series(self.folder)
        self.assertTrue(any("unusually long" in w for w in series.warnings))

    def test_two_frames_at_the_same_time_are_refused(self):
        tags = [{"TemporalPositionIdentifier": f + 1, "AcquisitionTime": ["100000", "100005", "100005", "100010"][f]}
                for f in range(4)]
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        with self.assertRaisesRegex(MetadataError, "frame 3 .* the same time as frame 2"):
            read_series(self.folder)

    def test_no_times_needs_an_override(self):
        tags = [{"TemporalPositionIdentifier": f + 1} for f in range(4)]
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        with self.assertRaisesRegex(MetadataError, "no frame times.*frame_time_s="):
            read_series(self.folder)
        series = read_series(self.folder, frame_time_s=3.0)
        np.testing.assert_allclose(series.axis_values, [0, 3, 6, 9])
        self.assertIn("user override", series.provenance["axis_values"])
        series = read_series(self.folder, axis_values=[0, 1, 5, 6])
        np.testing.assert_allclose(series.axis_values, [0, 1, 5, 6])
        self.assertEqual(series.provenance["axis_values"], "user override (axis_values=)")
        with self.assertRaisesRegex(Exception, "3 value"):
            read_series(self.folder, axis_values=[0, 1, 2])

    def test_override_replaces_detected_times_with_a_warning(self):
        tags = [{"TemporalPositionIdentifier": f + 1, "TriggerTime": 1000.0 * f} for f in range(4)]
        dicom_writer.write_series(self.folder, self.data, frame_tags=tags)
        series = read_series(self.folder, frame_time_s=2.5)
        np.testing.assert_allclose(series.axis_values, [0, 2.5, 5, 7.5])
        self.assertTrue(any("replaced by the user override" in w for w in series.warnings))

    def test_identical_images_per_position_cannot_tell_the_axis(self):
        dicom_writer.write_series(self.folder, self.data)
        with self.assertRaisesRegex(MetadataError, "cannot tell the 4D axis.*axis_name"):
            read_series(self.folder)
        series = read_series(self.folder, axis_name="time", frame_time_s=1.0)
        np.testing.assert_array_equal(series.array, self.data)   # instance-number order


if __name__ == "__main__":
    unittest.main()
