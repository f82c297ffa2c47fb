"""``tme-monitor hypoxia``: R2*/R2/R2', gas-challenge and Perfused-Oxy-R maps from files, headless, on the
same Logic as the Slicer module."""
import os

from TMEMonitorLib import cli_options as opt
from TMEMonitorLib.progress_bar import ProgressBar

from .paradigm import GASES
from .relaxometry import METHODS, R2_MODELS
from .settings import T1_METHODS, VFA_FITS, HypoxiaSettings


def add_parser(subparsers):
    parser = subparsers.add_parser("hypoxia", help="hypoxia: R2*, R2', Delta R1 / Delta R2* with gas, Perfused-Oxy-R map")
    parser.add_argument("--out", required=True, type=opt.output_folder(), help="output folder (maps as NRRD, statistics CSV, scene .mrb)")
    parser.add_argument("--gre", type=opt.existing_path("multi-echo series"), help="multi-echo gradient echo: DICOM folder, NIfTI/JSON folder or .seq.nrrd")
    parser.add_argument("--echo-times", type=ECHO_TIMES_MS, help="echo times of --gre overriding the file's, in ms, comma separated")
    parser.add_argument("--se", type=opt.existing_path("multi-echo series"), help="multi-echo spin echo (R2, R2')")
    parser.add_argument("--se-echo-times", type=ECHO_TIMES_MS, help="echo times of --se overriding the file's, in ms, comma separated")
    parser.add_argument("--field-map", type=opt.existing_path("field map volume"), help="B0 field map (Hz) on the GRE grid for the field-gradient correction")
    parser.add_argument("--oe", type=opt.existing_path("dynamic series"), help="dynamic T1-weighted series across air -> O2 -> air (oxygen-enhanced MRI)")
    parser.add_argument("--bold", type=opt.existing_path("dynamic series"), help="dynamic T2*-weighted series across air -> gas -> air")
    parser.add_argument("--t1-air", type=opt.existing_path("T1 map volume"), help="T1 map (s) before gas")
    parser.add_argument("--t1-gas", type=opt.existing_path("T1 map volume"), help="T1 map (s) during gas")
    parser.add_argument("--t10-map", type=opt.existing_path("T1 map volume"), help="pre-gas T1 map (s) for the OE Delta R1 (default --t1-air)")
    parser.add_argument("--t10", type=opt.positive(10.0, "s"), help="fixed pre-gas T1 (s) for the OE Delta R1")
    parser.add_argument("--enhancement", type=opt.existing_path("enhancement map volume"), help="DCE enhancement map of the same visit (any measure; with "
                                              "--enhancement-threshold) for the Perfused-Oxy-R map")
    parser.add_argument("--enhancement-threshold", type=opt.number(-opt.SIGNAL_LIMIT, opt.SIGNAL_LIMIT),
                        help="value of --enhancement above which a voxel is perfused")
    parser.add_argument("--mask", type=opt.existing_path("mask volume"), help="label map / mask volume (voxels > 0 are analysed)")
    fit = parser.add_argument_group("R2* fit")
    fit.add_argument("--method", choices=METHODS, default="nonlinear", help="R2* fit (default: %(default)s)")
    fit.add_argument("--noise-sigma", type=opt.positive(opt.SIGNAL_LIMIT, "signal units"), help="noise SD (signal units); default estimated from the background")
    fit.add_argument("--noise-floor-snr", type=opt.positive(1000.0), default=3.0,
                     help="echoes at or below this x sigma end the fit (default: %(default)s)")
    fit.add_argument("--no-noise-floor", action="store_true", help="fit every positive echo")
    fit.add_argument("--r2star-max", type=opt.positive(1e5, "1/s"), default=2000.0, help="upper bound of R2* (1/s) (default: %(default)s)")
    fit.add_argument("--no-gradient-correction", action="store_true",
                     help="do not correct R2* for macroscopic field gradients (--field-map)")
    fit.add_argument("--skip-first-se-echo", action="store_true", help="leave out spin echo 1 (stimulated echoes)")
    fit.add_argument("--se-model", choices=R2_MODELS, default="monoexponential",
                     help="spin-echo R2 model: monoexponential, or epg (extended phase graph: S0, T2 and the refocusing "
                          "angle fitted, stimulated echoes modelled; echoes at k x the echo spacing) (default: %(default)s)")
    fit.add_argument("--se-epg-t1", type=opt.positive(10.0, "s"), default=1.0,
                     help="T1 (s) assumed by --se-model epg; R2 depends on it weakly (default: %(default)s)")
    gas = parser.add_argument_group("gas paradigm (dynamic series)")
    gas.add_argument("--gas", choices=GASES, default="oxygen", help="gas breathed (default: %(default)s)")
    gas.add_argument("--gas-on", type=opt.non_negative(1e6, "s"), help="gas switched on, s from the first dynamic frame")
    gas.add_argument("--gas-off", type=opt.positive(1e6, "s"), help="gas switched back to air, s (default: gas to the end)")
    gas.add_argument("--wash-in", type=opt.non_negative(1e5, "s"), default=60.0, help="frames within this delay after gas on are left out (s) (default: %(default)s)")
    gas.add_argument("--alpha", type=opt.number(0.0, 0.5, low_open=True, high_open=True), default=0.05, help="significance level of the per-voxel Welch test (default: %(default)s)")
    gas.add_argument("--tr", type=opt.positive(10.0, "s"), help="TR of --oe (s); default from the metadata")
    gas.add_argument("--flip-angle", type=opt.number(0.0, 180.0, "deg", low_open=True), help="flip angle of --oe (deg); default from the metadata")
    gas.add_argument("--dynamic-echo-time", type=opt.positive(1.0, "s"), help="TE of --bold (s); default from the metadata")
    t1 = parser.add_argument_group("T1 before / during gas from two T1-mapping series (Delta R1)")
    t1.add_argument("--t1-air-series", type=opt.existing_path("T1-mapping series"),
                    help="T1-mapping acquisition before gas: IR / Look-Locker images (folder of NIfTI files with BIDS "
                         "InversionTime, DICOM folder with one series per TI, or a 4D file with --ti-air) or VFA images")
    t1.add_argument("--t1-gas-series", type=opt.existing_path("T1-mapping series"),
                    help="T1-mapping acquisition during gas (as --t1-air-series)")
    t1.add_argument("--t1-method", choices=T1_METHODS, default="ir",
                    help="T1 mapping of --t1-air-series/--t1-gas-series: vfa (variable flip angle), ir (inversion "
                         "recovery, magnitude with polarity restoration) or look-locker (T1 = T1* (B/A - 1)) "
                         "(default: %(default)s)")
    t1.add_argument("--ti-air", type=TIMES_MS, help="inversion times (ms; Look-Locker: times after inversion) of the "
                    "images of --t1-air-series in file order, for a 4D file without per-image metadata")
    t1.add_argument("--ti-gas", type=TIMES_MS, help="inversion times (ms) of --t1-gas-series, as --ti-air")
    t1.add_argument("--vfa-flip-angles", type=opt.number_list(0.0, 180.0, "deg", low_open=True, max_count=64),
                    help="flip angles (deg) of both VFA series in file order, overriding their metadata")
    t1.add_argument("--vfa-tr", type=opt.positive(1.0, "s"), help="TR of the VFA series (s); default from the metadata")
    t1.add_argument("--vfa-fit", choices=VFA_FITS, default="nonlinear", help="VFA T1 fit (default: %(default)s)")
    parser.set_defaults(func=run)


