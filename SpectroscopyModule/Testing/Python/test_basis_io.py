"""Basis readers/writers (LCModel .basis, FSL-MRS JSON folders) and resampling."""
import os
import tempfile
import unittest

import numpy as np

from SpectroscopyModuleLib.basis import (Basis, read_basis, resample_basis, simulate_basis,
                                         write_basis_json_folder, write_lcmodel_basis)
from TMEMonitorLib.errors import InputError

MHZ = 123.2
DWELL = 1 / 2000


def _peak_ppm(fid, dwell, mhz, zero_fill=8):
    n = fid.size * zero_fill
    spec = np.abs(np.fft.fftshift(np.fft.fft(fid, n)))
    ppm = 4.65 - np.fft.fftshift(np.fft.fftfreq(n, dwell)) / mhz
    return ppm[np.argmax(spec)]


def _hand_written_lcmodel(path, n=512, ishift=5, conc=2.0):
    """A one-metabolite .basis file written by hand following the LCModel layout: the data are
    the plain DFT of the FID in LCModel's time convention (that of its .RAW files: the NIfTI-MRS
    convention, see Testing/Data/lcmodel-sign/README.md), circularly shifted by ISHIFT, six
    numbers per line (FMTBAS '(6E13.5)')."""
    t = np.arange(n) * DWELL
    lcmodel_fid = conc * 3.0 * np.exp(2j * np.pi * (4.65 - 3.027) * MHZ * t - np.pi * 3.0 * t)
    data = np.roll(np.fft.fft(lcmodel_fid), ishift)
    numbers = np.column_stack([data.real, data.imag]).ravel()
    lines = [" $SEQPAR", " ECHOT = 30.0,", " SEQ = 'PRESS'", " $END",
             " $BASIS1", " IDBASI = 'hand made',", " FMTBAS = '(6E13.5)',",
             f" BADELT = {DWELL:.6E},", f" NDATAB = {n},", f" HZPPPM = {MHZ:.4f}", " $END",
             " $BASIS", " ID = 'CrCH3',", " METABO = 'CrCH3',", f" CONC = {conc},", " TRAMP = 1.,",
             " VOLUME = 1.,", f" ISHIFT = {ishift}", " $END"]
    for start in range(0, numbers.size, 6):
        lines.append("".join(f"{v:13.5E}" for v in numbers[start:start + 6]))
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


class LCModelBasisTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def test_round_trip(self):
        basis = simulate_basis(MHZ, 0.035, "PRESS", ["NAA", "Cr", "Lac", "Cit"], 1024, DWELL)
        path = write_lcmodel_basis(basis, os.path.join(self.tmp.name, "press35.basis"))
        back = read_basis(path)
        self.assertEqual(back.names, basis.names)
        self.assertAlmostEqual(back.spectrometer_mhz, MHZ, places=4)
        self.assertAlmostEqual(back.dwell_s, DWELL, places=12)
        self.assertAlmostEqual(back.te_s, 0.035, places=9)
        self.assertEqual(back.sequence, "PRESS")
        for name in basis:
            scale = np.abs(basis[name]).max()
            np.testing.assert_allclose(back[name], basis[name], atol=1e-5 * scale)

    def test_hand_written_file_conventions(self):
        path = os.path.join(self.tmp.name, "hand.BASIS")
        _hand_written_lcmodel(path)
        basis = read_basis(path)
        self.assertEqual(basis.names, ["CrCH3"])
        self.assertAlmostEqual(basis.te_s, 0.030)
        fid = basis["CrCH3"]
        self.assertAlmostEqual(_peak_ppm(fid, basis.dwell_s, basis.spectrometer_mhz), 3.027, delta=0.005)
        self.assertAlmostEqual(fid[0].real, 3.0, delta=1e-4)     # divided by CONC = 2 (5 digits in file)
        self.assertAlmostEqual(fid[0].imag, 0.0, delta=1e-4)

    def test_encrypted_and_broken_files_are_refused(self):
        path = os.path.join(self.tmp.name, "enc.basis")
        _hand_written_lcmodel(path)
        with open(path) as handle:
            text = handle.read().replace(f"BADELT = {DWELL:.6E}", f"BADELT = {-DWELL:.6E}")
        with open(path, "w") as handle:
            handle.write(text)
        with self.assertRaises(InputError):
            read_basis(path)
        short = os.path.join(self.tmp.name, "short.basis")
        _hand_written_lcmodel(short)
        with open(short) as handle:
            lines = handle.read().splitlines()
        with open(short, "w") as handle:
            handle.write("\n".join(lines[:-3]) + "\n")
        with self.assertRaises(InputError):
            read_basis(short)
        with self.assertRaises(InputError):
            read_basis(os.path.join(self.tmp.name, "missing.basis"))


