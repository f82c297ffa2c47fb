"""``tme-monitor hp13c``: kPL, AUC ratio, SNR and status maps from hyperpolarized [1-13C]pyruvate data, headless,
on the same Logic as the Slicer module."""
import os

from TMEMonitorLib import cli_options as opt
from TMEMonitorLib.progress_bar import ProgressBar

from .kinetics import NOISE_MODELS
from .settings import FLIP_UNITS, METABOLITES, MODELS, HyperpolarizedSettings


def _flip_schedule(text):
    """A flip schedule as typed: one value, a comma list, or a .csv/.txt table (checked at parse time;
    the unit is applied later with --flip-unit)."""
    import argparse

    import numpy as np

    from TMEMonitorLib.errors import InputError

    from .flip_angles import parse_schedule_text
    try:
        values = parse_schedule_text(text, "value")
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    array = None if values is None else np.atleast_1d(np.asarray(values, dtype=float))
    if array is None or array.size == 0:
        raise argparse.ArgumentTypeError(f"'{text}' holds no angle (one value, a comma list or a .csv/.txt table "
                                         "is needed)")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise argparse.ArgumentTypeError(f"'{text}': flip angles must be finite and >= 0")
    return text


def add_parser(subparsers):
    parser = subparsers.add_parser("hp13c", help="hyperpolarized [1-13C]pyruvate: kPL (inputless fit), AUC ratio")
    parser.add_argument("--out", required=True, type=opt.output_folder(),
                        help="output folder (maps as NRRD, statistics CSV, scene .mrb, manifest.json)")
    data = parser.add_argument_group("data (one dynamic series per metabolite, one .mat file, or dynamic spectra)")
    for metabolite in METABOLITES:
        data.add_argument(f"--{metabolite}", type=opt.existing_path(f"{metabolite} dynamic series"),
                          help=f"{metabolite} dynamic series: DICOM folder, NIfTI (+ JSON) or .seq.nrrd")
    data.add_argument("--mat", type=opt.existing_file(".mat file"),
                      help="MATLAB v5 .mat file (variables: pyruvate, lactate, ... or S; TR; flips; "
                           "flip_unit; voxel_size_mm - see README)")
    data.add_argument("--mat-names", type=opt.text(),
                      help="variable names in --mat (or a --spectra .mat) overriding the defaults, "
                           "e.g. pyruvate=Spyr,lactate=Slac,tr=TR,flips=flips or spectra=fids")
    data.add_argument("--spectra", type=opt.existing_file("dynamic spectra file"),
                      help="dynamic 13C spectra (slab MRS or MRSI, one spectrum per frame): NIfTI-MRS "
                           "with a DIM_DYN dimension, or a .mat (spectra, dwell_s, spectrometer_mhz, "
                           "centre_ppm, TR, flips - see README); metabolite amplitudes from the "
                           "Spectroscopy module's peak fit")
    data.add_argument("--centre-ppm", type=opt.number(0.0, 400.0, "ppm"),
                      help="with --spectra: ppm at the receiver (centre) frequency, e.g. 171 when centred on "
                           "pyruvate (default: from the file)")
    data.add_argument("--spectra-metabolites", type=opt.name_list(METABOLITES), default=("pyruvate", "lactate"),
                      help="with --spectra: metabolites to fit and analyse, comma separated, among pyruvate, lactate, "
                           "bicarbonate, alanine (default: pyruvate,lactate)")
    data.add_argument("--mask", type=opt.existing_path("mask volume"),
                      help="label map / mask volume (voxels > 0 analysed; another grid is taken to the "
                           "13C grid by coverage >= 0.5)")
    data.add_argument("--segments", type=opt.existing_path("label map"),
                      help="label map on any grid for per-segment statistics (each label a segment)")
    acq = parser.add_argument_group("acquisition (overrides the metadata)")
    acq.add_argument("--tr", type=opt.positive(60.0, "s"), help="time between frames (s)")
    for metabolite in METABOLITES:
        acq.add_argument(f"--flip-{metabolite}", type=_flip_schedule,
                         help=f"{metabolite} flip angle(s): one value, one per frame (comma separated), or a "
                              ".csv/.txt with one row per frame and one column per excitation")
    acq.add_argument("--flip-unit", choices=FLIP_UNITS, default="deg", help="unit of the --flip-* values (default deg)")
    acq.add_argument("--excitations-per-frame", type=opt.integer(1, 4096), default=1,
                     help="excitations per frame when a --flip-* list holds frames x excitations values "
                          "(default: %(default)s)")
    fit = parser.add_argument_group("fit")
    fit.add_argument("--model", choices=MODELS, default="inputless",
                     help="kinetic model: inputless (measured pyruvate drives lactate) or an input-function "
                          "model (default: %(default)s)")
    fit.add_argument("--r1-pyruvate", type=R1_PER_S, default=1 / 30,
                     help="R1 of pyruvate (1/s), fixed unless --fit-r1-pyruvate (default: 1/30)")
    fit.add_argument("--r1-lactate", type=R1_PER_S, default=1 / 25,
                     help="R1 of lactate (1/s), fixed unless --fit-r1-lactate (default: 1/25)")
    fit.add_argument("--fit-r1-lactate", action="store_true", help="fit R1 of lactate within [1/50, 1/10] 1/s")
    fit.add_argument("--fit-r1-pyruvate", action="store_true", help="fit R1 of pyruvate within [1/50, 1/10] 1/s")
    fit.add_argument("--noise-model", choices=NOISE_MODELS, default="gaussian",
                     help="gaussian (complex data) or rician (magnitude data) (default: %(default)s)")
    fit.add_argument("--noise-sigma", type=opt.positive(opt.SIGNAL_LIMIT, "signal units"),
                     help="noise SD (signal units); default estimated")
    fit.add_argument("--min-snr", type=opt.non_negative(1e6), default=5.0,
                     help="peak pyruvate SNR below which a voxel is not fitted (default: %(default)s)")
    parser.set_defaults(func=run)


