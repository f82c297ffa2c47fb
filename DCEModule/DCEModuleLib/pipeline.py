"""The DCE analysis on arrays: signal -> T10 -> concentration -> AIF -> model fit -> maps.

No MRML here: ``logic.py`` resolves nodes into arrays, calls :func:`analyse_dce`, and writes
the result into the scene; the command line does the same from files. Everything is
computed and checked before anything is written, so bad input leaves the scene untouched.

The steps live in files of their own: acquisition.py (TR, flip angle, relaxivity with their
provenance), series_checks.py (input checks), t10_sources.py (T10), pre_contrast.py (baseline
frames, bolus arrival), aif_resolution.py (the AIF), curve_source.py (curves to mM), preparation.py (DCEInputs ->
PreparedDCE), block_fit.py (the model fit and curve metrics, block by block).
Arrays of a series are (frames, slices, rows, cols); the numeric core works on (..., T).
Times inside the analysis (AIF delay, bolus arrival, time to peak) count from the first frame.
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.progress import report

from .acquisition import resolve_acquisition  # noqa: F401  (public: the CLI and tests use it from here)
from .block_fit import MODEL_CODES, SEMI_QUANTITATIVE_MAPS, fit_blocks  # noqa: F401
from .preparation import DCEInputs, PreparedDCE, prepare  # noqa: F401
from .quantity_names import PARAMETER_DISPLAY  # noqa: F401
from .series_checks import MAX_CONCENTRATION_MM, MIN_FRAMES  # noqa: F401
from .settings import DCESettings
from .t10_sources import BLOOD_T1_S  # noqa: F401


@dataclass
class DCEAnalysis:
    maps: dict                      # name -> (slices, rows, cols) float32, NaN where not computed
    status: np.ndarray              # fit status (uint8) per voxel
    curve_type: np.ndarray          # 0 none, 1 persistent, 2 plateau, 3 washout
    mask: np.ndarray
    t_s: np.ndarray                 # frame times as given (the index of the output sequences)
    aif: dict                       # t_s, cp_mM (plasma), cb_mM (blood), source, voxels
    acquisition: dict               # name -> (value, where it came from)
    settings: DCESettings
    baseline_frames: np.ndarray
    concentration: np.ndarray = None    # (T, slices, rows, cols) mM, when asked for
    fitted: np.ndarray = None           # (T, slices, rows, cols) mM, when asked for
    warnings: list = field(default_factory=list)


@dataclass
class AIFPreview:
    aif: dict                       # as DCEAnalysis.aif: t_s, cp_mM, cb_mM, source, voxels, ...
    acquisition: dict
    settings: DCESettings
    warnings: list = field(default_factory=list)


def analyse_dce(signal_4d, t_s, settings=None, metadata=None, provenance=None, mask=None, vfa=None,
                t10_map=None, aif_mask=None, aif_table=None, progress=None, b1_map=None, t10_labels=None):
    """Run the whole DCE analysis on arrays; returns a :class:`DCEAnalysis`.

    ``signal_4d``: the SPGR signal series, or with ``settings.input_kind == "concentration"``
    a series already in mM (no T1 source, no signal conversion). ``vfa``: (vfa_signal
    (n_flip, slices, rows, cols), flip_angles_deg[, vfa TR s]) for T1 mapping (the DCE TR
    when none is given), or ``t10_map`` (slices, rows, cols) in s, or ``t10_labels`` with
    ``settings.t10_per_tissue`` (a T10 per tissue), or ``settings.fixed_t10_s``. ``b1_map``:
    relative flip-angle scale (actual / nominal) on the DCE grid; it corrects the VFA flip
    angles and the DCE flip angle. ``t10_labels``: integer label array, or (labels,
    {segment name: label value}). ``aif_mask``: arterial ROI for a measured AIF;
    ``aif_table``: (t_s, plasma mM) for a tabulated AIF on the series' frame times.
    """
    inputs = DCEInputs(signal_4d, t_s, metadata, provenance, mask, vfa, t10_map, aif_mask, aif_table, b1_map,
                       t10_labels)
    return analyse(inputs, settings, progress)


def analyse(inputs, settings=None, progress=None):
    """:func:`analyse_dce` on a :class:`DCEInputs`."""
    settings = (settings or DCESettings()).validated()
    prepared = prepare(inputs, settings, progress)
    result = fit_blocks(prepared, settings, progress)
    maps = result.maps
    if prepared.t10_voxels is not None:
        t10_full = np.full(prepared.volume_shape, np.nan, dtype=np.float32)
        t10_full[prepared.needed] = prepared.t10_voxels
        t10_full[~prepared.mask] = np.nan
        maps["T10"] = t10_full
    conc = prepared.concentration
    report(progress, 1.0, "done")
    return DCEAnalysis(maps=maps, status=result.status, curve_type=result.curve_type, mask=prepared.mask,
                       t_s=prepared.t, aif=prepared.aif, acquisition=prepared.acquisition, settings=settings,
                       baseline_frames=prepared.baseline,
                       concentration=np.moveaxis(conc, -1, 0) if settings.write_concentration else None,
                       fitted=result.fitted, warnings=prepared.warnings)


def preview_aif(signal_4d, t_s, settings=None, metadata=None, provenance=None, mask=None, vfa=None,
                t10_map=None, aif_mask=None, aif_table=None, progress=None, b1_map=None, t10_labels=None):
    """The AIF :func:`analyse_dce` would use with the same arguments, without the model fit."""
    settings = (settings or DCESettings()).validated()
    inputs = DCEInputs(signal_4d, t_s, metadata, provenance, mask, vfa, t10_map, aif_mask, aif_table, b1_map,
                       t10_labels)
    prepared = prepare(inputs, settings, progress)
    report(progress, 1.0, "AIF resolved")
    return AIFPreview(aif=prepared.aif, acquisition=prepared.acquisition, settings=settings,
                      warnings=prepared.warnings)
