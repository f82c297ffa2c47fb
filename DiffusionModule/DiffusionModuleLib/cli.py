"""``tme-monitor dwi``: diffusion maps from files, headless, on the same Logic as the Slicer module."""
import os

from TMEMonitorLib.cli.progress_bar import ProgressBar

from .settings import ADC_METHODS, IVIM_METHODS, DiffusionSettings


def add_parser(subparsers):
    parser = subparsers.add_parser("dwi", help="diffusion: ADC, IVIM and kurtosis maps from multi-b DWI")
    parser.add_argument("series", help="multi-b DWI: DICOM folder, 4D NIfTI with .bval, or .seq.nrrd")
    parser.add_argument("--out", required=True, help="output folder (maps as NRRD, statistics CSV, scene .mrb)")
    parser.add_argument("--series-select", help="series to read when the folder holds several")
    parser.add_argument("--mask", help="label map / mask volume (voxels > 0 are analysed)")
    parser.add_argument("--models", default="adc,ivim", help="comma-separated: adc, ivim, kurtosis")
    parser.add_argument("--adc-method", choices=ADC_METHODS, default="loglinear")
    parser.add_argument("--adc-b-range", nargs=2, type=float, metavar=("MIN", "MAX"))
    parser.add_argument("--ivim-method", choices=IVIM_METHODS, default="full")
    parser.add_argument("--b-threshold", type=float, default=200.0)
    parser.add_argument("--bvals", help="b-values (s/mm2), comma separated, overriding the file's")
    parser.add_argument("--clip", type=float, help="saturation value to exclude (e.g. 4095)")
    parser.add_argument("--rician", type=float, metavar="SIGMA", help="Rician noise-floor correction with this sigma")
    parser.add_argument("--high-b", default="1400", help="computed high-b images (s/mm2), comma separated")
    parser.set_defaults(func=run)


def run(args):
    import numpy as np

    from TMEMonitorLib import io
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError
    from TMEMonitorLib.fitting.status import describe

    from .logic import DiffusionLogic

    chosen = {m.strip() for m in args.models.split(",") if m.strip()}
    unknown = chosen - {"adc", "ivim", "kurtosis"}
    if unknown:
        raise InputError(f"--models: unknown model(s) {', '.join(sorted(unknown))}")
    settings = DiffusionSettings(
        fit_adc="adc" in chosen, fit_ivim="ivim" in chosen, fit_kurtosis="kurtosis" in chosen,
        adc_method=args.adc_method, adc_b_min=args.adc_b_range[0] if args.adc_b_range else None,
        adc_b_max=args.adc_b_range[1] if args.adc_b_range else None, ivim_method=args.ivim_method,
        ivim_b_threshold=args.b_threshold, clip_value=args.clip, rician_correction=args.rician is not None,
        noise_sigma=args.rician, high_b_values=tuple(float(v) for v in args.high_b.split(",") if v)).validated()
    overrides = {"axis_name": "b"}
    if args.series_select:
        overrides["series"] = args.series_select
    if args.bvals:
        overrides["axis_values"] = [float(v) for v in args.bvals.split(",")]
    series = io.read_series(args.series, **overrides)
    for warning in series.warnings:
        print(f"warning: {warning}")
    print(f"DWI series: b = {', '.join(f'{v:g}' for v in series.axis_values)} s/mm2 "
          f"from {series.provenance.get('axis_values', '?')}")
    scene = tme_scene.create_scene()
    node = tme_scene.array_to_sequence(scene, series.array, series.axis_values, series.ijk_to_ras, "DWI",
                                       axis_name="b", axis_source=series.provenance.get("axis_values"))
    mask_node = None
    if args.mask:
        volume = io.read_volume(args.mask)
        if volume.array.shape != series.array.shape[1:]:
            raise InputError(f"mask '{args.mask}': shape {volume.array.shape} differs from the DWI volume")
        mask_node = tme_scene.add_label_map(scene, volume.array > 0, volume.ijk_to_ras, "mask")
    bar = ProgressBar("DWI")
    result = DiffusionLogic(scene).run(node, settings, mask_node=mask_node, name_prefix="DWI", progress=bar)
    bar.done()
    os.makedirs(args.out, exist_ok=True)
    for name, map_node in result.map_nodes.items():
        tme_scene.write_node(map_node, os.path.join(args.out, f"{name}.nrrd"))
    for b, map_node in result.high_b_nodes.items():
        tme_scene.write_node(map_node, os.path.join(args.out, f"computed_b{b:g}.nrrd"))
    for model, status_node in result.status_nodes.items():
        tme_scene.write_node(status_node, os.path.join(args.out, f"fit_status_{model}.nrrd"))
        print(f"  {model} fit status: {describe(tme_scene.volume_to_array(status_node)[result.analysis.mask])}")
    tme_scene.write_node(result.table_node, os.path.join(args.out, "statistics.csv"))
    mrb = tme_scene.save_scene(scene, os.path.join(args.out, "dwi.mrb"))
    for note in result.analysis.notes:
        print("  " + note)
    print(f"wrote {len(result.map_nodes)} maps, statistics and {mrb}")
    del np
    return 0
