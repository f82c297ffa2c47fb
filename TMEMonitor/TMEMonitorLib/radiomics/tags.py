"""Mapping table: our feature names (IBSI 1 feature names) -> IBSI feature tags, with the
aggregation suffixes each family uses (spelled as in the IBSI 1 consensus tables, e.g.
``cm_joint_max_3D_avg``). Units are given where a feature has one."""

# family -> [(tag without aggregation suffix, IBSI feature name, unit)]
FEATURES = {
    "diagnostics": [],   # filled below
    "morphology": [
        ("morph_volume", "Volume (mesh)", "mm3"), ("morph_vol_approx", "Approximate volume (voxels)", "mm3"),
        ("morph_area_mesh", "Surface area (mesh)", "mm2"), ("morph_av", "Surface to volume ratio", "1/mm"),
        ("morph_comp_1", "Compactness 1", ""), ("morph_comp_2", "Compactness 2", ""),
        ("morph_sph_dispr", "Spherical disproportion", ""), ("morph_sphericity", "Sphericity", ""),
        ("morph_asphericity", "Asphericity", ""), ("morph_com", "Centre of mass shift", "mm"),
        ("morph_diam", "Maximum 3D diameter", "mm"), ("morph_pca_maj_axis", "Major axis length", "mm"),
        ("morph_pca_min_axis", "Minor axis length", "mm"), ("morph_pca_least_axis", "Least axis length", "mm"),
        ("morph_pca_elongation", "Elongation", ""), ("morph_pca_flatness", "Flatness", ""),
        ("morph_vol_dens_aabb", "Volume density - axis-aligned bounding box", ""),
        ("morph_area_dens_aabb", "Area density - axis-aligned bounding box", ""),
        ("morph_vol_dens_ombb", "Volume density - oriented minimum bounding box", ""),
        ("morph_area_dens_ombb", "Area density - oriented minimum bounding box", ""),
        ("morph_vol_dens_aee", "Volume density - approximate enclosing ellipsoid", ""),
        ("morph_area_dens_aee", "Area density - approximate enclosing ellipsoid", ""),
        ("morph_vol_dens_mvee", "Volume density - minimum volume enclosing ellipsoid", ""),
        ("morph_area_dens_mvee", "Area density - minimum volume enclosing ellipsoid", ""),
        ("morph_vol_dens_conv_hull", "Volume density - convex hull", ""),
        ("morph_area_dens_conv_hull", "Area density - convex hull", ""),
        ("morph_integ_int", "Integrated intensity", "intensity*mm3"),
        ("morph_moran_i", "Moran's I index", ""), ("morph_geary_c", "Geary's C measure", ""),
    ],
    "local_intensity": [("loc_peak_loc", "Local intensity peak", "intensity"),
                        ("loc_peak_glob", "Global intensity peak", "intensity")],
    "statistics": [],
    "intensity_histogram": [],
    "ivh": [
        ("ivh_v10", "Volume at intensity fraction 10%", ""), ("ivh_v90", "Volume at intensity fraction 90%", ""),
        ("ivh_i10", "Intensity at volume fraction 10%", "intensity"),
        ("ivh_i90", "Intensity at volume fraction 90%", "intensity"),
        ("ivh_diff_v10_v90", "Volume fraction difference V10-V90", ""),
        ("ivh_diff_i10_i90", "Intensity fraction difference I10-I90", "intensity"),
        ("ivh_auc", "Area under the IVH curve", ""),
    ],
}

_DISTRIBUTION = [
    ("mean", "Mean", "intensity"), ("var", "Variance", "intensity^2"), ("skew", "Skewness", ""),
    ("kurt", "(Excess) kurtosis", ""), ("median", "Median", "intensity"), ("min", "Minimum", "intensity"),
    ("p10", "10th percentile", "intensity"), ("p90", "90th percentile", "intensity"),
    ("max", "Maximum", "intensity"), ("iqr", "Interquartile range", "intensity"),
    ("range", "Range", "intensity"), ("mad", "Mean absolute deviation", "intensity"),
    ("rmad", "Robust mean absolute deviation", "intensity"),
    ("medad", "Median absolute deviation", "intensity"), ("cov", "Coefficient of variation", ""),
    ("qcod", "Quartile coefficient of dispersion", ""),
]
FEATURES["statistics"] = [("stat_" + t, "Intensity " + n.lower(), u) for t, n, u in _DISTRIBUTION] + [
    ("stat_energy", "Energy", "intensity^2"), ("stat_rms", "Root mean square", "intensity")]
FEATURES["intensity_histogram"] = [("ih_" + t, "Intensity histogram " + n.lower(), "") for t, n, _ in _DISTRIBUTION] + [
    ("ih_mode", "Mode", ""), ("ih_entropy", "Entropy", "bit"), ("ih_uniformity", "Uniformity", ""),
    ("ih_max_grad", "Maximum histogram gradient", ""), ("ih_max_grad_g", "Maximum histogram gradient grey level", ""),
    ("ih_min_grad", "Minimum histogram gradient", ""), ("ih_min_grad_g", "Minimum histogram gradient grey level", "")]

