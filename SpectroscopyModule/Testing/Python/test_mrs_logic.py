"""SpectroscopyLogic on a real headless scene: SVS table/chart/voxel box, MRSI maps with geometry,
voxel plots, sample scanner files, and errors that leave the scene untouched."""
import glob
import json
import os
import tempfile
import unittest
from types import SimpleNamespace

import numpy as np

from SpectroscopyModuleLib.basis import simulate_basis
from SpectroscopyModuleLib.logic import BIOMARKERS_ATTRIBUTE, MRSIResult, SpectroscopyLogic, SVSResult
from SpectroscopyModuleLib.settings import SpectroscopySettings
from SpectroscopyModuleLib.synthetic import TUMOUR_MM, synthesize_mrsi, synthesize_spectrum
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene.geometry import from_vtk_matrix

MHZ, TE, N_POINTS, DWELL = 123.2, 0.030, 1024, 1 / 2000
NO_PROCESSING = SpectroscopySettings(processing=())
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SAMPLE_DIR = os.path.join(ROOT, "Testing", "Data", "mrs-formats")
TRUTH_CHO_CR = (TUMOUR_MM["GPC"] + TUMOUR_MM["PCh"]) / (TUMOUR_MM["Cr"] + TUMOUR_MM["PCr"])
TRUTH_LAC_CR = TUMOUR_MM["Lac"] / (TUMOUR_MM["Cr"] + TUMOUR_MM["PCr"])


def oblique_affine(size=(20.0, 15.0, 10.0), origin=(-12.0, 30.0, 5.5), degrees=15.0):
    angle = np.deg2rad(degrees)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rotation * np.asarray(size)
    affine[:3, 3] = origin
    return affine, rotation


def node_count(scene):
    return scene.GetNumberOfNodes()


def table_rows(table_node):
    columns = tme_scene.table_to_columns(table_node)
    return {name: {key: columns[key][index] for key in columns} for index, name in enumerate(columns["quantity"])}


class SingleVoxelLogicTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scene = tme_scene.create_scene()
        cls.affine, cls.rotation = oblique_affine()
        mrs = synthesize_spectrum(TUMOUR_MM, MHZ, TE, "PRESS", N_POINTS, DWELL, linewidth_hz=6.0, snr=100, rng=0)
        mrs.affine = cls.affine
        patient = tme_scene.hierarchy.add_patient(cls.scene, "patient")
        cls.visit = tme_scene.hierarchy.add_visit(cls.scene, patient, "baseline", "2026-01-02")
        cls.result = SpectroscopyLogic(cls.scene).run_svs(mrs, SpectroscopySettings(), parent_item=cls.visit,
                                                           name_prefix="baseline MRS")

    def test_ratios_through_the_table_node(self):
        self.assertIsInstance(self.result, SVSResult)
        rows = table_rows(self.result.table_node)
        for label, truth in (("tCho/tCr", TRUTH_CHO_CR), ("Lac/tCr", TRUTH_LAC_CR)):
            with self.subTest(ratio=label):
                self.assertEqual(rows[label]["kind"], "ratio")
                self.assertLess(abs(rows[label]["value"] - truth), 4 * rows[label]["SD"] + 0.01 * truth)
        self.assertEqual(rows["NAA"]["unit"], "a.u.")
        self.assertLess(rows["tCho"]["CRLB %"], 10.0)
        self.assertEqual(self.result.table_node.GetColumnUnitLabel("CRLB %"), "%")
        self.assertGreater(rows["SNR"]["value"], 20)
        self.assertAlmostEqual(rows["FWHM"]["value"], 6.0 / MHZ, delta=0.01)
        self.assertIn("quality flags", rows)
        stored = json.loads(self.result.table_node.GetAttribute(BIOMARKERS_ATTRIBUTE))
        self.assertAlmostEqual(stored["tCho/tCr"], self.result.biomarkers["tCho/tCr"], places=12)
        self.assertAlmostEqual(stored["tCho/tCr"], rows["tCho/tCr"]["value"], places=12)

    def test_spectrum_chart_on_reversed_ppm_axis(self):
        chart = self.result.chart_node
        low, high = min(chart.GetXAxisRange()), max(chart.GetXAxisRange())
        self.assertFalse(chart.GetXAxisRangeAuto())
        self.assertGreater(chart.GetXAxisRange()[0], chart.GetXAxisRange()[1])
        self.assertAlmostEqual(low, 0.2, delta=0.02)          # one point is 0.016 ppm
        self.assertAlmostEqual(high, 4.2, delta=0.02)
        names = [chart.GetNthPlotSeriesNode(i).GetName() for i in range(chart.GetNumberOfPlotSeriesNodes())]
        for expected in ("measured", "fit", "baseline", "residual", "tCho", "tCr", "tNAA", "Lac"):
            self.assertIn(expected, names)
        # The plotted fit is the sum of components and baseline (absorption mode).
        data = tme_scene.table_to_columns(chart.GetNthPlotSeriesNode(0).GetTableNode())
        fit = self.result.analysis.fit
        np.testing.assert_allclose(data["fit"], fit.fit_spectrum.real, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(data["chemical shift"], fit.ppm)

    def test_voxel_box_from_header_geometry(self):
        roi = self.result.roi_node
        self.assertEqual(roi.GetClassName(), "vtkMRMLMarkupsROINode")
        centre = [0.0, 0.0, 0.0]
        roi.GetCenter(centre)
        np.testing.assert_allclose(centre, self.affine[:3, 3], atol=1e-9)
        np.testing.assert_allclose(roi.GetSize(), (20.0, 15.0, 10.0), atol=1e-9)
        np.testing.assert_allclose(from_vtk_matrix(roi.GetObjectToNodeMatrix())[:3, :3], self.rotation, atol=1e-9)

    def test_outputs_under_the_visit_and_saved(self):
        children = {n.GetName() for n in tme_scene.hierarchy.children_nodes(self.scene, self.visit)}
        for node in (self.result.table_node, self.result.chart_node, self.result.roi_node):
            self.assertIn(node.GetName(), children)
        path = os.path.join(tempfile.mkdtemp(), "svs.mrb")
        tme_scene.save_scene(self.scene, path)
        loaded = tme_scene.load_scene(path)
        chart = loaded.GetFirstNodeByName(self.result.chart_node.GetName())
        self.assertGreater(chart.GetXAxisRange()[0], chart.GetXAxisRange()[1])
        self.assertIsNotNone(loaded.GetFirstNodeByName(self.result.roi_node.GetName()))

    def test_no_geometry_no_box(self):
        scene = tme_scene.create_scene()
        mrs = synthesize_spectrum({"NAA": 10.0, "Cr": 8.0, "PCh": 2.0}, MHZ, TE, "PRESS", N_POINTS, DWELL, rng=1)
        result = SpectroscopyLogic(scene).run(mrs, NO_PROCESSING)
        self.assertIsInstance(result, SVSResult)
        self.assertIsNone(result.roi_node)
        self.assertEqual(scene.GetNumberOfNodesByClass("vtkMRMLMarkupsROINode"), 0)


class ErrorsLeaveSceneUntouchedTest(unittest.TestCase):
    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.mrs = synthesize_spectrum({"NAA": 10.0, "Cr": 8.0, "PCh": 2.0}, MHZ, TE, "PRESS", N_POINTS, DWELL, rng=0)
        tme_scene.add_table(self.scene, "existing", {"a": [1.0]})
        self.before = node_count(self.scene)

    def assertRefused(self, source, settings=NO_PROCESSING, text=None, **kwargs):
        with self.assertRaises(InputError) as caught:
            SpectroscopyLogic(self.scene).run(source, settings, **kwargs)
        self.assertEqual(node_count(self.scene), self.before)
        if text:
            self.assertIn(text, str(caught.exception))

    def test_missing_dwell_and_frequency(self):
        base = dict(fid=self.mrs.fid, nucleus="1H", te_s=TE, tr_s=2.0, affine=None, metadata={}, dim_tags=[])
        self.assertRefused(SimpleNamespace(**base, dwell_s=None, spectrometer_mhz=MHZ), text="dwell time")
        self.assertRefused(SimpleNamespace(**base, dwell_s=DWELL, spectrometer_mhz=None), text="spectrometer")

    def test_basis_at_another_field(self):
        basis = simulate_basis(297.2, TE, "PRESS", ["NAA", "Cr", "PCh"], N_POINTS, DWELL)
        self.assertRefused(self.mrs, basis=basis, text="MHz")

    def test_unknown_format_and_missing_file(self):
        self.assertRefused("/no/such/spectrum.nii.gz", text="does not exist")
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "notes.xyz")
        with open(path, "w") as handle:
            handle.write("this is not a spectrum\n")
        self.assertRefused(path)

    def test_bad_settings(self):
        self.assertRefused(self.mrs, SpectroscopySettings(processing=("denoise",)))
        self.assertRefused(self.mrs, SpectroscopySettings(basis_source="file", basis_path="/no/basis.basis"))


class MRSILogicTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scene = tme_scene.create_scene()
        cls.affine, _ = oblique_affine(size=(10.0, 10.0, 12.0), degrees=12.0)
        maps = {name: np.full((4, 4), value) for name, value in TUMOUR_MM.items()}
        maps["PCh"] = maps["PCh"].copy()
        maps["PCh"][2, 1] = 7.0                                        # voxel i=2, j=1: high choline
        mrsi = synthesize_mrsi(maps, MHZ, TE, "PRESS", N_POINTS, DWELL, snr=80, rng=3, affine=cls.affine)
        cls.result = SpectroscopyLogic(cls.scene).run(mrsi, NO_PROCESSING, name_prefix="MRSI")

    def test_maps_units_and_geometry(self):
        self.assertIsInstance(self.result, MRSIResult)
        tcho = self.result.map_nodes["tCho"]
        ratio = self.result.map_nodes["tCho/tCr"]
        self.assertEqual(tcho.GetVoxelValueUnits().GetCodeValue(), "[arb'U]")
        self.assertEqual(tcho.GetAttribute("TMEMonitor.Unit"), "a.u.")
        self.assertEqual(ratio.GetVoxelValueUnits().GetCodeValue(), "1")
        self.assertEqual(ratio.GetAttribute("TMEMonitor.Unit"), "")
        shape, ijk_to_ras = tme_scene.volume_geometry(ratio)
        self.assertEqual(shape, (1, 4, 4))                              # [k, j, i]
        np.testing.assert_allclose(ijk_to_ras, self.affine, atol=1e-9)
        values = tme_scene.volume_to_array(ratio)
        self.assertEqual(np.unravel_index(np.nanargmax(values), values.shape), (0, 1, 2))
        self.assertAlmostEqual(float(np.nanmedian(values)), TRUTH_CHO_CR, delta=0.1)
        self.assertTrue(ratio.GetDisplayNode().GetApplyThreshold())

    def test_status_quality_summary(self):
        status = tme_scene.volume_to_array(self.result.status_node)
        np.testing.assert_array_equal(status, 0)
        quality = tme_scene.volume_to_array(self.result.quality_node)
        self.assertGreaterEqual(int((quality == 1).sum()), 14)
        self.assertEqual(self.result.quality_node.GetClassName(), "vtkMRMLLabelMapVolumeNode")
        columns = tme_scene.table_to_columns(self.result.table_node)
        index = columns["map"].index("tCho/tCr")
        self.assertAlmostEqual(columns["median (good voxels)"][index], self.result.biomarkers["tCho/tCr"], places=6)

    def test_voxel_plot(self):
        logic = SpectroscopyLogic(self.scene)
        chart = logic.voxel_plot(self.result, (2, 1, 0))
        self.assertEqual(chart.GetAttribute("TMEMonitor.Voxel"), "2 1 0")
        self.assertGreater(chart.GetXAxisRange()[0], chart.GetXAxisRange()[1])
        fit_names = [chart.GetNthPlotSeriesNode(i).GetName() for i in range(chart.GetNumberOfPlotSeriesNodes())]
        self.assertIn("tCho", fit_names)
        before = node_count(self.scene)
        with self.assertRaises(InputError):
            logic.voxel_plot(self.result, (4, 0, 0))
        self.assertEqual(node_count(self.scene), before)


    def test_grid_outline_follows_the_voxel_boundaries(self):
        grid = self.result.grid_node
        self.assertEqual(grid.GetClassName(), "vtkMRMLModelNode")
        self.assertEqual(grid.GetAttribute("TMEMonitor.GridShape"), "4 4 1")
        poly = grid.GetPolyData()
        self.assertEqual(poly.GetNumberOfCells(), 5 + 5 + 2)            # planes at i, j, k = -0.5 .. n - 0.5
        points = np.array([poly.GetPoint(i) for i in range(poly.GetNumberOfPoints())])
        corners = np.array([[i, j, k, 1.0] for i in (-0.5, 3.5) for j in (-0.5, 3.5) for k in (-0.5, 0.5)])
        expected = (corners @ self.affine.T)[:, :3]
        for corner in expected:                                          # the grid's outer corners are there
            self.assertLess(np.min(np.linalg.norm(points - corner, axis=1)), 1e-4)     # float32 points
        self.assertTrue(grid.GetDisplayNode().GetVisibility2D())

    def test_click_position_picks_the_voxel(self):
        logic = SpectroscopyLogic(self.scene)
        centre = self.affine @ np.array([2.0, 1.0, 0.0, 1.0])
        near_edge = self.affine @ np.array([2.45, 0.6, 0.3, 1.0])
        self.assertEqual(logic.voxel_at_ras(self.result, centre[:3]), (2, 1, 0))
        self.assertEqual(logic.voxel_at_ras(self.result, near_edge[:3]), (2, 1, 0))
        chart = logic.voxel_plot_at_ras(self.result, centre[:3])
        self.assertEqual(chart.GetAttribute("TMEMonitor.Voxel"), "2 1 0")
        outside = self.affine @ np.array([4.6, 1.0, 0.0, 1.0])
        with self.assertRaises(InputError):
            logic.voxel_at_ras(self.result, outside[:3])


