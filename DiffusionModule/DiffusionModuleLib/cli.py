"""``tme-monitor dwi``: diffusion maps from files, headless, on the same Logic as the Slicer module."""
import os

from TMEMonitorLib import cli_options as opt
from TMEMonitorLib.progress_bar import ProgressBar

from .settings import ADC_METHODS, IVIM_METHODS, MAX_B, MODELS, DiffusionSettings


def add_parser(subparsers):
    parser = subparsers.add_parser("dwi", help="diffusion: ADC, IVIM and kurtosis maps from multi-b DWI")
    parser.add_argument("series", type=opt.existing_path("DWI series"), help="multi-b DWI: DICOM folder, 4D NIfTI with .bval beside it, or .seq.nrrd")
    parser.add_argument("--out", required=True, type=opt.output_folder(), help="output folder (maps as NRRD, statistics CSV, scene .mrb)")
    parser.add_argument("--series-select", type=opt.text(), help="series to read when the folder holds several")
    parser.add_argument("--mask", type=opt.existing_path("mask volume"), help="label map / mask volume (voxels > 0 are analysed)")
    parser.add_argument("--models", type=opt.name_list(MODELS), default=("adc", "ivim"), help="comma-separated: adc, ivim, kurtosis (default adc,ivim)")
    parser.add_argument("--adc-method", choices=ADC_METHODS, default="loglinear",
                        help="ADC fit: log-linear or nonlinear least squares (default: %(default)s)")
    parser.add_argument("--adc-b-range", nargs=2, type=opt.non_negative(MAX_B, "s/mm2"), metavar=("MIN", "MAX"),
                        help="b-range of the ADC fit, s/mm2 (default: every b)")
    parser.add_argument("--ivim-method", choices=IVIM_METHODS, default="bayesian",
                        help="IVIM fit (default: %(default)s)")
    parser.add_argument("--b-threshold", type=opt.number(0.0, MAX_B, "s/mm2", low_open=True, high_open=True),
                        default=200.0, help="IVIM threshold b, s/mm2 (default 200)")
    parser.add_argument("--kurtosis-b-max", type=opt.positive(MAX_B, "s/mm2"), help="highest b of the kurtosis fit, s/mm2 (default: every b)")
    parser.add_argument("--bvals", type=opt.text(100000), help="b-values overriding the file's: an FSL .bval file or numbers, "
                                        "comma separated (s/mm2, one per frame)")
    parser.add_argument("--clip", type=opt.positive(opt.SIGNAL_LIMIT, "signal units"), help="exclude samples at or above this value (e.g. 4095 for 12-bit)")
    parser.add_argument("--noise-floor", type=opt.non_negative(opt.SIGNAL_LIMIT, "signal units"), help="exclude samples at or below this value")
    parser.add_argument("--rician", action="store_true", help="correct the Rician noise bias (power subtraction)")
    parser.add_argument("--noise-sigma", type=opt.positive(opt.SIGNAL_LIMIT, "signal units"),
                        help="noise sigma for --rician (default: series metadata, else estimated from background)")
    parser.add_argument("--high-b", type=opt.number_list(0.0, MAX_B, "s/mm2", low_open=True, max_count=32,
                                                         allow_none=True), default=(1400.0,),
                        help="computed high-b images, s/mm2, comma separated (default 1400; 'none' for none)")
    parser.set_defaults(func=run)


def _numbers(text, option):
    from TMEMonitorLib.errors import InputError
    try:
        return tuple(float(v) for v in text.replace(";", ",").replace(" ", ",").split(",") if v.strip())
    except ValueError:
        raise InputError(f"{option} '{text}': expected numbers separated by commas") from None


def settings_from_args(args):
    from TMEMonitorLib.errors import InputError
    chosen = set(args.models)
    high_b = tuple(args.high_b)
    if args.adc_b_range and args.adc_b_range[0] >= args.adc_b_range[1]:
        raise InputError(f"--adc-b-range: minimum {args.adc_b_range[0]:g} is not below maximum "
                         f"{args.adc_b_range[1]:g} s/mm2")
    if args.clip is not None and args.noise_floor is not None and args.noise_floor >= args.clip:
        raise InputError(f"--noise-floor {args.noise_floor:g} is not below --clip {args.clip:g}")
    try:
        return _settings(args, chosen, high_b)
    except InputError as error:     # the setting's name, with the flag that set it
        flags = {"kurtosis b max": "--kurtosis-b-max", "IVIM threshold": "--b-threshold",
                 "computed high-b": "--high-b", "kurtosis": "--kurtosis-b-max"}
        flag = next((f for key, f in flags.items() if key in str(error)), None)
        raise InputError(f"{flag}: {error}" if flag else str(error)) from None


def _settings(args, chosen, high_b):
    return DiffusionSettings(
        fit_adc="adc" in chosen, fit_ivim="ivim" in chosen, fit_kurtosis="kurtosis" in chosen,
        adc_method=args.adc_method, adc_b_min=args.adc_b_range[0] if args.adc_b_range else None,
        adc_b_max=args.adc_b_range[1] if args.adc_b_range else None, ivim_method=args.ivim_method,
        ivim_b_threshold=args.b_threshold, kurtosis_b_max=args.kurtosis_b_max, clip_value=args.clip,
        noise_floor=args.noise_floor, rician_correction=args.rician, noise_sigma=args.noise_sigma,
        high_b_values=high_b).validated()


