"""MR spectroscopy processing steps on MRSData (NIfTI-MRS layout, spectral axis last).

Each step returns a new MRSData with a NIfTI-MRS ``ProcessingApplied`` style step appended to
its history; the pipeline (``SpectroscopyModuleLib.pipeline``) calls them by name. Vectorised
over voxels and extra dimensions (HLSVD loops over FIDs). numpy/scipy only.
"""
from .alignment import align
from .apodisation import apodise
from .averaging import average, outlier_scores, reject_outliers
from .coils import coil_combine
from .eddy_current import ecc
from .history import history_entries, methods
from .hlsvd import hlsvd, hlsvd_water_removal
from .phasing import phase
from .referencing import REFERENCE_PEAKS, reference
from .zero_filling import zero_fill

__all__ = ["align", "apodise", "average", "outlier_scores", "reject_outliers", "coil_combine", "ecc",
           "history_entries", "methods", "hlsvd", "hlsvd_water_removal", "phase", "REFERENCE_PEAKS", "reference",
           "zero_fill"]
