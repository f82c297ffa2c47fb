"""Node attribute names: one casing rule, written by the scene adapters, old names still read."""
import unittest

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.scene import attribute_names as names


class AttributeNameRuleTest(unittest.TestCase):
    def test_every_named_attribute_is_upper_camel_case(self):
        constants = {k: v for k, v in vars(names).items() if k.isupper() and not k.startswith("_") and isinstance(v, str)}
        for key, value in constants.items():
            if value.startswith("DICOM.") or key == "PREFIX":
                continue
            self.assertTrue(value.startswith(names.PREFIX), key)
            first = value[len(names.PREFIX):].split(".")[0]
            self.assertTrue(first[:1].isupper() and "_" not in first, f"{key} = {value}")

    def test_record_round_trip(self):
        for key in ("TR_s", "TR_s_source", "b_values", "b_values_source", "input_kind", "AIF_source", "model"):
            self.assertEqual(names.record_key(names.record_attribute(key)), key)
        self.assertEqual(names.record_attribute("TR_s_source"), "TMEMonitor.Source.TR_s")
        self.assertEqual(names.record_attribute("input_kind"), names.INPUT_KIND)
        self.assertEqual(names.record_attribute("TR_s"), "TMEMonitor.TR_s")   # the key files carry too


class AttributesOnNodesTest(unittest.TestCase):
    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.node = tme_scene.array_to_volume(self.scene, np.zeros((2, 2, 2), np.float32), np.eye(4), "v")

    def test_new_names_written_and_read_back(self):
        tme_scene.set_acquisition_attributes(self.node, {"TR_s": 0.005, "TR_s_source": "DICOM RepetitionTime",
                                                         "input_kind": "signal"})
        self.assertEqual(self.node.GetAttribute("TMEMonitor.Source.TR_s"), "DICOM RepetitionTime")
        self.assertEqual(self.node.GetAttribute(names.INPUT_KIND), "signal")
        self.assertIsNone(self.node.GetAttribute("TMEMonitor.TR_s_source"))
        self.assertIsNone(self.node.GetAttribute("TMEMonitor.input_kind"))
        metadata = tme_scene.acquisition_metadata(self.node)
        self.assertEqual(metadata["TR_s"], 0.005)
        self.assertEqual(metadata["TR_s_source"], "DICOM RepetitionTime")
        self.assertEqual(metadata["input_kind"], "signal")

    def test_scenes_saved_with_the_old_names_still_read(self):
        self.node.SetAttribute("TMEMonitor.b_values_source", "DICOM DiffusionBValue")
        self.node.SetAttribute("TMEMonitor.input_kind", "concentration")
        self.node.SetAttribute("TMEMonitor.AIF_source", "population")
        metadata = tme_scene.acquisition_metadata(self.node)
        self.assertEqual(metadata["b_values_source"], "DICOM DiffusionBValue")
        self.assertEqual(metadata["input_kind"], "concentration")
        self.assertEqual(names.get(self.node, names.source_attribute("b_values")), "DICOM DiffusionBValue")
        self.assertEqual(names.get(self.node, names.INPUT_KIND), "concentration")
        self.assertEqual(names.get(self.node, names.AIF_SOURCE), "population")
        self.assertIsNone(names.get(self.node, names.source_attribute("TR_s")))


class NodeSeriesTypeTest(unittest.TestCase):
    def test_node_series_is_the_reader_series(self):
        from TMEMonitorLib.io import Series
        from TMEMonitorLib.scene import NodeSeries
        series = NodeSeries(array=np.zeros((3, 1, 2, 2)), axis_name="time", axis_values=np.arange(3.0),
                            ijk_to_ras=np.diag([2.0, 2.0, 3.0, 1.0]), name="DCE")
        self.assertIsInstance(series, Series)
        self.assertEqual(series.n_frames, 3)
        np.testing.assert_allclose(series.spacing, (2.0, 2.0, 3.0))
        self.assertEqual(series.name, "DCE")


if __name__ == "__main__":
    unittest.main()
