"""NRRD headers with text where numbers belong: an InputError naming the file and the field."""
import os
import tempfile
import unittest

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.io import read_series

HEADER = {"type": "float", "dimension": "4", "space": "right-anterior-superior", "sizes": "4 3 2 3",
          "space directions": "(1.5,0,0) (0,1.5,0) (0,0,3) none", "kinds": "domain domain domain list",
          "labels": '"" "" "" "b"', "units": '"" "" "" "s/mm2"', "endian": "little", "encoding": "raw",
          "space origin": "(0,0,0)"}
KEYS = {"axis 3 index type": "numeric", "axis 3 index values": "0 500 1000"}


class BadNrrdTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, fields=None, keys=None):
        header = dict(HEADER, **(fields or {}))
        values = dict(KEYS, **(keys or {}))
        text = "NRRD0004\n" + "".join("%s: %s\n" % item for item in header.items())
        text += "".join("%s:=%s\n" % item for item in values.items()) + "\n"
        path = os.path.join(self.tmp.name, "x.seq.nrrd")
        with open(path, "wb") as handle:
            handle.write(text.encode() + np.ones(72, "<f4").tobytes())
        return path

    def test_good_file_reads(self):
        series = read_series(self.write())
        np.testing.assert_array_equal(series.axis_values, [0, 500, 1000])

    def test_fields_with_text(self):
        for fields, keys, pattern in (
                ({"sizes": "4 three 2 3"}, None, "'sizes: 4 three 2 3' must be whole numbers"),
                ({"dimension": "four"}, None, "'dimension: four' is not a whole number"),
                ({"space directions": "(1.5,a,0) (0,1.5,0) (0,0,3) none"}, None, "'space directions' holds '\\(1.5,a,0\\)'"),
                ({"space directions": "(1.5,0,0) none"}, None, "space directions"),
                ({"byte skip": "x"}, None, "'byte skip: x' is not a whole number"),
                ({"line skip": "-3"}, None, "'line skip' is -3"),
                ({"space origin": "(0,nan,0)"}, None, "'space origin' holds"),
                (None, {"axis 3 index values": "0 five 1000"}, "'axis 3 index values' values are not numeric"),
                (None, {"MultiVolume.DICOM.FlipAngle": "ten"}, "'MultiVolume.DICOM.FlipAngle' values are not numeric")):
            with self.assertRaisesRegex(InputError, "x.seq.nrrd.*" + pattern, msg=str((fields, keys))):
                read_series(self.write(fields, keys))

    def test_dwmri_fields_with_text(self):
        fields = {"kinds": "domain domain domain list", "labels": '"" "" "" ""', "units": '"" "" "" ""'}
        keys = {"DWMRI_b-value": "thousand", "DWMRI_gradient_0000": "0 0 0", "DWMRI_gradient_0001": "1 0 0",
                "DWMRI_gradient_0002": "0 1 0"}
        with self.assertRaisesRegex(InputError, "x.seq.nrrd: 'DWMRI_b-value' values are not numeric"):
            read_series(self.write(fields, keys))


if __name__ == "__main__":
    unittest.main()
