"""The cohort settings file (JSON, or YAML when PyYAML is importable): per-technique settings
for every patient, the harmonisation and the external-biomarker rules. Missing sections take
the defaults below; unknown sections or keys are errors. The resolved settings are written into
every output (report.json, the .mrb, the maps, cohort.parquet metadata, settings.json)."""
import copy
import hashlib
import json
import os

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.settings_files import read_settings_file

DEFAULTS = {
    # Technique sections, one per registered technique named by its name (dce, dwi, mrs, hypoxia,
    # hp13c, mre, ...): keyword arguments of its settings class (Technique.settings_type), checked
    # by the patient runner against that class; missing or empty: the module's defaults.
    "dce": {},
    "dwi": {},
    "vfa": {"flip_angles_deg": None},          # used when neither the manifest nor the file gives them
    "registration": {"method": "rigid"},        # none | rigid | affine | bspline
    "response": {"organ": "breast"},            # organ of the ADC repeatability coefficient
    "harmonisation": {
        "biomarkers": ["ADC", "D", "Ktrans", "ve"],
        "covariates": [],                       # manifest columns (per patient) whose effects are preserved
        "reference_site": None,                 # None: the pooled grand mean (Johnson et al. 2007)
        "fit_on": "baseline",                   # baseline (pre-treatment visits) | all
        "empirical_bayes": True,
    },
    "external": {"response_fall_percent": None},   # None: the published rule of each analyte
}
# Sections that act on the cohort, not on each patient's outputs (left out of the --resume hash);
# every other section (the techniques', vfa, registration, response) changes a patient's outputs.
COHORT_SECTIONS = ("harmonisation", "external")


def technique_sections():
    """Names of the registered techniques that take settings: the valid technique sections."""
    from TMEMonitorApp import techniques
    return tuple(t.name for t in techniques.techniques() if t.settings_type is not None)
REGISTRATION_METHODS = ("none", "rigid", "affine", "bspline")


def load_settings(path=None):
    """Defaults merged with the file at ``path`` (JSON, or YAML when PyYAML is installed)."""
    settings = copy.deepcopy(DEFAULTS)
    if path is None:
        return settings
    path = os.path.abspath(os.fspath(path))
    given = read_settings_file(path, "--settings")
    if given is None:                                  # an empty YAML file: the defaults
        given = {}
    return merge(settings, given, source=path)


def merge(settings, given, source="settings"):
    if not isinstance(given, dict):
        raise InputError(f"--settings: '{source}' must hold a mapping of sections ({', '.join(DEFAULTS)})")
    known = list(DEFAULTS) + [name for name in technique_sections() if name not in DEFAULTS]
    unknown = [k for k in given if k not in known]
    if unknown:
        raise InputError(f"--settings: '{source}': unknown section(s) {', '.join(unknown)} "
                         f"(known: {', '.join(known)})")
    techniques = set(technique_sections()) | {"dce", "dwi"}     # dce/dwi: checked by their classes at run time
    for section, values in given.items():
        if not isinstance(values, dict):
            raise InputError(f"--settings: '{source}': section '{section}' must be a mapping")
        if section not in techniques:          # technique sections are checked by their classes
            bad = [k for k in values if k not in DEFAULTS[section]]
            if bad:
                raise InputError(f"--settings: '{source}': unknown key(s) {', '.join(bad)} in '{section}' "
                                 f"(known: {', '.join(DEFAULTS[section])})")
        settings.setdefault(section, {}).update(values)
    method = settings["registration"]["method"]
    if method not in REGISTRATION_METHODS:
        raise InputError(f"--settings: registration method '{method}' is not one of {', '.join(REGISTRATION_METHODS)}")
    if settings["harmonisation"]["fit_on"] not in ("baseline", "all"):
        raise InputError("--settings: harmonisation fit_on must be 'baseline' or 'all'")
    return settings


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def patient_settings(settings):
    """The sections that change a patient's outputs (their hash decides --resume)."""
    return {k: v for k, v in settings.items() if k not in COHORT_SECTIONS}


def settings_hash(settings):
    return hashlib.sha256(canonical_json(patient_settings(settings)).encode()).hexdigest()
