"""Repeatability of a delta feature, only where a test-retest value is known; never invented.

Known: the tumour mean of a map (``stat_mean`` on the tumour, computed without interpolation or
re-segmentation, so it is the dashboard's tumour mean of that biomarker) takes the biomarker's
repeatability coefficient (``TMEMonitorLib.longitudinal.repeatability``: ADC by organ (QIBA),
Ktrans, ve ...; else the technique's ``Biomarker.rc_percent``); the tumour volume
(``morph_volume``, ``morph_vol_approx``) takes the volume RC (QIBA CT volumetry). Every other
feature has no published test-retest repeatability for these maps: RC NaN with a note, and the
real-change column stays empty.
"""
import math

from TMEMonitorLib.longitudinal import repeatability as long_repeatability

from .visit_images import TUMOUR, map_biomarkers

UNKNOWN_NOTE = "no test-retest repeatability known for this feature: real change not judged"
VOLUME_FEATURES = ("morph_volume", "morph_vol_approx")


def _plain_settings(settings):
    reseg = settings.get("resegmentation") or {}
    return settings.get("interpolation") is None and reseg.get("range") is None and reseg.get("outlier_sigma") is None


def feature_rc(region, image, feature, settings, organ="breast"):
    """(relative RC in %, or None; note saying where it comes from or why there is none)."""
    if region != TUMOUR:
        return None, UNKNOWN_NOTE
    if feature in VOLUME_FEATURES:
        rc = long_repeatability.rc_percent("volume_ml", organ)
        return rc, "RC of the tumour volume (TMEMonitorLib.longitudinal.repeatability: QIBA CT volumetry)"
    if feature == "stat_mean":
        spec = map_biomarkers().get(image)
        if spec is None:
            return None, UNKNOWN_NOTE
        if not _plain_settings(settings):
            return None, ("RC of the tumour mean is known without interpolation and re-segmentation; "
                          "these settings change the measurand")
        rc = long_repeatability.rc_percent(image, organ) or spec.rc_percent
        if rc is None:
            return None, f"no repeatability known for the tumour mean {image}"
        return rc, f"RC of the tumour mean {image} ({organ}; TMEMonitorLib.longitudinal.repeatability)"
    return None, UNKNOWN_NOTE


def real_change_text(baseline, value, rc):
    """'real increase' / 'real decrease' / 'within RC', or '' when it cannot be judged."""
    if rc is None or baseline is None or value is None or not (math.isfinite(baseline) and math.isfinite(value)):
        return ""
    direction = long_repeatability.real_change_direction(baseline, value, rc, relative=True)
    return {1: "real increase", -1: "real decrease", 0: "within RC"}.get(direction, "")
