"""Processing settings for radiomics: documented keys, defaults, the IBSI presets, validation
and a stable hash written with every result.

Keys (all optional; see README.md for the full table):

- ``interpolation``: ``None`` (no resampling) or a mapping with ``spacing`` (mm, x y z; one
  number for isotropic; ``None`` in z keeps the slice spacing for 2D work), ``method``
  (``"nearest"``, ``"linear"``, ``"bspline"``), ``mask_method`` (``"nearest"``/``"linear"``),
  ``partial_volume`` (mask threshold after interpolation, IBSI default 0.5).
- ``intensity_rounding``: round intensities to the nearest integer (CT, IBSI table 5.1).
- ``resegmentation``: ``{"range": [low, high], "outlier_sigma": 3}``; ``high`` may be ``None``.
- ``discretisation``: ``{"method": "fbn", "bins": 32}``, ``{"method": "fbs", "bin_width": 25}``
  (lower bin edge = re-segmentation lower bound, else the ROI minimum) or
  ``{"method": "none"}`` (intensities are already integer grey levels 1..Ng).
- ``ivh_discretisation``: same form; ``{"method": "none"}`` is the IBSI "definite intensity
  units, discrete case" (interval 1).
- ``texture``: ``{"distance": 1, "ngldm_alpha": 0, "ngldm_distance": 1, "ngtdm_distance": 1}``.
- ``families``: list of families to compute (default all).
- ``label``: mask label value (default: every non-zero voxel).
"""
import copy
import hashlib
import json

from ..errors import InputError

FAMILIES = ("diagnostics", "morphology", "local_intensity", "statistics", "intensity_histogram",
            "ivh", "glcm", "glrlm", "glszm", "gldzm", "ngtdm", "ngldm")

DEFAULTS = {
    "interpolation": None,
    "intensity_rounding": False,
    "resegmentation": {"range": None, "outlier_sigma": None},
    "discretisation": {"method": "fbn", "bins": 32},
    "ivh_discretisation": None,          # None: same as `discretisation`
    "texture": {"distance": 1, "ngldm_alpha": 0, "ngldm_distance": 1, "ngtdm_distance": 1},
    "families": list(FAMILIES),
    "label": None,
}

# IBSI 1 reference manual (Zwanenburg et al., arXiv:1612.07003), chapter "Benchmarking data
# sets": digital phantom without processing; CT phantom configurations A-E (table of
# processing settings). Spacing is in mm (x, y, z); None in z = no interpolation along z (2D).
_CT_ROUNDING = True
PRESETS = {
    "ibsi1_digital_phantom": {
        "interpolation": None,
        "intensity_rounding": False,
        "resegmentation": {"range": None, "outlier_sigma": None},
        "discretisation": {"method": "none"},
        "ivh_discretisation": {"method": "none"},
    },
    "ibsi1_config_a": {
        "interpolation": None,
        "intensity_rounding": _CT_ROUNDING,
        "resegmentation": {"range": [-500.0, 400.0], "outlier_sigma": None},
        "discretisation": {"method": "fbs", "bin_width": 25.0},
        "ivh_discretisation": {"method": "none"},
    },
    "ibsi1_config_b": {
        "interpolation": {"spacing": [2.0, 2.0, None], "method": "linear",
                          "mask_method": "linear", "partial_volume": 0.5},
        "intensity_rounding": _CT_ROUNDING,
        "resegmentation": {"range": [-500.0, 400.0], "outlier_sigma": None},
        "discretisation": {"method": "fbn", "bins": 32},
        "ivh_discretisation": {"method": "none"},
    },
    "ibsi1_config_c": {
        "interpolation": {"spacing": [2.0, 2.0, 2.0], "method": "linear",
                          "mask_method": "linear", "partial_volume": 0.5},
        "intensity_rounding": _CT_ROUNDING,
        "resegmentation": {"range": [-1000.0, 400.0], "outlier_sigma": None},
        "discretisation": {"method": "fbs", "bin_width": 25.0},
        "ivh_discretisation": {"method": "fbs", "bin_width": 2.5},
    },
    "ibsi1_config_d": {
        "interpolation": {"spacing": [2.0, 2.0, 2.0], "method": "linear",
                          "mask_method": "linear", "partial_volume": 0.5},
        "intensity_rounding": _CT_ROUNDING,
        "resegmentation": {"range": None, "outlier_sigma": 3.0},
        "discretisation": {"method": "fbn", "bins": 32},
        "ivh_discretisation": {"method": "none"},
    },
    "ibsi1_config_e": {
        "interpolation": {"spacing": [2.0, 2.0, 2.0], "method": "bspline",
                          "mask_method": "linear", "partial_volume": 0.5},
        "intensity_rounding": _CT_ROUNDING,
        "resegmentation": {"range": [-500.0, 400.0], "outlier_sigma": 3.0},
        "discretisation": {"method": "fbn", "bins": 32},
        # "arbitrary intensity units" case: FBN 1000 bins on the ROI range
        "ivh_discretisation": {"method": "fbn", "bins": 1000},
    },
}

