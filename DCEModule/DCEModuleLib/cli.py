"""``tme-monitor dce``: the DCE analysis from files, headless, on the same Logic as the Slicer module."""
import os

from TMEMonitorLib import cli_options as opt
from TMEMonitorLib.progress_bar import ProgressBar

from .settings import AIF_SOURCES, INPUT_KINDS, MODELS, POPULATION_AIFS, T1_METHODS, DCESettings, parse_t10_per_tissue


def add_parser(subparsers):
    parser = subparsers.add_parser("dce", help="DCE-MRI: T1, concentration, AIF, pharmacokinetic maps")
    parser.add_argument("series", type=opt.existing_path("DCE series"), help="4D DCE series: DICOM folder, 4D NIfTI (+ JSON sidecar) or .seq.nrrd")
    parser.add_argument("--input-kind", choices=INPUT_KINDS, default="signal",
                        help="what the series holds: signal (converted with T10), or concentration in mM "
                             "(no T1 source needed) (default: %(default)s)")
    parser.add_argument("--out", required=True, type=opt.output_folder(), help="output folder (maps as NRRD, statistics CSV, scene .mrb)")
    parser.add_argument("--series-select", type=opt.text(), help="series to read when the folder holds several")
    parser.add_argument("--model", choices=MODELS, default="extended_tofts",
                        help="pharmacokinetic model (default: %(default)s)")
    parser.add_argument("--mask", type=opt.existing_path("mask volume"), help="label map / mask volume (voxels > 0 are analysed)")
    t1 = parser.add_argument_group("T1 source (one of)")
    t1.add_argument("--vfa", nargs="+", type=opt.existing_path("VFA file"), help="variable-flip-angle data: one multi-flip file (.seq.nrrd with its flip "
                                              "angles, as the demo writes) or one 3D file per flip angle")
    t1.add_argument("--flip-angles", type=opt.number_list(0.0, 180.0, "deg", low_open=True), help="flip angles of the --vfa volumes, deg, comma separated (default: from a "
                                          "multi-flip file; needed for one file per angle)")
    t1.add_argument("--vfa-tr", type=opt.positive(10.0, "s"), help="TR of the --vfa volumes (s); default the VFA file's TR, else the "
                                                 "DCE TR")
    t1.add_argument("--t1-method", choices=T1_METHODS, default="nonlinear",
                    help="VFA T1 fit (default: %(default)s)")
    t1.add_argument("--t1-map", type=opt.existing_path("T1 map volume"), help="T1 map volume (s)")
    t1.add_argument("--t10", type=opt.positive(10.0, "s"), help="fixed pre-contrast T1 (s); with --t10-per-tissue, the T10 of "
                                                 "voxels in no listed tissue")
    t1.add_argument("--t10-per-tissue", type=_t10_per_tissue, help="T10 (s) per tissue, e.g. tumour=1.6,muscle=1.4 (segment names of "
                                             "a .seg.nrrd, or label values 1=1.6,2=1.4); needs --t10-labels")
    t1.add_argument("--t10-labels", type=opt.existing_path("label map or .seg.nrrd"), help="label map or .seg.nrrd segmentation of the tissues of --t10-per-tissue")
    t1.add_argument("--b1-map", type=opt.existing_path("B1 map volume"), help="B1 map (relative flip-angle scale, actual / nominal) on the VFA grid")
    aif = parser.add_argument_group("arterial input function")
    aif.add_argument("--aif", choices=AIF_SOURCES, default="population",
                     help="arterial input function source (default: %(default)s)")
    aif.add_argument("--population-aif", choices=POPULATION_AIFS, default="parker",
                     help="population AIF, with --aif population (default: %(default)s)")
    aif.add_argument("--aif-delay", type=opt.non_negative(3600.0, "s"), help="population AIF onset (s); default from the bolus arrival")
    aif.add_argument("--aif-roi", type=opt.existing_path("AIF ROI volume"), help="arterial ROI volume (for --aif measured)")
    aif.add_argument("--aif-table", type=opt.existing_file("CSV file"), help="CSV of time and plasma concentration (for --aif table)")
    aif.add_argument("--aif-voxels", type=opt.integer(1, 100000), default=20, help="voxels averaged by --aif automatic (default: %(default)s)")
    aif.add_argument("--hematocrit", type=opt.number(0.0, 1.0, low_open=True, high_open=True), default=0.42,
                     help="large-vessel haematocrit (plasma = blood / (1 - Hct)) (default: %(default)s)")
    aif.add_argument("--blood-t1", type=opt.positive(10.0, "s"), help="blood T1 (s) converting a measured/automatic AIF "
                     "(default: literature value at the field strength)")
    acq = parser.add_argument_group("acquisition (overrides the metadata)")
    acq.add_argument("--tr", type=opt.positive(10.0, "s"), help="repetition time (s) (default: from the series metadata)")
    acq.add_argument("--flip-angle", type=opt.number(0.0, 180.0, "deg", low_open=True), help="flip angle (deg) (default: from the series metadata)")
    acq.add_argument("--field", type=opt.positive(30.0, "T"), help="field strength (T) (default: from the series metadata)")
    acq.add_argument("--agent", type=opt.text(100), default="gadobutrol",
                     help="contrast agent, sets the r1 relaxivity at the field strength (default: %(default)s)")
    acq.add_argument("--relaxivity", type=opt.positive(100.0, "1/(mM s)"), help="r1 (1/(mM s)) (default: the --agent preset at the field strength)")
    acq.add_argument("--baseline-frames", type=opt.integer(1, 100000),
                     help="pre-contrast frames (default: the frames before the bolus arrival)")
    parser.add_argument("--fit-delay", action="store_true", help="fit the arterial delay per voxel")
    parser.add_argument("--select-model", action="store_true",
                        help="choose Patlak / Tofts / extended Tofts per voxel (AICc) instead of --model")
    parser.add_argument("--no-semi-quantitative", action="store_true",
                        help="skip the semi-quantitative maps (iAUC, TTP, wash-in/out, SER)")
    parser.add_argument("--concentration", action="store_true", help="also write the concentration series")
    parser.add_argument("--fitted", action="store_true", help="also write the fitted-curve series")
    parser.set_defaults(func=run)


