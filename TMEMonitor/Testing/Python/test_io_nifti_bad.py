"""NIfTI inputs: multi-echo folders (dcm2niix layout) and damaged files refused with the fault named."""
import gzip
import json
import os
import shutil
import struct
import tempfile
import unittest

import numpy as np
import SimpleITK as sitk

from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.io import read_series, read_volume


def _write(path, array, spacing=(1.5, 1.5, 3.0)):
    image = sitk.GetImageFromArray(array, isVector=False)
    image.SetSpacing(tuple(spacing) + (1.0,) * (image.GetDimension() - 3))
    image.SetOrigin((10.0, -20.0, 5.0) + (0.0,) * (image.GetDimension() - 3))
    sitk.WriteImage(image, path)
    return path


def _patch(path, offset, fmt, value):
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(struct.pack("<" + fmt, value))


class MultiEchoNiftiFolderTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        rng = np.random.default_rng(1)
        self.echo_s = {1: 0.004, 2: 0.008, 3: 0.012, 10: 0.040, 11: 0.044}
        self.volumes = {}
        for number, te in self.echo_s.items():
            volume = (1000 * np.exp(-te / 0.03) + rng.normal(0, 1, (3, 4, 5))).astype(np.float32)
            self.volumes[number] = volume
            base = os.path.join(self.folder, "sub-01_T2star_e%d" % number)
            _write(base + ".nii.gz", volume)
            with open(base + ".json", "w") as handle:
                json.dump({"EchoTime": te, "EchoNumber": number, "RepetitionTime": 0.05, "FlipAngle": 20,
                           "MagneticFieldStrength": 3}, handle)

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_echoes_sorted_by_echo_time_not_file_name(self):
        series = read_series(self.folder)
        self.assertEqual(series.axis_name, "echo_time")
        self.assertEqual(series.axis_unit, "s")
        order = sorted(self.echo_s, key=self.echo_s.get)            # 1, 2, 3, 10, 11 (text order: 1, 10, 11, 2, 3)
        np.testing.assert_allclose(series.axis_values, [self.echo_s[n] for n in order])
        self.assertEqual(series.array.shape, (5, 3, 4, 5))
        for frame, number in enumerate(order):
            np.testing.assert_allclose(series.array[frame], self.volumes[number], rtol=1e-6)
        self.assertEqual(series.metadata["echo_numbers"], order)
        self.assertIn("EchoTime (s)", series.provenance["axis_values"])
        self.assertIn("sub-01_T2star_e10.json", series.provenance["axis_values"])
        np.testing.assert_allclose(series.spacing, [1.5, 1.5, 3.0])

    def test_duplicate_echo_time_refused(self):
        with open(os.path.join(self.folder, "sub-01_T2star_e11.json"), "w") as handle:
            json.dump({"EchoTime": 0.040, "EchoNumber": 11}, handle)
        with self.assertRaisesRegex(MetadataError, "e10.nii.gz and .*e11.nii.gz have the same EchoTime 0.04 s"):
            read_series(self.folder)

    def test_missing_or_bad_echo_time_named(self):
        os.remove(os.path.join(self.folder, "sub-01_T2star_e3.json"))
        with self.assertRaisesRegex(MetadataError, "e3.nii.gz has no JSON sidecar"):
            read_series(self.folder)
        with open(os.path.join(self.folder, "sub-01_T2star_e3.json"), "w") as handle:
            json.dump({"EchoTime": "short"}, handle)
        with self.assertRaisesRegex(MetadataError, "e3.json: EchoTime = 'short'"):
            read_series(self.folder)

    def test_other_grid_refused(self):
        _write(os.path.join(self.folder, "sub-01_T2star_e2.nii.gz"), np.zeros((3, 4, 6), np.float32) + 1)
        with self.assertRaisesRegex(InputError, "e2.nii.gz .* does not share the grid"):
            read_series(self.folder)


class DamagedNiftiTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.array = np.arange(4 * 6 * 8, dtype=np.int16).reshape(4, 6, 8) + 1

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.folder, name)

    def test_truncated_uncompressed(self):
        path = _write(self.path("t.nii"), self.array)
        with open(path, "r+b") as handle:
            handle.truncate(352 + self.array.nbytes // 2)
        with self.assertRaisesRegex(InputError, "t.nii is truncated: .*needs 384 bytes of voxel data, the file holds 192"):
            read_volume(path)

    def test_truncated_gzip_int16_at_half(self):
        path = _write(self.path("t.nii.gz"), np.random.default_rng(0).integers(0, 3000, (8, 16, 16)).astype(np.int16))
        with open(path, "rb") as handle:
            raw = handle.read()
        with open(path, "wb") as handle:
            handle.write(raw[:len(raw) // 2])
        with self.assertRaisesRegex(InputError, "t.nii.gz is truncated or damaged: the gzip stream ends early"):
            read_volume(path)
        with self.assertRaisesRegex(InputError, "t.nii.gz is truncated or damaged"):
            read_series(path, frame_time_s=1.0)

    def test_bit_flipped_vox_offset(self):
        path = _write(self.path("v.nii"), self.array)
        _patch(path, 108, "f", 352.0 + 64)
        with self.assertRaisesRegex(InputError, "v.nii is truncated: .*vox_offset 416"):
            read_volume(path)
        _patch(path, 108, "f", 16.0)
        with self.assertRaisesRegex(InputError, "vox_offset 16.0 points inside the header"):
            read_volume(path)

    def test_zero_nan_negative_spacing_and_nan_origin(self):
        for index, value, pattern in ((1, 0.0, "pixdim \\[0.0, 1.0, 1.0\\]"), (2, float("nan"), "pixdim \\[1.0, nan"),
                                      (3, -2.0, "pixdim \\[1.0, 1.0, -2.0\\]")):
            path = _write(self.path("s%d.nii" % index), self.array, spacing=(1.0, 1.0, 1.0))
            _patch(path, 76 + 4 * index, "f", value)
            with self.assertRaisesRegex(InputError, "voxel size " + pattern):
                read_volume(path)
        path = _write(self.path("o.nii"), self.array)
        _patch(path, 280 + 12, "f", float("nan"))        # srow_x[3]: the x origin
        with self.assertRaisesRegex(InputError, "sform .* non-finite"):
            read_volume(path)

    def test_garbage_values_refused(self):
        path = _write(self.path("g.nii"), np.zeros((2, 3, 4), np.float32) + 1)
        with open(path, "r+b") as handle:
            handle.seek(352)
            handle.write(np.full(24, 3e38, "<f4").tobytes())
        with self.assertRaisesRegex(InputError, "g.nii: voxel values up to .*corrupt"):
            read_volume(path)

    def test_not_a_nifti_and_unreadable(self):
        path = self.path("x.nii")
        with open(path, "wb") as handle:
            handle.write(b"\x00" * 400)
        with self.assertRaisesRegex(InputError, "not a NIfTI file"):
            read_volume(path)
        if os.geteuid() != 0:         # root reads anything
            good = _write(self.path("locked.nii"), self.array)
            os.chmod(good, 0)
            with self.assertRaisesRegex(InputError, "cannot be read: permission denied"):
                read_volume(good)

    def test_frame_times_start_with_strings_or_objects(self):
        path = _write(self.path("d.nii.gz"), np.ones((3, 2, 3, 4), np.float32))
        for bad in (["0", "1", "2"], [{"t": 0}, 1, 2], "0 1 2"):
            with open(self.path("d.json"), "w") as handle:
                json.dump({"FrameTimesStart": bad}, handle)
            with self.assertRaisesRegex(MetadataError, "d.json: FrameTimesStart must be a list of numbers"):
                read_series(path)
        with open(self.path("d.json"), "wb") as handle:
            handle.write(b"\xff\xfe{\x00")
        with self.assertRaisesRegex(InputError, "JSON sidecar .*d.json cannot be read"):
            read_series(path)


if __name__ == "__main__":
    unittest.main()
