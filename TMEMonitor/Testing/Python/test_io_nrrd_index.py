"""4D NRRD sequence indexes beyond time and b: echo times read as echo times (absolute, s), and
``tme-monitor info`` describing a sequence whose index is no physical axis (frame, component)
while the series reader stays strict for the analysis commands."""
import contextlib
import io
import json
import os
import shutil
import tempfile
import unittest

import numpy as np

from TMEMonitorApp.cli.main import main
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import MetadataError
from TMEMonitorLib.io import read_series
from TMEMonitorLib.io.nrrd_series import frame_index, read_nrrd_frames


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def write_raw_sequence(path, data, label, unit, values, index_type="numeric", extra=()):
    """A .seq.nrrd as Slicer lays it out (list axis last), written by hand: (frames, k, j, i) float32."""
    frames, slices, rows, cols = data.shape
    header = ["NRRD0004", "type: float", "dimension: 4", "space: left-posterior-superior",
              "sizes: %d %d %d %d" % (cols, rows, slices, frames),
              "space directions: (1,0,0) (0,1,0) (0,0,2) none", "kinds: domain domain domain list",
              'labels: "" "" "" "%s"' % label, 'units: "" "" "" "%s"' % unit, "endian: little", "encoding: raw",
              "space origin: (0,0,0)", "axis 3 index type:=%s" % index_type,
              "axis 3 index values:=%s" % " ".join(str(v) for v in values)] + list(extra)
    body = np.ascontiguousarray(np.moveaxis(data.astype("<f4"), 0, -1)).tobytes()
    with open(path, "wb") as handle:
        handle.write(("\n".join(header) + "\n\n").encode("latin-1") + body)


class EchoTimeAxisTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.data = np.random.default_rng(3).uniform(50.0, 150.0, (4, 2, 3, 5)).astype(np.float32)
        self.ijk = tme_scene.make_ijk_to_ras((1.5, 1.5, 3.0))

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_echo_time_sequence_written_by_the_scene_is_read_as_echo_times(self):
        echo_times = [0.004, 0.009, 0.014, 0.019]
        scene = tme_scene.create_scene()
        try:
            node = tme_scene.array_to_sequence(scene, self.data, echo_times, self.ijk, "GRE", axis_name="echo_time",
                                               browse=False)
            path = tme_scene.write_node(node, os.path.join(self.folder, "gre.seq.nrrd"))
        finally:
            tme_scene.release_scene(scene)
        series = read_series(path)
        self.assertEqual(series.axis_name, "echo_time")
        self.assertEqual(series.axis_unit, "s")
        np.testing.assert_allclose(series.axis_values, echo_times)      # absolute: not shifted to the first echo
        np.testing.assert_allclose(series.array, self.data)
        self.assertIn("index 'echo_time', unit 's'", series.provenance["axis_values"])
        self.assertEqual(frame_index(path), ("echo_time", "s", "echo_time"))
        code, printed, _ = run_cli(["info", path])
        self.assertEqual(code, 0)
        self.assertIn("4 frame(s) along echo_time", printed)

    def test_echo_times_in_ms_are_converted_and_a_missing_unit_is_refused(self):
        path = os.path.join(self.folder, "te_ms.seq.nrrd")
        write_raw_sequence(path, self.data, "TE", "ms", [4, 9, 14, 19])
        series = read_series(path)
        self.assertEqual(series.axis_name, "echo_time")
        np.testing.assert_allclose(series.axis_values, [0.004, 0.009, 0.014, 0.019])
        bare = os.path.join(self.folder, "te_bare.seq.nrrd")
        write_raw_sequence(bare, self.data, "echo_time", "", [4, 9, 14, 19])
        with self.assertRaisesRegex(MetadataError, "cannot tell the 4D axis.*'echo_time'"):
            read_series(bare)                   # ms or s: the values alone cannot tell

    def test_time_named_index_stays_a_time_axis(self):
        path = os.path.join(self.folder, "dce.seq.nrrd")
        write_raw_sequence(path, self.data, "time", "s", [10, 12, 14, 16])
        series = read_series(path)
        self.assertEqual(series.axis_name, "time")
        np.testing.assert_allclose(series.axis_values, [0, 2, 4, 6])


class InfoOfIndexSequencesTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.data = np.random.default_rng(4).normal(0.0, 1.0, (3, 2, 3, 5)).astype(np.float32)

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_component_sequence_is_described_not_refused(self):
        scene = tme_scene.create_scene()
        try:
            node = tme_scene.array_to_sequence(scene, self.data, [0, 1, 2], tme_scene.make_ijk_to_ras((2.0, 2.0, 4.0)),
                                               "wave", axis_name="component", axis_unit="", browse=False)
            node.SetAttribute("TMEMonitor.frequency_hz", "60.0")
            node.SetAttribute("TMEMonitor.MREDirections", json.dumps([[1, 0, 0], [0, 1, 0], [0, 0, 1]]))
            path = tme_scene.write_node(node, os.path.join(self.folder, "wave.seq.nrrd"))
        finally:
            tme_scene.release_scene(scene)
        with self.assertRaisesRegex(MetadataError, "cannot tell the 4D axis.*'component'"):
            read_series(path)                    # analysis commands stay strict
        code, printed, err = run_cli(["info", path])
        self.assertEqual(code, 0, err)
        self.assertIn("4D series: 3 frame(s) along 'component' (unit: none); each frame 5 x 3 x 2", printed)
        self.assertIn("Index values (numeric): [0, 1, 2]", printed)
        self.assertIn("no time or b axis applies", printed)
        self.assertIn("Spacing (mm): 2, 2, 4", printed)
        self.assertIn("TMEMonitor.frequency_hz: 60.0", printed)
        self.assertIn("TMEMonitor.MREDirections: [[1, 0, 0], [0, 1, 0], [0, 0, 1]]", printed)
        frames = read_nrrd_frames(path)
        self.assertIsNone(frames.physical_axis)
        self.assertEqual((frames.index_name, frames.index_unit, frames.index_values), ("component", "", [0.0, 1.0, 2.0]))
        np.testing.assert_allclose(frames.array, self.data)
        np.testing.assert_allclose(frames.spacing, [2.0, 2.0, 4.0])

    def test_text_index_and_missing_index(self):
        text = os.path.join(self.folder, "text.seq.nrrd")
        write_raw_sequence(text, self.data, "direction", "", ["x", "y", "slice%20axis"], index_type="text")
        code, printed, err = run_cli(["info", text])
        self.assertEqual(code, 0, err)
        self.assertIn("Index values (text): [x, y, slice axis]", printed)
        bare = os.path.join(self.folder, "bare.nrrd")
        write_raw_sequence(bare, self.data, "", "", [0, 1, 2])
        with open(bare, "rb") as handle:
            content = handle.read().replace(b"axis 3 index type:=numeric\naxis 3 index values:=0 1 2\n", b"")
        with open(bare, "wb") as handle:
            handle.write(content)
        code, printed, err = run_cli(["info", bare])
        self.assertEqual(code, 0, err)
        self.assertIn("Index values: none in the file (frames numbered 0 to 2)", printed)

    def test_axis_flags_read_the_frames_as_a_series(self):
        path = os.path.join(self.folder, "frames.seq.nrrd")
        write_raw_sequence(path, self.data, "frame", "", [0, 1, 2])
        code, printed, err = run_cli(["info", path, "--frame-time", "5"])
        self.assertEqual(code, 0, err)
        self.assertIn("3 frame(s) along time", printed)
        self.assertIn("[0, 5, 10] s", printed)

    def test_a_3d_nrrd_is_still_refused(self):
        path = os.path.join(self.folder, "map.nrrd")
        header = ["NRRD0004", "type: float", "dimension: 3", "space: left-posterior-superior", "sizes: 2 2 2",
                  "space directions: (1,0,0) (0,1,0) (0,0,1)", "kinds: domain domain domain", "endian: little",
                  "encoding: raw", "space origin: (0,0,0)"]
        with open(path, "wb") as handle:
            handle.write(("\n".join(header) + "\n\n").encode() + np.zeros(8, "<f4").tobytes())
        self.assertIsNone(frame_index(path))
        code, _, err = run_cli(["info", path])
        self.assertEqual(code, 2)
        self.assertIn("3D, not a 4D series", err)


if __name__ == "__main__":
    unittest.main()
