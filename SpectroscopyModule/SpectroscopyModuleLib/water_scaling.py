"""Water-scaled concentrations (mM) for a single-voxel analysis with an unsuppressed water reference.

The water amplitude is the reference FID's magnitude extrapolated to t = 0 (log-linear over its
first points, which removes the T2* decay and the first-point artefacts), divided by the number
of water protons and, for STEAM, by the half signal the simulated basis also carries, so that it
is in the same per-molecule units as the basis-fit amplitudes. Concentrations then follow
Gasparovic et al. 2006 (``quantification.water_scaled_concentrations``).
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from . import quantification

WATER_PROTONS = 2.0
# Tissue fractions when none are given: white matter only, whose relative water content (0.65)
# gives 36.1 M of MR-visible water, close to LCModel's default WCONC of 35,880 mM (Provencher,
# LCModel manual). Give the voxel's GM/WM/CSF fractions (from a segmentation) for brain.
DEFAULT_FRACTIONS = {"gm": 0.0, "wm": 1.0, "csf": 0.0}
EXTRAPOLATION_POINTS = 16


def water_amplitude(water_fid, sequence):
    """Per-molecule water amplitude of a single (combined, averaged) water reference FID."""
    fid = np.asarray(water_fid).reshape(-1)
    points = fid[1:1 + EXTRAPOLATION_POINTS]
    magnitude = np.abs(points)
    if points.size < 4 or not np.all(magnitude > 0):
        raise InputError("water reference: too few non-zero points to measure its amplitude")
    slope, intercept = np.polyfit(np.arange(1, points.size + 1), np.log(magnitude), 1)
    steam_factor = 0.5 if str(sequence).upper() == "STEAM" else 1.0
    return float(np.exp(intercept)) / (WATER_PROTONS * steam_factor)


def water_scaled(fit, sums, water_fid, acquisition, settings):
    """{name: mM} for the fitted metabolites and the clinical sums (``sums`` names which), and a
    description of how."""
    te = acquisition.get("te_s", (None,))[0]
    tr = acquisition.get("tr_s", (None,))[0]
    if te is None or tr is None:
        raise InputError("water scaling needs TE and TR (header or settings)")
    fractions = settings.tissue_fractions or DEFAULT_FRACTIONS
    amplitude = water_amplitude(water_fid, settings.sequence)
    concentrations = quantification.water_scaled_concentrations(dict(fit.amplitudes), amplitude, te, tr, fractions)
    # Totals are sums of the scaled parts: each part has its own relaxation correction.
    concentrations.update({name: float(value) for name, value in quantification.clinical_sums(concentrations).items()
                           if name in sums})
    field_t = acquisition.get("field_T", (3.0,))[0]
    caveat = "" if abs(field_t - 3.0) < 0.5 else f"; 3 T relaxation times used at {field_t:.1f} T"
    how = (f"water-scaled (Gasparovic 2006): GM/WM/CSF fractions {fractions['gm']:g}/{fractions['wm']:g}/"
           f"{fractions['csf']:g}" + ("" if settings.tissue_fractions else " (default: white matter)")
           + f", 3 T water and metabolite T1/T2, TE {te * 1e3:g} ms, TR {tr:g} s" + caveat)
    return {name: float(value) for name, value in concentrations.items()}, how
