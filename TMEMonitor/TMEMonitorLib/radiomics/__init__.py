"""IBSI-compliant radiomics on numpy/scipy/SimpleITK: the IBSI 1 processing chain and
feature families, the IBSI 2 convolutional filters, delta features and tables.

Public API: :func:`compute_features`, :func:`filter_image`, :func:`run_radiomics_for_images`,
:func:`delta_features`, :func:`write_long_csv`, :data:`PRESETS`.
"""
from .features import FeatureTable, compute_features
from .settings import PRESETS, resolve_settings, settings_hash, settings_json
from .filters import filter_image
from .delta import delta_features, delta_rows
from .pipeline import run_radiomics_for_images
from .tables import read_long_csv, write_long_csv, write_settings_json
