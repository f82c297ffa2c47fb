"""``tme-monitor demo``: the whole chain on the built-in synthetic patient."""
import os
import time

from TMEMonitorLib import cli_options as opt
from TMEMonitorLib.progress_bar import ProgressBar


def add_parser(subparsers):
    parser = subparsers.add_parser("demo", help="run every analysis on the built-in synthetic patient on therapy")
    parser.add_argument("--out", default="demo-out", type=opt.output_folder(),
                        help="output folder (scene .mrb, NRRD maps, report) (default: %(default)s)")
    parser.add_argument("--size", default="default", choices=["tiny", "small", "default", "large"],
                        help="volume size of the synthetic patient (default: %(default)s)")
    parser.add_argument("--seed", type=opt.integer(0, 2 ** 32 - 1), default=0,
                        help="random seed (the demo is deterministic for a seed)")
    parser.add_argument("--visits", type=opt.integer(3, 20), default=3,
                        help="number of visits (3 to 20) (default: %(default)s)")
    parser.set_defaults(func=run)


def run(args):
    from TMEMonitorLib.output_folder import OutputFolder
    from TMEMonitorLib.termination import checkpoint

    from ..demo import SIZES, run_demo
    started = time.perf_counter()
    with OutputFolder(args.out, "demo", getattr(args, "argv", ())) as out:     # --out checked first
        print(f"TME Monitor demo: synthetic patient on therapy, size {args.size} {SIZES[args.size]}, seed {args.seed}")
        bar = ProgressBar("demo")
        checkpoint("inputs-read")
        outcome = run_demo(out.staging, size=args.size, seed=args.seed, n_visits=args.visits,
                           progress=bar, log=lambda text: print(text, flush=True), final_dir=out.folder)
        bar.done()
        checkpoint("files-staged")
        out.commit()
    print()
    print("Recovered versus true (tumour):")
    for line in outcome.summary_lines:
        print("  " + line)
    print()
    print(f"Scene:   {out.final_path(outcome.scene_path)}   (open it in 3D Slicer)")
    print(f"Report:  {out.final_path(outcome.report_html)}")
    print(f"Numbers: {out.final_path(outcome.report_json)}")
    print(f"Maps:    {len(outcome.files)} NRRD files under {os.path.join(out.folder, 'nrrd')}")
    print(f"Done in {time.perf_counter() - started:.0f} s.")
    return 0
