"""``tme-monitor demo``: the whole chain on the built-in synthetic patient."""
import os
import time

from TMEMonitorLib.progress_bar import ProgressBar


def add_parser(subparsers):
    parser = subparsers.add_parser("demo", help="run every analysis on the built-in synthetic patient on therapy")
    parser.add_argument("--out", default="demo-out", help="output folder (scene .mrb, NRRD maps, report) (default: %(default)s)")
    parser.add_argument("--size", default="default", choices=["tiny", "small", "default", "large"],
                        help="volume size of the synthetic patient (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (the demo is deterministic for a seed)")
    parser.add_argument("--visits", type=int, default=3, help="number of visits (at least 3) (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args):
    from TMEMonitorLib.errors import InputError

    from ..demo import SIZES, run_demo
    if args.visits < 3:
        raise InputError("--visits: the demo needs at least 3 visits (baseline and two follow-ups)")
    started = time.perf_counter()
    print(f"TME Monitor demo: synthetic patient on therapy, size {args.size} {SIZES[args.size]}, seed {args.seed}")
    bar = ProgressBar("demo")
    outcome = run_demo(os.path.abspath(args.out), size=args.size, seed=args.seed, n_visits=args.visits,
                       progress=bar, log=lambda text: print(text, flush=True))
    bar.done()
    print()
    print("Recovered versus true (tumour):")
    for line in outcome.summary_lines:
        print("  " + line)
    print()
    print(f"Scene:   {outcome.scene_path}   (open it in 3D Slicer)")
    print(f"Report:  {outcome.report_html}")
    print(f"Numbers: {outcome.report_json}")
    print(f"Maps:    {len(outcome.files)} NRRD files under {os.path.join(outcome.out_dir, 'nrrd')}")
    print(f"Done in {time.perf_counter() - started:.0f} s.")
    return 0
