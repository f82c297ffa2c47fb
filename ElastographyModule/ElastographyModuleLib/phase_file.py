"""The phase images read from a file, with the acquisition values found in it and their sources
(shared by the file readers in mre_files.py and mre_dicom.py)."""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class PhaseFile:
    array: np.ndarray                         # (frames, slices, rows, cols)
    ijk_to_ras: np.ndarray
    values: dict = field(default_factory=dict)      # acquisition values found in the file
    sources: dict = field(default_factory=dict)
    magnitude: object = None                        # (slices, rows, cols) magnitude beside the phase (DICOM)
