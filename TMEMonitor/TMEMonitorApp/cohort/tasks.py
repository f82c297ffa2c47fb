"""One patient as one task (run in a Dask worker process or in this process): outputs written
in a partial folder and renamed into place when complete; an error is recorded, not raised.

``KeyboardInterrupt`` / ``SystemExit`` (a run being stopped) are not caught: the partial folder
stays behind, is removed at the next start, and the patient's previous folder is untouched.
"""
import os
import time
import traceback

from . import status as status_files

STAGE_TOPIC = "tme-cohort-stage"


def process_patient(spec, settings, out_dir, input_hash, progress=None):
    """Returns {patient, folder, state ("done"/"failed"), error, seconds, rows, responses}."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    started = time.perf_counter()
    report = progress or _worker_reporter(spec.patient)
    partial = status_files.new_partial_folder(out_dir, spec.folder)
    final = os.path.join(out_dir, spec.folder)
    record = {"patient": spec.patient, "folder": spec.folder, "site": spec.site, "input_hash": input_hash,
              "pid": os.getpid(), "run_token": os.path.basename(partial)}
    threads = _itk_threads(1)      # one thread per task: workers run side by side; same numbers as serial
    try:
        from . import patient_runner
        result = patient_runner.run_patient(spec, settings, partial, progress=report)
        record.update(state="done", error="", rows=result["rows"], responses=result["responses"],
                      outputs=result["outputs"])
    except Exception as error:                # the patient fails alone; the others go on
        import shutil
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        record.update(state="failed", error=f"{type(error).__name__}: {error}", traceback=traceback.format_exc(),
                      rows=[], responses=[], outputs=[])
    finally:
        _itk_threads(threads)
    record["seconds"] = round(time.perf_counter() - started, 3)
    status_files.write_json(os.path.join(partial, status_files.STATUS_FILE), record)
    status_files.commit_folder(partial, final)
    report(1.0, record["state"])
    return record


def _itk_threads(count):
    """Set SimpleITK's default thread count; returns the previous one."""
    import SimpleITK as sitk
    previous = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(count)
    return previous


def _worker_reporter(patient):
    """Stage progress from a Dask worker: events the client subscribes to (no-op elsewhere)."""
    try:
        from distributed import get_worker
        worker = get_worker()
    except (ImportError, ValueError):
        return lambda fraction, message="": None
    last = [-1.0]

    def report(fraction, message=""):
        if fraction - last[0] >= 0.05 or fraction >= 1.0:       # at most ~20 events per patient
            last[0] = fraction
            worker.log_event(STAGE_TOPIC, {"patient": patient, "fraction": float(fraction), "message": message})
    return report