# Echo times in ms as typed on the command line (converted to s where used).
ECHO_TIMES_MS = opt.number_list(0.0, 10000.0, "ms", low_open=True, max_count=256)
# Inversion times in ms as typed (0 allowed for a Look-Locker image at the inversion).
TIMES_MS = opt.number_list(0.0, 100000.0, "ms", max_count=256)


def _ms_list(values, option):
    """Echo times (s) of an --echo-times / --se-echo-times value (ms, already parsed and checked)."""
    if isinstance(values, str):
        values = ECHO_TIMES_MS(values)
    return [v / 1000.0 for v in values]


def settings_from_args(args):
    return HypoxiaSettings(
        r2star_method=args.method, noise_sigma=args.noise_sigma, noise_floor_snr=args.noise_floor_snr,
        noise_floor=not args.no_noise_floor, r2star_max_per_s=args.r2star_max,
        field_gradient_correction=not args.no_gradient_correction, r2_skip_first_echo=args.skip_first_se_echo,
        gas=args.gas, gas_on_s=args.gas_on, gas_off_s=args.gas_off, wash_in_s=args.wash_in, alpha=args.alpha,
        se_model=args.se_model, se_epg_t1_s=args.se_epg_t1,
        enhancement_threshold=args.enhancement_threshold, t10_s=args.t10, tr_s=args.tr, flip_angle_deg=args.flip_angle,
        dynamic_echo_time_s=args.dynamic_echo_time, t1_method=args.t1_method,
        vfa_fit=getattr(args, "vfa_fit", "nonlinear"), vfa_tr_s=getattr(args, "vfa_tr", None)).validated()


