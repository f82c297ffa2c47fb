"""Running the patient tasks: in this process (serial, for debugging and as the reference) or on
``dask.distributed`` (an existing scheduler, or a LocalCluster of worker processes sized to the
machine). One task per patient; its visits run in order inside it. Dask is imported here only."""
import logging
import os
import threading
import time

from TMEMonitorLib.errors import InputError

from . import tasks

MEMORY_PER_WORKER_GB = 2.0          # a tiny-to-default patient scene with its fits stays well below this


class CannotStart(InputError):
    """The run could not start (exit status 2)."""


class Progress:
    """Overall progress over patients and their stages, into one ``progress(fraction, message)``."""

    def __init__(self, total, progress):
        self.total = max(total, 1)
        self.progress = progress or (lambda fraction, message="": None)
        self.fractions = {}
        self.finished = 0
        self.lock = threading.Lock()

    def stage(self, patient, fraction, message=""):
        with self.lock:
            self.fractions[patient] = min(max(fraction, 0.0), 1.0)
            self._show(f"{patient}: {message}")

    def done(self, patient, state):
        with self.lock:
            self.fractions.pop(patient, None)
            self.finished += 1
            self._show(f"{patient} {state} ({self.finished}/{self.total} patients)")

    def _show(self, message):
        self.progress((self.finished + sum(self.fractions.values())) / self.total, message)


def default_workers():
    """Worker processes for this machine: one per core, fewer when memory is short."""
    cores = os.cpu_count() or 1
    try:
        import psutil
        memory_gb = psutil.virtual_memory().total / 1e9
        return max(1, min(cores, int(memory_gb // MEMORY_PER_WORKER_GB)))
    except ImportError:
        return cores


def run_serial(jobs, settings, out_dir, progress=None, on_record=None):
    tracker = Progress(len(jobs), progress)
    records = []
    for spec, input_hash in jobs:
        record = tasks.process_patient(spec, settings, out_dir, input_hash,
                                       progress=lambda f, m="", p=spec.patient: tracker.stage(p, f, m))
        tracker.done(spec.patient, record["state"])
        records.append(record)
        if on_record:
            on_record(record)
    return records


def connect(scheduler=None, workers=None, connect_timeout_s=10.0, log=print):
    """(client, cluster or None). An unreachable scheduler raises CannotStart after ``connect_timeout_s``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CannotStart("cohort runs need dask.distributed: pip install 'tme-monitor[cohort]' "
                          "(or pip install dask distributed pyarrow); --serial runs without it") from None
    if scheduler:
        started = time.perf_counter()
        try:
            client = Client(scheduler, timeout=f"{connect_timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise CannotStart(f"--scheduler: could not reach the Dask scheduler at '{scheduler}' within "
                              f"{connect_timeout_s:g} s ({type(error).__name__}: {error}); check the address "
                              "(tcp://host:8786), that the scheduler is running and that its port is open "
                              f"[{time.perf_counter() - started:.1f} s]") from None
        _check_workers(client, scheduler)
        return client, None
    count = workers or default_workers()
    cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    client = Client(cluster, set_as_default=False)
    return client, cluster


def _importable():
    import importlib.util
    return importlib.util.find_spec("TMEMonitorApp.cohort.tasks") is not None


def _check_workers(client, scheduler):
    answers = client.run(_importable)
    if not answers:
        return                                      # no worker yet: tasks wait until one joins
    missing = [address for address, ok in answers.items() if not ok]
    if missing:
        client.close()
        raise CannotStart(f"--scheduler '{scheduler}': worker(s) {', '.join(missing)} cannot import TME Monitor; "
                          "install it in the workers' environment (pip install 'tme-monitor[cohort]')")


def dashboard_line(client):
    import importlib.util
    link = client.dashboard_link
    if importlib.util.find_spec("bokeh") is None:
        return f"Dask dashboard: {link} (install bokeh to view it)"
    return f"Dask dashboard: {link}"


def run_dask(client, jobs, settings, out_dir, progress=None, on_record=None):
    """Submit one task per patient and collect the records as they finish; a task whose worker died
    (or whose function could not run) is recorded as a failed patient."""
    from distributed import as_completed
    tracker = Progress(len(jobs), progress)

    def on_event(event):
        _, message = event
        tracker.stage(message["patient"], message["fraction"], message.get("message", ""))
    client.subscribe_topic(tasks.STAGE_TOPIC, on_event)
    futures = {}
    for spec, input_hash in jobs:
        future = client.submit(tasks.process_patient, spec, settings, out_dir, input_hash,
                               key=f"tme-patient-{spec.folder}-{input_hash[:12]}", pure=False, retries=0)
        futures[future] = spec
    records = []
    try:
        for future in as_completed(list(futures), loop=client.loop):
            spec = futures[future]
            try:
                record = future.result()
            except Exception as error:              # the worker died, or the task could not be unpickled
                record = {"patient": spec.patient, "folder": spec.folder, "site": spec.site, "state": "failed",
                          "error": f"{type(error).__name__}: {error}", "seconds": None, "rows": [], "responses": []}
            tracker.done(spec.patient, record["state"])
            records.append(record)
            if on_record:
                on_record(record)
    finally:
        client.unsubscribe_topic(tasks.STAGE_TOPIC)
    return records
