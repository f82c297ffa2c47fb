"""Hypoxia panel flows under Slicer v5.8.0 and v5.10.0's Python layer (Testing/SlicerHarness;
the common flows are SlicerHarness.panel_flows.PanelFlows).

Inputs: the synthetic hypoxia phantom of HypoxiaModuleLib.synthesis (multi-echo GRE and SE, an
oxygen-enhanced dynamic series across air -> O2 -> air, T10 and DCE enhancement maps, tumour mask).
"""
import numpy as np

from SlicerHarness.flows import node_counts
from SlicerHarness.panel_flows import PanelFlows, for_each_tag


class _HypoxiaPanelFlows(PanelFlows):
    MODULE, LABEL = "HypoxiaModule", "Hypoxia"
    BAD_INPUT_MESSAGE = "choose a multi-echo gradient-echo series"

    @classmethod
    def make_inputs(cls):
        cls.module = __import__("HypoxiaModule")
        cls.phantom, cls.nodes = cls.module.addSyntheticVisit(cls.env.scene, noise_sigma=5.0, seed=4)

    def set_inputs(self, p):
        self.selectInputs()

    def make_input_bad(self, p):
        p.greSeries = p.seSeries = p.oeSeries = None

    def selectInputs(self):
        p, n = self.widget._parameterNode, self.nodes
        p.greSeries, p.seSeries, p.oeSeries, p.mask = n["gre"], n["se"], n["oe"], n["mask"]
        p.t10Map, p.enhancementMap, p.enhancementThreshold = n["t10"], n["enhancement"], 0.1
        p.gasOnS, p.gasOffS, p.washInS = 120.0, 420.0, 60.0
        p.echoTimesMs, p.r2starMethod, p.shownMap = "", "nonlinear", "R2*"

    def test_a_setup_and_bindings_both_ways(self):
        super().test_a_setup_and_bindings_both_ways()
        self.selectInputs()

    def check_setup(self):
        ui = self.widget.ui
        self.assertIs(ui.greSeriesSelector.currentNode(), self.nodes["gre"])
        self.assertEqual(ui.greSeriesSelector.nodeTypes, ("vtkMRMLSequenceNode",))
        self.assertEqual(ui.maskSelector.nodeTypes, ("vtkMRMLLabelMapVolumeNode", "vtkMRMLSegmentationNode"))
        self.assertEqual(ui.enhancementSelector.nodeTypes, ("vtkMRMLScalarVolumeNode",))
        # echo times shown with their source as soon as the series is chosen
        self.assertIn("8 echoes", ui.echoTimesLabel.text)
        self.assertIn("phantom EchoTime", ui.echoTimesLabel.text)
        self.assertIn("OE: 36 frames", ui.paradigmLabel.text)
        self.assertEqual([ui.r2starMethodComboBox.itemText(i) for i in range(ui.r2starMethodComboBox.count)],
                         ["nonlinear", "loglinear", "arlo"])
        self.assertEqual([ui.seModelComboBox.itemText(i) for i in range(ui.seModelComboBox.count)],
                         ["monoexponential", "epg"])

    def test_b_spin_boxes_keep_ui_ranges_and_special_text(self):
        ui, p = self.widget.ui, self.widget._parameterNode
        p.gasOffS, p.repetitionTimeMs, p.noiseSigma, p.fixedT10 = 0.0, 0.0, 0.0, 0.0
        self.assertEqual(ui.gasOffSpinBox.text, "gas to the end")
        self.assertEqual(ui.repetitionTimeSpinBox.text, "from metadata")
        self.assertEqual(ui.noiseSigmaSpinBox.text, "from the background")
        self.assertEqual(ui.fixedT10SpinBox.text, "from the T1 map")
        self.assertEqual((ui.alphaSpinBox.minimum, ui.alphaSpinBox.maximum), (0.001, 0.2))
        ui.washInSpinBox.type_value(-30.0)
        self.assertEqual(p.washInS, 0.0)
        settings = self.module.settingsFromParameterNode(p)
        self.assertIsNone(settings.gas_off_s)
        self.assertIsNone(settings.tr_s)
        p.repetitionTimeMs, p.dynamicEchoTimeMs = 4.0, 30.0
        settings = self.module.settingsFromParameterNode(p)
        self.assertAlmostEqual(settings.tr_s, 0.004)
        self.assertAlmostEqual(settings.dynamic_echo_time_s, 0.030)
        p.repetitionTimeMs, p.dynamicEchoTimeMs = 0.0, 0.0

    def check_apply_result(self, run):
        ui = self.widget.ui
        self.assertIn("Done", ui.statusLabel.text)
        self.assertGreaterEqual(run.calls, 2)
        scene, gre_name = self.env.scene, self.nodes["gre"].GetName()
        r2star = scene.GetFirstNodeByName(f"{gre_name} R2*")
        t2star = scene.GetFirstNodeByName(f"{gre_name} T2*")
        self.assertIsNotNone(r2star)
        self.assertIsNotNone(t2star)
        self.assertEqual(r2star.GetVoxelValueUnits().GetCodeValue(), "/s")
        self.assertEqual(t2star.GetVoxelValueUnits().GetCodeValue(), "ms")
        from TMEMonitorLib import scene as tme_scene
        tumour = self.phantom.tumour
        values = tme_scene.volume_to_array(r2star)[tumour]
        truth = self.phantom.r2star_per_s[tumour]
        self.assertLess(np.nanmedian(np.abs(values - truth) / truth), 0.05)
        for name in ("R2'", "Delta R1 (gas - air)", "Perfused-Oxy-R", "statistics"):
            self.assertIsNotNone(scene.GetFirstNodeByName(f"{gre_name} {name}"), name)
        # Plot signal vs TE becomes available, and a second plot replaces the first
        self.assertTrue(ui.plotSignalButton.enabled)
        ui.plotSignalButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        plots = node_counts(scene).get("vtkMRMLPlotChartNode", 0)
        ui.plotSignalButton.click()
        self.assertEqual(node_counts(scene).get("vtkMRMLPlotChartNode", 0), plots)

    def test_ca_one_r2star_node_after_two_applies(self):
        self.assertEqual(self.env.scene.GetNodesByName(f"{self.nodes['gre'].GetName()} R2*").GetNumberOfItems(), 1)

    def test_e_more_bad_inputs_show_clear_errors_scene_untouched(self):
        p = self.widget._parameterNode
        counts = node_counts(self.env.scene)
        # too few typed echo times for the series: named in the dialog, nothing written
        self.widget.ui.echoTimesLineEdit.type_text("2, 6")
        self.assertIn("2 echo time(s) given for 8 echoes", self.widget.ui.echoTimesLabel.text)
        self.widget.ui.applyButton.click()
        dialogs = self.env.error_dialogs()
        self.assertEqual(len(dialogs), 1)
        self.assertIn("2 echo time(s) given for 8 echoes", dialogs[0]["text"])
        self.assertEqual(node_counts(self.env.scene), counts)
        # gas timing outside the dynamic series
        self.selectInputs()
        self.env.dialogs.clear()
        p.gasOnS, p.gasOffS = 9000.0, 0.0
        self.widget.ui.applyButton.click()
        self.assertIn("gas on at 9000 s lies outside the series", self.env.error_dialogs()[0]["text"])
        # gas timing missing with a dynamic series
        p.gasOnS = 0.0
        self.widget.ui.applyButton.click()
        self.assertIn("gas timing is missing", self.env.error_dialogs()[1]["text"])
        self.assertEqual(node_counts(self.env.scene), counts)
        self.assertIn("cannot run", self.widget.ui.statusLabel.text)

    def test_f_typed_echo_times_are_used_and_shown(self):
        te_ms = ", ".join(f"{v:g}" for v in (2 + 4 * np.arange(8)))
        self.widget.ui.echoTimesLineEdit.type_text(te_ms)
        self.assertEqual(self.widget._parameterNode.echoTimesMs, te_ms)
        self.assertIn("given by the user", self.widget.ui.echoTimesLabel.text)
        self.widget.ui.echoTimesLineEdit.type_text("")
        self.assertIn("phantom EchoTime", self.widget.ui.echoTimesLabel.text)

    def test_g_paradigm_plot_at_point_and_for_the_mask(self):
        from TMEMonitorLib import scene as tme_scene
        ui, p, scene = self.widget.ui, self.widget._parameterNode, self.env.scene
        self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertTrue(ui.plotParadigmButton.enabled)
        self.assertEqual(ui.plotPointSelector.nodeTypes, ("vtkMRMLMarkupsFiducialNode",))
        # the mean over the tumour mask
        ui.plotParadigmButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn("mean over", ui.statusLabel.text)
        charts = node_counts(scene).get("vtkMRMLPlotChartNode", 0)
        # a point on a tumour voxel: the plot is replaced, not piled up, and shows that voxel
        k, j, i = (int(v) for v in np.argwhere(self.phantom.tumour)[0])
        ijk_to_ras = tme_scene.series_from_node(self.nodes["oe"], expected_axis="time").ijk_to_ras
        ras = (ijk_to_ras @ np.array([i, j, k, 1.0]))[:3]
        point = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "hypoxia point")
        point.AddControlPoint(*ras)
        ui.plotPointSelector.setCurrentNode(point)
        self.assertIs(p.plotPoint, point)
        ui.plotParadigmButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn(f"({k}, {j}, {i})", ui.statusLabel.text)
        self.assertEqual(node_counts(scene).get("vtkMRMLPlotChartNode", 0), charts)
        chart = scene.GetFirstNodeByName(f"{self.nodes['oe'].GetName()} gas paradigm")
        columns = tme_scene.table_to_columns(chart.GetNthPlotSeriesNode(0).GetTableNode())
        self.assertEqual(sorted(set(columns["epoch"])), ["air", "air after gas", "gas", "wash-in"])
        gas = np.asarray(columns["epoch"]) == "gas"
        # noisy OE (SNR of an averaged acquisition): the voxel's gas-epoch mean near its true Delta R1
        self.assertLess(abs(np.nanmean(np.asarray(columns["Delta R1"])[gas]) - self.phantom.delta_r1_per_s[k, j, i]),
                        0.02)
        ui.plotSignalButton.click()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIn("hypoxia point", ui.statusLabel.text)
        ui.plotPointSelector.setCurrentNode(None)
        scene.RemoveNode(point)

    def test_h_delta_r1_from_inversion_recovery_series(self):
        from TMEMonitorLib import scene as tme_scene
        from TMEMonitorLib.relaxometry.inversion_recovery import inversion_recovery_signal
        ui, p, scene = self.widget.ui, self.widget._parameterNode, self.env.scene
        ph = self.phantom
        ijk_to_ras = tme_scene.series_from_node(self.nodes["oe"], expected_axis="time").ijk_to_ras
        ti_s = np.array([0.05, 0.15, 0.4, 0.9, 1.8, 3.5])
        t1_gas = 1.0 / (1.0 / ph.t1_s + ph.delta_r1_per_s)
        series = {}
        for epoch, t1 in (("air", ph.t1_s), ("gas", t1_gas)):
            images = np.moveaxis(inversion_recovery_signal(500.0, -950.0, t1, ti_s), -1, 0).astype(np.float32)
            series[epoch] = tme_scene.array_to_sequence(scene, images, ti_s * 1000.0, ijk_to_ras, f"IR {epoch}",
                                                        axis_name="inversion_time", axis_unit="ms",
                                                        axis_source="synthetic InversionTime")
        p.greSeries = p.seSeries = p.oeSeries = None
        p.enhancementMap = None
        ui.t1AirSeriesSelector.setCurrentNode(series["air"])
        ui.t1GasSeriesSelector.setCurrentNode(series["gas"])
        ui.t1MethodComboBox.choose("ir")
        self.assertEqual(p.t1Method, "ir")
        self.assertIn("T1 series on air: 6 images, 50, 150, 400, 900, 1800, 3500 ms", ui.t1SeriesLabel.text)
        self.assertIn("synthetic InversionTime", ui.t1SeriesLabel.text)
        self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        d_r1 = scene.GetFirstNodeByName("IR air Delta R1 (gas - air)")
        self.assertIsNotNone(d_r1)
        tumour = ph.tumour
        np.testing.assert_allclose(tme_scene.volume_to_array(d_r1)[tumour], ph.delta_r1_per_s[tumour], atol=1e-4)
        self.assertIsNotNone(scene.GetFirstNodeByName("IR air T1 (air) fit status"))
        # typed inversion times with the wrong count: a clear message, nothing written
        counts = node_counts(scene)
        ui.tiGasLineEdit.type_text("50, 150, 400")
        self.assertIn("3 value(s) given for 6 images", ui.t1SeriesLabel.text)
        self.env.dialogs.clear()
        ui.applyButton.click()
        self.assertIn("3 value(s) given for 6 images", self.env.error_dialogs()[-1]["text"])
        self.assertEqual(node_counts(scene), counts)
        ui.tiGasLineEdit.type_text("")
        ui.t1AirSeriesSelector.setCurrentNode(None)
        ui.t1GasSeriesSelector.setCurrentNode(None)

    def test_y_module_self_test(self):
        """HypoxiaModuleTest as Slicer's self-test runs it (it clears the scene first)."""
        self.module.HypoxiaModuleTest().runTest()
        self.assertEqual(self.env.error_dialogs(), [])

    def test_z_scene_close_with_panel_shown_then_use_again(self):
        self.env.close_scene()
        p = self.widget._parameterNode
        self.assertIsNotNone(p)
        self.assertIsNone(p.greSeries)
        self.assertEqual(self.widget.ui.echoTimesLabel.text, "")
        self.assertFalse(self.widget.ui.plotSignalButton.enabled)
        self.widget.ui.r2starMethodComboBox.choose("loglinear")
        self.assertEqual(p.r2starMethod, "loglinear")
        self.widget.ui.seModelComboBox.choose("epg")
        self.assertEqual(self.module.settingsFromParameterNode(p).se_model, "epg")
        self.widget.ui.seModelComboBox.choose("monoexponential")
        # new data in the new scene: the panel works again
        phantom, nodes = self.module.addSyntheticVisit(self.env.scene, noise_sigma=5.0, seed=5)
        self.widget.ui.greSeriesSelector.setCurrentNode(nodes["gre"])
        self.assertIs(p.greSeries, nodes["gre"])
        self.widget.ui.maskSelector.setCurrentNode(nodes["mask"])
        self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertIsNotNone(self.env.scene.GetFirstNodeByName(f"{nodes['gre'].GetName()} R2*"))


HypoxiaPanelSlicer58, HypoxiaPanelSlicer510 = for_each_tag(_HypoxiaPanelFlows, "HypoxiaPanel")
