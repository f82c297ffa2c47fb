"""HypoxiaLogic on a headless scene: sequences and volumes in; maps with units, status, class map,
statistics and a signal plot out; bad input refused with the scene left as it was."""
import unittest

import numpy as np

from hypoxia_test_data import FLIP_DEG, FRAME_TIMES_S, GRE_TE_S, SE_TE_S, TR_S, synthetic_visit
from HypoxiaModuleLib.logic import HypoxiaLogic
from HypoxiaModuleLib.settings import HypoxiaSettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.scene import attribute_names
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.fitting import status as st


class HypoxiaLogicTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.visit = synthetic_visit()

    def setUp(self):
        v = self.visit
        self.scene = tme_scene.create_scene()
        self.ijk = tme_scene.make_ijk_to_ras((1.0, 1.0, 3.0), (-8.0, 4.0, 2.0))
        self.gre = tme_scene.array_to_sequence(self.scene, v.gre, GRE_TE_S * 1000.0, self.ijk, "GRE",
                                               axis_name="echo_time", axis_unit="ms", axis_source="synthetic EchoTime")
        self.se = tme_scene.array_to_sequence(self.scene, v.se, SE_TE_S, self.ijk, "SE", axis_name="echo_time")
        self.oe = tme_scene.array_to_sequence(self.scene, v.oe, FRAME_TIMES_S, self.ijk, "OE")
        tme_scene.set_acquisition_attributes(self.oe, {"TR_s": TR_S, "flip_angle_deg": FLIP_DEG})
        self.t10 = tme_scene.array_to_volume(self.scene, v.phantom.t1_s, self.ijk, "T10")
        self.enh = tme_scene.array_to_volume(self.scene, v.phantom.enhancement, self.ijk, "enhancement")
        self.mask = tme_scene.add_label_map(self.scene, v.phantom.tumour, self.ijk, "tumour")
        self.logic = HypoxiaLogic(self.scene)
        self.settings = HypoxiaSettings(gas_on_s=120.0, gas_off_s=420.0, enhancement_threshold=0.1, noise_floor=False)

    def tearDown(self):
        tme_scene.release_scene(self.scene)

    def run_all(self, **extra):
        nodes = dict(gre_node=self.gre, se_node=self.se, oe_node=self.oe, t10_node=self.t10,
                     enhancement_node=self.enh, mask_node=self.mask)
        nodes.update(extra)
        return self.logic.run(self.settings, **nodes)

    def test_maps_units_classes_and_table(self):
        result = self.run_all()
        p = self.visit.phantom
        tumour = p.tumour
        values = {name: tme_scene.volume_to_array(node) for name, node in result.map_nodes.items()}
        np.testing.assert_allclose(values["R2star"][tumour], p.r2star_per_s[tumour], rtol=1e-5)
        np.testing.assert_allclose(values["T2star"][tumour], 1000.0 / p.r2star_per_s[tumour], rtol=1e-5)
        np.testing.assert_allclose(values["R2prime"][tumour], (p.r2star_per_s - p.r2_per_s)[tumour], rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(values["dR1"][tumour], p.delta_r1_per_s[tumour], atol=1e-6)
        self.assertTrue(np.all(np.isnan(values["R2star"][~tumour])))
        units = {name: node.GetVoxelValueUnits().GetCodeValue() for name, node in result.map_nodes.items()}
        self.assertEqual((units["R2star"], units["T2star"], units["R2prime"], units["dR1"]), ("/s", "ms", "/s", "/s"))
        self.assertEqual(attribute_names.get(result.map_nodes["R2star"], attribute_names.source_attribute("echo_times")), "synthetic EchoTime")
        status = tme_scene.volume_to_array(result.status_nodes["R2star"])
        self.assertTrue(np.all(status[tumour] == st.OK))
        self.assertTrue(np.all(status[~tumour] == st.MASKED))
        n_echoes = tme_scene.volume_to_array(result.map_nodes["R2star_n_echoes"])
        self.assertTrue(np.all(n_echoes[tumour] == GRE_TE_S.size))
        classes = tme_scene.volume_to_array(result.class_node)
        np.testing.assert_array_equal(classes[p.hypoxic], 3)
        np.testing.assert_array_equal(classes[p.necrotic], 1)
        np.testing.assert_array_equal(classes[tumour & ~p.hypoxic & ~p.necrotic], 2)
        columns = tme_scene.table_to_columns(result.table_node)
        row = columns["parameter"].index("hypoxic_fraction")
        self.assertAlmostEqual(columns["mean"][row], p.hypoxic.sum() / tumour.sum(), places=9)
        chart = self.logic.signal_plot(result, self.gre, voxel=np.argwhere(tumour)[0])
        self.assertIsNotNone(chart)
        mrb = tme_scene.save_scene(self.scene, __import__("tempfile").mkdtemp() + "/hypoxia.mrb")
        self.assertTrue(mrb.endswith(".mrb"))

    def test_paradigm_plot_voxel_and_region(self):
        result = self.run_all()
        p = self.visit.phantom
        voxel = tuple(int(v) for v in np.argwhere(p.tumour & (p.delta_r1_per_s > 0.01))[0])
        chart = self.logic.paradigm_plot(result, self.oe, "oe", voxel=voxel, t10_s=p.t1_s)
        columns = tme_scene.table_to_columns(chart.GetNthPlotSeriesNode(0).GetTableNode())
        times = np.asarray(columns["time"])
        np.testing.assert_allclose(times, FRAME_TIMES_S)
        epochs = np.asarray(columns["epoch"])
        np.testing.assert_array_equal(epochs[times < 120.0], "air")
        np.testing.assert_array_equal(epochs[(times >= 120.0) & (times < 180.0)], "wash-in")
        np.testing.assert_array_equal(epochs[(times >= 180.0) & (times < 420.0)], "gas")
        np.testing.assert_array_equal(epochs[times >= 420.0], "air after gas")
        curve, means = np.asarray(columns["Delta R1"]), np.asarray(columns["air and gas epoch means"])
        # noise-free: the curve is Delta R1(t) of the voxel; the gas-epoch mean is the map value
        np.testing.assert_allclose(curve[epochs == "air"], 0.0, atol=1e-9)
        np.testing.assert_allclose(means[epochs == "gas"], p.delta_r1_per_s[voxel], atol=1e-6)
        self.assertTrue(np.all(np.isnan(means[(epochs == "wash-in") | (epochs == "air after gas")])))
        self.assertIn(str(voxel), chart.GetAttribute("TMEMonitor.PlotRegion"))
        # a region's mean, and the relative signal change where no T1 is known
        plain = HypoxiaSettings(gas_on_s=120.0, gas_off_s=420.0, noise_floor=False)
        bare = self.logic.run(plain, oe_node=self.oe, t10_node=self.t10)
        chart = self.logic.paradigm_plot(bare, self.oe, "oe", mask=self.mask)
        columns = tme_scene.table_to_columns(chart.GetNthPlotSeriesNode(0).GetTableNode())
        self.assertIn("relative signal change", columns)
        self.assertGreater(np.nanmax(columns["relative signal change"]), 0.0)
        for bad in (dict(voxel=(99, 0, 0)), dict(mask=np.zeros((2, 2, 2), bool))):
            with self.subTest(bad=list(bad)), self.assertRaises(InputError):
                self.logic.paradigm_plot(result, self.oe, "oe", **bad)

    def test_every_map_is_in_the_quantity_registry(self):
        from HypoxiaModuleLib import quantity_names
        from TMEMonitorLib import quantities
        self.settings.dynamic_echo_time_s = 0.02
        result = self.run_all(bold_node=tme_scene.array_to_sequence(self.scene, self.visit.oe, FRAME_TIMES_S, self.ijk,
                                                                    "BOLD"))
        names = set(result.analysis.maps) | set(quantity_names.MAP_NAMES)
        self.assertTrue({"R2star", "T2star", "R2prime", "dR1", "dR2star", "dR1_p"} <= names)
        missing = sorted(n for n in names if n not in quantities.REGISTRY)
        self.assertEqual(missing, [], "Hypoxia maps missing from the quantity registry (quantity_names.py)")
        self.assertEqual(quantities.lookup("T2star").unit, "ms")
        self.assertTrue(quantities.lookup("dR1").symmetric)
        self.assertIsNone(quantities.physical_limits("R2prime"))
        self.assertEqual(quantities.REGISTRY["R2star"].display_range, (0.0, 100.0))
        node = result.map_nodes["dR1"]
        self.assertEqual(node.GetAttribute("TMEMonitor.MapName") or attribute_names.get(node, attribute_names.MAP_NAME),
                         "dR1")

    def test_bad_input_leaves_scene_untouched(self):
        before = self.scene.GetNumberOfNodes()
        v = self.visit
        other = tme_scene.make_ijk_to_ras((2.0, 1.0, 3.0), (-8.0, 4.0, 2.0))
        bad_t1 = tme_scene.array_to_volume(self.scene, v.phantom.t1_s, other, "T1 other grid")
        time_indexed = tme_scene.array_to_sequence(self.scene, v.gre, GRE_TE_S, self.ijk, "GRE as time")
        before = self.scene.GetNumberOfNodes()
        cases = [(InputError, dict(t10_node=bad_t1)),
                 (MetadataError, dict(gre_node=time_indexed)),
                 (InputError, dict(gre_node=time_indexed, echo_times_s=GRE_TE_S[::-1])),
                 (InputError, dict(gre_node=time_indexed, echo_times_s=GRE_TE_S[:3]))]
        for error, extra in cases:
            with self.subTest(extra=list(extra)), self.assertRaises(error):
                self.run_all(**extra)
        self.settings.gas_on_s, self.settings.gas_off_s = 900.0, None
        with self.assertRaisesRegex(InputError, "outside"):
            self.run_all()
        self.settings.gas_on_s = None
        with self.assertRaisesRegex(MetadataError, "gas timing"):
            self.run_all()
        self.assertEqual(self.scene.GetNumberOfNodes(), before)

    def test_t1_maps_must_share_grid(self):
        v = self.visit
        other = tme_scene.make_ijk_to_ras((1.0, 1.0, 4.0), (-8.0, 4.0, 2.0))
        air = tme_scene.array_to_volume(self.scene, v.phantom.t1_s, self.ijk, "T1 air")
        gas = tme_scene.array_to_volume(self.scene, v.phantom.t1_s * 0.95, other, "T1 gas")
        before = self.scene.GetNumberOfNodes()
        with self.assertRaisesRegex(InputError, "another grid"):
            self.logic.run(HypoxiaSettings(), t1_air_node=air, t1_gas_node=gas)
        self.assertEqual(self.scene.GetNumberOfNodes(), before)
        gas_ok = tme_scene.array_to_volume(self.scene, 1 / (1 / v.phantom.t1_s + 0.04), self.ijk, "T1 gas ok")
        result = self.logic.run(HypoxiaSettings(), t1_air_node=air, t1_gas_node=gas_ok)
        np.testing.assert_allclose(tme_scene.volume_to_array(result.map_nodes["dR1"]), 0.04, atol=1e-5)

    def test_write_failure_rolls_back(self):
        from unittest import mock
        before = self.scene.GetNumberOfNodes()
        with mock.patch("TMEMonitorLib.scene.add_table", side_effect=RuntimeError("disk full")):
            with self.assertRaises(RuntimeError):
                self.run_all()
        self.assertEqual(self.scene.GetNumberOfNodes(), before)


if __name__ == "__main__":
    unittest.main()
