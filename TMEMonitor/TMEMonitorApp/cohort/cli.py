"""``tme-monitor cohort demo`` and ``tme-monitor cohort run`` (headless only)."""
import os
import sys
import time


def add_parser(subparsers):
    from TMEMonitorLib import cli_options as opt
    parser = subparsers.add_parser("cohort", help="a trial's patients and visits in parallel on Dask "
                                                  "(synthetic demo cohort, run, resume, harmonise)")
    commands = parser.add_subparsers(dest="cohort_command", metavar="{demo,run}",
                                     help="demo: write a synthetic multi-site cohort; run: process a manifest")
    demo = commands.add_parser("demo", help="write a synthetic multi-site cohort with known truth and site effects")
    demo.add_argument("--patients", type=opt.integer(1, 10000), default=8, help="number of patients (default: %(default)s)")
    demo.add_argument("--sites", type=opt.integer(1, 1000), default=2, help="number of sites (default: %(default)s)")
    demo.add_argument("--visits", type=opt.integer(2, 5), default=3, help="visits per patient, 2 to 5 (default: %(default)s)")
    demo.add_argument("--size", default="tiny", choices=["tiny", "small", "default"],
                      help="volume size of each synthetic patient (default: %(default)s)")
    demo.add_argument("--out", required=True, type=opt.output_folder(), help="output folder (data, manifest.csv, external.csv, truth.json)")
    demo.add_argument("--seed", type=opt.integer(0, 2 ** 32 - 1), default=0, help="random seed (default: %(default)s)")
    demo.add_argument("--techniques", default="dce,dwi", type=opt.text(),
                      help="registered techniques whose acquisitions each visit gets, comma separated "
                           "(default: %(default)s; e.g. dce,dwi,mrs)")
    demo.set_defaults(func=run_demo)
    run = commands.add_parser("run", help="process every patient of a manifest and write the cohort table and report")
    run.add_argument("manifest", type=opt.existing_path("manifest CSV or BIDS-like folder"), help="manifest CSV (patient, visit, date, role, path, site) or a BIDS-like folder")
    run.add_argument("--out", required=True, type=opt.output_folder(), help="output folder")
    run.add_argument("--settings", type=opt.existing_file("settings file"), help="settings file (JSON, or YAML with PyYAML installed)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--scheduler", type=opt.text(), help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--workers", type=opt.integer(1, 4096), help="worker processes of the local cluster (default: sized to the machine)")
    where.add_argument("--serial", action="store_true", help="run the patients one by one in this process (no Dask)")
    run.add_argument("--connect-timeout", type=opt.positive(86400.0, "s"), default=10.0,
                     help="seconds to wait for --scheduler before giving up (default: %(default)s)")
    run.add_argument("--resume", action="store_true",
                     help="skip patients whose outputs are complete and whose inputs and settings are unchanged")
    run.add_argument("--skip-invalid", action="store_true", help="run the valid patients when the manifest has problems")
    run.add_argument("--external", type=opt.existing_file("external biomarker CSV"), help="CSV of non-imaging biomarkers: patient, date, analyte, value, unit")
    run.add_argument("--harmonise", action="store_true", help="ComBat harmonisation across sites (settings: harmonisation)")
    run.set_defaults(func=run_cohort)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def run_demo(args):
    from TMEMonitorLib.errors import InputError

    from .synthetic import write_demo_cohort
    if args.patients < 1:
        raise InputError("--patients: at least 1")
    names = [n.strip().lower() for n in (args.techniques or "").split(",") if n.strip()]
    if not names:
        raise InputError("--techniques: give at least one technique name (e.g. dce,dwi)")
    from .patient_runner import demo_techniques
    techniques = [t.name for t in demo_techniques(names, flag="--techniques")]
    started = time.perf_counter()
    print(f"Synthetic cohort: {args.patients} patients, {args.sites} sites, {args.visits} visits, size {args.size}, "
          f"seed {args.seed}, techniques {', '.join(techniques)}")
    path = write_demo_cohort(args.out, args.patients, args.sites, seed=args.seed, n_visits=args.visits, size=args.size,
                             techniques=techniques, log=lambda text: print(text, flush=True))
    out = os.path.dirname(path)
    print(f"Manifest: {path}")
    print(f"External: {os.path.join(out, 'external.csv')} (ctDNA)")
    print(f"Truth:    {os.path.join(out, 'truth.json')}")
    print(f"Done in {time.perf_counter() - started:.0f} s. Next: tme-monitor cohort run {path} --out results/ "
          f"--external {os.path.join(out, 'external.csv')} --harmonise")
    return 0


def run_cohort(args):
    from TMEMonitorLib.progress_bar import ProgressBar
    from TMEMonitorLib.errors import InputError

    from .runner import run_cohort as run
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers: at least 1")
    bar = ProgressBar("cohort")
    try:
        outcome = run(args.manifest, args.out, settings_path=args.settings, scheduler=args.scheduler,
                      workers=args.workers, resume=args.resume, skip_invalid=args.skip_invalid,
                      external_path=args.external, harmonise=args.harmonise, serial=args.serial,
                      connect_timeout_s=args.connect_timeout, log=lambda text: print(text, flush=True), progress=bar)
    except InputError as error:
        print(f"tme-monitor cohort run: error: {error}", file=sys.stderr)
        return 2
    return outcome.exit_code
