"""What the spectroscopy analyses ask of a fit: the fit options from the settings, which
fitted names are metabolites (not macromolecules), and which statuses count as fitted."""
from TMEMonitorLib.fitting import status as fit_status

FITTED = (fit_status.OK, fit_status.HIT_BOUND)


def fit_options(settings):
    return {"baseline": None if settings.baseline in (None, "none") else settings.baseline}


def metabolite_names(names):
    from ..basis.macromolecules import is_macromolecule
    return [n for n in names if not is_macromolecule(n)]
