"""--bvals files: numbers read, binary or non-numeric files refused with the file named."""
import os
import tempfile
import unittest

import numpy as np

from DiffusionModuleLib.b_values import read_b_value_file
from TMEMonitorLib.errors import InputError


class BValueFileTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, content):
        path = os.path.join(self.tmp.name, "dwi.bval")
        with open(path, "wb") as handle:
            handle.write(content)
        return path

    def test_numbers(self):
        np.testing.assert_array_equal(read_b_value_file(self.write(b"0 50, 800\n1000\n")), [0, 50, 800, 1000])

    def test_bad_files(self):
        for content, pattern in ((b"\x00\x01\x02\x03", "is a binary file"), (b"\xff\xfe0 50", "is not text"),
                                 (b"0 fifty 800", "'fifty' is not a number"), (b"", "holds no b-values"),
                                 (b"0 -5 800", "b-values must lie in")):
            with self.assertRaisesRegex(InputError, "--bvals file '.*dwi.bval': " + pattern):
                read_b_value_file(self.write(content))


if __name__ == "__main__":
    unittest.main()