def read_echo_series(path, echo_times_s, option):
    """(Series, echo times s, source): the reader's echo times, or the override (--echo-times)."""
    from TMEMonitorLib import io
    from TMEMonitorLib.errors import InputError, MetadataError
    if echo_times_s is None:
        flag = "--se-echo-times" if option == "--se" else "--echo-times"
        try:
            try:
                series = io.read_series(path, axis_name="echo_time")
            except InputError as error:
                if "axis_name" not in str(error) or isinstance(error, MetadataError):
                    raise
                series = io.read_series(path)          # a reader without echo-time support
        except MetadataError as error:
            raise MetadataError(f"{option} {path}: no echo times found ({error}); give them with {flag} in ms") from None
        if series.axis_name != "echo_time":
            raise MetadataError(f"{option} {path}: no echo times found (frames are indexed by '{series.axis_name}'); "
                                f"give them with {flag} in ms")
        return series, series.axis_values, series.provenance.get("axis_values", "read_series")
    try:
        series = io.read_series(path)
    except MetadataError:
        # no frame axis the reader knows: the override names the echoes (placeholder index, replaced below)
        series = io.read_series(path, frame_time_s=1.0)
    if series.array.shape[0] != len(echo_times_s):
        raise InputError(f"{option} {path}: {len(echo_times_s)} echo time(s) given for {series.array.shape[0]} echoes")
    return series, echo_times_s, f"command line {option}-echo-times" if option == "--se" else "command line --echo-times"


def _check_t1_series_options(args):
    """InputError (before --out is touched) for an incomplete or contradictory set of T1-series options."""
    from TMEMonitorLib.errors import InputError
    if bool(args.t1_air_series) != bool(args.t1_gas_series):
        raise InputError("T1 series: give both --t1-air-series and --t1-gas-series")
    if args.t1_air_series and (args.t1_air or args.t1_gas):
        raise InputError("give either T1 maps (--t1-air/--t1-gas) or T1 series (--t1-air-series/--t1-gas-series), "
                         "not both")
    if bool(args.t1_air) != bool(args.t1_gas):
        raise InputError("T1 maps: give both --t1-air and --t1-gas")
    typed = [flag for flag, value in (("--ti-air", args.ti_air), ("--ti-gas", args.ti_gas),
                                      ("--vfa-flip-angles", args.vfa_flip_angles)) if value]
    if typed and not args.t1_air_series:
        raise InputError(f"{', '.join(typed)} given without --t1-air-series/--t1-gas-series")
    if args.t1_method == "vfa" and (args.ti_air or args.ti_gas):
        raise InputError("--ti-air/--ti-gas are inversion times; with --t1-method vfa give --vfa-flip-angles")
    if args.t1_method != "vfa" and args.vfa_flip_angles:
        raise InputError(f"--vfa-flip-angles applies to --t1-method vfa, not {args.t1_method}")


def _read_t1_series(args, scene, nodes):
    """Sequence nodes of the two T1-mapping series (index: inversion time s or flip angle deg, with its source)."""
    import numpy as np

    from TMEMonitorLib import scene as tme_scene

    from .t1_series import read_t1_series
    for option, path, typed_option, typed, key in (
            ("--t1-air-series", args.t1_air_series, "--ti-air", args.ti_air, "t1_series_air_node"),
            ("--t1-gas-series", args.t1_gas_series, "--ti-gas", args.ti_gas, "t1_series_gas_node")):
        if args.t1_method == "vfa":
            typed_option, typed = "--vfa-flip-angles", args.vfa_flip_angles
            values = [float(v) for v in typed] if typed else None
        else:
            values = [float(v) / 1000.0 for v in typed] if typed else None
        array, values, source, ijk_to_ras, metadata = read_t1_series(path, args.t1_method, values, option, typed_option)
        unit = "deg" if args.t1_method == "vfa" else "ms"
        shown = values if args.t1_method == "vfa" else np.asarray(values) * 1000.0
        print(f"{option}: {array.shape[0]} images, {'flip angles' if unit == 'deg' else 'inversion times'} "
              f"{', '.join(f'{v:g}' for v in shown)} {unit} from {source}")
        node = tme_scene.array_to_sequence(scene, array, values, ijk_to_ras, option[2:].upper(),
                                           axis_name="flip_angle" if args.t1_method == "vfa" else "inversion_time",
                                           axis_unit="deg" if args.t1_method == "vfa" else "s", axis_source=source)
        if isinstance(metadata.get("TR_s"), float):
            node.SetAttribute("TMEMonitor.TR_s", repr(metadata["TR_s"]))
        nodes[key] = node


