"""``compute_features``: the IBSI 1 pipeline from image + mask to a table of IBSI-tagged
feature values (processing -> discretisation -> feature families)."""
import numpy as np

from ..errors import InputError
from . import tags as tag_table
from .discretisation import discretise
from .glcm import glcm_family
from .glrlm import glrlm_family
from .image_input import image_arrays, read_image
from .intensity_histogram import intensity_histogram
from .intensity_statistics import intensity_statistics
from .ivh import ivh_features
from .local_intensity import local_intensity_features
from .morphology import morphology_features
from .neighbourhood import ngldm_family, ngtdm_family
from .processing import check_roi, process
from .settings import resolve_settings, settings_hash
from .texture_common import is_isotropic
from .zones import zone_families


class FeatureTable(dict):
    """tag -> float. ``flags`` maps a tag (or a family) to why its value is NaN;
    ``settings`` holds the resolved settings and ``settings_hash`` their hash."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.flags = {}
        self.settings = {}
        self.settings_hash = ""


def _flag_family(table, family, reason, two_d=None):
    for tag in tag_table.tags_of_family(family):
        if two_d is None or tag_table.is_2d_tag(tag) == two_d:
            table[tag] = float("nan")
            table.flags[tag] = reason


def compute_features(image, mask, settings=None):
    """IBSI 1 features of ``image`` inside ``mask``.

    ``image``/``mask``: SimpleITK images or paths on the same grid; ``settings``: a preset
    name (``"ibsi1_digital_phantom"``, ``"ibsi1_config_a"`` ... ``"ibsi1_config_e"``) or a
    mapping (see ``settings.py``). Returns a :class:`FeatureTable` (tag -> float, NaN where
    undefined, with the reason in ``.flags``). Raises InputError for unusable input (empty
    mask, mask off the image grid, bad settings)."""
    full = resolve_settings(settings)
    image = read_image(image, "image")
    mask = read_image(mask, "mask")
    values, roi, _ = image_arrays(image, mask, full.get("label"))
    if not roi.any():
        raise InputError("radiomics mask: the mask is empty (no voxel with a non-zero label)")
    if not np.isfinite(values[roi]).all():
        raise InputError("radiomics image: non-finite intensities (NaN/inf) inside the mask")
    processed = process(image, mask, values, roi, full)
    check_roi(processed)

    table = FeatureTable()
    table.settings = full
    table.settings_hash = settings_hash(full)
    families = set(full.get("families") or [])
    if "diagnostics" in families:
        table.update(processed.diagnostics)

    vals, morph, imask, spacing = processed.values, processed.morph_mask, processed.int_mask, processed.spacing
    n_int = int(imask.sum())
    reseg_range = (full.get("resegmentation") or {}).get("range")

    if "morphology" in families:
        table.update(morphology_features(vals, morph, imask, spacing))
        if n_int < 2:
            for tag in ("morph_moran_i", "morph_geary_c"):
                table.flags[tag] = "needs at least 2 voxels"
    if "local_intensity" in families:
        table.update(local_intensity_features(vals, imask, spacing))
    if "statistics" in families:
        table.update(intensity_statistics(vals, imask))

    need_levels = families & {"intensity_histogram", "glcm", "glrlm", "glszm", "gldzm", "ngtdm", "ngldm"}
    disc = discretise(vals, imask, full["discretisation"], reseg_range) if need_levels else None
    if "intensity_histogram" in families:
        table.update(intensity_histogram(disc.levels, imask, disc.n_levels))
    if "ivh" in families:
        ivh_settings = full.get("ivh_discretisation") or full["discretisation"]
        ivh_disc = discretise(vals, imask, ivh_settings, reseg_range, purpose="ivh")
        table.update(ivh_features(ivh_disc, imask))

    texture = full.get("texture") or {}
    ok_2d = is_isotropic(spacing, True)
    ok_3d = is_isotropic(spacing, False) and not processed.in_plane_only
    reason_3d = ("voxel spacing is not isotropic (z, y, x = %s mm): set interpolation to an "
                 "isotropic spacing for 3D texture features (IBSI)" % (spacing,))
    if processed.in_plane_only:
        reason_3d = "2D configuration (in-plane interpolation only): 3D texture features not computed"
    reason_2d = "in-plane voxel spacing is not isotropic (%s mm): set interpolation" % (spacing[1:],)
    levels, n_levels = (disc.levels, disc.n_levels) if disc is not None else (None, 0)
    if n_int == 1:
        for family in ("glcm", "glrlm", "glszm", "gldzm", "ngtdm", "ngldm"):
            if family in families:
                _flag_family(table, family, "a one-voxel region has no texture")
        families = families - {"glcm", "glrlm", "glszm", "gldzm", "ngtdm", "ngldm"}
    if "glcm" in families:
        table.update(glcm_family(levels, imask, n_levels, int(texture.get("distance", 1)), ok_2d, ok_3d))
    if "glrlm" in families:
        table.update(glrlm_family(levels, imask, n_levels, ok_2d, ok_3d))
    if families & {"glszm", "gldzm"}:
        table.update(zone_families(levels, imask, morph, n_levels, ok_2d, ok_3d,
                                   "glszm" in families, "gldzm" in families))
    if "ngtdm" in families:
        table.update(ngtdm_family(levels, imask, n_levels, int(texture.get("ngtdm_distance", 1)), ok_2d, ok_3d))
    if "ngldm" in families:
        table.update(ngldm_family(levels, imask, n_levels, int(texture.get("ngldm_distance", 1)),
                                  float(texture.get("ngldm_alpha", 0)), ok_2d, ok_3d))
    for family in ("glcm", "glrlm", "glszm", "gldzm", "ngtdm", "ngldm"):
        if family not in families:
            continue
        if not ok_3d:
            _flag_family(table, family, reason_3d, two_d=False)
        if not ok_2d:
            _flag_family(table, family, reason_2d, two_d=True)
    for tag, value in list(table.items()):
        value = float(value)
        table[tag] = value
        if not np.isfinite(value) and tag not in table.flags:
            table.flags[tag] = "undefined for this region (e.g. zero variance or a single grey level)"
    return table