def _t10_per_tissue(text):
    """--t10-per-tissue: NAME=T10 pairs, each T10 a finite number of seconds in (0, 10]."""
    import argparse
    import math

    from TMEMonitorLib.errors import InputError
    try:
        mapping = parse_t10_per_tissue(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not mapping:
        raise argparse.ArgumentTypeError(f"'{text}' names no tissue; expected NAME=T10 (s), e.g. tumour=1.6")
    for name, t10 in mapping.items():
        if not (math.isfinite(t10) and 0.0 < t10 <= 10.0):
            raise argparse.ArgumentTypeError(f"T10 of '{name}' = {t10:g} s is out of range (allowed: (0, 10] s)")
    return mapping


def settings_from_args(args):
    return DCESettings(
        model=args.model, aif_source=args.aif, population_aif=args.population_aif, aif_delay_s=args.aif_delay,
        hematocrit=args.hematocrit, blood_t1_s=args.blood_t1, agent=args.agent, relaxivity_per_mM_s=args.relaxivity,
        field_strength_T=args.field, tr_s=args.tr, flip_angle_deg=args.flip_angle, t1_method=args.t1_method,
        fixed_t10_s=args.t10, input_kind=args.input_kind, t10_per_tissue=args.t10_per_tissue or None,
        baseline_frames=args.baseline_frames, fit_delay=args.fit_delay,
        select_model=args.select_model, semi_quantitative=not args.no_semi_quantitative,
        write_concentration=args.concentration, write_fitted_curves=args.fitted,
        aif_voxels=args.aif_voxels).validated()


def run(args):
    from TMEMonitorLib import io
    from TMEMonitorLib import scene as tme_scene

    from TMEMonitorLib.output_folder import OutputFolder

    settings = settings_from_args(args)
    _check_option_combinations(args)
    with OutputFolder(args.out, "dce", getattr(args, "argv", ())) as out:     # --out checked first
        overrides = {"series": args.series_select} if args.series_select else {}
        series = io.read_series(args.series, **overrides)
        check_time_axis(series, args.series)
        for warning in series.warnings:
            print(f"warning: {warning}")
        print(f"DCE series: {series.array.shape[0]} frames, times from {series.provenance.get('axis_values', '?')}")
        check_acquisition(args, series)
        scene = tme_scene.create_scene()
        try:
            return _analyse(args, settings, series, scene, out)
        finally:
            tme_scene.release_scene(scene)


def check_time_axis(series, path):
    """A DCE series must be indexed by time: a b-value (or echo, flip-angle) series is refused,
    naming its axis and the command that analyses it."""
    from TMEMonitorLib.errors import InputError
    axis = getattr(series, "axis_name", "time")
    if axis == "time":
        return
    values = ", ".join(f"{v:g}" for v in list(series.axis_values)[:8])
    hint = {"b": " (diffusion-weighted: analyse it with `tme-monitor dwi`)",
            "echo_time": " (multi-echo: analyse it with `tme-monitor hypoxia --gre`)"}.get(axis, "")
    raise InputError(f"DCE series '{path}': its frames are indexed by '{axis}' ({values}"
                     f"{' ...' if len(series.axis_values) > 8 else ''}), not by time{hint}; "
                     "`tme-monitor dce` needs a dynamic series with frame times")


def _check_option_combinations(args):
    """Options that only make sense together, checked before anything is read."""
    from TMEMonitorLib.errors import InputError
    if args.flip_angles and not args.vfa:
        raise InputError("--flip-angles needs --vfa (the variable-flip-angle data)")
    if args.vfa and len(args.vfa) > 1 and args.flip_angles and len(args.flip_angles) != len(args.vfa):
        raise InputError(f"--flip-angles gives {len(args.flip_angles)} angles for {len(args.vfa)} --vfa files")
    if args.t10_labels and not args.t10_per_tissue:
        raise InputError("--t10-labels needs --t10-per-tissue (e.g. tumour=1.6,muscle=1.4)")
    if args.t10_per_tissue and not args.t10_labels:
        raise InputError("--t10-per-tissue needs --t10-labels (a label map or .seg.nrrd)")


def _analyse(args, settings, series, scene, out):
    """Series and inputs into ``scene``, DCELogic, then maps, tables and the scene bundle to --out."""
    import numpy as np

    from TMEMonitorLib import io
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError
    from TMEMonitorLib.fitting.status import describe
    from TMEMonitorLib.termination import checkpoint

    from . import aif as aif_module
    from .logic import DCELogic

    dce_node = tme_scene.array_to_sequence(scene, series.array, series.axis_values, series.ijk_to_ras, "DCE",
                                           axis_source=series.provenance.get("axis_values"))
    # Scalar acquisition values only (a file's raw header keys are not acquisition metadata).
    tme_scene.set_acquisition_attributes(dce_node, {k: v for k, v in series.metadata.items()
                                                    if isinstance(v, (int, float, str, np.number))})
    shape = series.array.shape[1:]

    def volume_node(path, name, label=False):
        volume = io.read_volume(path)
        if label:               # a segmentation saved cropped to its extent is put back on the DCE grid
            from TMEMonitorLib.io.reader import place_on_grid
            array = place_on_grid(volume, shape, series.ijk_to_ras, name)
            return tme_scene.add_label_map(scene, array > 0, series.ijk_to_ras if array is not volume.array
                                           else volume.ijk_to_ras, name)
        if volume.array.shape != shape:
            raise InputError(f"{name} '{path}': shape {volume.array.shape} differs from the DCE volume {shape}")
        if label:
            return tme_scene.add_label_map(scene, volume.array > 0, volume.ijk_to_ras, name)
        return tme_scene.array_to_volume(scene, volume.array, volume.ijk_to_ras, name)

    vfa_node, volumes = _vfa_node(args, scene)
    t1_map_node = volume_node(args.t1_map, "T1 map") if args.t1_map else None
    mask_node = volume_node(args.mask, "mask", label=True) if args.mask else None
    b1_map_node = None
    if args.b1_map:
        b1 = io.read_volume(args.b1_map)
        reference = f"--vfa '{args.vfa[0]}'" if args.vfa else "the DCE series"
        if b1.array.shape != shape:
            raise InputError(f"--b1-map '{args.b1_map}': shape {b1.array.shape} differs from {reference} {shape}")
        if vfa_node is not None and not np.allclose(b1.ijk_to_ras, volumes[0].ijk_to_ras, atol=1e-3):
            raise InputError(f"--b1-map '{args.b1_map}': on another grid than {reference}")
        # Kept on the DCE grid by shape (as the other volumes of the command line).
        b1_map_node = tme_scene.array_to_volume(scene, b1.array, series.ijk_to_ras, "B1 map")
    t10_labels_node = _tissue_labels_node(scene, args.t10_labels, shape, series.ijk_to_ras) if args.t10_labels \
        else None
    aif_roi_node = volume_node(args.aif_roi, "AIF ROI", label=True) if args.aif_roi else None
    aif_table = aif_module.read_aif_csv(args.aif_table) if args.aif_table else None
    checkpoint("inputs-read")

    bar = ProgressBar("DCE")
    result = DCELogic(scene).run(dce_node, settings, vfa_node=vfa_node, t1_map_node=t1_map_node, mask_node=mask_node,
                                 aif_mask_node=aif_roi_node, aif_table=aif_table, name_prefix="DCE", progress=bar,
                                 b1_map_node=b1_map_node, t10_labels_node=t10_labels_node)
    bar.done()
    checkpoint("after-fit")
    from TMEMonitorLib.io import map_metadata
    # Maps named after the registry (Ktrans.nrrd, se_Ktrans.nrrd), with quantity and unit in the header;
    # all written to the staging folder, swapped into --out as one set by out.commit().
    for name, node in result.map_nodes.items():
        path = tme_scene.write_node(node, out.path(f"{map_metadata.file_stem(name)}.nrrd"))
        map_metadata.annotate_map_file(path, {**map_metadata.fields_for_map(name), **map_metadata.fields_for_node(node)})
    checkpoint("files-staged")
    path = tme_scene.write_node(result.status_node, out.path("fit_status.nrrd"))
    map_metadata.annotate_map_file(path, map_metadata.fields_for_map("fit status"))
    if result.curve_type_node is not None:
        path = tme_scene.write_node(result.curve_type_node, out.path("curve_type.nrrd"))
        map_metadata.annotate_map_file(path, map_metadata.fields_for_map("curve type"))
    tme_scene.write_node(result.table_node, out.path("statistics.csv"))
    aif_table_node = result.aif_chart_node.GetNthPlotSeriesNode(0).GetTableNode()
    tme_scene.write_node(aif_table_node, out.path("aif.csv"))
    if result.concentration_node is not None:
        tme_scene.write_node(result.concentration_node, out.path("concentration.seq.nrrd"))
    if result.fitted_node is not None:
        tme_scene.write_node(result.fitted_node, out.path("fitted.seq.nrrd"))
    from TMEMonitorLib.scene import views
    views.show_for_reading(scene, background=dce_node, foreground=result.map_nodes.get("Ktrans"),
                           chart=result.aif_chart_node)          # the .mrb opens ready to read
    tme_scene.save_scene(scene, out.path("dce.mrb"))
    out.commit()
    mrb = os.path.join(out.folder, "dce.mrb")
    analysis = result.analysis
    for key, (value, source) in analysis.acquisition.items():
        print(f"  {key}: {'' if value is None else f'{value:g}'} ({source})")
    print(f"  AIF: {analysis.aif['source']}")
    for warning in analysis.warnings:
        print(f"warning: {warning}")
    print(f"  fit status: {describe(analysis.status[analysis.mask])}")
    print(f"wrote {len(result.map_nodes)} maps, statistics and {mrb}")
    return 0


def _is_multi_flip_file(path):
    """True when ``path`` holds every flip angle in one file (a .seq.nrrd or another 4D image)."""
    from TMEMonitorLib import io
    if path.lower().endswith(".seq.nrrd"):
        return True
    try:
        return io.read_volume(path) is None
    except Exception:       # a 4D file is refused by the 3D reader; let read_series say what it is
        return True


def _vfa_node(args, scene):
    """(VFA sequence node, [volume or series read]) of --vfa: one multi-flip file (e.g. the demo's
    VFA.seq.nrrd: flip angles and TR from the file, --flip-angles / --vfa-tr override) or one 3D
    file per flip angle with --flip-angles."""
    import numpy as np

    from TMEMonitorLib import io
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError

    if not args.vfa:
        return None, []
    angles = list(args.flip_angles) if args.flip_angles else None      # parsed and checked by the option's type
    if len(args.vfa) == 1 and _is_multi_flip_file(args.vfa[0]):
        overrides = {"axis_name": "flip_angle", "axis_values": angles} if angles else {}
        try:
            series = io.read_series(args.vfa[0], **overrides)
        except InputError as error:
            raise type(error)(f"--vfa '{args.vfa[0]}': {error} (give the flip angles with --flip-angles)") from None
        if series.axis_name != "flip_angle":
            raise InputError(f"--vfa '{args.vfa[0]}': its frames are indexed by {series.axis_name}, not flip angle; "
                             f"give the flip angles with --flip-angles")
        node = tme_scene.array_to_sequence(scene, series.array, series.axis_values, series.ijk_to_ras, "VFA",
                                           axis_name="flip_angle", axis_unit="deg",
                                           axis_source=series.provenance.get("axis_values"))
        tr = args.vfa_tr if args.vfa_tr is not None else series.metadata.get("TR_s")
        if isinstance(tr, (int, float)):
            tme_scene.set_acquisition_attributes(node, {"TR_s": float(tr)})
        return node, [series]
    if angles is None:
        raise InputError("--vfa with one file per flip angle needs --flip-angles (deg, one per file)")
    if len(angles) != len(args.vfa):
        raise InputError(f"--flip-angles gives {len(angles)} angles for {len(args.vfa)} --vfa files")
    volumes = [io.read_volume(path) for path in args.vfa]
    for path, volume in zip(args.vfa, volumes):
        if volume.array.shape != volumes[0].array.shape or not np.allclose(volume.ijk_to_ras,
                                                                            volumes[0].ijk_to_ras, atol=1e-3):
            raise InputError(f"--vfa '{path}': on another grid than '{args.vfa[0]}'")
    node = tme_scene.array_to_sequence(scene, np.stack([v.array for v in volumes]), angles,
                                       volumes[0].ijk_to_ras, "VFA", axis_name="flip_angle", axis_unit="deg",
                                       axis_source="command line --flip-angles")
    if args.vfa_tr is not None:
        tme_scene.set_acquisition_attributes(node, {"TR_s": args.vfa_tr})
    return node, volumes


# Acquisition values a signal series needs: metadata key, flag, what it is.
ACQUISITION_FLAGS = (("TR_s", "--tr", "repetition time, s"), ("flip_angle_deg", "--flip-angle", "flip angle, deg"),
                     ("field_strength_T", "--field", "field strength, T"))


def check_acquisition(args, series):
    """Every acquisition value the signal conversion needs, from the flags or the file; one error
    naming ALL the missing ones and their flags (the file's TMEMonitor keys, DICOM tags or sidecar count)."""
    from TMEMonitorLib.errors import MetadataError

    from .acquisition import metadata_number
    if args.input_kind != "signal":
        return
    missing = []
    for key, flag, what in ACQUISITION_FLAGS:
        given = getattr(args, flag[2:].replace("-", "_"))
        if given is not None or metadata_number(series.metadata.get(key)) is not None:
            continue
        if key == "field_strength_T" and args.relaxivity is not None:
            continue
        missing.append((flag, what))
    if missing:
        raise MetadataError(f"DCE series '{args.series}' does not record its "
                            + ", ".join(what.split(",")[0] for _, what in missing)
                            + "; give " + ", ".join(f"{flag} ({what})" for flag, what in missing))


def _tissue_labels_node(scene, path, shape, ijk_to_ras):
    """Node of --t10-labels: a segmentation from a .seg.nrrd (tissues by segment name, put on the
    DCE grid by DCELogic), else a label map on the DCE grid (tissues by label value)."""
    import numpy as np

    from TMEMonitorLib import io
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError

    if path.lower().endswith(".seg.nrrd"):
        if not os.path.isfile(path):
            raise InputError(f"--t10-labels '{path}' does not exist")
        segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "T10 tissues")
        storage = scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
        storage.SetFileName(path)
        if not storage.ReadData(segmentation) or segmentation.GetSegmentation().GetNumberOfSegments() == 0:
            raise InputError(f"--t10-labels '{path}': no segment could be read")
        return segmentation
    volume = io.read_volume(path)
    if volume.array.shape != shape:
        raise InputError(f"--t10-labels '{path}': shape {volume.array.shape} differs from the DCE volume {shape}")
    labels = np.where(np.isfinite(volume.array), np.rint(volume.array), 0)
    return tme_scene.array_to_volume(scene, labels, ijk_to_ras, "T10 tissue labels")
