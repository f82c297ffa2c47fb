"""``tme-monitor mre`` on a Slicer volume sequence (.seq.nrrd) as the module and the demo write it:
the acquisition from its TMEMonitor.MRE* keys (with that provenance), flags overriding them, a bad
key refused before anything is written."""
import argparse
import contextlib
import io
import json
import os
import shutil
import tempfile
import unittest

import numpy as np

from ElastographyModuleLib import cli, synthesis
from ElastographyModuleLib.mre_files import read_phase_file
from TMEMonitorLib import io as tme_io
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError, MetadataError

G = 3000.0 * np.exp(0.3j)             # Pa: |G*| = 3 kPa, phi = 0.3 rad (analytic truth)
SHAPE = (10, 28, 28)
FREQUENCY = 60.0
OFFSETS = 2 * np.pi * np.arange(4) / 4
VOXEL_MM = 1.5
DIRECTIONS = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def phase_frames():
    """(12, k, j, i) phase (rad, 1 rad per um): 3 directions x 4 offsets of a spherical shear wave."""
    wave = synthesis.shear_wave("spherical", SHAPE, VOXEL_MM * 1e-3, FREQUENCY, G, components=3, amplitude_m=3e-6)
    phase = synthesis.phase_images(wave[::-1], OFFSETS, 1e6, noise_rad=0.02)      # directions i, j, k
    return np.moveaxis(phase, 1, 0).reshape((-1,) + SHAPE).astype(np.float32)


def write_phase_sequence(path, attributes):
    scene = tme_scene.create_scene()
    try:
        node = tme_scene.array_to_sequence(scene, phase_frames(), np.arange(12), tme_scene.make_ijk_to_ras(
            (VOXEL_MM, VOXEL_MM, VOXEL_MM)), "MRE phase", axis_name="frame", axis_unit="", browse=False)
        for key, value in attributes.items():
            node.SetAttribute("TMEMonitor." + key, value if isinstance(value, str) else json.dumps(value))
        return tme_scene.write_node(node, path)
    finally:
        tme_scene.release_scene(scene)


class MRESequenceNrrdInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp()
        cls.path = write_phase_sequence(os.path.join(cls.folder, "MRE_phase.seq.nrrd"), {
            "MREFrequencies": [FREQUENCY], "MREPhaseOffsets": OFFSETS.tolist(), "MREDirections": DIRECTIONS,
            "MREPhaseToDisplacement_um_per_rad": 1.0, "Role": "mre_phase"})

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def parse(self, *argv):
        parser = argparse.ArgumentParser()
        cli.add_parser(parser.add_subparsers())
        return parser.parse_args(["mre", *argv])

    def test_acquisition_from_the_file_keys(self):
        data = read_phase_file(self.path)
        self.assertEqual(data.array.shape, (12,) + SHAPE)
        self.assertEqual(data.values["frequencies_hz"], [FREQUENCY])
        np.testing.assert_allclose(data.values["offsets"], OFFSETS)
        self.assertEqual(data.values["directions_ijk"], DIRECTIONS)
        self.assertEqual(data.values["um_per_rad"], 1.0)
        self.assertEqual(data.sources["frequencies_hz"], "NRRD key 'TMEMonitor.MREFrequencies'")
        np.testing.assert_allclose(tme_scene.spacing_mm(data.ijk_to_ras), [VOXEL_MM] * 3)

    def test_maps_from_the_sequence_match_the_true_modulus(self):
        out = os.path.join(self.folder, "maps")
        args = self.parse(self.path, "--out", out, "--inversions", "mdev")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            self.assertEqual(args.func(args), 0)
        text = printed.getvalue()
        self.assertIn("frequencies: NRRD key 'TMEMonitor.MREFrequencies'", text)
        self.assertIn("offsets: NRRD key 'TMEMonitor.MREPhaseOffsets'", text)
        self.assertIn("directions: NRRD key 'TMEMonitor.MREDirections'", text)
        self.assertIn("60 Hz: 1 um/rad (NRRD key 'TMEMonitor.MREPhaseToDisplacement_um_per_rad')", text)
        abs_g = tme_io.read_volume(os.path.join(out, "mdev_abs_G.nrrd")).array[3:-3, 6:-6, 6:-6]   # kPa
        self.assertLess(abs(np.nanmedian(abs_g) / 3.0 - 1), 0.05)

    def test_flags_override_the_file(self):
        out = os.path.join(self.folder, "override")
        args = self.parse(self.path, "--out", out, "--inversions", "mdev", "--um-per-rad", "2")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            self.assertEqual(args.func(args), 0)
        self.assertIn("60 Hz: 2 um/rad (--um-per-rad)", printed.getvalue())
        self.assertIn("frequencies: NRRD key 'TMEMonitor.MREFrequencies'", printed.getvalue())
        # twice the displacement per radian: the same wavelength, so the same modulus (MDEV uses |U| ratios)
        abs_g = tme_io.read_volume(os.path.join(out, "mdev_abs_G.nrrd")).array[3:-3, 6:-6, 6:-6]
        self.assertLess(abs(np.nanmedian(abs_g) / 3.0 - 1), 0.05)
        wrong = os.path.join(self.folder, "wrong")
        args = self.parse(self.path, "--out", wrong, "--directions", "1,0,0")
        with self.assertRaisesRegex(InputError, "--directions"):
            args.func(args)
        self.assertFalse(os.path.exists(wrong))

    def test_bad_or_missing_keys_write_nothing(self):
        bad = write_phase_sequence(os.path.join(self.folder, "bad.seq.nrrd"), {
            "MREFrequencies": "[60, ", "MREPhaseOffsets": OFFSETS.tolist(), "MREDirections": DIRECTIONS})
        out = os.path.join(self.folder, "bad_out")
        args = self.parse(bad, "--out", out)
        with self.assertRaisesRegex(MetadataError, "TMEMonitor.MREFrequencies.*not a JSON"):
            args.func(args)
        self.assertFalse(os.path.exists(out))
        bare = write_phase_sequence(os.path.join(self.folder, "bare.seq.nrrd"), {})
        args = self.parse(bare, "--out", out)
        with self.assertRaisesRegex(MetadataError, "vibration frequency missing"):
            args.func(args)
        self.assertFalse(os.path.exists(out))
        args = self.parse(bare, "--out", out, "--frequency", "60", "--offsets", "4", "--directions",
                          "1,0,0;0,1,0;0,0,1", "--um-per-rad", "1", "--inversions", "mdev")
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(args.func(args), 0)


if __name__ == "__main__":
    unittest.main()
