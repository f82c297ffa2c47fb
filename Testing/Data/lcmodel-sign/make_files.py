"""How the files in this folder were made (run once with suspect 0.6.2 and spec2nii 0.8.15 installed;
not run by the tests). See README.md."""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path[:0] = [os.path.join(ROOT, "SpectroscopyModule"), os.path.join(ROOT, "TMEMonitor")]

import suspect  # noqa: E402  (openmrslab/suspect, MIT)

from SpectroscopyModuleLib.io.philips_sdat import write_sdat  # noqa: E402


def philips_phantom():
    """A Philips-style SPAR/SDAT pair with three singlets (NAA 2.01, Cr 3.03, Cho 3.21 ppm)."""
    n, dwell, mhz = 1024, 1 / 2000.0, 127.75
    t = np.arange(n) * dwell
    fid = np.zeros(n, complex)
    for ppm, amplitude in ((2.01, 1.0), (3.03, 0.8), (3.21, 0.5)):
        # NIfTI-MRS convention: ppm = 4.65 - f / MHz
        fid += amplitude * np.exp(2j * np.pi * (4.65 - ppm) * mhz * t - t / 0.08)
    geometry = {"lr_size": 20, "ap_size": 20, "cc_size": 20, "lr_off_center": 0, "ap_off_center": 0,
                "cc_off_center": 0, "lr_angulation": 0, "ap_angulation": 0, "cc_angulation": 0,
                # further SPAR fields that spec2nii's Philips converter requires
                "spectrum_inversion_time": 0, "offset_frequency": 0, "patient_orientation": "supine",
                "patient_position": "head_first", "volume_selection_enable": "yes"}
    write_sdat(os.path.join(HERE, "phantom_philips"), 1000.0 * fid, dwell, mhz, te_s=0.035, tr_s=2.0,
               geometry=geometry)


def main():
    philips_phantom()
    sdat = suspect.io.load_sdat(os.path.join(HERE, "phantom_philips.SDAT"))
    suspect.io.lcmodel.save_raw(os.path.join(HERE, "phantom_philips_suspect.RAW"), sdat)
    rda = suspect.io.load_rda(os.path.join(ROOT, "Testing", "Data", "mrs-formats", "suspect_testdata", "siemens",
                                           "SVS_30.rda"))
    suspect.io.lcmodel.save_raw(os.path.join(HERE, "SVS_30_suspect.RAW"), rda)
    spec2nii = os.path.join(os.path.dirname(sys.executable), "spec2nii")
    subprocess.run([spec2nii, "philips", "-o", HERE, "-f", "phantom_philips_spec2nii",
                    os.path.join(HERE, "phantom_philips.SDAT"), os.path.join(HERE, "phantom_philips.SPAR")], check=True)
    subprocess.run([spec2nii, "raw", "-o", HERE, "-f", "SVS_30_suspect_RAW_spec2nii", "-n", "1H", "-b", "2000", "-i", "123.234655",
                    os.path.join(HERE, "SVS_30_suspect.RAW")], check=True)


if __name__ == "__main__":
    main()
