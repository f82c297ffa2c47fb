"""``tme-monitor report SCENE.mrb --out DIR``: the longitudinal report of a saved patient scene."""


def add_parser(subparsers):
    parser = subparsers.add_parser("report", help="longitudinal report (HTML + JSON) of a patient in a saved scene")
    parser.add_argument("scene", help="Slicer scene bundle (.mrb) holding the patient, visits and their maps")
    parser.add_argument("--out", required=True, help="output folder for report.html, report.json and figures")
    parser.add_argument("--patient", help="patient name (default: the only patient in the scene)")
    parser.add_argument("--organ", default="breast", choices=["breast", "brain", "prostate", "liver"],
                        help="organ for the ADC repeatability coefficient (default: %(default)s)")
    parser.add_argument("--register", choices=["none", "rigid", "affine", "bspline"], default="rigid",
                        help="register the visits to baseline first (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args):
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.errors import InputError

    from .. import dashboard
    scene = tme_scene.load_scene(args.scene)
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
    path = dashboard.write_report(scene, patient_item, args.out, response=response, organ=args.organ)
    print(f"Report of {name}: {path}")
    return 0
