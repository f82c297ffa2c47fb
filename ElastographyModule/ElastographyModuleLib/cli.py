"""``tme-monitor mre``: MR elastography maps from phase images, headless, on the same Logic as the module."""
import os

from TMEMonitorLib import cli_options as opt

from .settings import INVERSIONS, PHASE_UNITS, UNWRAP_METHODS, ElastographySettings


def add_parser(subparsers):
    parser = subparsers.add_parser("mre", help="MR elastography: |G*|, G', G'', phi and shear-wave speed maps")
    parser.add_argument("phase", type=opt.existing_path("phase images (file or DICOM folder)"),
                        help="MRE phase images: a DICOM folder (or .dcm file), 4D NIfTI (+ JSON sidecar), .mat, "
                             "or a Slicer volume "
                             "sequence .seq.nrrd (with TMEMonitor.MRE* keys, as the module and the demo "
                             "write it); frames ordered frequency, direction, phase offset")
    parser.add_argument("--out", required=True, type=opt.output_folder(),
                        help="output folder (maps as NRRD, statistics CSV, scene .mrb)")
    parser.add_argument("--mask", type=opt.existing_path("mask volume"),
                        help="label map / mask volume or .seg.nrrd (voxels > 0 are analysed; a "
                             "segmentation saved cropped to its extent is put back on the phase grid)")
    acq = parser.add_argument_group("acquisition (overrides the sidecar / .mat / .seq.nrrd keys)")
    acq.add_argument("--frequency", type=opt.number_list(0.0, 10000.0, "Hz", low_open=True, max_count=64),
                     help="vibration frequencies, Hz, comma separated")
    acq.add_argument("--offsets", type=opt.number_list(-1e4, 1e4, max_count=1024),
                     help="wave phase offsets, comma separated (or one number: a count of evenly spaced offsets)")
    acq.add_argument("--offsets-unit", choices=("rad", "deg"), default="rad",
                     help="unit of the --offsets list (default: %(default)s)")
    acq.add_argument("--directions", type=_directions, help="motion-encoding directions as i,j,k triples separated by ';' "
                                          "(e.g. '1,0,0;0,1,0;0,0,1')")
    acq.add_argument("--um-per-rad", type=opt.positive(1e6, "um/rad"), help="displacement per phase, um/rad")
    acq.add_argument("--meg", nargs=3, type=opt.non_negative(1e6), metavar=("MT_PER_M", "CYCLES", "MEG_HZ"),
                     help="motion-encoding gradient amplitude (mT/m), cycles and frequency (Hz; 0 = vibration)")
    acq.add_argument("--phase-units", choices=PHASE_UNITS, default=None,
                     help="unit of the phase images: rad, deg, mrad, int12 (-4096..4095 for -pi..pi) or uint12 "
                          "(0..4095 for -pi..pi) (default: rad; DICOM: from the value range, see the README)")
    parser.add_argument("--inversions", type=opt.name_list(INVERSIONS), default=("mdev", "kmdev"),
                        help=f"comma separated: {', '.join(INVERSIONS)} (default: mdev,kmdev)")
    parser.add_argument("--unwrap", choices=UNWRAP_METHODS, default="laplacian",
                        help="phase unwrapping method (default: %(default)s)")
    parser.add_argument("--compression", choices=("auto", "curl", "bandpass", "none"), default="auto",
                        help="removal of the compression wave; auto: curl with 3 encoded components, band-pass "
                             "with 1 (default: %(default)s)")
    parser.add_argument("--smoothing", type=opt.non_negative(10.0, "voxels"), default=1.5,
                        help="Gaussian low-pass sigma, voxels (default 1.5)")
    parser.add_argument("--density", type=opt.number(500.0, 2000.0, "kg/m3"), default=1000.0,
                        help="tissue density, kg/m3 (default 1000)")
    parser.add_argument("--min-wave-snr", type=opt.non_negative(1e6), default=3.0,
                        help="voxels whose wave confidence (SNR) is below this are flagged no-signal and left NaN "
                             "(default: %(default)s)")
    parser.set_defaults(func=run)


def _directions(text):
    """--directions: i,j,k triples separated by ';', each finite and not all zero."""
    import argparse
    triple = opt.number_list(-1e3, 1e3, min_count=3, max_count=3)
    directions = []
    for part in str(text).split(";"):
        if not part.strip():
            continue
        values = triple(part.replace(";", ","))
        if not any(values):
            raise argparse.ArgumentTypeError(f"direction '{part.strip()}' is the zero vector")
        directions.append(list(values))
    if not directions:
        raise argparse.ArgumentTypeError(f"'{text}' gives no direction (i,j,k triples separated by ';')")
    return directions


def settings_from_args(args):
    return ElastographySettings(
        inversions=tuple(args.inversions), unwrap=args.unwrap,
        phase_units=args.phase_units or "rad", compression=args.compression, smoothing_sigma_vox=args.smoothing,
        density_kg_m3=args.density, min_wave_snr=args.min_wave_snr).validated()


