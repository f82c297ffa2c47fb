"""Cohort throughput: patients/minute serial-reference, 1 and 2 Dask workers, and the Dask
scheduler overhead per task (an empty task's round trip), in one run.

    python Testing/benchmarks/benchmark_cohort.py [--patients 4] [--visits 2]

Baseline: the serial in-process run of the same cohort (no Dask)."""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for folder in ("TMEMonitor", "DCEModule", "DiffusionModule", "SpectroscopyModule"):
    sys.path.insert(0, os.path.join(ROOT, folder))
os.environ.setdefault("MPLBACKEND", "Agg")


def _noop(x):
    return x


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=4)
    parser.add_argument("--visits", type=int, default=2)
    args = parser.parse_args()
    from TMEMonitorApp.cohort import runner
    from TMEMonitorApp.cohort.synthetic import write_demo_cohort
    root = tempfile.mkdtemp(prefix="tme-cohort-bench-")
    manifest = write_demo_cohort(os.path.join(root, "demo"), args.patients, 2, seed=0, n_visits=args.visits)
    settings = os.path.join(root, "settings.json")
    with open(settings, "w") as stream:
        json.dump({"dwi": {"fit_ivim": False}}, stream)
    quiet = lambda *a, **k: None  # noqa: E731
    figures = {}
    for label, options in (("serial (baseline)", {"serial": True}), ("1 worker", {"workers": 1}),
                           ("2 workers", {"workers": 2})):
        started = time.perf_counter()
        outcome = runner.run_cohort(manifest, os.path.join(root, label.split()[0]), settings_path=settings, log=quiet,
                                    **options)
        seconds = time.perf_counter() - started
        assert outcome.exit_code == 0, outcome.failed
        figures[label] = args.patients / seconds * 60.0
        print(f"{label:18s}: {args.patients} patients x {args.visits} visits in {seconds:6.1f} s = "
              f"{figures[label]:5.2f} patients/minute (incl. cluster start)", flush=True)
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.submit(_noop, 0, pure=False).result()
        count = 200
        started = time.perf_counter()
        for index in range(count):
            client.submit(_noop, index, pure=False).result()
        print(f"scheduler overhead : {1e3 * (time.perf_counter() - started) / count:.1f} ms per task "
              f"(empty task round trip, sequential)")
    print(f"speed-up 2 workers vs 1: {figures['2 workers'] / figures['1 worker']:.2f}x "
          f"(on {os.cpu_count()} cores, shared)")


if __name__ == "__main__":
    main()
