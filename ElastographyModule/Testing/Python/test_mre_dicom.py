"""MRE phase images from DICOM: frequency from the series text, phase offsets from the temporal
positions or trigger times, phase scaling by its documented ranges, several series as directions;
what DICOM does not document is refused naming the flag."""
import os
import tempfile
import unittest

import numpy as np

from dicom_writer import write_series
from ElastographyModuleLib.acquisition import build_acquisition
from ElastographyModuleLib.mre_dicom import read_dicom
from TMEMonitorLib.errors import InputError, MetadataError

SHAPE = (4, 3, 16, 16)                   # offsets, slices, rows, cols
OFFSETS = 2 * np.pi * np.arange(4) / 4


def phase_rad(seed=0):
    rng = np.random.default_rng(seed)
    return np.angle(np.exp(1j * (OFFSETS[:, None, None, None] + rng.uniform(-np.pi, np.pi, (1,) + SHAPE[1:]))))


class MREDicomTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="mre-dicom-")

    def write(self, stored, description, image_type=("ORIGINAL", "PRIMARY", "P", "ND"), frame_tags=None, number=1,
              rescale=(1.0, 0.0), manufacturer="SIEMENS", comments=None, sub="a"):
        tags = []
        for f in range(stored.shape[0]):
            item = {"ImageType": list(image_type), "Manufacturer": manufacturer,
                    "RescaleSlope": rescale[0], "RescaleIntercept": rescale[1]}
            if comments:
                item["ImageComments"] = comments
            item.update((frame_tags or [{}] * stored.shape[0])[f])
            tags.append(item)
        write_series(os.path.join(self.folder, sub), np.round(stored).astype(np.int16), spacing=(2.0, 2.0, 4.0),
                     frame_tags=tags, series_number=number, description=description)

    def test_siemens_int12_temporal_positions_and_frequency_in_description(self):
        truth = phase_rad()
        stored = np.clip(np.round((truth / np.pi * 4096.0 + 4096.0) / 2.0), 0, 4095)   # slope 2, intercept -4096
        self.write(stored, "MRE 60Hz", rescale=(2.0, -4096.0),
                   frame_tags=[{"TemporalPositionIdentifier": f + 1, "NumberOfTemporalPositions": 4} for f in range(4)])
        data = read_dicom(self.folder)
        self.assertEqual(data.values["frequencies_hz"], [60.0])
        self.assertIn("SeriesDescription", data.sources["frequencies_hz"])
        np.testing.assert_allclose(data.values["offsets"], OFFSETS)
        self.assertIn("TemporalPositionIdentifier", data.sources["offsets"])
        self.assertTrue(data.sources["phase_units"].startswith("int12"))
        np.testing.assert_allclose(data.array, truth, atol=2 * np.pi / 4096 + 1e-9)
        acquisition = build_acquisition(data.array.shape[0], (4e-3, 2e-3, 2e-3), data.values["frequencies_hz"],
                                        data.values["offsets"], um_per_rad=5.0)
        self.assertEqual(acquisition.frequencies_hz, (60.0,))

    def test_philips_stored_12_bit_trigger_times_and_frequency_in_comments(self):
        truth = phase_rad(1)
        stored = (truth + np.pi) * 2048.0 / np.pi
        stored = np.clip(stored, 0, 4095)
        period_ms = 1000.0 / 50.0
        self.write(stored, "sMRE", image_type=("ORIGINAL", "PRIMARY", "PHASE"), manufacturer="Philips",
                   comments="driver 50 Hz", frame_tags=[{"TriggerTime": f * period_ms / 4} for f in range(4)])
        data = read_dicom(self.folder)
        self.assertEqual(data.values["frequencies_hz"], [50.0])
        self.assertIn("ImageComments", data.sources["frequencies_hz"])
        np.testing.assert_allclose(data.values["offsets"], OFFSETS, atol=1e-9)
        self.assertIn("TriggerTime", data.sources["offsets"])
        self.assertTrue(data.sources["phase_units"].startswith("uint12"))
        np.testing.assert_allclose(data.array, truth, atol=np.pi / 2048 + 1e-9)

    def test_milliradians_and_magnitude_series(self):
        truth = phase_rad(2)
        self.write(truth * 1000.0, "MRE 40 Hz", manufacturer="Philips",
                   frame_tags=[{"TemporalPositionIdentifier": f + 1} for f in range(4)])
        self.write(np.full(SHAPE, 500.0), "MRE 40 Hz magnitude", image_type=("ORIGINAL", "PRIMARY", "M"), number=2,
                   frame_tags=[{"TemporalPositionIdentifier": f + 1} for f in range(4)], sub="b")
        data = read_dicom(self.folder)
        self.assertTrue(data.sources["phase_units"].startswith("mrad"))
        np.testing.assert_allclose(data.array, truth, atol=1e-3)
        self.assertEqual(data.magnitude.shape, SHAPE[1:])
        self.assertEqual(read_dicom(self.folder, phase_units="int12").sources["phase_units"], "int12 (--phase-units)")

    def test_three_direction_series_need_directions_and_missing_frequency_is_refused(self):
        for d in range(3):
            self.write(phase_rad(d) * 1000.0, "MRE 60Hz", number=d + 1, sub=f"d{d}", manufacturer="GE MEDICAL SYSTEMS",
                       frame_tags=[{"TemporalPositionIdentifier": f + 1} for f in range(4)])
        data = read_dicom(self.folder)
        self.assertEqual(data.array.shape[0], 12)
        self.assertIn("--directions", data.sources["directions_needed"])
        with self.assertRaises(InputError) as caught:      # one direction assumed: 12 frames != 1 x 1 x 4
            build_acquisition(12, (4e-3, 2e-3, 2e-3), data.values["frequencies_hz"], data.values["offsets"])
        self.assertIn("--directions", str(caught.exception))
        build_acquisition(12, (4e-3, 2e-3, 2e-3), data.values["frequencies_hz"], data.values["offsets"],
                          directions_ijk=[[1, 0, 0], [0, 1, 0], [0, 0, 1]])

    def test_no_frequency_refused_naming_the_flag(self):
        self.write(phase_rad() * 1000.0, "elastography", frame_tags=[{"TemporalPositionIdentifier": f + 1}
                                                                     for f in range(4)])
        data = read_dicom(self.folder)
        self.assertNotIn("frequencies_hz", data.values)
        with self.assertRaises(MetadataError) as caught:
            build_acquisition(4, (4e-3, 2e-3, 2e-3), data.values.get("frequencies_hz"), data.values["offsets"])
        self.assertIn("--frequency", str(caught.exception))

    def test_enhanced_multiframe_phase(self):
        import pydicom

        from dicom_writer import save_as_file, write_enhanced
        truth = phase_rad(3)
        path = os.path.join(self.folder, "mre.dcm")
        write_enhanced(path, np.round(truth * 1000.0).astype(np.int16), spacing=(2.0, 2.0, 4.0),
                       frame_datetimes=[f"20240101120000.{f:02d}" for f in range(4)], description="MRE 45 Hz")
        dataset = pydicom.dcmread(path)
        dataset.ComplexImageComponent = "PHASE"
        dataset.Manufacturer = "Philips Medical Systems"
        save_as_file(dataset, path)
        data = read_dicom(path)
        self.assertEqual(data.values["frequencies_hz"], [45.0])
        np.testing.assert_allclose(data.values["offsets"], OFFSETS)
        self.assertIn("ImageComponent", data.sources["phase_images"])
        np.testing.assert_allclose(data.array, truth, atol=1e-3)

    def test_unknown_scaling_refused(self):
        self.write(phase_rad() * 9000.0, "MRE 60Hz", frame_tags=[{"TemporalPositionIdentifier": f + 1}
                                                                 for f in range(4)])
        with self.assertRaises(InputError) as caught:
            read_dicom(self.folder)
        self.assertIn("--phase-units", str(caught.exception))


