"""b-values of diffusion DICOM series: standard tag, Siemens / GE / Philips private tags, directions."""
import shutil
import struct
import tempfile
import unittest

import numpy as np

import dicom_writer
from TMEMonitorLib.errors import MetadataError
from TMEMonitorLib.io import read_series

B_VALUES = [0.0, 50.0, 400.0, 800.0]


def _data(n_frames=4, seed=1):
    return np.random.default_rng(seed).integers(0, 4000, (n_frames, 2, 3, 4))


class DicomBValueTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def _read_with(self, tag_of_b, order=(2, 0, 3, 1), **kwargs):
        """Write frames in a scrambled b order; the reader must sort them by b."""
        data = _data()
        tags = [dict(tag_of_b(B_VALUES[f]), AcquisitionTime="1000%02d" % i) for i, f in enumerate(order)]
        dicom_writer.write_series(self.folder, data[list(order)], frame_tags=tags)
        series = read_series(self.folder, **kwargs)
        self.assertEqual(series.axis_name, "b")
        np.testing.assert_allclose(series.axis_values, B_VALUES)
        np.testing.assert_array_equal(series.array, data)
        return series

    def test_diffusion_b_value_standard_tag(self):
        series = self._read_with(lambda b: {"DiffusionBValue": b})
        self.assertEqual(series.provenance["axis_values"], "DICOM (0018,9087) DiffusionBValue")

    def test_siemens_private_b_value(self):
        series = self._read_with(lambda b: {dicom_writer.SIEMENS_B_VALUE: str(int(b))})
        self.assertIn("Siemens private (0019,100C)", series.provenance["axis_values"])

    def test_siemens_b_value_as_unknown_bytes(self):
        # anonymised / implicit-VR files give private tags back as raw bytes
        import pydicom.config
        tag = (0x0019, "SIEMENS MR HEADER", 0x0C, "UN")
        saved = pydicom.config.replace_un_with_known_vr
        pydicom.config.replace_un_with_known_vr = False    # keep the value as bytes when read
        try:
            self._read_with(lambda b: {tag: ("%d " % b).encode() if len("%d" % b) % 2 else ("%d" % b).encode()})
        finally:
            pydicom.config.replace_un_with_known_vr = saved

    def test_ge_private_b_value_with_1e9_offset(self):
        series = self._read_with(lambda b: {dicom_writer.GE_B_VALUE: [int(b) + 1_000_000_000, 8, 0, 0]})
        self.assertIn("GE private (0043,1039)", series.provenance["axis_values"])

    def test_ge_private_b_value_plain(self):
        self._read_with(lambda b: {dicom_writer.GE_B_VALUE: [int(b), 8, 0, 0]})

    def test_philips_private_b_value(self):
        series = self._read_with(lambda b: {dicom_writer.PHILIPS_B_VALUE: b})
        self.assertIn("Philips private (2001,1003)", series.provenance["axis_values"])

    def test_standard_tag_wins_over_private(self):
        self._read_with(lambda b: {"DiffusionBValue": b, dicom_writer.SIEMENS_B_VALUE: "9999"})

    def test_directions_kept_as_separate_frames(self):
        directions = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
        b = [0, 500, 500, 500, 1000, 1000, 1000]
        data = _data(n_frames=7)
        tags = [{"DiffusionBValue": float(b[f]), dicom_writer.SIEMENS_B_VECTOR: list(map(float, directions[f])),
                 "AcquisitionTime": "1200%02d" % f} for f in range(7)]
        dicom_writer.write_series(self.folder, data, frame_tags=tags)
        series = read_series(self.folder)
        np.testing.assert_allclose(series.axis_values, b)
        np.testing.assert_allclose(series.metadata["b_vectors"], directions)
        np.testing.assert_array_equal(series.array, data)
        self.assertIn("Siemens private (0019,100E)", series.provenance["b_vectors"])

    def test_standard_gradient_orientation_and_repeated_b0(self):
        data = _data(n_frames=4)
        tags = [{"DiffusionBValue": b, "DiffusionGradientOrientation": v, "AcquisitionTime": t}
                for b, v, t in ((0.0, [0.0, 0.0, 0.0], "100000"), (700.0, [0.6, 0.8, 0.0], "100010"),
                                (0.0, [0.0, 0.0, 0.0], "100020"), (700.0, [0.0, 0.6, 0.8], "100030"))]
        dicom_writer.write_series(self.folder, data, frame_tags=tags)
        series = read_series(self.folder)
        np.testing.assert_allclose(series.axis_values, [0, 0, 700, 700])
        np.testing.assert_array_equal(series.array, data[[0, 2, 1, 3]])    # by b, then acquisition order
        np.testing.assert_allclose(series.metadata["b_vectors"], [[0, 0, 0], [0, 0, 0], [0.6, 0.8, 0], [0, 0.6, 0.8]])

    def test_negative_b_value_is_refused(self):
        dicom_writer.write_series(self.folder, _data(2), frame_tags=[{"DiffusionBValue": -100.0}, {"DiffusionBValue": 0.0}])
        with self.assertRaisesRegex(MetadataError, "negative b-values"):
            read_series(self.folder)

    def test_binary_vector_decoding(self):
        from TMEMonitorLib.io.dicom_tags import numbers
        self.assertEqual(numbers(struct.pack("<3d", 0.0, 0.6, -0.8), "d"), [0.0, 0.6, -0.8])
        self.assertEqual(numbers(struct.pack("<d", 0.0), "d"), [0.0])
        self.assertEqual(numbers(b"1000 "), [1000.0])


if __name__ == "__main__":
    unittest.main()
