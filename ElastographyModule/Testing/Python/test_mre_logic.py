"""ElastographyLogic and ``tme-monitor mre`` on a headless scene: maps with units, waves,
statistics, provenance; bad input refused with nothing written."""
import argparse
import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import SimpleITK as sitk

from ElastographyModuleLib import cli, synthesis
from ElastographyModuleLib.logic import ElastographyLogic
from ElastographyModuleLib.settings import ElastographySettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError

G = 3000.0 * np.exp(0.3j)
SHAPE = (12, 32, 32)
FREQUENCIES = (60.0, 90.0)
OFFSETS = 2 * np.pi * np.arange(4) / 4


def phase_series(amplitude_m=3e-6, components=3):
    frames = []
    for f in FREQUENCIES:
        wave = synthesis.shear_wave("spherical", SHAPE, 1.5e-3, f, G, components=components, amplitude_m=amplitude_m)
        measured = wave[::-1]                      # directions i, j, k = col, row, slice
        phase = synthesis.phase_images(measured, OFFSETS, 1e6, noise_rad=0.02)      # 1 rad per um
        frames.append(np.moveaxis(phase, 1, 0).reshape((-1,) + SHAPE))
    return np.concatenate(frames).astype(np.float32)


class ElastographyLogicTest(unittest.TestCase):
    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.ijk = tme_scene.make_ijk_to_ras((1.5, 1.5, 1.5))
        self.node = tme_scene.array_to_sequence(self.scene, phase_series(), np.arange(24), self.ijk, "MRE phase",
                                                axis_name="frame", axis_unit="")
        for key, value in (("MREFrequencies", list(FREQUENCIES)), ("MREPhaseOffsets", OFFSETS.tolist()),
                           ("MREDirections", [[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
                           ("MREPhaseToDisplacement_um_per_rad", 1.0)):
            self.node.SetAttribute("TMEMonitor." + key, json.dumps(value))

    def tearDown(self):
        tme_scene.release_scene(self.scene)

    def test_maps_units_waves_statistics(self):
        result = ElastographyLogic(self.scene).run(self.node, ElastographySettings(inversions=("mdev", "kmdev")))
        node = result.map_nodes[("mdev", "abs_G")]
        self.assertEqual(node.GetAttribute("TMEMonitor.Unit"), "kPa")
        self.assertEqual(node.GetAttribute("TMEMonitor.internal_unit"), "Pa")
        values = tme_scene.volume_to_array(node)[3:-3, 6:-6, 6:-6]
        self.assertLess(abs(np.nanmedian(values) / 3.0 - 1), 0.05)
        self.assertEqual(result.map_nodes[("mdev", "phi")].GetAttribute("TMEMonitor.Unit"), "rad")
        self.assertEqual(result.map_nodes[("kmdev", "wave_speed")].GetAttribute("TMEMonitor.Unit"), "m/s")
        self.assertIn("TMEMonitor.MREFrequencies", result.map_nodes[("mdev", "abs_G")].GetAttribute(
            "TMEMonitor.source_frequencies"))
        self.assertEqual(set(result.wave_nodes), set(FREQUENCIES))
        self.assertEqual(result.wave_nodes[60.0].GetNumberOfDataNodes(), 3)
        columns = tme_scene.table_to_columns(result.table_node)
        self.assertIn("mdev abs_G", columns["parameter"])

    def test_errors_leave_scene_untouched(self):
        before = self.scene.GetNumberOfNodes()
        logic = ElastographyLogic(self.scene)
        with self.assertRaisesRegex(InputError, "inconsistent"):
            logic.run(self.node, directions_ijk=[[1, 0, 0]])
        with self.assertRaisesRegex(InputError, "at least 3"):
            logic.run(self.node, offsets=[0.0, np.pi, 0.0, np.pi])
        quiet = tme_scene.array_to_sequence(self.scene, np.random.default_rng(0).uniform(-np.pi, np.pi, (24,) + SHAPE),
                                            np.arange(24), self.ijk, "noise", axis_name="frame", axis_unit="")
        before = self.scene.GetNumberOfNodes()
        with self.assertRaisesRegex(InputError, "below noise"):
            logic.run(quiet, frequencies_hz=FREQUENCIES, offsets=OFFSETS.tolist(),
                      directions_ijk=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], um_per_rad=1.0)
        self.assertEqual(self.scene.GetNumberOfNodes(), before)
        with self.assertRaisesRegex(InputError, "frequency"):
            node = tme_scene.array_to_sequence(self.scene, phase_series(), np.arange(24), self.ijk, "bare",
                                               axis_name="frame", axis_unit="")
            logic.run(node, offsets=4, directions_ijk=[[1, 0, 0], [0, 1, 0], [0, 0, 1]])


class MRECommandLineTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        image = sitk.GetImageFromArray(phase_series(), isVector=False)
        image.SetSpacing((1.5, 1.5, 1.5, 1.0))
        self.path = os.path.join(self.folder, "mre.nii.gz")
        sitk.WriteImage(image, self.path)
        with open(os.path.join(self.folder, "mre.json"), "w") as handle:
            json.dump({"MREFrequency": list(FREQUENCIES), "MREPhaseOffsets": 4,
                       "MREEncodingDirections": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "MREPhaseToDisplacement": 1.0}, handle)

    def tearDown(self):
        shutil.rmtree(self.folder)

    def parse(self, *argv):
        parser = argparse.ArgumentParser()
        cli.add_parser(parser.add_subparsers())
        return parser.parse_args(["mre", *argv])

    def test_nifti_with_sidecar(self):
        out = os.path.join(self.folder, "out")
        args = self.parse(self.path, "--out", out, "--inversions", "mdev")
        self.assertEqual(args.func(args), 0)
        self.assertTrue(os.path.isfile(os.path.join(out, "mdev_abs_G.nrrd")))
        self.assertTrue(os.path.isfile(os.path.join(out, "statistics.csv")))

    def test_bad_flags_write_nothing(self):
        out = os.path.join(self.folder, "bad")
        args = self.parse(self.path, "--out", out, "--directions", "1,0,0")
        with self.assertRaisesRegex(InputError, "--directions"):
            args.func(args)
        self.assertFalse(os.path.exists(out))

    def test_mat_file(self):
        from scipy.io import savemat
        path = os.path.join(self.folder, "mre.mat")
        savemat(path, {"phase": phase_series(components=1),
                       "frequencies": np.array(FREQUENCIES), "offsets": OFFSETS, "voxel_size_mm": [1.5, 1.5, 1.5]})
        out = os.path.join(self.folder, "mat")
        args = self.parse(path, "--out", out, "--inversions", "mdev", "--um-per-rad", "1")
        self.assertEqual(args.func(args), 0)


if __name__ == "__main__":
    unittest.main()
