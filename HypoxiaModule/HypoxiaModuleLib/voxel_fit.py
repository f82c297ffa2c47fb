"""Shared machinery of the voxel-wise relaxation fits (fit_r2star, the EPG R2 fit): checked inputs,
chunks of voxels, and chunks fitted on threads (numpy releases the GIL inside each operation)."""
import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import report

from . import noise_floor
from .echo_times import checked_echo_times

# Chunks fitted in parallel when ``threads`` is None. One: on the 2-core machine 2 threads gave
# 0.9-1.5x (log-linear), 1.3x (NLLS), 0.9-1.2x (ARLO), 0.9-1.1x (EPG) (benchmark_r2star_fit.py,
# 2026-12-03), under the project's 1.6x bar for threading by default (issue 19): the fits are
# memory-bound and two threads contend for the cache. ``threads=2`` remains available.
# 2026-12-04: 1.24x (log-linear), 1.43x (NLLS), 1.17x (ARLO), 1.06x (EPG). Part of the shortfall is
# OpenBLAS's own threads: two Python threads that each call BLAS oversubscribe the cores (the
# log-linear fit on 2 threads gave 1.01-1.06x with OpenBLAS's default threads and 1.23x with
# OPENBLAS_NUM_THREADS=1, which a Slicer module cannot set once numpy is loaded).
DEFAULT_THREADS = 1


def _over_voxels(value, lead, name, dtype=float):
    arr = np.asarray(value, dtype=dtype)
    try:
        return np.broadcast_to(arr, lead).reshape(-1)
    except ValueError:
        raise InputError(f"{name}: shape {arr.shape} does not match the signal's voxel shape {lead}") from None


def prepared(signal, echo_times_s, mask, noise_sigma, noise_floor_snr, gradient_factors=None):
    """The checked inputs of a voxel-wise relaxation fit (shared by fit_r2star and the EPG R2 fit):
    a dict with "signal" (magnitudes, float32/64), "te" (s), "flat" (voxels, echoes), "lead" (voxel
    shape), "n_vox", "selected" (bool over voxels), "factors" ((voxels, echoes) or None), "floor"
    (the echo floor: None, a scalar or per voxel), "noise_sigma" and "noise_sigma_source"."""
    s = np.asarray(signal)
    if np.iscomplexobj(s):
        s = np.abs(s)
    if s.dtype not in (np.float32, np.float64):
        s = s.astype(float)                    # float32 stays as it is: converted chunk by chunk
    if s.ndim < 1:
        raise InputError("signal: expected an array shaped (..., n_echoes)")
    te = checked_echo_times(echo_times_s, s.shape[-1])
    lead = s.shape[:-1]
    flat = s.reshape(-1, te.size)
    n_vox = flat.shape[0]
    selected = np.ones(n_vox, bool) if mask is None else _over_voxels(mask, lead, "mask", bool)
    sigma_source = "no noise floor applied"
    if isinstance(noise_sigma, str):
        if noise_sigma != "auto":
            raise InputError(f"noise_sigma: '{noise_sigma}' is neither a number, 'auto' nor None")
        sigma, sigma_source = noise_floor.estimate_noise_sigma(s, None if mask is None else selected.reshape(lead))
    elif noise_sigma is not None:
        sigma = noise_sigma
        sigma_source = "given"
    else:
        sigma = None
    floor = None
    if sigma is not None:
        sigma_flat = _over_voxels(sigma, lead, "noise_sigma")
        if not np.all(np.isfinite(sigma_flat)) or np.any(sigma_flat < 0):
            raise InputError("noise_sigma: must be finite and non-negative")
        floor = np.maximum(float(noise_floor_snr) * (float(sigma) if np.ndim(sigma) == 0 else sigma_flat), 0.0)
    factors = None
    if gradient_factors is not None:
        factors = np.asarray(gradient_factors, dtype=float)
        if factors.shape != s.shape:
            raise InputError(f"gradient_factors: shape {factors.shape} differs from the signal's {s.shape}")
        factors = factors.reshape(-1, te.size)
    return {"signal": s, "te": te, "flat": flat, "lead": lead, "n_vox": n_vox, "selected": selected,
            "factors": factors, "floor": floor, "noise_sigma_source": sigma_source,
            "noise_sigma": None if sigma is None else (float(sigma) if np.ndim(sigma) == 0 else sigma)}


def voxel_chunks(selected, chunk_size, threads=None):
    """Chunks of the selected voxels: slices (views) when every voxel is selected, else index arrays.

    At most ``chunk_size`` voxels each, in a number of equal chunks that is a multiple of the threads
    (7 chunks on 2 threads would keep one thread idle for a seventh of the time)."""
    n_todo = int(np.count_nonzero(selected))
    workers = _thread_count(threads)
    n_chunks = -(-n_todo // max(int(chunk_size), 1))
    if workers > 1 and n_chunks > 1:
        n_chunks = -(-n_chunks // workers) * workers
    chunk_size = max(-(-n_todo // max(n_chunks, 1)), 1)
    n_vox = selected.size
    if selected.all():
        return [slice(start, min(start + chunk_size, n_vox)) for start in range(0, n_vox, chunk_size)]
    todo = np.flatnonzero(selected)
    return [todo[start:start + chunk_size] for start in range(0, todo.size, chunk_size)]


def _thread_count(threads):
    return DEFAULT_THREADS if threads is None else max(int(threads), 1)


def run_chunks(work, chunks, threads, progress, message):
    """``work(chunk)`` for every chunk, on ``threads`` threads; progress reported from this thread."""
    total = max(sum(c.stop - c.start if isinstance(c, slice) else c.size for c in chunks), 1)
    threads = min(_thread_count(threads), max(len(chunks), 1))
    done = 0
    if threads == 1:
        for chunk in chunks:
            done += work(chunk)
            report(progress, done / total, message)
        return
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(work, chunk) for chunk in chunks]
        try:
            for future in futures:
                done += future.result()
                report(progress, done / total, message)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
