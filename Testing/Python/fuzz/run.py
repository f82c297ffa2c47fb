"""Build seeds, apply every mutation to each, restore, and tally outcomes (also a script:
``python Testing/Python/fuzz/run.py`` prints the table)."""
import collections
import os
import shutil
import sys
import tempfile
import time

import numpy as np

SEED = 20240611


def run_all(verbose=False):
    from . import classify, mutations, seeds
    folder = tempfile.mkdtemp(prefix="tme_fuzz_")
    outcomes = []
    start = time.time()
    try:
        for seed in seeds.build(folder):
            with open(seed.target, "rb") as handle:
                original = handle.read()
            reference = seed.read(seed.input_path)
            rng = np.random.default_rng([SEED, sum(seed.name.encode())])
            for label, mutate in mutations.for_seed(seed, original, rng):
                with open(seed.target, "wb") as handle:
                    handle.write(mutate(original, rng))
                outcome, detail = classify.run_case(seed, label, reference)
                outcomes.append((seed.name, label, outcome, detail))
                if verbose and outcome.startswith("FAILURE"):
                    print(seed.name, label, outcome, detail)
            with open(seed.target, "wb") as handle:
                handle.write(original)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return outcomes, time.time() - start


def summary(outcomes, seconds):
    counts = collections.Counter(outcome for _, _, outcome, _ in outcomes)
    lines = ["%d fuzz cases in %.1f s" % (len(outcomes), seconds)]
    lines += ["  %-55s %d" % (name, count) for name, count in sorted(counts.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    sys.path[:0] = [os.path.join(root, m) for m in ("TMEMonitor", "DCEModule", "DiffusionModule", "SpectroscopyModule")]
    sys.path.insert(0, os.path.join(root, "Testing", "Python"))
    from fuzz import run as module
    results, elapsed = module.run_all(verbose=True)
    print(summary(results, elapsed))
