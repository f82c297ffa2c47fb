"""Pre-contrast T1 (T10) of the analysed voxels from the first source given: a variable flip
angle series, a T1 map, a T10 per tissue label, or a fixed T10 (arterial voxels then use the
blood T1), with the text saying where it came from."""
import numpy as np

from TMEMonitorLib.errors import InputError

from . import t1

# Blood T1 used for arterial voxels when T10 is a fixed (tissue) value:
# 1.441 s at 1.5 T, 1.932 s at 3 T (Lu et al., MRM 2004, doi:10.1002/mrm.20193).
BLOOD_T1_S = {1.5: 1.441, 3.0: 1.932}


def literature_blood_t1(field_T):
    nearest = min(BLOOD_T1_S, key=lambda f: abs(f - field_T))
    return BLOOD_T1_S[nearest]


def t10_of_voxels(settings, vfa, t10_map, needed, arterial, volume_shape, acquisition, warnings, b1=None, t10_labels=None):
    """T10 (s) of the ``needed`` voxels and where it came from."""
    tr = acquisition["TR_s"][0]
    if t10_labels is not None and (vfa is not None or t10_map is not None):
        warnings.append("T10 per tissue ignored: a " + ("VFA series" if vfa is not None else "T1 map")
                        + " gives T10 per voxel")
    if vfa is not None:
        if len(vfa) not in (2, 3):
            raise InputError("VFA series: give (signal, flip angles deg) or (signal, flip angles deg, TR s)")
        vfa_signal, flip_angles = np.asarray(vfa[0], dtype=float), np.asarray(vfa[1], dtype=float).ravel()
        vfa_tr = tr if len(vfa) == 2 or vfa[2] is None else float(vfa[2])
        if vfa_signal.ndim != 4 or vfa_signal.shape[1:] != volume_shape:
            raise InputError(f"VFA series: volume {vfa_signal.shape[1:]} does not match the DCE volume {volume_shape}")
        if vfa_signal.shape[0] != flip_angles.size:
            raise InputError(f"VFA series: {vfa_signal.shape[0]} volumes but {flip_angles.size} flip angles")
        fit = t1.fit_vfa(np.moveaxis(vfa_signal[:, needed], 0, -1), flip_angles, vfa_tr, method=settings.t1_method,
                         b1_map=None if b1 is None else b1[needed])
        n_failed = int(np.count_nonzero(~np.isfinite(fit["T1"])))
        if n_failed:
            warnings.append(f"T1 fit: {n_failed} of {fit['T1'].size} voxels have no T1; they are not fitted")
        acquisition["VFA_TR_s"] = (vfa_tr, "DCE series TR" if len(vfa) == 2 or vfa[2] is None else "VFA series")
        return fit["T1"], (f"variable flip angle fit ({settings.t1_method}, "
                           f"{', '.join(f'{a:g}' for a in flip_angles)} deg"
                           f"{', B1-corrected' if b1 is not None else ''})")
    if t10_map is not None:
        t10_map = np.asarray(t10_map, dtype=float)
        if t10_map.shape != volume_shape:
            raise InputError(f"T1 map: shape {t10_map.shape} does not match the DCE volume {volume_shape}")
        if np.nanmedian(np.where(t10_map > 0, t10_map, np.nan)) > 50:
            raise InputError("T1 map: median T1 above 50 s; is the map in ms? Give it in seconds")
        return t10_map[needed], "T1 map"
    if settings.fixed_t10_s is not None and not 0 < settings.fixed_t10_s < 10:
        raise InputError(f"fixed T10: {settings.fixed_t10_s:g} s is implausible")
    if t10_labels is not None:
        return t10_per_tissue(settings, t10_labels, needed, arterial, volume_shape, acquisition, warnings)
    if settings.fixed_t10_s is not None:
        if not 0 < settings.fixed_t10_s < 10:
            raise InputError(f"fixed T10: {settings.fixed_t10_s:g} s is implausible")
        values = np.full(int(needed.sum()), float(settings.fixed_t10_s))
        source = f"fixed T10 {settings.fixed_t10_s:g} s (user setting)"
        return values, source + arterial_blood_t1(values, arterial, needed, acquisition, warnings)
    raise InputError("no T1 source: give a variable-flip-angle series, a T1 map or a fixed T10")


def arterial_blood_t1(values, arterial, needed, acquisition, warnings, only=None):
    """Blood T1 into the arterial voxels of ``values`` (over ``needed``); the text to add to the source."""
    if arterial is None or not arterial.any():
        return ""
    field_T = acquisition.get("field_strength_T", (None,))[0]
    if field_T is None:
        warnings.append("arterial voxels use the fixed tissue T10: no field strength to choose a blood T1")
        return ""
    blood = literature_blood_t1(field_T)
    rows = arterial[needed] if only is None else arterial[needed] & only
    values[rows] = blood
    return f"; arterial voxels blood T1 {blood:g} s (Lu et al. 2004)"


def label_value(key, names):
    """Label value of a tissue named ``key`` (a segment name, or the label value itself)."""
    if not isinstance(key, (int, np.integer)) and key in names:
        return int(names[key])
    try:
        return int(key)
    except (TypeError, ValueError):
        known = ", ".join(f"'{n}'" for n in names) or "none; give label values"
        raise InputError(f"T10 per tissue: no tissue named '{key}' in the labels (names: {known})") from None


def t10_per_tissue(settings, t10_labels, needed, arterial, volume_shape, acquisition, warnings):
    """A T10 per tissue label; ``settings.fixed_t10_s`` (if any) for unlabelled voxels."""
    labels, names = t10_labels if isinstance(t10_labels, tuple) else (t10_labels, {})
    labels = np.asarray(labels)
    if labels.shape != volume_shape:
        raise InputError(f"T10 tissue labels: shape {labels.shape} does not match the DCE volume {volume_shape}")
    if not settings.t10_per_tissue:
        raise InputError("T10 tissue labels given without a T10 per tissue (e.g. tumour=1.6, muscle=1.4)")
    labels = np.where(np.isfinite(labels), labels, 0).astype(np.int64)[needed]
    default = settings.fixed_t10_s
    values = np.full(labels.shape, np.nan if default is None else float(default))
    labelled = np.zeros(labels.shape, bool)
    parts = []
    for key, t10 in settings.t10_per_tissue.items():
        value = label_value(key, names)
        region = labels == value
        if not region.any():
            raise InputError(f"T10 per tissue: tissue '{key}' (label {value}) has no voxel in the analysed region")
        values[region] = float(t10)
        labelled |= region
        parts.append(f"{key} {float(t10):g} s")
    source = f"T10 per tissue ({', '.join(parts)}; "
    source += "other voxels " + (f"{default:g} s)" if default is not None else "not fitted)")
    source += arterial_blood_t1(values, arterial, needed, acquisition, warnings, only=~labelled)
    n_without = int(np.count_nonzero(~np.isfinite(values)))
    if n_without:
        warnings.append(f"T10 per tissue: {n_without} voxels lie in no listed tissue and no default T10 is set; "
                        f"they are not fitted")
    return values, source