_DISCRETISATION_METHODS = ("fbn", "fbs", "none")
_INTERPOLATORS = ("nearest", "linear", "bspline")


def _merge(base, override):
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve_settings(settings):
    """Full settings mapping from a preset name, a partial mapping or None (defaults).

    A mapping may name a preset under ``"preset"`` and override keys of it."""
    if settings is None:
        settings = {}
    if isinstance(settings, str):
        if settings not in PRESETS:
            raise InputError(f"radiomics settings: unknown preset '{settings}'; "
                             f"known presets: {', '.join(sorted(PRESETS))}")
        settings = {"preset": settings}
    if not hasattr(settings, "items"):
        raise InputError("radiomics settings must be a preset name or a mapping, "
                         f"got {type(settings).__name__}")
    settings = dict(settings)
    base = DEFAULTS
    preset = settings.pop("preset", None)
    if preset is not None:
        if preset not in PRESETS:
            raise InputError(f"radiomics settings: unknown preset '{preset}'")
        base = _merge(DEFAULTS, PRESETS[preset])
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise InputError(f"radiomics settings: unknown key(s) {sorted(unknown)}; "
                         f"known keys: {sorted(DEFAULTS)}")
    full = _merge(base, settings)
    if preset is not None:
        full["preset"] = preset
    _validate(full)
    return full


def _validate_discretisation(name, disc):
    if disc is None:
        return
    method = str(disc.get("method", "")).lower()
    if method not in _DISCRETISATION_METHODS:
        raise InputError(f"radiomics settings: {name}.method must be one of "
                         f"{_DISCRETISATION_METHODS}, got {disc.get('method')!r}")
    if method == "fbn":
        bins = disc.get("bins")
        if not isinstance(bins, (int, float)) or int(bins) != bins or bins < 1:
            raise InputError(f"radiomics settings: {name}.bins must be a positive integer, got {bins!r}")
    if method == "fbs":
        width = disc.get("bin_width")
        if not isinstance(width, (int, float)) or not width > 0:
            raise InputError(f"radiomics settings: {name}.bin_width must be > 0, got {width!r}")


def _validate(full):
    interp = full.get("interpolation")
    if interp is not None:
        spacing = interp.get("spacing")
        if spacing is None:
            raise InputError("radiomics settings: interpolation.spacing is required (mm)")
        if isinstance(spacing, (int, float)):
            interp["spacing"] = [float(spacing)] * 3
        elif len(spacing) != 3:
            raise InputError("radiomics settings: interpolation.spacing needs 3 values (x, y, z) mm")
        for value in interp["spacing"]:
            if value is not None and not value > 0:
                raise InputError(f"radiomics settings: interpolation.spacing must be > 0 mm, got {spacing}")
        interp.setdefault("method", "linear")
        interp.setdefault("mask_method", "linear")
        interp.setdefault("partial_volume", 0.5)
        for key in ("method", "mask_method"):
            if interp[key] not in _INTERPOLATORS:
                raise InputError(f"radiomics settings: interpolation.{key} must be one of "
                                 f"{_INTERPOLATORS}, got {interp[key]!r}")
        if not 0.0 < float(interp["partial_volume"]) <= 1.0:
            raise InputError("radiomics settings: interpolation.partial_volume must be in (0, 1]")
    reseg = full.get("resegmentation") or {}
    rng = reseg.get("range")
    if rng is not None:
        if len(rng) != 2 or (rng[1] is not None and rng[0] is not None and rng[1] < rng[0]):
            raise InputError(f"radiomics settings: resegmentation.range must be [low, high], got {rng}")
    sigma = reseg.get("outlier_sigma")
    if sigma is not None and not sigma > 0:
        raise InputError(f"radiomics settings: resegmentation.outlier_sigma must be > 0, got {sigma}")
    _validate_discretisation("discretisation", full.get("discretisation"))
    if full.get("discretisation") is None:
        raise InputError("radiomics settings: discretisation is required")
    _validate_discretisation("ivh_discretisation", full.get("ivh_discretisation"))
    families = full.get("families") or []
    bad = [f for f in families if f not in FAMILIES]
    if bad:
        raise InputError(f"radiomics settings: unknown families {bad}; known: {list(FAMILIES)}")
    texture = full.get("texture") or {}
    for key in ("distance", "ngldm_distance", "ngtdm_distance"):
        value = texture.get(key, 1)
        if int(value) != value or value < 1:
            raise InputError(f"radiomics settings: texture.{key} must be a positive integer")


def settings_json(settings):
    """Canonical JSON text of resolved settings (sorted keys) — written with the results."""
    return json.dumps(settings, sort_keys=True, separators=(",", ":"))


def settings_hash(settings):
    """Short stable hash (first 12 hex digits of SHA-256 of the canonical JSON)."""
    return hashlib.sha256(settings_json(settings).encode("utf-8")).hexdigest()[:12]