def read_b_values(text):
    """(b-values, source) from --bvals: an FSL .bval file (whitespace separated) or numbers.

    A file is read by ``b_values.read_b_value_file`` (binary, non-UTF-8, non-numeric, empty and
    out-of-range content refused naming the file and --bvals); numbers must be finite, in
    [0, MAX_B] s/mm2."""
    from TMEMonitorLib.errors import InputError

    from .b_values import read_b_value_file
    if os.path.isdir(text):
        raise InputError(f"--bvals '{text}': is a folder; give an FSL .bval file or numbers separated by commas")
    if os.path.isfile(text):
        return tuple(read_b_value_file(text, "--bvals")), f"--bvals file {os.path.basename(text)}"
    if os.sep in text or text.lower().endswith((".bval", ".bvals", ".txt")):
        raise InputError(f"--bvals '{text}': the file does not exist")
    values = _numbers(text, "--bvals")
    if not values:
        raise InputError("--bvals: no b-values given (numbers in s/mm2 separated by commas, or a .bval file)")
    bad = [v for v in values if not (0.0 <= v <= MAX_B)]     # also NaN / inf
    if bad:
        raise InputError(f"--bvals: b-values must be finite and in [0, {MAX_B:g}] s/mm2; got {bad[0]:g}")
    return values, "command line --bvals"


def run(args):
    from TMEMonitorLib import io
    from TMEMonitorLib import scene as tme_scene

    from TMEMonitorLib.output_folder import OutputFolder

    settings = settings_from_args(args)
    overrides = {"axis_name": "b"}
    if args.series_select:
        overrides["series"] = args.series_select
    b_source = None
    if args.bvals:
        values, b_source = read_b_values(args.bvals)
        overrides["axis_values"] = list(values)
    with OutputFolder(args.out, "dwi", getattr(args, "argv", ())) as out:     # --out checked first
        series = io.read_series(args.series, **overrides)
        source = b_source or series.provenance.get("axis_values", "?")
        for warning in series.warnings:
            print(f"warning: {warning}")
        print(f"DWI series: {series.array.shape[0]} frames, b = {', '.join(f'{v:g}' for v in series.axis_values)} "
              f"s/mm2 from {source}")
        scene = tme_scene.create_scene()
        try:
            return _analyse(args, settings, series, source, scene, out)
        finally:
            tme_scene.release_scene(scene)


def _analyse(args, settings, series, source, scene, out):
    """Series and mask into ``scene``, DiffusionLogic, then maps, statistics and the scene bundle to --out."""
    import numpy as np

    from TMEMonitorLib import io
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError
    from TMEMonitorLib.fitting.status import describe
    from TMEMonitorLib.termination import checkpoint

    from .logic import DiffusionLogic

    node = tme_scene.array_to_sequence(scene, series.array, series.axis_values, series.ijk_to_ras, "DWI",
                                       axis_name="b", axis_source=source)
    # Scalar acquisition values only (b-vectors and raw header keys are not node attributes).
    tme_scene.set_acquisition_attributes(node, {k: v for k, v in series.metadata.items()
                                                if isinstance(v, (int, float, str, np.number))})
    mask_node = None
    if args.mask:
        from TMEMonitorLib.io.reader import place_on_grid
        volume = io.read_volume(args.mask)
        # a segmentation saved cropped to its extent (.seg.nrrd) is put back on the DWI grid
        array = place_on_grid(volume, series.array.shape[1:], series.ijk_to_ras, f"--mask '{args.mask}'")
        if array.shape != series.array.shape[1:]:
            raise InputError(f"mask '{args.mask}': shape {volume.array.shape} differs from the DWI volume "
                             f"{series.array.shape[1:]}")
        mask_node = tme_scene.add_label_map(scene, array > 0, series.ijk_to_ras if array is not volume.array
                                            else volume.ijk_to_ras, "mask")
    checkpoint("inputs-read")
    bar = ProgressBar("DWI")
    result = DiffusionLogic(scene).run(node, settings, mask_node=mask_node, name_prefix="DWI", progress=bar)
    bar.done()
    checkpoint("after-fit")
    from TMEMonitorLib.io import map_metadata
    for name, map_node in result.map_nodes.items():     # registry names, quantity and unit in the header
        path = tme_scene.write_node(map_node, out.path(f"{map_metadata.file_stem(name)}.nrrd"))
        map_metadata.annotate_map_file(path, {**map_metadata.fields_for_map(name),
                                              **map_metadata.fields_for_node(map_node)})
    checkpoint("files-staged")
    for b, map_node in result.computed_high_b_nodes.items():
        tme_scene.write_node(map_node, out.path(f"computed_b{b:g}.nrrd"))
    for model, status_node in result.status_nodes.items():
        tme_scene.write_node(status_node, out.path(f"fit_status_{model}.nrrd"))
    tme_scene.write_node(result.table_node, out.path("statistics.csv"))
    from TMEMonitorLib.scene import views
    views.show_for_reading(scene, background=node, foreground=result.map_nodes.get("ADC"))   # opens ready to read
    tme_scene.save_scene(scene, out.path("dwi.mrb"))
    out.commit()
    mrb = os.path.join(out.folder, "dwi.mrb")
    analysis = result.analysis
    for note in analysis.notes:
        print(f"  {note}")
    for warning in analysis.warnings:
        print(f"warning: {warning}")
    for model, status in analysis.status.items():
        print(f"  {model} fit status: {describe(status[analysis.mask])}")
    print(f"wrote {len(result.map_nodes)} maps, {len(result.computed_high_b_nodes)} computed high-b image(s), "
          f"statistics and {mrb}")
    return 0
