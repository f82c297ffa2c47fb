"""The processing steps a user chose, run in order on the data they apply to (coil
combination only with a coil axis, averaging only with transients, ...), with a log of what
each did. The steps themselves are in ``processing/``."""
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import report

from .mrs_input import dim_tags, load_mrs, split_dims
from .processing.data_axes import COIL_TAG, TRANSIENT_TAGS
from .settings import PROCESSING_LABELS

# The function of ``SpectroscopyModuleLib.processing`` behind each step.
PROCESSING_FUNCTIONS = {
    "coil_combine": "coil_combine", "ecc": "ecc", "align": "align", "reject_outliers": "reject_outliers",
    "average": "average",
    "water_removal": "hlsvd_water_removal", "reference": "reference", "phase": "phase",
    "apodise": "apodise", "zero_fill": "zero_fill",
}



def apply_processing(mrs, settings, progress=None):
    """Run the chosen processing steps in order; returns (processed mrs, log [(step, outcome)])."""
    log = []
    steps = settings.processing or ()
    for index, step in enumerate(steps):
        report(progress, index / max(len(steps), 1), PROCESSING_LABELS[step])
        mrs, outcome = run_step(step, mrs, settings)
        log.append((step, outcome))
    return mrs, log


def processing_function(step):
    from . import processing
    return getattr(processing, PROCESSING_FUNCTIONS[step])


def has_tag(mrs, tags):
    spatial, extra, _ = split_dims(mrs)
    present = [t for t in dim_tags(mrs) if t in tags]
    return bool(present) and any(extra[dim_tags(mrs).index(t)] > 1 for t in present)


def water_reference(settings, mrs=None):
    """The unsuppressed water reference (the settings' file, else one stored with the data),
    coil-combined and averaged like the data."""
    if settings.water_reference_path:
        water = load_mrs(settings.water_reference_path)
    else:
        water = getattr(mrs, "water_reference", None)
    for step in ("coil_combine", "average"):
        if has_tag(water, (COIL_TAG,) if step == "coil_combine" else TRANSIENT_TAGS):
            water = processing_function(step)(water)
    return water


def water_for_scaling(settings, mrs):
    """The processed (combined, averaged) water reference for water scaling, or None."""
    if not settings.water_reference_path and getattr(mrs, "water_reference", None) is None:
        return None
    return water_reference(settings, mrs)


def run_step(step, mrs, settings):
    """Apply one step when it applies to these data; returns (mrs, what happened)."""
    if step == "coil_combine" and not has_tag(mrs, (COIL_TAG,)):
        return mrs, "skipped: no coil dimension"
    if step in ("align", "reject_outliers", "average") and not has_tag(mrs, TRANSIENT_TAGS):
        return mrs, "skipped: no transients to " + {"align": "align", "reject_outliers": "check",
                                                    "average": "average"}[step]
    if step == "ecc" and not settings.water_reference_path and getattr(mrs, "water_reference", None) is None:
        return mrs, "skipped: no water reference given"
    if step == "apodise" and not settings.line_broadening_hz:
        return mrs, "skipped: line broadening is 0 Hz"
    if step == "zero_fill" and int(settings.zero_fill_factor) <= 1:
        return mrs, "skipped: zero-fill factor 1"
    function = processing_function(step)
    if step == "ecc":
        out = function(mrs, water_reference(settings, mrs))
    elif step == "apodise":
        out = function(mrs, float(settings.line_broadening_hz))
    elif step == "zero_fill":
        out = function(mrs, int(settings.zero_fill_factor))
    elif step == "reference":
        # Optional refinement: spectra without a recognisable peak keep their frequency (the fit
        # still searches its own shift) rather than stopping the analysis.
        try:
            out = function(mrs)
        except InputError as error:
            return mrs, f"skipped: {error}"
    else:
        out = function(mrs)
    if not hasattr(out, "fid"):
        raise InputError(f"processing step '{step}' did not return spectroscopy data")
    return out, "applied"
