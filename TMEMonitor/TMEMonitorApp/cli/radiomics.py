"""``tme-monitor radiomics``: IBSI features of an image inside a mask, or of a saved patient scene.

- ``tme-monitor radiomics IMAGE --mask MASK --out DIR [--settings FILE | --preset NAME] [--label N ...]``
- ``tme-monitor radiomics SCENE.mrb --out DIR [--patient NAME] [--regions ...] [--maps ...]``
  (every visit, region (tumour, habitats) and map, plus the deltas from baseline)

Writes features.csv (long format), settings.json (the resolved settings and their hash) and
summary.txt (plus deltas.csv for a scene). Bad input is reported naming the flag, before any
file is written.
"""
import math
import os

SIZE_FEATURES = ("morph_volume", "stat_mean", "stat_cov", "ih_entropy")


def add_parser(subparsers):
    from TMEMonitorLib import cli_options as opt

    from ..radiomics import PRESET_CHOICES
    parser = subparsers.add_parser(
        "radiomics", help="IBSI radiomics features of an image in a mask, or of every visit of a saved scene")
    parser.add_argument("image", metavar="IMAGE",
                        help="image file (NIfTI, NRRD ...) or a saved patient scene (.mrb)")
    parser.add_argument("--mask", help="mask / label map on the image grid (image files only)")
    parser.add_argument("--out", required=True, type=opt.output_folder(), help="output folder for features.csv, settings.json, summary.txt")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--settings", type=opt.existing_file("settings file"), help="parameter file (JSON; YAML when PyYAML is installed): "
                                          "interpolation, re-segmentation, discretisation, families ...")
    group.add_argument("--preset", type=opt.text(), help=f"settings preset: {', '.join(PRESET_CHOICES)} (default: default)")
    parser.add_argument("--label", type=int, nargs="+", metavar="N",
                        help="mask label value(s), one region each (default: every non-zero voxel as one region)")
    parser.add_argument("--name", type=opt.text(), help="image name in the table (default: the file name)")
    parser.add_argument("--patient", type=opt.text(), help="scene: patient name (default: the only patient)")
    parser.add_argument("--regions", nargs="+", choices=["tumour", "habitats"], default=["tumour", "habitats"],
                        help="scene: regions (default: %(default)s)")
    parser.add_argument("--maps", nargs="+", metavar="MAP", type=opt.text(),
                        help="scene: images by name (anatomy, Ktrans, ADC ...; default: the anatomy and every "
                             "technique map)")
    parser.add_argument("--organ", default="breast", choices=["breast", "brain", "prostate", "liver"],
                        help="scene: organ for the repeatability of the tumour mean ADC (default: %(default)s)")
    parser.set_defaults(func=run)


def _is_scene(path):
    return path.lower().endswith(".mrb")


def run(args):
    from TMEMonitorLib.errors import InputError

    from ..radiomics import load_settings
    if not os.path.exists(args.image):
        raise InputError(f"IMAGE '{args.image}': file not found")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise InputError(f"--out '{args.out}' is a file, not a folder")
    settings = load_settings(args.settings, args.preset, file_flag="--settings", preset_flag="--preset")
    if _is_scene(args.image):
        if args.mask or args.label:
            raise InputError("--mask and --label are for an image file; a scene brings its own tumour and habitats")
        return _run_scene(args, settings)
    if not args.mask:
        raise InputError(f"--mask is required for the image file '{args.image}' (or give a .mrb scene)")
    return _run_files(args, settings)


def _read(path, flag):
    import SimpleITK as sitk

    from TMEMonitorLib.errors import InputError
    if not os.path.isfile(path):
        raise InputError(f"{flag} '{path}': file not found")
    try:
        return sitk.ReadImage(path)
    except RuntimeError as error:
        raise InputError(f"{flag} '{path}': cannot read it as an image: {str(error).strip().splitlines()[-1]}") from None


def _regions(mask, labels, mask_path):
    import numpy as np
    import SimpleITK as sitk

    from TMEMonitorLib.errors import InputError
    values = sitk.GetArrayFromImage(mask)
    if values.dtype.kind == "f":
        values = np.rint(values)
    present = sorted(int(v) for v in np.unique(values) if v != 0)
    if not present:
        raise InputError(f"--mask '{mask_path}' is empty (no non-zero voxel)")

    def image_of(selected):
        out = sitk.GetImageFromArray(selected.astype(np.uint8))
        out.CopyInformation(mask)
        return out

    if not labels:
        return {"mask": image_of(values != 0)}
    missing = [n for n in labels if n not in present]
    if missing:
        raise InputError(f"--label {' '.join(map(str, missing))}: not in --mask '{mask_path}' "
                         f"(labels present: {', '.join(map(str, present))})")
    return {f"label {n}": image_of(values == n) for n in labels}


def _files_summary(args, rows, settings, regions):
    from TMEMonitorLib.radiomics import settings_hash
    nan = [r for r in rows if not (isinstance(r["value"], float) and math.isfinite(r["value"]))]
    lines = [f"Radiomics of {args.image} in {args.mask}", f"settings {settings_hash(settings)}"
             + (f" (preset {settings['preset']})" if settings.get("preset") else "")
             + f"; discretisation {settings['discretisation']}; interpolation {settings['interpolation']}",
             f"{len(rows)} feature values, {len(nan)} NaN (flagged)"]
    reasons = {}
    for row in nan:
        reasons.setdefault(row["flag"] or "undefined", []).append(row["feature"])
    for reason, tags in reasons.items():
        lines.append(f"  NaN x{len(tags)}: {reason}")
    for region in regions:
        values = {r["feature"]: r for r in rows if r["region"] == region}
        shown = ", ".join(f"{t} = {values[t]['value']:.6g} {values[t]['unit']}".rstrip()
                          for t in SIZE_FEATURES if t in values)
        lines.append(f"  {region}: {shown}")
    return "\n".join(lines)


def _run_files(args, settings):
    from TMEMonitorLib.errors import InputError
    from TMEMonitorLib.radiomics import run_radiomics_for_images
    from TMEMonitorLib.radiomics.image_input import check_same_geometry

    from ..radiomics import write_outputs
    image = _read(args.image, "IMAGE")
    mask = _read(args.mask, "--mask")
    try:
        check_same_geometry(image, mask)
    except InputError as error:
        raise InputError(f"--mask '{args.mask}' does not match IMAGE '{args.image}': {error}") from None
    regions = _regions(mask, args.label, args.mask)
    name = args.name or os.path.basename(args.image).split(".")[0]
    rows = run_radiomics_for_images({name: image}, regions, settings)
    summary = _files_summary(args, rows, settings, list(regions))
    paths = write_outputs(args.out, rows, settings, summary)
    print(summary)
    print(f"Wrote {paths['features']}, {paths['settings']}, {paths['summary']}")
    return 0


def _run_scene(args, settings):
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError

    from .. import dashboard
    from ..radiomics import compute_patient_radiomics, write_result
    scene = tme_scene.load_scene(args.image)
    patients = dashboard.list_patients(scene)
    if args.patient:
        patients = [p for p in patients if p[1] == args.patient]
    if len(patients) != 1:
        names = ", ".join(name for _, name in dashboard.list_patients(scene)) or "none"
        raise InputError(f"scene '{args.image}': choose one patient with --patient (patients: {names})")
    result = compute_patient_radiomics(scene, patients[0][0], settings, regions=args.regions, images=args.maps,
                                       organ=args.organ)
    paths = write_result(args.out, result)
    print(result.summary())
    print("Wrote " + ", ".join(paths[k] for k in ("features", "deltas", "settings", "summary")))
    return 0