_DIAG = []
for stage in ("init_img", "interp_img"):
    _DIAG += [f"img_dim_{a}_{stage}" for a in "xyz"] + [f"vox_dim_{a}_{stage}" for a in "xyz"]
    _DIAG += [f"{s}_int_{stage}" for s in ("mean", "min", "max")]
for stage in ("init_roi", "interp_roi", "reseg_roi"):
    _DIAG += [f"int_mask_dim_{a}_{stage}" for a in "xyz"] + [f"int_mask_bb_dim_{a}_{stage}" for a in "xyz"]
    _DIAG += [f"morph_mask_bb_dim_{a}_{stage}" for a in "xyz"]
    _DIAG += [f"int_mask_vox_count_{stage}", f"morph_mask_vox_count_{stage}"]
    _DIAG += [f"int_mask_{s}_int_{stage}" for s in ("mean", "min", "max")]
FEATURES["diagnostics"] = [(t, "Diagnostic: " + t.replace("_", " "), "") for t in _DIAG]

_TEXTURE_NAMES = {
    "glcm": ("cm", ["joint_max", "joint_avg", "joint_var", "joint_entr", "diff_avg", "diff_var", "diff_entr",
                    "sum_avg", "sum_var", "sum_entr", "energy", "contrast", "dissimilarity", "inv_diff",
                    "inv_diff_norm", "inv_diff_mom", "inv_diff_mom_norm", "inv_var", "corr", "auto_corr",
                    "clust_tend", "clust_shade", "clust_prom", "info_corr1", "info_corr2"]),
    "glrlm": ("rlm", ["sre", "lre", "lgre", "hgre", "srlge", "srhge", "lrlge", "lrhge", "glnu", "glnu_norm",
                      "rlnu", "rlnu_norm", "r_perc", "gl_var", "rl_var", "rl_entr"]),
    "glszm": ("szm", ["sze", "lze", "lgze", "hgze", "szlge", "szhge", "lzlge", "lzhge", "glnu", "glnu_norm",
                      "zsnu", "zsnu_norm", "z_perc", "gl_var", "zs_var", "zs_entr"]),
    "gldzm": ("dzm", ["sde", "lde", "lgze", "hgze", "sdlge", "sdhge", "ldlge", "ldhge", "glnu", "glnu_norm",
                      "zdnu", "zdnu_norm", "z_perc", "gl_var", "zd_var", "zd_entr"]),
    "ngtdm": ("ngt", ["coarseness", "contrast", "busyness", "complexity", "strength"]),
    "ngldm": ("ngl", ["lde", "hde", "lgce", "hgce", "ldlge", "ldhge", "hdlge", "hdhge", "glnu", "glnu_norm",
                      "dcnu", "dcnu_norm", "dc_perc", "gl_var", "dc_var", "dc_entr", "dc_energy"]),
}
# IBSI aggregation methods per family (suffixes as in the consensus tables)
AGGREGATIONS = {
    "glcm": ("2D_avg", "2D_comb", "2_5D_avg", "2_5D_comb", "3D_avg", "3D_comb"),
    "glrlm": ("2D_avg", "2D_comb", "2_5D_avg", "2_5D_comb", "3D_avg", "3D_comb"),
    "glszm": ("2D", "2_5D", "3D"), "gldzm": ("2D", "2_5D", "3D"),
    "ngtdm": ("2D", "2_5D", "3D"), "ngldm": ("2D", "2_5D", "3D"),
}
_TEXTURE_LONG = {
    "cm": "GLCM", "rlm": "GLRLM", "szm": "GLSZM", "dzm": "GLDZM", "ngt": "NGTDM", "ngl": "NGLDM"}
for family, (prefix, names) in _TEXTURE_NAMES.items():
    FEATURES[family] = [(f"{prefix}_{n}", f"{_TEXTURE_LONG[prefix]} {n.replace('_', ' ')}", "") for n in names]


def tags_of_family(family):
    """Full tags (with aggregation suffix) of a family."""
    base = [t for t, _, _ in FEATURES[family]]
    if family in AGGREGATIONS:
        return [f"{t}_{a}" for t in base for a in AGGREGATIONS[family]]
    return base


def all_tags():
    return [t for family in FEATURES for t in tags_of_family(family)]


def family_of(tag):
    for family in FEATURES:
        if tag in tags_of_family(family):
            return family
    return None


def is_2d_tag(tag):
    return "_2D" in tag or "_2_5D" in tag


# our name -> IBSI tag (with aggregation): "GLCM joint max (3D, averaged)" style names
NAME_TO_TAG = {}
UNITS = {}
for _family, _rows in FEATURES.items():
    for _tag, _name, _unit in _rows:
        if _family in AGGREGATIONS:
            for _agg in AGGREGATIONS[_family]:
                NAME_TO_TAG[f"{_name} [{_agg.replace('_5', '.5')}]"] = f"{_tag}_{_agg}"
                UNITS[f"{_tag}_{_agg}"] = _unit
        else:
            NAME_TO_TAG[_name] = _tag
            UNITS[_tag] = _unit
TAG_TO_NAME = {v: k for k, v in NAME_TO_TAG.items()}
