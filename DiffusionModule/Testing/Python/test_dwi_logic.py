"""DiffusionLogic and ``tme-monitor dwi`` on a real headless scene: maps, units, statistics, errors."""
import contextlib
import io
import os
import shutil
import tempfile
import unittest

import numpy as np
import SimpleITK as sitk

from DiffusionModuleLib.logic import DiffusionLogic
from DiffusionModuleLib.settings import DiffusionSettings
from DiffusionModuleLib.signal_models import ivim_signal
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.scene import attribute_names
from TMEMonitorLib.errors import InputError

B = np.array([0, 10, 20, 50, 100, 200, 400, 600, 800, 1000], dtype=float)

B_VALUES_SOURCE = attribute_names.source_attribute("b_values")


def synthetic_dwi(shape=(2, 6, 6)):
    d = np.full(shape, 1.0e-3)
    d[:, :3] = 2.0e-3
    f = np.full(shape, 0.1)
    signal = ivim_signal(np.full(shape, 1000.0), d, f, np.full(shape, 0.04), B)
    return np.moveaxis(signal, -1, 0).astype(np.float32), d, f


class DiffusionLogicTest(unittest.TestCase):
    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.ijk = tme_scene.make_ijk_to_ras((1.5, 1.5, 4.0), (10.0, -5.0, 2.0))
        self.signal, self.d, self.f = synthetic_dwi()
        self.node = tme_scene.array_to_sequence(self.scene, self.signal, B, self.ijk, "DWI", axis_name="b",
                                                axis_source="DICOM (0018,9087) DiffusionBValue")

    def test_maps_units_statistics_and_provenance(self):
        result = DiffusionLogic(self.scene).run(self.node, DiffusionSettings(ivim_method="full"))
        np.testing.assert_allclose(tme_scene.volume_to_array(result.map_nodes["D"]), self.d, rtol=1e-3)
        np.testing.assert_allclose(tme_scene.volume_to_array(result.map_nodes["f"]), self.f, atol=1e-3)
        self.assertEqual(result.map_nodes["ADC"].GetVoxelValueUnits().GetCodeValue(), "mm2/s")
        self.assertIn("DiffusionBValue", attribute_names.get(result.map_nodes["ADC"], B_VALUES_SOURCE))
        columns = tme_scene.table_to_columns(result.table_node)
        self.assertIn("ADC", columns["parameter"])
        self.assertIn("entropy", columns)
        self.assertIn(1400.0, result.high_b_nodes)
        chart = DiffusionLogic(self.scene).signal_plot(result, self.node, voxel=(0, 0, 0))
        self.assertEqual(chart.GetNumberOfPlotSeriesNodes(), 3)

    def test_hierarchy_folder(self):
        patient = tme_scene.hierarchy.add_patient(self.scene, "p")
        visit = tme_scene.hierarchy.add_visit(self.scene, patient, "v", "2026-01-01")
        result = DiffusionLogic(self.scene).run(self.node, parent_item=visit)
        names = [n.GetName() for n in tme_scene.hierarchy.children_nodes(self.scene, visit)]
        self.assertIn(result.map_nodes["ADC"].GetName(), names)

    def test_bad_input_leaves_scene_untouched(self):
        count = self.scene.GetNumberOfNodes()
        single_b = tme_scene.array_to_sequence(self.scene, self.signal[:1], [0.0], self.ijk, "one b", axis_name="b")
        count = self.scene.GetNumberOfNodes()
        with self.assertRaises(InputError):
            DiffusionLogic(self.scene).run(single_b)
        wrong_grid = tme_scene.add_label_map(self.scene, np.ones((2, 6, 7), np.uint8), self.ijk, "mask")
        count = self.scene.GetNumberOfNodes()
        with self.assertRaises(InputError):
            DiffusionLogic(self.scene).run(self.node, mask_node=wrong_grid)
        with self.assertRaises(InputError):
            DiffusionLogic(self.scene).run(self.node, DiffusionSettings(fit_adc=False, fit_ivim=False))
        self.assertEqual(self.scene.GetNumberOfNodes(), count)


class DwiCommandTest(unittest.TestCase):
    def test_nifti_with_bval(self):
        from TMEMonitorApp.cli.main import main
        folder = tempfile.mkdtemp(prefix="tme-dwi-")
        try:
            signal, d, _ = synthetic_dwi()
            image = sitk.JoinSeries([sitk.GetImageFromArray(frame) for frame in signal])
            path = os.path.join(folder, "dwi.nii.gz")
            sitk.WriteImage(image, path)
            with open(os.path.join(folder, "dwi.bval"), "w") as handle:
                handle.write(" ".join(f"{b:g}" for b in B) + "\n")
            out = os.path.join(folder, "out")
            with contextlib.redirect_stdout(io.StringIO()) as printed:
                self.assertEqual(main(["dwi", path, "--out", out, "--models", "adc,ivim"]), 0)
            self.assertIn("dwi.bval", printed.getvalue())
            adc = sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(out, "D.nrrd")))
            np.testing.assert_allclose(adc, d, rtol=1e-3)
            for name in ("statistics.csv", "dwi.mrb", "computed_b1400.nrrd", "fit_status_ivim.nrrd"):
                self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
            with contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(main(["dwi", path, "--out", out, "--models", "magic"]), 2)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