# R1 of a 13C metabolite: positive, below 10 1/s (T1 > 0.1 s); the fit's plausibility check is the same.
R1_PER_S = opt.number(0.0, 10.0, "1/s", low_open=True, high_open=True)


def _flip_values(text, option):
    """Numbers from a comma list, or a table file (rows = frames, columns = excitations)."""
    from .flip_angles import parse_schedule_text
    return parse_schedule_text(text, option)


def _names(text):
    from TMEMonitorLib.errors import InputError
    if not text:
        return None
    out = {}
    for item in text.split(","):
        if "=" not in item:
            raise InputError(f"--mat-names '{item}': expected role=variable (e.g. pyruvate=Spyr)")
        role, name = (s.strip() for s in item.split("=", 1))
        out[role] = name
    return out


def _spectra_metabolites(chosen):
    from TMEMonitorLib.errors import InputError
    chosen = tuple(chosen)
    if "pyruvate" not in chosen or "lactate" not in chosen or len(set(chosen)) != len(chosen):
        raise InputError(f"--spectra-metabolites {','.join(chosen)}: distinct names among {', '.join(METABOLITES)}, "
                         "with pyruvate and lactate")
    return chosen


def settings_from_args(args):
    flips = {f"flip_{m}_deg": _flip_values(getattr(args, f"flip_{m}"), f"--flip-{m}") for m in METABOLITES}
    return HyperpolarizedSettings(
        tr_s=args.tr, flip_unit=args.flip_unit, excitations_per_frame=args.excitations_per_frame,
        r1_pyruvate_per_s=args.r1_pyruvate, r1_lactate_per_s=args.r1_lactate, fit_r1_lactate=args.fit_r1_lactate,
        fit_r1_pyruvate=args.fit_r1_pyruvate, model=args.model, noise_model=args.noise_model,
        noise_sigma=args.noise_sigma, min_snr=args.min_snr, **flips).validated()


def run(args):
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError

    settings = settings_from_args(args)
    files = {m: getattr(args, m) for m in METABOLITES if getattr(args, m)}
    given = [flag for flag, value in (("--mat", args.mat), ("--spectra", args.spectra),
                                      ("per-metabolite series (--pyruvate, ...)", files)) if value]
    if len(given) > 1:
        raise InputError(f"give one kind of data, not {' and '.join(given)}")
    spectra_metabolites = _spectra_metabolites(args.spectra_metabolites)
    if args.centre_ppm is not None and not args.spectra:
        raise InputError(f"--centre-ppm {args.centre_ppm:g}: only with --spectra")
    if args.mat_names and not (args.mat or args.spectra):
        raise InputError("--mat-names: only with --mat or a --spectra .mat file")
    if args.spectra and settings.noise_model == "rician":
        raise InputError("--noise-model rician is for magnitude images; amplitudes from --spectra are fitted as "
                         "gaussian")
    if not given:
        raise InputError("no data: give --pyruvate and --lactate series, --mat or --spectra")
    if files and ("pyruvate" not in files or "lactate" not in files):
        raise InputError("--pyruvate and --lactate are both needed")
    from TMEMonitorLib.output_folder import OutputFolder
    with OutputFolder(args.out, "hp13c", getattr(args, "argv", ())) as out:     # --out checked first
        inputs = _read_inputs(args, files, spectra_metabolites)
        if settings.tr_s is None and inputs.tr_s is not None:
            from dataclasses import replace
            settings = replace(settings, tr_s=inputs.tr_s)
            inputs.provenance["TR"] = inputs.provenance.get("TR", "file")
        for note in inputs.notes:
            print(f"note: {note}")
        scene = tme_scene.create_scene()
        try:
            return _analyse(args, settings, inputs, scene, out)
        finally:
            tme_scene.release_scene(scene)


