"""Hyperpolarized 13C panel flows under Slicer v5.8.0 and v5.10.0's Python layer (Testing/SlicerHarness;
the common flows are SlicerHarness.panel_flows.PanelFlows).

Inputs: the synthetic 13C exam of HyperpolarizedModule.addSyntheticExam (coarse 12 x 12 grid, disc body with
a round tumour of known kPL, magnitude noise; pyruvate and lactate sequences with frame times and flip angles
as attributes; body and tumour label maps) and an anatomy segmentation drawn on a finer grid.
"""
import os

import numpy as np

from SlicerHarness.flows import node_counts
from SlicerHarness.panel_flows import PanelFlows, for_each_tag

KPL_TUMOUR, KPL_NORMAL = 0.05, 0.015


class _HyperpolarizedPanelFlows(PanelFlows):
    MODULE, LABEL = "HyperpolarizedModule", "HP 13C"
    BAD_INPUT_MESSAGE = "choose the pyruvate and the lactate"

    @classmethod
    def make_inputs(cls):
        cls.module = __import__("HyperpolarizedModule")
        cls.phantom, cls.nodes = cls.module.addSyntheticExam(cls.env.scene, KPL_TUMOUR, KPL_NORMAL, snr=80.0, seed=4)

    def set_inputs(self, p):
        self.selectInputs()

    def make_input_bad(self, p):
        p.lactateSeries = None

    def selectInputs(self):
        p, n = self.widget._parameterNode, self.nodes
        p.pyruvateSeries, p.lactateSeries, p.mask = n["pyruvate"], n["lactate"], n["body"]
        p.alanineSeries = p.bicarbonateSeries = p.anatomy = None
        p.flipPyruvate = p.flipLactate = p.flipAlanine = p.flipBicarbonate = ""
        p.flipUnit, p.excitationsPerFrame, p.repetitionTimeS, p.model = "deg", 1.0, 0.0, "inputless"
        p.t1PyruvateS, p.t1LactateS, p.fitR1Pyruvate, p.fitR1Lactate = 30.0, 25.0, False, False
        p.noiseModel, p.noiseSigma, p.minSnr, p.shownMap = "gaussian", 0.0, 5.0, "kPL"

    def kplNode(self):
        return self.env.scene.GetFirstNodeByName(f"{self.nodes['pyruvate'].GetName()} kPL")

    def test_a_setup_and_bindings_both_ways(self):
        super().test_a_setup_and_bindings_both_ways()
        self.selectInputs()

    def check_setup(self):
        ui = self.widget.ui
        self.assertIs(ui.pyruvateSeriesSelector.currentNode(), self.nodes["pyruvate"])
        self.assertEqual(ui.pyruvateSeriesSelector.nodeTypes, ("vtkMRMLSequenceNode",))
        self.assertEqual(ui.maskSelector.nodeTypes, ("vtkMRMLLabelMapVolumeNode", "vtkMRMLSegmentationNode"))
        self.assertEqual(ui.anatomySelector.nodeTypes, ("vtkMRMLScalarVolumeNode",))
        # frames, TR and flips shown with their source as soon as the series are chosen
        self.assertIn("20 frames, TR 3 s from the frame times", ui.acquisitionLabel.text)
        self.assertIn("pyruvate flip: 20.0 deg from the series", ui.acquisitionLabel.text)
        self.assertIn("lactate flip: 30.0 deg", ui.acquisitionLabel.text)
        self.assertEqual([ui.modelComboBox.itemText(i) for i in range(ui.modelComboBox.count)],
                         ["inputless", "boxcar", "gamma"])
        self.assertEqual([ui.noiseModelComboBox.itemText(i) for i in range(ui.noiseModelComboBox.count)],
                         ["gaussian", "rician"])
        self.assertFalse(ui.plotButton.enabled)
        self.assertFalse(ui.pickVoxelButton.enabled)

    def test_b_spin_boxes_special_text_and_settings(self):
        ui, p = self.widget.ui, self.widget._parameterNode
        p.repetitionTimeS, p.noiseSigma = 0.0, 0.0
        self.assertEqual(ui.repetitionTimeSpinBox.text, "from the frame times")
        self.assertEqual(ui.noiseSigmaSpinBox.text, "estimated")
        settings = self.module.settingsFromParameterNode(p)
        self.assertIsNone(settings.tr_s)
        self.assertIsNone(settings.noise_sigma)
        self.assertIsNone(settings.flip_pyruvate_deg)
        self.assertAlmostEqual(settings.r1_pyruvate_per_s, 1.0 / 30.0)
        self.assertAlmostEqual(settings.r1_lactate_per_s, 1.0 / 25.0)
        # typed schedules: a constant, a comma list, and frames x excitations
        ui.flipPyruvateLineEdit.type_text("20")
        ui.flipLactateLineEdit.type_text(", ".join(["30"] * 20))
        ui.repetitionTimeSpinBox.type_value(3.0)
        self.assertIn("TR 3 s (typed)", ui.acquisitionLabel.text)
        settings = self.module.settingsFromParameterNode(p)
        self.assertEqual(settings.flip_pyruvate_deg, 20.0)
        self.assertEqual(len(settings.flip_lactate_deg), 20)
        self.assertEqual(settings.tr_s, 3.0)
        ui.excitationsSpinBox.type_value(2.0)
        ui.flipLactateLineEdit.type_text(", ".join(["15"] * 40))
        self.assertEqual(self.module.settingsFromParameterNode(p).flip_schedule("lactate", 20).shape, (20, 2))
        # a schedule from a file (rows frames)
        path = os.path.join(self.env.temporary_path, "flips.csv")
        np.savetxt(path, np.full(20, 25.0), delimiter=",")
        ui.excitationsSpinBox.type_value(1.0)
        ui.flipLactateLineEdit.type_text(path)
        np.testing.assert_array_equal(self.module.settingsFromParameterNode(p).flip_lactate_deg, np.full(20, 25.0))
        # radians typed with the unit said
        ui.flipUnitComboBox.choose("rad")
        ui.flipLactateLineEdit.type_text("0.5236")
        self.assertAlmostEqual(float(self.module.settingsFromParameterNode(p).flip_schedule("lactate", 20)), 30.0,
                               places=3)

    def check_apply_result(self, run):
        ui = self.widget.ui
        self.assertIn("Done", ui.statusLabel.text)
        self.assertIn("kPL fitted in", ui.statusLabel.text)
        self.assertGreaterEqual(run.calls, 2)
        from TMEMonitorLib import scene as tme_scene
        from TMEMonitorLib.fitting import status as st
        scene, name = self.env.scene, self.nodes["pyruvate"].GetName()
        kpl_node = self.kplNode()
        self.assertIsNotNone(kpl_node)
        self.assertEqual(kpl_node.GetVoxelValueUnits().GetCodeValue(), "/s")
        np.testing.assert_allclose(tme_scene.node_ijk_to_ras(kpl_node), self.phantom.ijk_to_ras, atol=1e-9)
        kpl = tme_scene.volume_to_array(kpl_node)
        status = tme_scene.volume_to_array(scene.GetFirstNodeByName(f"{name} kPL fit status"))
        tumour, body = self.phantom.tumour, self.phantom.body
        fitted = status == st.OK
        self.assertGreater(fitted[body].mean(), 0.9)
        np.testing.assert_array_equal(status[~body], st.MASKED)
        self.assertLess(abs(np.median(kpl[tumour & fitted]) - KPL_TUMOUR) / KPL_TUMOUR, 0.1)
        self.assertLess(abs(np.median(kpl[body & ~tumour & fitted]) - KPL_NORMAL) / KPL_NORMAL, 0.2)
        auc_node = scene.GetFirstNodeByName(f"{name} lactate/pyruvate AUC ratio")
        auc = tme_scene.volume_to_array(auc_node)
        p = self.phantom
        np.testing.assert_allclose(auc[body], (p.lactate.sum(0) / p.pyruvate.sum(0))[body], rtol=1e-5)
        self.assertIsNotNone(scene.GetFirstNodeByName(f"{name} statistics"))
        # dynamics: the analysed voxels, then a voxel; a second plot replaces the first
        self.assertTrue(ui.plotButton.enabled)
        items = [ui.plotRegionComboBox.itemText(i) for i in range(ui.plotRegionComboBox.count)]
        self.assertEqual(items[0], "analysed voxels")
        self.assertEqual(items[-1], "voxel below")
        ui.plotButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        plots = node_counts(scene).get("vtkMRMLPlotChartNode", 0)
        self.assertGreaterEqual(plots, 1)
        k, j, i = (int(v) for v in np.argwhere(tumour)[0])
        ui.voxelISpinBox.value, ui.voxelJSpinBox.value, ui.voxelKSpinBox.value = i, j, k
        ui.plotRegionComboBox.setCurrentText("voxel below")
        ui.plotButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertEqual(node_counts(scene).get("vtkMRMLPlotChartNode", 0), plots)
        self.assertIn(f"({i}, {j}, {k})", ui.statusLabel.text)

    def test_ca_one_kpl_node_after_two_applies(self):
        self.assertEqual(self.env.scene.GetNodesByName(f"{self.nodes['pyruvate'].GetName()} kPL").GetNumberOfItems(), 1)

    def test_d_segmentation_statistics_and_plot_of_a_segment(self):
        """A tumour drawn on a finer anatomy grid: fitted over the whole grid's SNR mask, statistics per segment."""
        from TMEMonitorLib import scene as tme_scene
        scene = self.env.scene
        fine_ijk = tme_scene.make_ijk_to_ras((2.0, 2.0, 15.0), (-64.0, -64.0, 0.0))
        j, i = np.indices((60, 60))
        coarse = self.phantom.tumour[0]
        ci = np.clip(np.rint((i * 2.0 - 64.0 + 60.0) / 10.0).astype(int), 0, 11)
        cj = np.clip(np.rint((j * 2.0 - 64.0 + 60.0) / 10.0).astype(int), 0, 11)
        label = tme_scene.add_label_map(scene, coarse[cj, ci][None].astype(np.uint8), fine_ijk, "drawn tumour")
        segmentation = tme_scene.labelmap_to_segmentation(scene, label, "drawn segments")
        p = self.widget._parameterNode
        p.mask = segmentation
        self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn("over the whole 13C grid", self.widget.ui.statusLabel.text)
        items = [self.widget.ui.plotRegionComboBox.itemText(i) for i in range(self.widget.ui.plotRegionComboBox.count)]
        self.assertEqual(len(items), 3, items)                 # analysed voxels, the segment, voxel below
        self.widget.ui.plotRegionComboBox.setCurrentText(items[1])
        self.widget.ui.plotButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn(f"segment '{items[1]}'", self.widget.ui.statusLabel.text)
        kpl = tme_scene.volume_to_array(self.kplNode())
        self.assertLess(abs(np.nanmedian(kpl[self.phantom.tumour]) - KPL_TUMOUR) / KPL_TUMOUR, 0.1)

    def test_f_bad_input_shows_clear_error_scene_untouched(self):
        ui, p = self.widget.ui, self.widget._parameterNode
        counts = node_counts(self.env.scene)
        cases = [
            # flip schedule length differs from the frames
            (lambda: ui.flipLactateLineEdit.type_text(", ".join(["30"] * 15)), "15 flip angle(s) for 20 frames"),
            # radians typed while the unit says degrees
            (lambda: ui.flipPyruvateLineEdit.type_text("0.35"), "look like radians"),
            # not numbers
            (lambda: ui.flipPyruvateLineEdit.type_text("twenty"), "expected numbers separated by commas"),
            # frames x excitations that do not fill the frames
            (lambda: (ui.excitationsSpinBox.type_value(3.0), ui.flipLactateLineEdit.type_text("10, 10, 10")),
             "3 values for 20 frames x 3 excitations"),
            # no lactate series
            (lambda: setattr(p, "lactateSeries", None), "choose the pyruvate and the lactate"),
            # pyruvate never above noise: the threshold set above every voxel's SNR
            (lambda: ui.minSnrSpinBox.type_value(1000.0), "pyruvate never rises above the noise"),
        ]
        for make_bad, text in cases:
            with self.subTest(text=text):
                self.selectInputs()
                self.env.dialogs.clear()
                make_bad()
                ui.applyButton.click()
                dialogs = self.env.error_dialogs()
                self.assertEqual(len(dialogs), 1)
                self.assertIn(text, dialogs[0]["text"])
                self.assertEqual(node_counts(self.env.scene), counts)
                self.assertIn("cannot run", ui.statusLabel.text)
        # a lactate series of another frame count
        from TMEMonitorLib import scene as tme_scene
        self.selectInputs()
        self.env.dialogs.clear()
        short = tme_scene.array_to_sequence(self.env.scene, self.phantom.lactate[:-4].astype(np.float32),
                                            np.arange(16) * 3.0, self.phantom.ijk_to_ras, "short lactate")
        counts = node_counts(self.env.scene)
        p.lactateSeries = short
        ui.flipLactateLineEdit.type_text("30")
        ui.applyButton.click()
        self.assertIn("16 frames", self.env.error_dialogs()[0]["text"])
        self.assertEqual(node_counts(self.env.scene), counts)

    def test_g_pick_voxel_in_a_view_plots_it(self):
        ui = self.widget.ui
        self.apply()
        self.assertTrue(ui.pickVoxelButton.enabled)
        ui.pickVoxelButton.click()
        pick = self.widget._pickNode
        self.assertIsNotNone(pick)
        k, j, i = (int(v) for v in np.argwhere(self.phantom.tumour)[-1])
        ras = self.phantom.ijk_to_ras @ np.array([i, j, k, 1.0])
        pick.AddControlPoint(float(ras[0]), float(ras[1]), float(ras[2]))
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertEqual((ui.voxelISpinBox.value, ui.voxelJSpinBox.value, ui.voxelKSpinBox.value), (i, j, k))
        self.assertIn(f"({i}, {j}, {k})", ui.statusLabel.text)
        # a point outside the 13C grid: a clear message
        pick.RemoveAllControlPoints()
        pick.AddControlPoint(900.0, 0.0, 0.0)
        self.assertIn("outside the 13C grid", self.env.error_dialogs()[-1]["text"])

    def test_h_dynamic_spectra_become_the_inputs(self):
        """A dynamic spectra file (.mat: FIDs, dwell, 13C frequency, centre ppm, TR, flips) is fitted into
        pyruvate / lactate amplitude series, chosen as the inputs; Apply then gives kPL."""
        from scipy import io as sio

        from HyperpolarizedModuleLib import dynamic_spectra, synthesis
        ui, p = self.widget.ui, self.widget._parameterNode
        kpl = np.array([0.03, 0.06])
        curves = synthesis.simulate(kpl, 3.0, 16, 10.0, 30.0)
        amplitudes = {m: np.moveaxis(curves[m], -1, 0) * 100.0 for m in ("pyruvate", "lactate")}
        fid = dynamic_spectra.synthesize_fids(amplitudes, 2e-4, 32.1, 177.0, n_points=256, noise_sd=1.0, rng=7)
        path = os.path.join(self.env.temporary_path, "dynamic_spectra.mat")
        sio.savemat(path, {"spectra": fid, "dwell_s": 2e-4, "spectrometer_mhz": 32.1, "centre_ppm": 177.0,
                           "TR": 3.0, "flip_pyruvate": 10.0, "flip_lactate": 30.0})
        # no file chosen: a clear message, nothing added
        counts = node_counts(self.env.scene)
        p.spectraPath = ""
        ui.fitSpectraButton.click()
        self.assertIn("choose the dynamic spectra file", self.env.error_dialogs()[-1]["text"])
        self.assertEqual(node_counts(self.env.scene), counts)
        self.env.dialogs.clear()
        ui.spectraPathLineEdit.type_text(path)
        self.assertEqual(ui.centrePpmSpinBox.text, "from the file")
        ui.fitSpectraButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertEqual(p.pyruvateSeries.GetName(), "pyruvate (spectra)")
        self.assertEqual(p.lactateSeries.GetName(), "lactate (spectra)")
        self.assertIn("peak fit", ui.statusLabel.text)
        self.assertIn("16 frames, TR 3 s from the frame times", ui.acquisitionLabel.text)
        p.mask = None
        p.minSnr = 3.0
        self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        from TMEMonitorLib import scene as tme_scene
        kpl_node = self.env.scene.GetFirstNodeByName("pyruvate (spectra) kPL")
        np.testing.assert_allclose(tme_scene.volume_to_array(kpl_node).ravel(), kpl, rtol=0.05)
        p.spectraPath = ""

    def test_y_module_self_test(self):
        """HyperpolarizedModuleTest as Slicer's self-test runs it (it clears the scene first)."""
        self.module.HyperpolarizedModuleTest().runTest()
        self.assertEqual(self.env.error_dialogs(), [])

    def test_z_scene_close_with_panel_shown_then_use_again(self):
        self.env.close_scene()
        p = self.widget._parameterNode
        self.assertIsNotNone(p)
        self.assertIsNone(p.pyruvateSeries)
        self.assertEqual(self.widget.ui.acquisitionLabel.text, "")
        self.assertFalse(self.widget.ui.plotButton.enabled)
        self.widget.ui.modelComboBox.choose("boxcar")
        self.assertEqual(p.model, "boxcar")
        p.model = "inputless"
        # new data in the new scene: the panel works again
        phantom, nodes = self.module.addSyntheticExam(self.env.scene, snr=80.0, seed=5)
        self.widget.ui.pyruvateSeriesSelector.setCurrentNode(nodes["pyruvate"])
        self.widget.ui.lactateSeriesSelector.setCurrentNode(nodes["lactate"])
        self.assertIs(p.pyruvateSeries, nodes["pyruvate"])
        self.widget.ui.maskSelector.setCurrentNode(nodes["body"])
        self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIsNotNone(self.env.scene.GetFirstNodeByName(f"{nodes['pyruvate'].GetName()} kPL"))


HyperpolarizedPanelSlicer58, HyperpolarizedPanelSlicer510 = for_each_tag(_HyperpolarizedPanelFlows, "HyperpolarizedPanel")
