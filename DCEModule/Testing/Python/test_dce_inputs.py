"""More ways in: a precomputed concentration series, a B1 map, a T10 per tissue, and the AIF
preview before the run; through the pipeline, DCELogic on a headless scene and the CLI.

Noise-free synthetic data built forward from the truth as in test_dce_pipeline.py, so each
route must give back Ktrans / ve / vp to 1 %; bad input is refused with the scene unchanged.
"""
import os
import shutil
import tempfile
import unittest
from dataclasses import replace

import numpy as np

from dce_fixtures import (BLOOD_T1_S, DELAY_S, FIELD_T, FLIP_DEG, HEMATOCRIT, M0, R1_GADOBUTROL_3T, TR_S,
                          VFA_FLIPS_DEG, synthetic_dce)
from DCEModuleLib import aif, signal
from DCEModuleLib.logic import DCELogic
from DCEModuleLib.pipeline import analyse_dce, preview_aif
from DCEModuleLib.settings import DCESettings, parse_t10_per_tissue
from TMEMonitorLib import io
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.scene import attribute_names
from TMEMonitorApp.cli.main import run_captured
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as fit_status

TOLERANCE = 0.01
B1_SCALE = 0.8
T10_TUMOUR_S, T10_MUSCLE_S = 1.6, 1.0


def concentration_series(d):
    """(T, slices, rows, cols) mM: tissue curves, whole blood in the artery."""
    return np.moveaxis(d.ct_mM, -1, 0).astype(np.float32)


def b1_scaled(d, b1=B1_SCALE):
    """DCE and VFA series acquired with actual flip = nominal flip x ``b1`` everywhere."""
    t10 = np.where(d.artery, BLOOD_T1_S, d.truth["T10"])
    dce = signal.concentration_to_spgr(d.ct_mM, M0, t10, TR_S, FLIP_DEG * b1, R1_GADOBUTROL_3T)
    vfa = np.stack([signal.spgr_signal(M0, 1.0 / t10, TR_S, flip * b1) for flip in VFA_FLIPS_DEG])
    return np.moveaxis(dce, -1, 0).astype(np.float32), vfa.astype(np.float32), np.full(t10.shape, b1)


def two_tissues(d):
    """DCE series whose slice 0 is tumour (T10 1.6 s) and slice 1 muscle (T10 1.0 s); labels 1, 2."""
    labels = np.zeros(d.tissue.shape, np.uint8)
    labels[0][d.tissue[0]] = 1
    labels[1][d.tissue[1]] = 2
    t10 = np.where(labels == 1, T10_TUMOUR_S, T10_MUSCLE_S)
    t10[d.artery] = BLOOD_T1_S
    dce = signal.concentration_to_spgr(d.ct_mM, M0, t10, TR_S, FLIP_DEG, R1_GADOBUTROL_3T)
    return np.moveaxis(dce, -1, 0).astype(np.float32), labels, t10


def relative_error(values, truth):
    return float(np.max(np.abs(values / truth - 1.0)))


class NewInputsPipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = synthetic_dce()

    def assert_recovered(self, analysis, names=("Ktrans", "ve", "vp"), tolerance=TOLERANCE):
        d = self.data
        for name in names:
            with self.subTest(parameter=name):
                self.assertLess(relative_error(analysis.maps[name][d.tissue], d.truth[name][d.tissue]), tolerance)
        np.testing.assert_array_equal(analysis.status[d.tissue], fit_status.OK)

    # --- concentration input -------------------------------------------------------------
    def test_concentration_input_population_aif(self):
        d = self.data
        analysis = analyse_dce(concentration_series(d), d.t_s,
                               DCESettings(input_kind="concentration", aif_delay_s=DELAY_S), mask=d.tissue)
        self.assert_recovered(analysis)
        self.assertNotIn("T10", analysis.maps)
        self.assertNotIn("TR_s", analysis.acquisition)
        self.assertIn("concentration series", analysis.acquisition["input"][1])
        np.testing.assert_array_equal(analysis.baseline_frames, np.arange(6))     # frames before 22 s
        np.testing.assert_array_less(np.abs(analysis.maps["BAT_s"][d.tissue] - DELAY_S), 1.0)

    def test_concentration_input_automatic_and_measured_aif(self):
        d = self.data
        conc = concentration_series(d)
        automatic = analyse_dce(conc, d.t_s, DCESettings(input_kind="concentration", aif_source="automatic",
                                                          aif_voxels=4), mask=d.tissue)
        found = np.zeros(d.tissue.shape, bool)
        found[automatic.aif["voxels"]] = True
        np.testing.assert_array_equal(found, d.artery)
        self.assert_recovered(automatic)
        measured = analyse_dce(conc, d.t_s, DCESettings(input_kind="concentration", aif_source="measured"),
                               mask=d.tissue, aif_mask=d.artery)
        np.testing.assert_allclose(measured.aif["cb_mM"], d.cb_mM, rtol=1e-5, atol=1e-6)
        self.assert_recovered(measured)

    def test_concentration_input_errors(self):
        d = self.data
        settings = DCESettings(input_kind="concentration", aif_delay_s=DELAY_S)
        with self.assertRaises(InputError) as caught:
            analyse_dce(np.full(d.signal.shape, np.nan, np.float32), d.t_s, settings)
        self.assertIn("concentration series", str(caught.exception))
        with self.assertRaises(InputError) as caught:
            analyse_dce(d.signal, d.t_s, settings, mask=d.tissue)                # a signal series, not mM
        self.assertIn("expected mM", str(caught.exception))
        with self.assertRaises(InputError):
            DCESettings(input_kind="dose").validated()

    # --- B1 map --------------------------------------------------------------------------
    def test_b1_map_gives_the_right_t1_only_with_the_map(self):
        d = self.data
        dce, vfa, b1 = b1_scaled(d)
        settings = DCESettings(aif_delay_s=DELAY_S)
        without = analyse_dce(dce, d.t_s, settings, metadata=d.metadata, mask=d.tissue, vfa=(vfa, d.flips_deg))
        self.assertGreater(relative_error(without.maps["T10"][d.tissue], d.truth["T10"][d.tissue]), 0.2)
        self.assertGreater(relative_error(without.maps["Ktrans"][d.tissue], d.truth["Ktrans"][d.tissue]), 0.05)
        with_map = analyse_dce(dce, d.t_s, settings, metadata=d.metadata, mask=d.tissue, vfa=(vfa, d.flips_deg),
                               b1_map=b1)
        np.testing.assert_allclose(with_map.maps["T10"][d.tissue], d.truth["T10"][d.tissue], rtol=1e-3)
        self.assert_recovered(with_map)
        self.assertIn("B1-corrected", with_map.acquisition["T10"][1])
        self.assertIn("B1", with_map.acquisition)

    def test_b1_map_errors(self):
        d = self.data
        dce, vfa, b1 = b1_scaled(d)
        for bad, text in ((b1[:, :, :5], "B1 map: shape"), (b1 * 100.0, "percent")):
            with self.subTest(expected=text), self.assertRaises(InputError) as caught:
                analyse_dce(dce, d.t_s, DCESettings(aif_delay_s=DELAY_S), metadata=d.metadata, mask=d.tissue,
                            vfa=(vfa, d.flips_deg), b1_map=bad)
            self.assertIn(text, str(caught.exception))

    # --- T10 per tissue ------------------------------------------------------------------
    def test_t10_per_tissue_gives_concentration_and_ktrans_in_both_tissues(self):
        d = self.data
        dce, labels, t10 = two_tissues(d)
        settings = DCESettings(aif_delay_s=DELAY_S, write_concentration=True,
                               t10_per_tissue={"tumour": T10_TUMOUR_S, "muscle": T10_MUSCLE_S})
        analysis = analyse_dce(dce, d.t_s, settings, metadata=d.metadata, mask=d.tissue,
                               t10_labels=(labels, {"tumour": 1, "muscle": 2}))
        self.assert_recovered(analysis)
        np.testing.assert_allclose(analysis.maps["T10"][d.tissue], t10[d.tissue], rtol=1e-6)
        np.testing.assert_allclose(analysis.concentration[:, d.tissue].T, d.ct_mM[d.tissue], atol=1e-4)
        self.assertIn("tumour 1.6 s", analysis.acquisition["T10"][1])
        # One T10 for both tissues is wrong in at least one of them.
        single = analyse_dce(dce, d.t_s, DCESettings(aif_delay_s=DELAY_S, fixed_t10_s=1.3), metadata=d.metadata,
                             mask=d.tissue)
        self.assertGreater(relative_error(single.maps["Ktrans"][d.tissue], d.truth["Ktrans"][d.tissue]), 0.05)

    def test_t10_per_tissue_by_label_value_with_default_and_errors(self):
        d = self.data
        dce, labels, _ = two_tissues(d)
        only_tumour = np.where(labels == 1, 1, 0)
        # Label values as keys; the muscle voxels are unlabelled and take the default (fixed) T10.
        analysis = analyse_dce(dce, d.t_s, DCESettings(aif_delay_s=DELAY_S, fixed_t10_s=T10_MUSCLE_S,
                                                       t10_per_tissue={1: T10_TUMOUR_S}),
                               metadata=d.metadata, mask=d.tissue, t10_labels=only_tumour)
        self.assert_recovered(analysis)
        # Without a default the unlabelled voxels are not fitted, and say so.
        analysis = analyse_dce(dce, d.t_s, DCESettings(aif_delay_s=DELAY_S, t10_per_tissue={1: T10_TUMOUR_S}),
                               metadata=d.metadata, mask=d.tissue, t10_labels=only_tumour)
        np.testing.assert_array_equal(analysis.status[labels == 2], fit_status.NO_SIGNAL)
        self.assertTrue(any("no listed tissue" in w for w in analysis.warnings))
        for settings, kwargs, text in (
                (DCESettings(t10_per_tissue={"fat": 0.4}), {"t10_labels": (labels, {"tumour": 1})}, "'fat'"),
                (DCESettings(t10_per_tissue={"tumour": 1.6}), {}, "needs tissue labels"),
                (DCESettings(t10_per_tissue={3: 1.6}), {"t10_labels": labels}, "no voxel")):
            with self.subTest(expected=text), self.assertRaises(InputError) as caught:
                analyse_dce(dce, d.t_s, replace(settings, aif_delay_s=DELAY_S), metadata=d.metadata,
                            mask=d.tissue, **kwargs)
            self.assertIn(text, str(caught.exception))
        with self.assertRaises(InputError):
            DCESettings(t10_per_tissue={"tumour": 16.0}).validated()

    def test_parse_t10_per_tissue(self):
        self.assertEqual(parse_t10_per_tissue("tumour=1.6, muscle=1.4"), {"tumour": 1.6, "muscle": 1.4})
        self.assertEqual(parse_t10_per_tissue("1=1.6;2=1.4"), {1: 1.6, 2: 1.4})
        for bad in ("tumour", "tumour=fast", "=1.2"):
            with self.subTest(text=bad), self.assertRaises(InputError):
                parse_t10_per_tissue(bad)

    # --- AIF preview (arrays) -------------------------------------------------------------
    def test_preview_equals_the_run(self):
        d = self.data
        for settings, kwargs in ((DCESettings(aif_delay_s=DELAY_S), {}),
                                 (DCESettings(aif_source="automatic", aif_voxels=4), {}),
                                 (DCESettings(aif_source="measured"), {"aif_mask": d.artery})):
            with self.subTest(aif=settings.aif_source):
                arguments = dict(metadata=d.metadata, mask=d.tissue, vfa=(d.vfa, d.flips_deg), **kwargs)
                preview = preview_aif(d.signal, d.t_s, settings, **arguments)
                run = analyse_dce(d.signal, d.t_s, settings, **arguments)
                np.testing.assert_array_equal(preview.aif["cp_mM"], run.aif["cp_mM"])
                self.assertEqual(preview.aif["source"], run.aif["source"])


class NewInputsLogicTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = synthetic_dce()

    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.ijk = tme_scene.make_ijk_to_ras((1.5, 1.25, 4.0), (-30.0, 12.5, 8.0))
        self.mask = tme_scene.add_label_map(self.scene, self.data.tissue, self.ijk, "tissue")
        self.logic = DCELogic(self.scene)

    def tearDown(self):
        tme_scene.release_scene(self.scene)

    def sequence(self, array, name, metadata=True):
        node = tme_scene.array_to_sequence(self.scene, array, self.data.t_s, self.ijk, name,
                                           axis_source="synthetic frame times")
        if metadata:
            tme_scene.set_acquisition_attributes(node, self.data.metadata)
        return node

    def vfa_node(self, vfa, ijk=None):
        return tme_scene.array_to_sequence(self.scene, vfa, self.data.flips_deg, self.ijk if ijk is None else ijk,
                                           "VFA", axis_name="flip_angle", axis_unit="deg")

    def ktrans(self, result):
        return tme_scene.volume_to_array(result.map_nodes["Ktrans"])[self.data.tissue]

    def test_concentration_sequence_without_t1_source_or_metadata(self):
        d = self.data
        node = self.sequence(concentration_series(d), "DCE concentration", metadata=False)
        result = self.logic.run(node, DCESettings(input_kind="concentration", aif_delay_s=DELAY_S),
                                mask_node=self.mask)
        self.assertLess(relative_error(self.ktrans(result), d.truth["Ktrans"][d.tissue]), TOLERANCE)
        self.assertNotIn("T10", result.map_nodes)
        ktrans = result.map_nodes["Ktrans"]
        self.assertEqual(attribute_names.get(ktrans, attribute_names.INPUT_KIND), "concentration")
        self.assertIsNone(ktrans.GetAttribute("TMEMonitor.input_kind"))          # the old name is no longer written
        self.assertIn("concentration series (mM) given",
                      attribute_names.get(ktrans, attribute_names.source_attribute("input")))
        self.assertIn("input: concentration", ktrans.GetDescription() or "")

    def test_b1_map_node(self):
        d = self.data
        dce, vfa, b1 = b1_scaled(d)
        dce_node, vfa_node = self.sequence(dce, "DCE"), self.vfa_node(vfa)
        b1_node = tme_scene.array_to_volume(self.scene, b1, self.ijk, "B1")
        settings = DCESettings(aif_delay_s=DELAY_S)
        result = self.logic.run(dce_node, settings, vfa_node=vfa_node, mask_node=self.mask, b1_map_node=b1_node)
        t10 = tme_scene.volume_to_array(result.map_nodes["T10"])[d.tissue]
        np.testing.assert_allclose(t10, d.truth["T10"][d.tissue], rtol=1e-3)
        self.assertLess(relative_error(self.ktrans(result), d.truth["Ktrans"][d.tissue]), TOLERANCE)
        self.assertIn("B1", attribute_names.get(result.map_nodes["Ktrans"], attribute_names.source_attribute("B1")))

        moved = self.ijk.copy()
        moved[:3, 3] += 5.0
        b1_moved = tme_scene.array_to_volume(self.scene, b1, moved, "B1 moved")
        before = self.scene.GetNumberOfNodes()
        with self.assertRaises(InputError) as caught:
            self.logic.run(dce_node, settings, vfa_node=vfa_node, mask_node=self.mask, b1_map_node=b1_moved)
        self.assertIn("B1 map 'B1 moved' is on another grid", str(caught.exception))
        self.assertIn("VFA series 'VFA'", str(caught.exception))
        self.assertEqual(self.scene.GetNumberOfNodes(), before)

    def test_t10_per_tissue_from_a_segmentation(self):
        d = self.data
        dce, labels, t10 = two_tissues(d)
        label_node = tme_scene.add_label_map(self.scene, labels, self.ijk, "tissues")
        segmentation = tme_scene.labelmap_to_segmentation(self.scene, label_node, "tissues")
        seg = segmentation.GetSegmentation()
        for index, name in enumerate(("tumour", "muscle")):        # segments in label order
            seg.GetSegment(seg.GetNthSegmentID(index)).SetName(name)
        settings = DCESettings(aif_delay_s=DELAY_S, t10_per_tissue=parse_t10_per_tissue("tumour=1.6,muscle=1.0"))
        result = self.logic.run(self.sequence(dce, "DCE"), settings, mask_node=self.mask,
                                t10_labels_node=segmentation)
        np.testing.assert_allclose(tme_scene.volume_to_array(result.map_nodes["T10"])[d.tissue], t10[d.tissue],
                                   rtol=1e-6)
        self.assertLess(relative_error(self.ktrans(result), d.truth["Ktrans"][d.tissue]), TOLERANCE)
        # An unknown tissue name is refused before any node is written.
        dce_node = self.sequence(dce, "DCE 2")
        before = self.scene.GetNumberOfNodes()
        with self.assertRaises(InputError) as caught:
            self.logic.run(dce_node, replace(settings, t10_per_tissue={"liver": 0.8}), mask_node=self.mask,
                           t10_labels_node=segmentation)
        self.assertIn("'liver'", str(caught.exception))
        self.assertIn("'tumour'", str(caught.exception))
        self.assertEqual(self.scene.GetNumberOfNodes(), before)

    def test_preview_aif_population_measured_and_automatic(self):
        d = self.data
        dce_node, vfa_node = self.sequence(d.signal, "DCE"), self.vfa_node(d.vfa)
        chart = self.logic.preview_aif(dce_node, DCESettings(aif_delay_s=DELAY_S), vfa_node=vfa_node,
                                       mask_node=self.mask)
        self.assertTrue(chart.IsA("vtkMRMLPlotChartNode"))
        self.assertEqual(chart.GetNumberOfPlotSeriesNodes(), 2)
        self.assertEqual(chart.GetXAxisTitle(), "time (s)")
        self.assertEqual(chart.GetYAxisTitle(), "concentration (mM)")
        table = tme_scene.table_to_columns(chart.GetNthPlotSeriesNode(0).GetTableNode())
        expected_blood = aif.parker(d.t_s - d.t_s[0], DELAY_S)
        np.testing.assert_allclose(table["time"], d.t_s)
        np.testing.assert_allclose(table["blood AIF"], expected_blood, rtol=1e-9)
        np.testing.assert_allclose(table["plasma AIF"], aif.blood_to_plasma(expected_blood, HEMATOCRIT), rtol=1e-9)
        self.assertIn("population (parker)", chart.GetAttribute("TMEMonitor.AIFSource"))
        self.assertIsNone(self.scene.GetFirstNodeByName("DCE Ktrans"))           # no fit was run

        roi = tme_scene.add_label_map(self.scene, d.artery, self.ijk, "artery")
        measured = self.logic.preview_aif(dce_node, DCESettings(aif_source="measured"), vfa_node=vfa_node,
                                          mask_node=self.mask, aif_mask_node=roi, replace=chart)
        self.assertIsNone(chart.GetScene())                                     # the earlier preview replaced
        table = tme_scene.table_to_columns(measured.GetNthPlotSeriesNode(0).GetTableNode())
        np.testing.assert_allclose(table["blood AIF"], d.cb_mM, rtol=1e-3, atol=1e-3 * d.cb_mM.max())
        # The chosen voxels of the automatic detection give the same AIF as the run uses.
        settings = DCESettings(aif_source="automatic", aif_voxels=4)
        automatic = self.logic.preview_aif(dce_node, settings, vfa_node=vfa_node, mask_node=self.mask)
        result = self.logic.run(dce_node, settings, vfa_node=vfa_node, mask_node=self.mask)
        table = tme_scene.table_to_columns(automatic.GetNthPlotSeriesNode(0).GetTableNode())
        np.testing.assert_allclose(table["plasma AIF"], result.analysis.aif["cp_mM"], rtol=1e-12)

    def test_preview_aif_of_a_concentration_series(self):
        d = self.data
        node = self.sequence(concentration_series(d), "C", metadata=False)
        chart = self.logic.preview_aif(node, DCESettings(input_kind="concentration", aif_source="automatic",
                                                         aif_voxels=4), mask_node=self.mask)
        table = tme_scene.table_to_columns(chart.GetNthPlotSeriesNode(0).GetTableNode())
        np.testing.assert_allclose(table["blood AIF"], d.cb_mM, rtol=1e-3, atol=1e-3 * d.cb_mM.max())
        self.assertEqual(attribute_names.get(chart, attribute_names.INPUT_KIND), "concentration")

    def test_preview_aif_errors_leave_the_scene_untouched(self):
        d = self.data
        dce_node, vfa_node = self.sequence(d.signal, "DCE"), self.vfa_node(d.vfa)
        before = self.scene.GetNumberOfNodes()
        with self.assertRaises(InputError) as caught:
            self.logic.preview_aif(dce_node, DCESettings(aif_source="measured"), vfa_node=vfa_node,
                                   mask_node=self.mask)
        self.assertIn("arterial ROI", str(caught.exception))
        with self.assertRaises(InputError):
            self.logic.preview_aif(dce_node, DCESettings(aif_delay_s=DELAY_S), mask_node=self.mask)   # no T1
        self.assertEqual(self.scene.GetNumberOfNodes(), before)


class NewInputsCommandLineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = d = synthetic_dce()
        cls.folder = tempfile.mkdtemp(prefix="tme-dce-inputs-")
        ijk = tme_scene.make_ijk_to_ras((1.5, 1.25, 4.0), (-30.0, 12.5, 8.0))
        dce_b1, vfa_b1, b1 = b1_scaled(d)
        dce_tissues, labels, _ = two_tissues(d)
        scene = tme_scene.create_scene()

        def write(node, name):
            return tme_scene.write_node(node, os.path.join(cls.folder, name))
        try:
            cls.conc_path = write(tme_scene.array_to_sequence(scene, concentration_series(d), d.t_s, ijk, "C"),
                                  "conc.seq.nrrd")
            cls.b1_series = write(tme_scene.array_to_sequence(scene, dce_b1, d.t_s, ijk, "B"), "dce_b1.seq.nrrd")
            cls.tissue_series = write(tme_scene.array_to_sequence(scene, dce_tissues, d.t_s, ijk, "T"),
                                      "dce_tissues.seq.nrrd")
            cls.vfa_paths = [write(tme_scene.array_to_volume(scene, v, ijk, f"VFA {f:g}"), f"vfa_{f:g}.nrrd")
                             for f, v in zip(d.flips_deg, vfa_b1)]
            cls.b1_path = write(tme_scene.array_to_volume(scene, b1, ijk, "B1"), "b1.nrrd")
            label_node = tme_scene.add_label_map(scene, labels, ijk, "tissues")
            cls.labels_path = write(label_node, "tissues.nrrd")
            segmentation = tme_scene.labelmap_to_segmentation(scene, label_node, "tissues")
            seg = segmentation.GetSegmentation()
            for index, name in enumerate(("tumour", "muscle")):
                seg.GetSegment(seg.GetNthSegmentID(index)).SetName(name)
            cls.segmentation_path = write(segmentation, "tissues.seg.nrrd")     # cropped to the segments
            cls.mask_path = write(tme_scene.add_label_map(scene, d.tissue, ijk, "tissue"), "tissue.nrrd")
        finally:
            tme_scene.release_scene(scene)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def run_cli(self, argv):
        return run_captured(argv)

    def ktrans_error(self, out):
        d = self.data
        ktrans = io.read_volume(os.path.join(out, "Ktrans.nrrd")).array
        return relative_error(ktrans[d.tissue], d.truth["Ktrans"][d.tissue])

    def acquisition(self):
        return ["--tr", str(TR_S), "--flip-angle", str(FLIP_DEG), "--field", str(FIELD_T)]

    def test_concentration_input(self):
        out = os.path.join(self.folder, "out_conc")
        code, stdout, stderr = self.run_cli(["dce", self.conc_path, "--out", out, "--input-kind", "concentration",
                                             "--aif-delay", str(DELAY_S), "--mask", self.mask_path])
        self.assertEqual(code, 0, stderr)
        self.assertLess(self.ktrans_error(out), TOLERANCE)
        self.assertIn("concentration series (mM) given", stdout)
        self.assertFalse(os.path.exists(os.path.join(out, "T10.nrrd")))

    def test_b1_map(self):
        common = ["dce", self.b1_series, "--vfa", *self.vfa_paths, "--flip-angles",
                  ",".join(f"{a:g}" for a in self.data.flips_deg), "--aif-delay", str(DELAY_S), "--mask",
                  self.mask_path, "--no-semi-quantitative", *self.acquisition()]
        out = os.path.join(self.folder, "out_b1")
        code, stdout, stderr = self.run_cli(common[:2] + ["--out", out, "--b1-map", self.b1_path] + common[2:])
        self.assertEqual(code, 0, stderr)
        self.assertLess(self.ktrans_error(out), TOLERANCE)
        self.assertIn("B1-corrected", stdout)
        out = os.path.join(self.folder, "out_no_b1")
        code, _, stderr = self.run_cli(common[:2] + ["--out", out] + common[2:])
        self.assertEqual(code, 0, stderr)
        self.assertGreater(self.ktrans_error(out), 0.05)

    def test_t10_per_tissue(self):
        out = os.path.join(self.folder, "out_tissues")
        code, stdout, stderr = self.run_cli(
            ["dce", self.tissue_series, "--out", out, "--t10-per-tissue", f"1={T10_TUMOUR_S},2={T10_MUSCLE_S}",
             "--t10-labels", self.labels_path, "--aif-delay", str(DELAY_S), "--mask", self.mask_path,
             "--no-semi-quantitative", *self.acquisition()])
        self.assertEqual(code, 0, stderr)
        self.assertLess(self.ktrans_error(out), TOLERANCE)
        self.assertIn("T10 per tissue", stdout)
        out = os.path.join(self.folder, "out_tissue_names")
        code, stdout, stderr = self.run_cli(
            ["dce", self.tissue_series, "--out", out,
             "--t10-per-tissue", f"tumour={T10_TUMOUR_S},muscle={T10_MUSCLE_S}",
             "--t10-labels", self.segmentation_path, "--aif-delay", str(DELAY_S), "--mask", self.mask_path,
             "--no-semi-quantitative", *self.acquisition()])
        self.assertEqual(code, 0, stderr)
        self.assertLess(self.ktrans_error(out), TOLERANCE)
        self.assertIn("tumour 1.6 s", stdout)
        code, _, stderr = self.run_cli(["dce", self.tissue_series, "--out", os.path.join(self.folder, "bad"),
                                        "--t10-per-tissue", "1=1.6", *self.acquisition()])
        self.assertEqual(code, 2)
        self.assertIn("--t10-labels", stderr)
        self.assertFalse(os.path.exists(os.path.join(self.folder, "bad")))


if __name__ == "__main__":
    unittest.main()
