"""Every file the demo writes is the input of the command that uses that kind of file.

The walk (tiny demo): ``*.seq.nrrd`` -> ``tme-monitor info`` (every one, incl. the multi-flip
VFA.seq.nrrd, the multi-echo GRE and the MRE wave images, a derived review output along the
encoding 'component' index), except the MRE phase images: ``MRE_phase.seq.nrrd`` -> ``tme-monitor
mre --mask tumour.seg.nrrd`` with no acquisition flag (frequency, offsets, directions, phase
scaling read from the file's TMEMonitor.MRE* keys); ``DCE.seq.nrrd`` -> ``tme-monitor dce`` with no acquisition flag (TR, flip angle,
field strength read from the file's TMEMonitor keys), ``--vfa VFA.seq.nrrd`` and
``--mask tumour.seg.nrrd``; ``DWI.seq.nrrd`` -> ``tme-monitor dwi --mask tumour.seg.nrrd``;
the NIfTI-MRS spectra -> ``tme-monitor info``; every 3D ``.nrrd`` (maps, label maps, anatomy) ->
the volume reader every --mask / --t1-map / --b1-map flag uses, and each registry map carries
its quantity and unit in the header; the scene ``.mrb`` -> ``tme-monitor report`` (one
self-contained HTML with the images inside); report.json -> JSON; figures -> PNG. A file of a
kind no command consumes fails the test.
"""
import contextlib
import io
import json
import os
import shutil
import tempfile
import unittest

from demo_output import tiny_demo_output

from TMEMonitorApp.cli.main import main


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


class DemoRoundTripTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out, _ = tiny_demo_output()
        cls.work = tempfile.mkdtemp(prefix="tme-round-trip-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def _ok(self, argv):
        code, out, err = run(argv)
        self.assertEqual(code, 0, f"tme-monitor {' '.join(argv)}\n{out[-1500:]}\n{err[-1500:]}")
        return out

    def test_every_file_is_accepted_by_its_command(self):
        from TMEMonitorLib import io as tme_io
        from TMEMonitorLib.io import map_metadata
        consumed, unconsumed, mre_phase = [], [], []
        visit = os.path.join(self.out, "nrrd", "baseline")
        mask = os.path.join(visit, "tumour.seg.nrrd")
        self.assertTrue(os.path.isfile(mask), "the tumour segmentation is exported as .seg.nrrd")
        for root, _, names in os.walk(self.out):
            for name in sorted(names):
                path = os.path.join(root, name)
                lower = name.lower()
                with self.subTest(path=os.path.relpath(path, self.out)):
                    if lower == "mre_phase.seq.nrrd":
                        printed = self._ok(["mre", path, "--mask", os.path.join(root, "tumour.seg.nrrd"), "--out",
                                            os.path.join(self.work, "mre_" + os.path.basename(root))])
                        self.assertIn("frequencies: NRRD key 'TMEMonitor.MREFrequencies'", printed)
                        mre_phase.append(path)
                    elif lower.endswith(".seq.nrrd"):
                        printed = self._ok(["info", path])
                        self.assertIn("4D series", printed)
                        if lower.startswith("mre_wave"):
                            self.assertIn("along 'component'", printed)
                        if lower.startswith("multi-echo"):
                            self.assertIn("along echo_time", printed)
                    elif lower.endswith(".seg.nrrd"):
                        volume = tme_io.read_volume(path)
                        self.assertGreater((volume.array > 0).sum(), 0)
                    elif lower.endswith(".nrrd"):
                        volume = tme_io.read_volume(path)
                        self.assertEqual(volume.array.ndim, 3)
                        fields = map_metadata.read_nrrd_fields(path)
                        if "MapName" in fields:
                            self.assertIn("Quantity", fields)
                            self.assertIn("Unit", fields)
                    elif lower.endswith((".nii", ".nii.gz")) and os.path.basename(root) == "mrs":
                        self.assertIn("NIfTI-MRS spectrum", self._ok(["info", path]))
                    elif lower.endswith(".mrb") or lower in ("report.json", "report.html") or lower.endswith(".png"):
                        pass                                                   # checked below / by the browser test
                    elif lower == "manifest.json" and root == self.out:
                        pass                         # the run's record of what it wrote (output_folder; tested there)
                    else:
                        unconsumed.append(path)
                        continue
                    consumed.append(path)
        self.assertEqual(unconsumed, [], "files no command consumes")
        self.assertEqual(len(mre_phase), len(os.listdir(os.path.join(self.out, "nrrd"))), "MRE phase per visit")
        self.assertGreater(len(consumed), 50)
        with open(os.path.join(self.out, "report.json")) as handle:
            registration = json.load(handle)["registration"]
        for record in registration.values():
            self.assertIsInstance(record, dict)
            self.assertIn("nmi_after", record["quality"])
        # maps named after the registry, the same names as the command line writes
        for name in ("Ktrans.nrrd", "se_Ktrans.nrrd", "ADC.nrrd", "ve.nrrd"):
            self.assertTrue(os.path.isfile(os.path.join(visit, name)), name)

    def test_dce_reads_its_acquisition_from_the_demo_file(self):
        visit = os.path.join(self.out, "nrrd", "baseline")
        out = os.path.join(self.work, "dce")
        printed = self._ok(["dce", os.path.join(visit, "DCE.seq.nrrd"), "--vfa", os.path.join(visit, "VFA.seq.nrrd"),
                            "--mask", os.path.join(visit, "tumour.seg.nrrd"), "--out", out])
        self.assertIn("TR_s: 0.005", printed)
        self.assertIn("T10:  (variable flip angle fit", printed)
        from TMEMonitorLib.io import map_metadata
        fields = map_metadata.read_nrrd_fields(os.path.join(out, "Ktrans.nrrd"))
        self.assertEqual((fields["Quantity"], fields["Unit"]), ("Ktrans", "1/min"))

    def test_mre_of_the_demo_phase_file_gives_the_demo_maps(self):
        """The command line, reading only the file, reproduces the demo's own |G*| map in the tumour."""
        import numpy as np
        from TMEMonitorLib import io as tme_io
        from TMEMonitorLib.io.reader import place_on_grid
        visit = os.path.join(self.out, "nrrd", "baseline")
        out = os.path.join(self.work, "mre")
        printed = self._ok(["mre", os.path.join(visit, "MRE_phase.seq.nrrd"), "--mask",
                            os.path.join(visit, "tumour.seg.nrrd"), "--inversions", "mdev", "--out", out])
        for key in ("MREPhaseOffsets", "MREDirections", "MREPhaseToDisplacement_um_per_rad"):
            self.assertIn(f"NRRD key 'TMEMonitor.{key}'", printed)
        ours = tme_io.read_volume(os.path.join(out, "mdev_abs_G.nrrd"))
        demo = tme_io.read_volume(os.path.join(visit, "abs_G.nrrd"))          # named after its registry entry
        tumour = place_on_grid(tme_io.read_volume(os.path.join(visit, "tumour.seg.nrrd")), ours.array.shape,
                               ours.ijk_to_ras) > 0
        self.assertGreater(tumour.sum(), 0)
        np.testing.assert_allclose(np.nanmedian(ours.array[tumour]), np.nanmedian(demo.array[tumour]), rtol=0.02)

    def test_dwi_reads_the_demo_series_with_the_exported_mask(self):
        visit = os.path.join(self.out, "nrrd", "baseline")
        self._ok(["dwi", os.path.join(visit, "DWI.seq.nrrd"), "--models", "adc", "--mask",
                  os.path.join(visit, "tumour.seg.nrrd"), "--out", os.path.join(self.work, "dwi")])

    def test_report_of_the_demo_scene_is_one_self_contained_file(self):
        out = os.path.join(self.work, "report")
        self._ok(["report", os.path.join(self.out, "TMEMonitorDemo.mrb"), "--out", out, "--register", "none"])
        with open(os.path.join(out, "report.html"), encoding="utf-8") as handle:
            page = handle.read()
        self.assertIn("src='data:image/png;base64,", page)
        self.assertNotIn("src='figures/", page)
        self.assertNotIn("<title></title>", page)
        self.assertNotIn("RANO 2.0", page)


if __name__ == "__main__":
    unittest.main()
