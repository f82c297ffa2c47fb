"""Macromolecule and lipid components as Gaussian lines at standard positions.

Positions (ppm), FWHM (ppm) and relative areas (proton units) are those of the simulated
lipid/macromolecule signals of the LCModel manual (S. Provencher, LCModel & LCMgui user's
manual, section 11.7, "Lipids and macromolecules"), as also used by Seeger U et al.,
Magn Reson Med 2003;49:19-28, doi:10.1002/mrm.10332. Each component is a sum of Gaussians;
its FID at t = 0 equals the sum of its areas. The lines are field-independent in ppm and the
same for every sequence (their short T2 is not modelled; at long TE they are simply smaller).
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .spin_systems import WATER_PPM

# name -> ((ppm, fwhm_ppm, area), ...)
MACROMOLECULE_LINES = {
    "MM09": ((0.91, 0.14, 3.0),),
    "MM12": ((1.21, 0.15, 2.0),),
    "MM14": ((1.43, 0.17, 2.0),),
    "MM17": ((1.67, 0.15, 2.0),),
    "MM20": ((2.08, 0.15, 1.33), (2.25, 0.20, 0.33), (1.95, 0.15, 0.33), (3.00, 0.20, 0.40)),
    "Lip09": ((0.89, 0.14, 3.0),),
    "Lip13a": ((1.28, 0.15, 2.0),),
    "Lip13b": ((1.28, 0.089, 2.0),),
    "Lip20": ((2.04, 0.15, 1.33), (2.25, 0.15, 0.67), (2.80, 0.20, 0.87)),
}
# "Lip13" is the sum of the broad and narrow 1.3 ppm lipid lines (LCModel's Lip13a + Lip13b).
MACROMOLECULE_LINES["Lip13"] = MACROMOLECULE_LINES["Lip13a"] + MACROMOLECULE_LINES["Lip13b"]

DEFAULT_MACROMOLECULES = ("MM09", "MM12", "MM14", "MM17", "MM20", "Lip09", "Lip13", "Lip20")


def is_macromolecule(name):
    return name in MACROMOLECULE_LINES


def macromolecule_fid(name, spectrometer_mhz, n_points, dwell_s, ppm_reference=WATER_PPM):
    """FID of one MM/lipid component (NIfTI-MRS convention)."""
    if name not in MACROMOLECULE_LINES:
        raise InputError(f"unknown macromolecule/lipid component '{name}'; "
                         f"known: {', '.join(MACROMOLECULE_LINES)}")
    t = np.arange(int(n_points)) * float(dwell_s)
    fid = np.zeros(t.shape, dtype=complex)
    for ppm, fwhm_ppm, area in MACROMOLECULE_LINES[name]:
        f = (ppm_reference - ppm) * spectrometer_mhz
        fwhm_hz = fwhm_ppm * spectrometer_mhz
        # Gaussian line of FWHM w Hz <-> exp(-(pi w t)^2 / (4 ln 2)) in time
        fid += area * np.exp(2j * np.pi * f * t - (np.pi * fwhm_hz * t) ** 2 / (4 * np.log(2)))
    return fid