def acquisition_values(args, found, found_sources):
    """Acquisition values: flags first, then the file's; with the source of each."""
    import numpy as np
    values, sources = dict(found), dict(found_sources)
    if args.frequency:
        values["frequencies_hz"], sources["frequencies_hz"] = list(args.frequency), "--frequency"
    if args.offsets:
        offsets = list(args.offsets)
        if args.offsets_unit == "deg" and len(offsets) > 1:
            offsets = np.radians(offsets).tolist()
        values["offsets"], sources["offsets"] = offsets, "--offsets"
    if args.directions:
        values["directions_ijk"] = [list(d) for d in args.directions]
        sources["directions_ijk"] = "--directions"
    if args.um_per_rad is not None:
        values["um_per_rad"], sources["um_per_rad"] = args.um_per_rad, "--um-per-rad"
    if args.meg:
        amplitude, cycles, meg_hz = args.meg
        values["meg"] = {"gradient_mT_per_m": amplitude, "cycles": cycles, "frequency_hz": meg_hz or None}
        sources["meg"] = "--meg"
    return values, sources


def run(args):
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.output_folder import OutputFolder
    settings = settings_from_args(args)
    from dataclasses import replace

    from .mre_files import read_phase_file
    with OutputFolder(args.out, "mre", getattr(args, "argv", ())) as out:     # --out checked first
        data = read_phase_file(args.phase, phase_units=args.phase_units)
        if "phase_units" in data.sources:            # DICOM: converted to rad by the reader
            settings = replace(settings, phase_units="rad")
            print(f"  phase units: {data.sources['phase_units']}")
        values, sources = acquisition_values(args, data.values, data.sources)
        scene = tme_scene.create_scene()
        try:
            return _analyse(args, settings, data, values, sources, scene, out)
        finally:
            tme_scene.release_scene(scene)


def _analyse(args, settings, data, values, sources, scene, out):
    import numpy as np

    from TMEMonitorLib import io
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError
    from TMEMonitorLib.fitting.status import describe
    from TMEMonitorLib.termination import checkpoint

    from .acquisition import build_acquisition
    from .logic import ElastographyLogic

    voxel_size_m = tuple(float(s) * 1e-3 for s in tme_scene.spacing_mm(data.ijk_to_ras)[::-1])
    phase_source = sources.get("um_per_rad") or sources.get("meg") or ""
    acquisition = build_acquisition(
        data.array.shape[0], voxel_size_m, values.get("frequencies_hz"), values.get("offsets"),
        directions_ijk=values.get("directions_ijk"), um_per_rad=values.get("um_per_rad"), meg=values.get("meg"),
        sources={"frequencies": sources.get("frequencies_hz", "?"), "offsets": sources.get("offsets", "?"),
                 "directions": sources.get("directions_ijk", "one component (no directions given)"),
                 "phase_scaling": phase_source, "voxel_size": sources.get("voxel_size", "image header")})
    mask_node = None
    if args.mask:
        from TMEMonitorLib.io.reader import place_on_grid
        volume = io.read_volume(args.mask)
        array = place_on_grid(volume, data.array.shape[1:], data.ijk_to_ras, "--mask")
        if array.shape != data.array.shape[1:]:
            raise InputError(f"--mask '{args.mask}': shape {volume.array.shape} differs from the phase images "
                             f"{data.array.shape[1:]}")
        mask_node = tme_scene.add_label_map(scene, array > 0, data.ijk_to_ras if array is not volume.array
                                            else volume.ijk_to_ras, "mask")
    elif getattr(data, "magnitude", None) is not None:
        # The magnitude series beside the DICOM phase images: its signal (the body) is the mask.
        from TMEMonitorLib.scene.signal_mask import signal_mask
        body = signal_mask(np.asarray(data.magnitude, float)[np.newaxis])
        mask_node = tme_scene.add_label_map(scene, body, data.ijk_to_ras, "mask")
        print("  mask: signal of the DICOM magnitude series")
    for key, text in acquisition.provenance.items():
        print(f"  {key}: {text}")
    result = ElastographyLogic(scene).run(data.array, settings, ijk_to_ras=data.ijk_to_ras, acquisition=acquisition,
                                          mask_node=mask_node)
    checkpoint("after-fit")
    for (method, name), node in result.map_nodes.items():
        tme_scene.write_node(node, out.path(f"{method}_{name}.nrrd"))
    checkpoint("files-staged")
    for method, node in result.status_nodes.items():
        tme_scene.write_node(node, out.path(f"status_{method}.nrrd"))
    tme_scene.write_node(result.table_node, out.path("statistics.csv"))
    tme_scene.save_scene(scene, out.path("mre.mrb"))
    out.commit()
    mrb = os.path.join(out.folder, "mre.mrb")
    analysis = result.analysis
    for note in analysis.notes:
        print(f"  {note}")
    for method, maps in analysis.results.items():
        print(f"  {method} status: {describe(maps['status'][analysis.mask])}")
    print(f"wrote {len(result.map_nodes)} maps, statistics and {mrb}")
    return 0
