"""Spectroscopy file reading and writing: every format into MRSData (NIfTI-MRS conventions)."""
from .dicom_mrs import read_dicom_mrs
from .fit_results import ExternalFit, read_lcmodel_coord, read_lcmodel_csv, read_lcmodel_table, read_tarquin_results
from .jmrui_text import read_jmrui_text, write_jmrui_text
from .lcmodel_raw import read_lcmodel_raw, write_lcmodel_raw
from .mrs_data import PROTON_REFERENCE_PPM, MRSData
from .nifti_mrs import read_nifti_mrs, write_nifti_mrs
from .philips_sdat import read_sdat, write_sdat
from .read import KNOWN_FORMATS, detect_format, read_mrs
from .siemens_rda import read_rda
from .spec2nii_bridge import convert_with_spec2nii

__all__ = ["MRSData", "PROTON_REFERENCE_PPM", "read_mrs", "detect_format", "KNOWN_FORMATS", "read_nifti_mrs",
           "write_nifti_mrs", "read_rda", "read_dicom_mrs", "read_sdat", "write_sdat", "read_lcmodel_raw",
           "write_lcmodel_raw", "read_jmrui_text", "write_jmrui_text", "convert_with_spec2nii", "ExternalFit",
           "read_lcmodel_table", "read_lcmodel_coord", "read_lcmodel_csv", "read_tarquin_results"]
