"""Digital reference object: a synthetic patient on therapy with exactly known truth.

``make_patient`` gives visits (label maps, truth parameter maps, tumour-level truth and the
misalignment of each visit); ``dce.synthesize_dce`` and ``dwi.synthesize_dwi`` make their
acquisitions. Volume arrays are indexed [k, j, i] like ``slicer.util.arrayFromVolume``.
"""
from .labels import HABITATS, LABELS, TUMOUR_LABELS  # noqa: F401
from .measurements import longest_diameter_mm, volume_ml  # noqa: F401
from .patient import Patient, Visit, describe, make_patient  # noqa: F401
