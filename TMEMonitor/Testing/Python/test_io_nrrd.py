"""4D NRRD: Slicer volume sequences written by slicer-core's storage node, the older list-first
layout, legacy MultiVolume NRRD and DWI NRRD."""
import gzip
import os
import shutil
import tempfile
import unittest

import numpy as np

from TMEMonitorLib.errors import MetadataError
from TMEMonitorLib.io import describe, read_series


def _direction(angle_deg):
    a = np.deg2rad(angle_deg)
    return np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])


def write_slicer_sequence(path, frames, index_values, index_name, index_unit, spacing, origin, direction,
                          compress):
    """Write a vtkMRMLSequenceNode of scalar volumes with Slicer's own storage node; return IJKToRAS."""
    import slicer
    import vtk
    from vtk.util import numpy_support
    scene = slicer.vtkMRMLScene()
    sequence = slicer.vtkMRMLSequenceNode()
    scene.AddNode(sequence)
    sequence.SetIndexName(index_name)
    sequence.SetIndexUnit(index_unit)
    sequence.SetIndexType(sequence.NumericIndex)
    matrix = vtk.vtkMatrix4x4()
    for row in range(3):
        for column in range(3):
            matrix.SetElement(row, column, direction[row, column])
    for frame, value in zip(frames, index_values):
        image = vtk.vtkImageData()
        slices, rows, cols = frame.shape
        image.SetDimensions(cols, rows, slices)
        image.GetPointData().SetScalars(numpy_support.numpy_to_vtk(np.ascontiguousarray(frame).ravel(), deep=True))
        volume = slicer.vtkMRMLScalarVolumeNode()
        volume.SetAndObserveImageData(image)
        volume.SetSpacing(*spacing)
        volume.SetOrigin(*origin)
        volume.SetIJKToRASDirectionMatrix(matrix)
        sequence.SetDataNodeAtValue(volume, repr(float(value)))
    storage = slicer.vtkMRMLVolumeSequenceStorageNode()
    scene.AddNode(storage)
    storage.SetFileName(path)
    storage.SetUseCompression(1 if compress else 0)
    if not storage.WriteData(sequence):
        raise RuntimeError("slicer-core could not write " + path)
    ijk_to_ras = vtk.vtkMatrix4x4()
    sequence.GetNthDataNode(0).GetIJKToRASMatrix(ijk_to_ras)
    return np.array([[ijk_to_ras.GetElement(r, c) for c in range(4)] for r in range(4)])


class SlicerSequenceNrrdTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.data = np.random.default_rng(7).normal(50.0, 10.0, (4, 3, 5, 6)).astype(np.float32)

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_time_sequence_written_by_slicer(self):
        times = [0.0, 2.5, 7.0, 9.5]
        for compress in (False, True):
            path = os.path.join(self.folder, "dce%d.seq.nrrd" % compress)
            expected_matrix = write_slicer_sequence(path, self.data, times, "time", "s", (0.8, 0.9, 2.0),
                                                    (10.0, -20.0, 30.0), _direction(15.0), compress)
            series = read_series(path)
            self.assertEqual(series.axis_name, "time")
            np.testing.assert_allclose(series.axis_values, times)
            np.testing.assert_array_equal(series.array, self.data.astype(float))
            np.testing.assert_allclose(series.ijk_to_ras, expected_matrix, atol=1e-6)
            self.assertIn("axis 3 index values", series.provenance["axis_values"])
            self.assertTrue(any("uneven" in w for w in series.warnings))

    def test_millisecond_index_unit_is_converted(self):
        path = os.path.join(self.folder, "dce.seq.nrrd")
        write_slicer_sequence(path, self.data, [0, 1500, 3000, 4500], "time", "ms", (1, 1, 1), (0, 0, 0),
                              np.eye(3), False)
        np.testing.assert_allclose(read_series(path).axis_values, [0, 1.5, 3.0, 4.5])

    def test_b_value_sequence(self):
        path = os.path.join(self.folder, "dwi.seq.nrrd")
        write_slicer_sequence(path, self.data, [0, 100, 500, 1000], "b-value", "s/mm2", (1, 1, 1), (0, 0, 0),
                              np.eye(3), True)
        series = read_series(path)
        self.assertEqual(series.axis_name, "b")
        np.testing.assert_allclose(series.axis_values, [0, 100, 500, 1000])
        self.assertIn("4 frame(s) along b", describe(series))

    def test_frame_index_without_unit_needs_an_override(self):
        path = os.path.join(self.folder, "frames.seq.nrrd")
        write_slicer_sequence(path, self.data, [0, 1, 2, 3], "frame", "", (1, 1, 1), (0, 0, 0), np.eye(3), False)
        with self.assertRaisesRegex(MetadataError, "cannot tell the 4D axis.*'frame'"):
            read_series(path)
        np.testing.assert_allclose(read_series(path, frame_time_s=6.0).axis_values, [0, 6, 12, 18])