class JsonBasisTest(unittest.TestCase):
    def test_round_trip(self):
        basis = simulate_basis(MHZ, 0.030, "STEAM", ["NAA", "GPC"], 512, DWELL)
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_basis_json_folder(basis, tmp)
            self.assertEqual(len(paths), 2)
            back = read_basis(tmp)
            single = read_basis(paths[0])
        self.assertEqual(sorted(back.names), ["GPC", "NAA"])
        self.assertAlmostEqual(back.te_s, 0.030)
        self.assertEqual(back.sequence, "STEAM")
        for name in basis:
            np.testing.assert_allclose(back[name], basis[name], atol=1e-12)
        self.assertEqual(len(single), 1)

    def test_mismatched_files_refused(self):
        a = simulate_basis(MHZ, 0.030, "PRESS", ["NAA"], 512, DWELL)
        b = simulate_basis(MHZ, 0.030, "PRESS", ["Cr"], 512, DWELL / 2)
        with tempfile.TemporaryDirectory() as tmp:
            write_basis_json_folder(a, tmp)
            write_basis_json_folder(b, tmp)
            with self.assertRaises(InputError):
                read_basis(tmp)


class ResampleTest(unittest.TestCase):
    def test_simulated_basis_regenerated_exactly(self):
        basis = simulate_basis(MHZ, 0.030, "PRESS", ["Cr", "Lac"], 1024, DWELL)
        out = resample_basis(basis, DWELL / 2, 2048)
        direct = simulate_basis(MHZ, 0.030, "PRESS", ["Cr", "Lac"], 2048, DWELL / 2)
        for name in basis:
            np.testing.assert_allclose(out[name], direct[name], atol=1e-9)

    def test_read_basis_interpolated(self):
        fine = simulate_basis(MHZ, 0.030, "PRESS", ["NAA", "Cr"], 4096, DWELL / 2, linewidth_hz=2.0)
        with tempfile.TemporaryDirectory() as tmp:
            write_basis_json_folder(fine, tmp)
            read = read_basis(tmp)        # not marked as simulated: time-domain interpolation
        self.assertFalse(read.metadata.get("simulated", False))
        out = resample_basis(read, DWELL, 1024)
        direct = simulate_basis(MHZ, 0.030, "PRESS", ["NAA", "Cr"], 1024, DWELL, linewidth_hz=2.0)
        for name in out:
            err = np.abs(out[name] - direct[name]).max() / np.abs(direct[name]).max()
            self.assertLess(err, 1e-3, name)

    def test_small_field_difference_keeps_ppm(self):
        basis = simulate_basis(MHZ, 0.030, "PRESS", ["Cr"], 2048, DWELL, linewidth_hz=2.0)
        with tempfile.TemporaryDirectory() as tmp:
            write_basis_json_folder(basis, tmp)
            read = read_basis(tmp)
        out = resample_basis(read, DWELL, 1024, spectrometer_mhz=MHZ * 1.005)
        self.assertAlmostEqual(_peak_ppm(out["Cr"], DWELL, MHZ * 1.005), 3.027, delta=0.003)

    def test_refusals(self):
        basis = simulate_basis(MHZ, 0.030, "PRESS", ["Cr"], 512, DWELL)
        with self.assertRaises(InputError):           # 3 T basis for 1.5 T data
            resample_basis(basis, DWELL, 512, spectrometer_mhz=63.9)
        with tempfile.TemporaryDirectory() as tmp:
            write_basis_json_folder(basis, tmp)
            read = read_basis(tmp)
        with self.assertRaises(InputError):           # longer acquisition than an undecayed basis
            resample_basis(read, DWELL, 2048)
        t = np.arange(1024) * DWELL / 2
        far = Basis({"far": np.exp(2j * np.pi * 1500.0 * t - np.pi * 5 * t)}, MHZ, DWELL / 2)
        with self.assertRaises(InputError):           # a line outside the data bandwidth would alias
            resample_basis(far, DWELL, 256)


if __name__ == "__main__":
    unittest.main()