def run(args):
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError
    from TMEMonitorLib.output_folder import OutputFolder
    settings = settings_from_args(args)
    if not any((args.gre, args.se, args.oe, args.bold, args.t1_air, args.t1_air_series)):
        raise InputError("give at least one input: --gre, --se, --oe, --bold, --t1-air with --t1-gas or "
                         "--t1-air-series with --t1-gas-series")
    _check_t1_series_options(args)
    if args.gas_on is not None and args.gas_off is not None and args.gas_off <= args.gas_on:
        raise InputError(f"--gas-off {args.gas_off:g} s is not after --gas-on {args.gas_on:g} s")
    with OutputFolder(args.out, "hypoxia", getattr(args, "argv", ())) as out:     # --out checked first
        scene = tme_scene.create_scene()
        try:
            return _analyse(args, settings, scene, out)
        finally:
            tme_scene.release_scene(scene)


def _analyse(args, settings, scene, out):
    import numpy as np

    from TMEMonitorLib import io
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.fitting.status import describe
    from TMEMonitorLib.termination import checkpoint

    from .echo_times import checked_echo_times
    from .logic import HypoxiaLogic

    nodes = {}
    for option, path, override, key, times_key in (("--gre", args.gre, args.echo_times, "gre_node", "echo_times_s"),
                                                    ("--se", args.se, args.se_echo_times, "se_node", "se_echo_times_s")):
        if not path:
            continue
        echo_times = _ms_list(override, f"{option}-echo-times" if option == "--se" else "--echo-times") if override else None
        series, te, source = read_echo_series(path, echo_times, option)
        # checked before the scene: a sequence node orders its frames by index value, which would hide
        # an unsorted list by silently pairing frames with the wrong echo times
        te = checked_echo_times(te, series.array.shape[0], f"{option} echo times ({source})")
        print(f"{option}: {series.array.shape[0]} echoes, TE {', '.join(f'{v * 1e3:g}' for v in te)} ms from {source}")
        nodes[key] = tme_scene.array_to_sequence(scene, series.array, np.asarray(te), series.ijk_to_ras, option[2:].upper(),
                                                 axis_name="echo_time", axis_unit="s", axis_source=source)
        nodes[times_key] = None
    for option, path, key in (("--oe", args.oe, "oe_node"), ("--bold", args.bold, "bold_node")):
        if not path:
            continue
        series = io.read_series(path)
        if series.axis_name != "time":
            raise InputError(f"{option} {path}: frames are indexed by '{series.axis_name}', not by time")
        print(f"{option}: {series.n_frames} frames, times from {series.provenance.get('axis_values', '?')}")
        node = tme_scene.array_to_sequence(scene, series.array, series.axis_values, series.ijk_to_ras, option[2:].upper(),
                                           axis_source=series.provenance.get("axis_values"))
        tme_scene.set_acquisition_attributes(node, {k: v for k, v in series.metadata.items()
                                                    if isinstance(v, (int, float, str, np.number))})
        nodes[key] = node
    for option, path, key in (("--t1-air", args.t1_air, "t1_air_node"), ("--t1-gas", args.t1_gas, "t1_gas_node"),
                              ("--t10-map", args.t10_map, "t10_node"), ("--field-map", args.field_map, "field_map_node"),
                              ("--enhancement", args.enhancement, "enhancement_node")):
        if path:
            volume = io.read_volume(path)
            nodes[key] = tme_scene.array_to_volume(scene, volume.array, volume.ijk_to_ras, option[2:])
    if args.t1_air_series:
        _read_t1_series(args, scene, nodes)
    if args.mask:
        volume = io.read_volume(args.mask)
        nodes["mask_node"] = tme_scene.add_label_map(scene, volume.array > 0, volume.ijk_to_ras, "mask")
    checkpoint("inputs-read")
    bar = ProgressBar("hypoxia")
    result = HypoxiaLogic(scene).run(settings, progress=bar, **nodes)
    bar.done()
    checkpoint("after-fit")
    for name, node in result.map_nodes.items():
        tme_scene.write_node(node, out.path(f"{name}.nrrd"))
    checkpoint("files-staged")
    for name, node in result.status_nodes.items():
        tme_scene.write_node(node, out.path(f"status_{name}.nrrd"))
    if result.class_node is not None:
        tme_scene.write_node(result.class_node, out.path("perfused_oxy_r.nrrd"))
    tme_scene.write_node(result.table_node, out.path("statistics.csv"))
    tme_scene.save_scene(scene, out.path("hypoxia.mrb"))
    out.commit()
    mrb = os.path.join(out.folder, "hypoxia.mrb")
    analysis = result.analysis
    for note in analysis.notes:
        print(f"  {note}")
    for name, status in analysis.status.items():
        print(f"  {name} status: {describe(status[analysis.mask])}")
    print(f"wrote {len(result.map_nodes)} maps, {len(result.status_nodes)} status maps, statistics and {mrb}")
    return 0
