"""Timing helper shared by the benchmarks (imports nothing of the project, so a benchmark that runs
another checkout's code can use it without mixing the two)."""
import time

import numpy as np


def best_seconds(run, repeats=3):
    """(fastest wall-clock seconds of ``repeats`` calls of ``run()``, the last call's result): other
    jobs on a shared machine only ever slow a run down."""
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result
