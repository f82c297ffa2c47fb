"""Read 4D series (DICOM, NIfTI + BIDS JSON / .bval, Slicer .seq.nrrd) and 3D volumes.

    series = read_series("dce_folder")            # Series: array (frames, slices, rows, cols),
    series.axis_name, series.axis_values           # "time" (s from first frame) or "b" (s/mm2)
    series.provenance["axis_values"]               # where the values came from
    print(describe(series))
"""
from .describe import describe
from .dicom_series import list_dicom_series
from .reader import read_series, read_volume
from .series import Series, Volume

__all__ = ["read_series", "read_volume", "describe", "list_dicom_series", "Series", "Volume"]