def _read_inputs(args, files, spectra_metabolites):
    from .inputs_hp import read_mat, read_metabolite_files
    unit_source = "--flip-unit" if args.flip_unit != "deg" else "--flip-unit default (deg)"
    if args.spectra:
        from .spectra_inputs import read_spectra
        bar = ProgressBar("spectra")
        inputs = read_spectra(args.spectra, centre_ppm=args.centre_ppm, metabolites=spectra_metabolites,
                              names=_names(args.mat_names), flip_unit=args.flip_unit, flip_unit_source=unit_source,
                              progress=bar)
        bar.done()
        return inputs
    if args.mat:
        return read_mat(args.mat, _names(args.mat_names), flip_unit=args.flip_unit, flip_unit_source=unit_source)
    return read_metabolite_files(files, frame_time_s=args.tr)


def _analyse(args, settings, inputs, scene, out):
    import numpy as np

    from TMEMonitorLib import io
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.fitting.status import describe

    from .logic import FLIP_ATTRIBUTE, HyperpolarizedLogic
    from .pipeline import analyse_hyperpolarized

    logic = HyperpolarizedLogic(scene)
    series = {m: a for m, a in inputs.series.items()}
    shape = series["pyruvate"].shape[1:]
    mask = segments = None
    if args.mask:
        volume = io.read_volume(args.mask)
        node = tme_scene.add_label_map(scene, volume.array > 0, volume.ijk_to_ras, "mask")
        mask = logic.analysis_mask(node, shape, inputs.ijk_to_ras)
        scene.RemoveNode(node)
    if args.segments:
        volume = io.read_volume(args.segments)
        from . import segment_grid
        labels = [int(v) for v in np.unique(volume.array) if v > 0]
        segments = {f"label {v}": segment_grid.on_grid(volume.array == v, volume.ijk_to_ras, shape, inputs.ijk_to_ras,
                                                       f"--segments label {v}") for v in labels}
    provenance = dict(inputs.provenance)
    if settings.tr_s is not None and args.tr is not None:
        provenance["TR"] = "command line --tr"
    noise_estimate = None
    if settings.noise_sigma is None and np.isfinite(inputs.extras.get("amplitude_sd", np.nan)):
        noise_estimate = (inputs.extras["amplitude_sd"], "median standard error of the fitted spectral amplitudes")
    bar = ProgressBar("hp13c")
    analysis = analyse_hyperpolarized(series, settings, frame_times_s=inputs.frame_times_s, flips=inputs.flips_deg,
                                      mask=mask, progress=bar, provenance=provenance, noise_estimate=noise_estimate)
    bar.done()
    if "poor_frames" in inputs.extras:
        analysis.maps["spectral_fit_poor_frames"] = np.where(analysis.mask, inputs.extras["poor_frames"], np.nan)
    # Only now (input accepted) the sequences go into the scene, for the bundle.
    for metabolite, array in series.items():
        node = tme_scene.array_to_sequence(scene, np.real(array) if np.iscomplexobj(array) else array,
                                           analysis.times_s, inputs.ijk_to_ras, metabolite,
                                           axis_source=provenance.get("frame_times", provenance.get("TR", "")))
        if metabolite in inputs.flips_deg and np.ndim(inputs.flips_deg[metabolite]) == 0:
            tme_scene.set_acquisition_attributes(node, {FLIP_ATTRIBUTE: float(inputs.flips_deg[metabolite])})
    result = logic.write_outputs(analysis, inputs.ijk_to_ras, "HP13C", segments=segments)
    for name, node in result.map_nodes.items():
        tme_scene.write_node(node, out.path(f"{name}.nrrd"))
    tme_scene.write_node(result.status_node, out.path("status_kPL.nrrd"))
    tme_scene.write_node(result.table_node, out.path("statistics.csv"))
    tme_scene.save_scene(scene, out.path("hp13c.mrb"))
    out.commit()
    mrb = os.path.join(out.folder, "hp13c.mrb")
    for note in analysis.notes:
        print(f"  {note}")
    print(f"  kPL status: {describe(analysis.status[analysis.mask])}")
    kpl = analysis.maps["kPL"][analysis.status == 0]
    if kpl.size:
        print(f"  kPL median {np.median(kpl):.4g} 1/s over {kpl.size} voxels")
    print(f"wrote {len(result.map_nodes)} maps, the status map, statistics and {mrb}")
    return 0
