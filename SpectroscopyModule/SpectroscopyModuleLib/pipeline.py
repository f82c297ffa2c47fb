"""The spectroscopy analysis on objects and arrays: read -> check -> process -> basis -> fit -> quantify.

No MRML here: ``logic.py`` turns an :class:`SVSAnalysis` / :class:`MRSIAnalysis` into nodes, the
command line writes files. Everything is read, checked and fitted before anything is written,
so bad input leaves a scene untouched.

The steps live in files of their own and are gathered here (the names scripts, the logic and
the command line use): mrs_input.py (read, axes, acquisition checks), basis_choice.py (the
basis), processing_steps.py (the chosen processing), fitting/options.py (fit options),
svs_analysis.py (one voxel), mrsi_analysis.py (a grid).
"""
from .basis_choice import FIELD_RTOL, basis_for, check_basis, clear_basis_cache, describe_basis  # noqa: F401
from .fitting.options import FITTED, fit_options, metabolite_names  # noqa: F401
from .mrs_input import PROTON_MHZ_PER_T, check_acquisition, dim_tags, is_mrsi, load_mrs, split_dims  # noqa: F401
from .mrsi_analysis import (AMPLITUDE_UNIT, QUALITY_GOOD, QUALITY_LABELS, QUALITY_POOR, RATIO_UNIT,  # noqa: F401
                            MRSIAnalysis, analyse_mrsi, mrsi_geometry, voxel_analysis)
from .processing_steps import COIL_TAG, PROCESSING_FUNCTIONS, TRANSIENT_TAGS, apply_processing  # noqa: F401
from .svs_analysis import SVSAnalysis, analyse_svs, quality_summary, voxel_geometry  # noqa: F401

# Components summed for the spectrum plot (pools overlap at clinical fields) and shown alone.
PLOT_POOLS = ("tNAA", "tCr", "tCho", "Glx")
PLOT_SINGLE = ("Lac", "Ins", "Cit", "Ala")

_metabolite_names = metabolite_names      # the name logic.py used before the split
