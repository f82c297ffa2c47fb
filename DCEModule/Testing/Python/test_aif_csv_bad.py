"""AIF tables that are not text, or hold impossible values, are refused with the file named."""
import os
import tempfile
import unittest

from DCEModuleLib.aif_csv import read_aif_csv
from TMEMonitorLib.errors import InputError


class BadAifCsvTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, content, name="aif.csv"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as handle:
            handle.write(content if isinstance(content, bytes) else content.encode())
        return path

    def test_latin1_header_is_read(self):
        path = self.write("time (s);Cb (\xb5M)\n0;0\n5;2000\n10;1500\n".encode("latin-1"))
        t, c = read_aif_csv(path)
        self.assertAlmostEqual(c[1], 2.0)

    def test_binary_refused(self):
        with self.assertRaisesRegex(InputError, "aif.csv': is a binary file"):
            read_aif_csv(self.write(b"\x00\x01\x02time_s,conc_mM\n"))

    def test_impossible_values(self):
        for body, pattern in (("0,0\n5,-2\n10,3\n", "negative concentration -2"),
                              ("0,0\n5,1e308\n10,3\n", "concentration up to 1e\\+308 mM is implausible"),
                              ("0,0\n900000,1\n1800000,0.5\n", "times span 500.0 h")):
            with self.assertRaisesRegex(InputError, "aif.csv': " + pattern):
                read_aif_csv(self.write("time_s,conc_mM\n" + body))


if __name__ == "__main__":
    unittest.main()
