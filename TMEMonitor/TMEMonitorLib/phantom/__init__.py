"""Digital reference object: a synthetic patient on therapy with exactly known truth (anatomy and truth only).

``make_patient`` gives visits (label maps, truth parameter maps, tumour-level truth and the
misalignment of each visit). Each technique synthesises its own acquisition of a visit in its
module (``DCEModuleLib.synthesis.synthesize_dce``, ``DiffusionModuleLib.synthesis.synthesize_dwi``,
``SpectroscopyModuleLib.synthesis.visit_spectrum``), registered with the app as the technique's
synthetic acquisition. Volume arrays are indexed [k, j, i] like ``slicer.util.arrayFromVolume``.
"""
from .labels import HABITATS, LABELS, TUMOUR_LABELS  # noqa: F401
from .patient import Patient, Visit, describe, make_patient  # noqa: F401
