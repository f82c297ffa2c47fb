"""``tme-monitor report SCENE.mrb --out DIR``: the longitudinal report of a saved patient scene.

The report (report.html, report.json, figures/) is staged and swapped into DIR as one set
(TMEMonitorLib.output_folder), with DIR/manifest.json."""
import argparse

from TMEMonitorLib import cli_options as opt


def add_parser(subparsers):
    parser = subparsers.add_parser("report", help="longitudinal report (HTML + JSON) of a patient in a saved scene",
                                   description="Longitudinal report of a patient in a saved scene: report.html "
                                               "(one self-contained page by default) and report.json.")
    parser.add_argument("scene", type=opt.text(),       # existence checked when read (load_scene names it)
                        help="Slicer scene bundle (.mrb) holding the patient, visits and their maps")
    parser.add_argument("--out", required=True, type=opt.output_folder(),
                        help="output folder for report.html, report.json and figures/")
    parser.add_argument("--patient", type=opt.text(), help="patient name (default: the only patient in the scene)")
    parser.add_argument("--organ", default="breast", choices=["breast", "brain", "prostate", "liver"],
                        help="organ: chooses the response criteria (RANO 2.0 for brain, RECIST 1.1 otherwise) and "
                             "the repeatability coefficients (default: %(default)s)")
    parser.add_argument("--register", choices=["none", "rigid", "affine", "bspline"], default="rigid",
                        help="register the visits to baseline first (default: %(default)s)")
    parser.add_argument("--embed-images", action=argparse.BooleanOptionalAction, default=True,
                        help="put the figures inside report.html (base64) so that the one file can be mailed; "
                             "--no-embed-images links figures/*.png instead (default: embedded)")
    parser.set_defaults(func=run)


def run(args):
    import os

    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError
    from TMEMonitorLib.output_folder import OutputFolder
    from TMEMonitorLib.termination import checkpoint

    from .. import dashboard
    if not args.scene.lower().endswith(".mrb"):
        raise InputError(f"scene '{args.scene}': expected a Slicer scene bundle (.mrb)")
    with OutputFolder(args.out, "report", getattr(args, "argv", ())) as out:     # --out checked first
        scene = tme_scene.load_scene(args.scene)
        try:
            path = _report(args, scene, out, dashboard, checkpoint)
        finally:
            tme_scene.release_scene(scene)
        out.commit()
    print(f"Report: {os.path.join(out.folder, os.path.basename(path))}")
    return 0


def _report(args, scene, out, dashboard, checkpoint):
    from TMEMonitorLib.errors import InputError
    checkpoint("inputs-read")
    patients = dashboard.list_patients(scene)
    if args.patient:
        patients = [p for p in patients if p[1] == args.patient]
    if len(patients) != 1:
        names = ", ".join(name for _, name in dashboard.list_patients(scene)) or "none"
        raise InputError(f"scene '{args.scene}': choose one patient with --patient (patients: {names})")
    patient_item, name = patients[0]
    registration = None
    if args.register != "none":
        registration = dashboard.register_visits(scene, patient_item, method=args.register)
        print(registration.summary())
    response = dashboard.compute_response(scene, patient_item, organ=args.organ, registration=registration)
    print(response.summary())
    checkpoint("after-fit")
    path = dashboard.write_report(scene, patient_item, out.staging, response=response, organ=args.organ,
                                  embed_images=args.embed_images)
    print(f"Report of {name}: written")
    return path