class MREDicomCommandLineTest(unittest.TestCase):
    def test_maps_from_a_dicom_folder_match_the_true_modulus(self):
        import argparse
        import contextlib
        import io

        from ElastographyModuleLib import cli, synthesis
        from TMEMonitorLib import io as tme_io
        folder = tempfile.mkdtemp(prefix="mre-dicom-cli-")
        shape, h = (6, 32, 32), 2e-3
        wave = synthesis.shear_wave("plane", shape, h, 60.0, 3000.0, components=1, direction=(0.0, 0.6, 0.8))
        phase = synthesis.phase_images(wave[0], OFFSETS, 1.0 / 5e-6)           # 5 um/rad
        stored = np.clip(np.round((phase / np.pi * 4096.0 + 4096.0) / 2.0), 0, 4095)
        tags = [{"ImageType": ["ORIGINAL", "PRIMARY", "P"], "Manufacturer": "SIEMENS", "RescaleSlope": 2.0,
                 "RescaleIntercept": -4096.0, "TemporalPositionIdentifier": f + 1, "NumberOfTemporalPositions": 4}
                for f in range(4)]
        write_series(os.path.join(folder, "dicom"), stored.astype(np.int16), spacing=(2.0, 2.0, 2.0), frame_tags=tags,
                     description="MRE 60Hz")
        magnitude = np.zeros((4,) + shape)
        magnitude[:, :, 4:-4, 4:-4] = 800.0                              # the body: all but a 4-voxel rim
        write_series(os.path.join(folder, "dicom", "magnitude"), magnitude.astype(np.int16), spacing=(2.0, 2.0, 2.0),
                     frame_tags=[dict(t, ImageType=["ORIGINAL", "PRIMARY", "M"], RescaleSlope=1.0, RescaleIntercept=0.0)
                                 for t in tags], description="MRE 60Hz", series_number=2)
        parser = argparse.ArgumentParser()
        cli.add_parser(parser.add_subparsers())
        out = os.path.join(folder, "maps")
        args = parser.parse_args(["mre", os.path.join(folder, "dicom"), "--out", out, "--inversions", "mdev",
                                  "--um-per-rad", "5"])
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            self.assertEqual(args.func(args), 0)
        text = printed.getvalue()
        self.assertIn("frequencies: DICOM (0008,103E) SeriesDescription 'MRE 60Hz'", text)
        self.assertIn("TemporalPositionIdentifier", text)
        self.assertIn("phase units: int12", text)
        self.assertIn("mask: signal of the DICOM magnitude series", text)
        abs_g = tme_io.read_volume(os.path.join(out, "mdev_abs_G.nrrd")).array
        self.assertTrue(np.all(np.isnan(abs_g[:, :2, :])))                # outside the body: no stiffness
        self.assertLess(abs(np.nanmedian(abs_g[1:-1, 6:-6, 6:-6]) / 3.0 - 1), 0.05)   # kPa


if __name__ == "__main__":
    unittest.main()
