"""Damaged or impossible spectroscopy and basis files: a clear error naming the file and the field."""
import os
import shutil
import tempfile
import unittest

import numpy as np

from SpectroscopyModuleLib import io as mrs_io
from SpectroscopyModuleLib.basis import read_basis
from TMEMonitorLib.errors import InputError, MetadataError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
RDA = os.path.join(ROOT, "Testing", "Data", "mrs-formats", "suspect_testdata", "siemens", "SVS_30.rda")


def _fid(n=256, dwell=5e-4, mhz=123.2):
    t = np.arange(n) * dwell
    return 100 * np.exp(2j * np.pi * 2.6 * mhz * t - t / 0.05)


class BadSpectroscopyFilesTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.folder, name)

    def raw_with(self, name, fid, **header):
        text = [" $NMID", " ID='x'"] + [" %s = %s" % item for item in header.items()] + [" $END"]
        text += ["%15.6E%15.6E" % (v.real, v.imag) for v in fid]
        with open(self.path(name), "w") as handle:
            handle.write("\n".join(text) + "\n")
        return self.path(name)

    def test_dwell_zero_negative_nan_and_frequency_zero(self):
        for value in ("0.", "-5.0E-04", "NaN"):
            path = self.raw_with("d.RAW", _fid(), DELTAT=value, HZPPPM="123.2")
            with self.assertRaisesRegex(MetadataError, "d.RAW: DELTAT in the header = .*positive number"):
                mrs_io.read_mrs(path)
        path = self.raw_with("f.RAW", _fid(), DELTAT="5E-4", HZPPPM="0")
        with self.assertRaisesRegex(MetadataError, "f.RAW: HZPPPM = 0.0 MHz; it must be a positive number"):
            mrs_io.read_mrs(path)

    def test_too_few_points_and_nan_points(self):
        path = self.raw_with("short.RAW", _fid(10), DELTAT="5E-4", HZPPPM="123.2")
        with self.assertRaisesRegex(InputError, "short.RAW.*at least 32"):
            mrs_io.read_mrs(path)
        fid = _fid()
        path = mrs_io.write_jmrui_text(self.path("two.txt"), fid[:2], 5e-4, 123.2)
        with self.assertRaisesRegex(InputError, "two.txt': 2 point\\(s\\) per FID; a spectrum needs at least 16"):
            mrs_io.read_mrs(path)
        fid[10] = np.nan
        path = mrs_io.write_jmrui_text(self.path("nan.txt"), fid, 5e-4, 123.2)
        with self.assertRaisesRegex(InputError, "nan.txt': 1 of 256 data points are NaN/inf"):
            mrs_io.read_mrs(path)
        path = mrs_io.write_jmrui_text(self.path("allnan.txt"), np.full(256, np.nan + 0j), 5e-4, 123.2)
        with self.assertRaisesRegex(InputError, "allnan.txt': the spectroscopy data are all NaN/inf"):
            mrs_io.read_mrs(path)

    def test_bad_overrides_refused_before_reading(self):
        path = mrs_io.write_jmrui_text(self.path("ok.txt"), _fid(), 5e-4, 123.2)
        for overrides, pattern in (({"dwell_s": 0}, "dwell_s = 0"), ({"spectrometer_mhz": -1}, "spectrometer_mhz = -1"),
                                   ({"te_s": float("nan")}, "te_s"), ({"nucleus": 5}, "nucleus")):
            with self.assertRaisesRegex(InputError, pattern):
                mrs_io.read_mrs(path, **overrides)
        mrs = mrs_io.read_mrs(path, spectrometer_mhz=297.2)
        self.assertTrue(any("spectrometer_mhz = 297.2 given replaces the file's 123.2" in w
                            for w in mrs.metadata["warnings"]))

    def test_truncated_rda_header_and_data(self):
        with open(RDA, "rb") as handle:
            raw = handle.read()
        with open(self.path("head.rda"), "wb") as handle:
            handle.write(raw[:raw.find(b">>> End of header") - 5])
        with self.assertRaisesRegex(InputError, "head.rda': the header is truncated"):
            mrs_io.read_mrs(self.path("head.rda"))
        with open(self.path("odd.rda"), "wb") as handle:
            handle.write(raw[:-3])
        with self.assertRaisesRegex(InputError, "odd.rda' is truncated"):
            mrs_io.read_mrs(self.path("odd.rda"))

    def test_sdat_sample_frequency_zero(self):
        mrs_io.write_sdat(self.path("svs"), _fid(), 5e-4, 123.2)
        with open(self.path("svs.SPAR")) as handle:
            text = handle.read().replace("sample_frequency : 2000", "sample_frequency : 0")
        with open(self.path("svs.SPAR"), "w") as handle:
            handle.write(text)
        with self.assertRaisesRegex(MetadataError, "svs.SPAR: sample_frequency = 0.0 Hz; it must be a positive number"):
            mrs_io.read_mrs(self.path("svs.SDAT"))


class BadBasisFilesTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def test_binary_unreadable_and_bad_dwell(self):
        path = os.path.join(self.folder, "bin.basis")
        with open(path, "wb") as handle:
            handle.write(bytes(range(256)) * 4)
        with self.assertRaisesRegex(InputError, "bin.basis' is a binary file"):
            read_basis(path)
        if os.geteuid() != 0:
            os.chmod(path, 0)
            with self.assertRaisesRegex(InputError, "bin.basis' cannot be read"):
                read_basis(path)
        text = (" $SEQPAR\n HZPPPM = 123.2\n $END\n $BASIS1\n BADELT = 0.,\n NDATAB = 32\n $END\n"
                " $BASIS\n METABO = 'X'\n $END\n" + "1.0 0.0\n" * 32)
        path = os.path.join(self.folder, "zero.basis")
        with open(path, "w") as handle:
            handle.write(text)
        with self.assertRaisesRegex(InputError, "zero.basis': dwell time BADELT = 0 s"):
            read_basis(path)
        with open(os.path.join(self.folder, "bad.json"), "wb") as handle:
            handle.write(b"\xff\xfe\x00garbage")
        with self.assertRaisesRegex(InputError, "bad.json' is not valid JSON text"):
            read_basis(os.path.join(self.folder, "bad.json"))


if __name__ == "__main__":
    unittest.main()