class SampleFileTest(unittest.TestCase):
    """A scanner file vendored by the readers (Testing/Data/mrs-formats), through the whole Logic."""

    def setUp(self):
        candidates = sorted(glob.glob(os.path.join(SAMPLE_DIR, "**", "metab.nii.gz"), recursive=True))
        self.assertTrue(candidates, f"vendored NIfTI-MRS sample missing under {SAMPLE_DIR}")
        self.path = candidates[0]

    def test_7t_steam_metabolite_spectrum(self):
        # FSL-MRS example data: 7 T STEAM, TE 11 ms, brain voxel 20 mm (header values).
        scene = tme_scene.create_scene()
        metabolites = ("NAA", "NAAG", "Cr", "PCr", "GPC", "PCh", "Ins", "Glu", "Gln", "Tau", "GSH", "Lac")
        result = SpectroscopyLogic(scene).run(self.path, SpectroscopySettings(sequence="STEAM", processing=(),
                                                                              metabolites=metabolites))
        self.assertIsInstance(result, SVSResult)
        acquisition = result.analysis.acquisition
        self.assertAlmostEqual(acquisition["spectrometer_mhz"][0], 297.219948, places=4)
        self.assertAlmostEqual(acquisition["te_s"][0], 0.011, places=6)
        # Normal brain (Govindaraju 2000 ranges): tNAA/tCr about 1.2-2, tCho/tCr about 0.1-0.35.
        self.assertTrue(1.0 < result.biomarkers["tNAA/tCr"] < 2.2, result.biomarkers["tNAA/tCr"])
        self.assertTrue(0.08 < result.biomarkers["tCho/tCr"] < 0.4, result.biomarkers["tCho/tCr"])
        self.assertEqual(result.analysis.fit.status_name, "ok")
        self.assertIsNotNone(result.roi_node)
        np.testing.assert_allclose(result.roi_node.GetSize(), (20.0, 20.0, 20.0), atol=0.5)


if __name__ == "__main__":
    unittest.main()