def _write_list_first_nrrd(path, data, extra_lines, encoding="raw", space="right-anterior-superior"):
    """Older Slicer / MultiVolume layout: list axis first (fastest), sizes N I J K."""
    frames, slices, rows, cols = data.shape
    body = np.ascontiguousarray(np.moveaxis(data, 0, -1)).astype("<i2").tobytes()   # (k, j, i, t)
    if encoding == "gzip":
        body = gzip.compress(body)
    header = ["NRRD0004", "type: short", "dimension: 4", "space: %s" % space,
              "sizes: %d %d %d %d" % (frames, cols, rows, slices),
              "space directions: none (0,0,-1.5) (0.5,0,0) (0,2,0)",
              "kinds: list domain domain domain", "endian: little", "encoding: %s" % encoding,
              "space origin: (1,2,3)"] + extra_lines
    with open(path, "wb") as handle:
        handle.write(("\n".join(header) + "\n\n").encode("latin-1") + body)


class OtherNrrdLayoutsTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.data = np.random.default_rng(8).integers(-500, 500, (3, 2, 4, 5))

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_list_axis_first_with_index_values(self):
        path = os.path.join(self.folder, "old.seq.nrrd")
        _write_list_first_nrrd(path, self.data, ['labels: "time" "" "" ""', 'units: "s" "" "" ""',
                                                 "axis 0 index type:=numeric", "axis 0 index values:=0 4 8"], "gzip")
        series = read_series(path)
        np.testing.assert_array_equal(series.array, self.data)
        np.testing.assert_allclose(series.axis_values, [0, 4, 8])
        expected = np.array([[0, 0.5, 0, 1], [0, 0, 2, 2], [-1.5, 0, 0, 3], [0, 0, 0, 1]])   # RAS space: as written
        np.testing.assert_allclose(series.ijk_to_ras, expected)

    def test_lps_space_is_flipped(self):
        path = os.path.join(self.folder, "lps.nrrd")
        _write_list_first_nrrd(path, self.data, ['labels: "time" "" "" ""', 'units: "s" "" "" ""',
                                                 "axis 0 index values:=0 4 8"], space="left-posterior-superior")
        series = read_series(path)
        np.testing.assert_allclose(series.origin, [-1, -2, 3])
        np.testing.assert_allclose(series.ijk_to_ras[:3, 0], [0, 0, -1.5])
        np.testing.assert_allclose(series.ijk_to_ras[:3, 1], [-0.5, 0, 0])

    def test_multivolume_frame_labels(self):
        path = os.path.join(self.folder, "mv.nrrd")
        _write_list_first_nrrd(path, self.data, ["MultiVolume.FrameIdentifyingDICOMTagName:=TriggerTime",
                                                 "MultiVolume.FrameIdentifyingDICOMTagUnits:=ms",
                                                 "MultiVolume.FrameLabels:=0,3500,7000",
                                                 "MultiVolume.DICOM.RepetitionTime:=4.2",
                                                 "MultiVolume.DICOM.FlipAngle:=10"])
        series = read_series(path)
        np.testing.assert_allclose(series.axis_values, [0, 3.5, 7.0])
        self.assertAlmostEqual(series.metadata["TR_s"], 0.0042)
        self.assertEqual(series.metadata["flip_angle_deg"], 10.0)

    def test_dwi_nrrd(self):
        path = os.path.join(self.folder, "dwi.nhdr")
        _write_list_first_nrrd(path, self.data, ["DWMRI_b-value:=1000", "DWMRI_gradient_0000:=0 0 0",
                                                 "DWMRI_gradient_0001:=1 0 0",
                                                 "DWMRI_gradient_0002:=0 0.7071068 0"])
        series = read_series(path)
        self.assertEqual(series.axis_name, "b")
        np.testing.assert_allclose(series.axis_values, [0, 1000, 500], rtol=1e-6)
        np.testing.assert_allclose(series.metadata["b_vectors"], [[0, 0, 0], [1, 0, 0], [0, 1, 0]], atol=1e-6)

    def test_nan_filled_frame_is_refused(self):
        data = np.ones((3, 2, 2, 2), dtype="<f4")
        data[1] = np.nan
        path = os.path.join(self.folder, "nan.seq.nrrd")
        header = ["NRRD0004", "type: float", "dimension: 4", "space: left-posterior-superior", "sizes: 2 2 2 3",
                  "space directions: (1,0,0) (0,1,0) (0,0,1) none", "kinds: domain domain domain list",
                  'labels: "" "" "" "time"', 'units: "" "" "" "s"', "endian: little", "encoding: raw",
                  "space origin: (0,0,0)", "axis 3 index values:=0 1 2"]
        with open(path, "wb") as handle:
            handle.write(("\n".join(header) + "\n\n").encode() + data.tobytes())
        from TMEMonitorLib.errors import InputError
        with self.assertRaisesRegex(InputError, "contain only NaN.*frame 2"):
            read_series(path)


if __name__ == "__main__":
    unittest.main()
