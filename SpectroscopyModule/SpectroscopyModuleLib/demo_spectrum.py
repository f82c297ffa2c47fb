"""The synthetic patient's single-voxel tumour spectrum at each visit (digital reference object).

``visit_spectrum(visit, rng)`` turns the phantom's truth concentrations of the tumour (choline
falls as the tumour responds) into a noisy 3 T PRESS spectrum with
``synthetic.synthesize_spectrum``, and places the voxel on the tumour (centre of the tumour
mask, voxel-to-RAS from the visit's geometry) so that the scene shows the box on the anatomy.
``io.write_nifti_mrs`` stores it as NIfTI-MRS so that the readers and the command line can
take it like a scanner file.
"""

import numpy as np

from TMEMonitorLib.errors import InputError

from .synthetic import synthesize_spectrum

# Keys of the phantom truth that may hold per-region metabolite concentrations (mM), and the
# region names taken as "the tumour", in order of preference.
TRUTH_KEYS = ("metabolites_mM", "metabolites", "mrs_concentrations_mM", "mrs")
TUMOUR_REGIONS = ("tumour", "viable rim", "viable_rim", "tumor", "rim")
# Demo acquisition: 3 T (123.2 MHz), PRESS TE 30 ms, 2 kHz, 1024 points, 15 mm voxel.
DEMO_ACQUISITION = {"spectrometer_mhz": 123.2, "te_s": 0.030, "sequence": "PRESS", "n_points": 1024,
                    "dwell_s": 1 / 2000, "tr_s": 2.0}
DEMO_VOXEL_MM = 15.0


def tumour_concentrations(truth, region=None):
    """{metabolite: mM} of the tumour from the phantom's truth (a per-region table or a flat one)."""
    table = next((truth[k] for k in TRUTH_KEYS if k in truth), None)
    if not isinstance(table, dict) or not table:
        raise InputError(f"visit truth has no metabolite concentrations (looked for {', '.join(TRUTH_KEYS)}; "
                         f"it holds {', '.join(map(str, truth))})")
    if all(np.isscalar(v) for v in table.values()):
        return {str(k): float(v) for k, v in table.items()}
    regions = [region] if region else [r for r in TUMOUR_REGIONS if r in table]
    if not regions or regions[0] not in table:
        raise InputError(f"visit truth: no metabolite concentrations for region "
                         f"{region or ' / '.join(TUMOUR_REGIONS)}; regions: {', '.join(map(str, table))}")
    return {str(k): float(v) for k, v in table[regions[0]].items()}


def tumour_voxel_affine(visit, size_mm=DEMO_VOXEL_MM):
    """Voxel-to-RAS matrix of a cubic voxel centred on the tumour mask (None without geometry)."""
    mask = getattr(visit, "tumour_mask", None)
    ijk_to_ras = getattr(visit, "ijk_to_ras", None)
    if mask is None or ijk_to_ras is None or not np.any(mask):
        return None
    k, j, i = (float(np.mean(axis)) for axis in np.nonzero(mask))     # arrays are [k, j, i]
    ijk_to_ras = np.asarray(ijk_to_ras, dtype=float)
    centre = ijk_to_ras @ np.array([i, j, k, 1.0])
    directions = ijk_to_ras[:3, :3] / np.linalg.norm(ijk_to_ras[:3, :3], axis=0)
    affine = np.eye(4)
    affine[:3, :3] = directions * size_mm
    affine[:3, 3] = centre[:3]
    return affine


def visit_spectrum(visit, rng=None, snr=40.0, linewidth_hz=6.0, region=None, **acquisition):
    """A synthetic single-voxel tumour spectrum for ``visit`` (an MRSData-like object).

    Concentrations come from the phantom's truth; the voxel sits on the tumour. ``acquisition``
    overrides DEMO_ACQUISITION (spectrometer_mhz, te_s, sequence, n_points, dwell_s, tr_s)."""
    concentrations = tumour_concentrations(getattr(visit, "truth", None) or {}, region)
    concentrations = {k: v for k, v in concentrations.items() if v > 0}
    settings = {**DEMO_ACQUISITION, **acquisition}
    mrs = synthesize_spectrum(concentrations, settings["spectrometer_mhz"], settings["te_s"], settings["sequence"],
                              settings["n_points"], settings["dwell_s"], linewidth_hz=linewidth_hz, snr=snr,
                              rng=rng, tr_s=settings["tr_s"])
    mrs.affine = tumour_voxel_affine(visit)
    mrs.metadata["voxel_size_mm"] = [DEMO_VOXEL_MM] * 3
    mrs.metadata["visit"] = getattr(visit, "name", None)
    mrs.metadata["source_format"] = "synthetic (phantom truth)"
    return mrs
