"""``tme-monitor cohort run``: validate everything up front, run the patients (serial or Dask),
then write the long table, status, responses, harmonisation estimates and the cohort report.

Exit status: 0 every valid patient succeeded; 1 some failed (listed); 2 the run could not start
(CannotStart / InputError raised before anything is written).
"""
import os
import time
from dataclasses import dataclass, field

from . import execution, manifest as manifest_module, results, settings as settings_module, status as status_files
from . import table as table_module

STATUS_COLUMNS = ("patient", "state", "error", "seconds", "site", "folder", "this_run")


@dataclass
class RunOutcome:
    exit_code: int
    out_dir: str
    status: list
    failed: list
    skipped: list
    processed: list
    report_html: str = ""
    notes: list = field(default_factory=list)


def run_cohort(manifest_path, out_dir, settings_path=None, scheduler=None, workers=None, resume=False,
               skip_invalid=False, external_path=None, harmonise=False, serial=False, connect_timeout_s=10.0,
               log=print, progress=None):
    started = time.perf_counter()
    # --- everything that can refuse the run, before anything is written -------------------------
    settings = settings_module.load_settings(settings_path)
    from . import patient_runner
    patient_runner.technique_settings(settings)
    manifest = manifest_module.load(manifest_path)
    if manifest.problems:
        lines = manifest.problem_lines()
        if not skip_invalid:
            raise execution.CannotStart(f"manifest '{manifest.source}': {len(lines)} problem(s); fix them or pass "
                                        "--skip-invalid to run the valid patients only:\n  " + "\n  ".join(lines))
        log(f"Manifest: {len(lines)} problem(s); skipping patient(s) {', '.join(sorted(manifest.invalid))}:")
        for line in lines:
            log("  " + line)
    if not manifest.patients:
        raise execution.CannotStart(f"manifest '{manifest.source}': no valid patient to run")
    external_rows = None
    if external_path:
        from . import external
        external_rows = external.read_external(external_path)
    if harmonise:
        missing = [name for name in settings["harmonisation"]["covariates"]
                   if any(name not in spec.covariates for spec in manifest.patients.values())]
        if missing:
            raise execution.CannotStart(f"--harmonise: covariate(s) {', '.join(missing)} (settings harmonisation."
                                        "covariates) are not manifest columns of every patient")
    client = cluster = None
    if not serial:
        client, cluster = execution.connect(scheduler, workers, connect_timeout_s, log=log)
    try:
        out_dir = os.path.abspath(os.fspath(out_dir))
        os.makedirs(out_dir, exist_ok=True)
        removed = status_files.clean_partial(out_dir)
        if removed:
            log(f"Removed {len(removed)} partial folder(s) left by an interrupted run")
        status_files.write_json(os.path.join(out_dir, results.SETTINGS_JSON), settings)

        # --- plan: what --resume can keep ---------------------------------------------------------
        digest = settings_module.settings_hash(settings)
        jobs, kept = [], []
        for spec in manifest.patients.values():
            input_hash = status_files.input_hash(spec, digest)
            folder = os.path.join(out_dir, spec.folder)
            if resume and status_files.is_complete(folder, input_hash):
                record = status_files.read_status(folder)
                record["this_run"] = "skipped (unchanged)"
                kept.append(record)
            else:
                jobs.append((spec, input_hash))
        if kept:
            log(f"--resume: {len(kept)} patient(s) complete with unchanged inputs and settings, skipped: "
                f"{', '.join(r['patient'] for r in kept)}")
        log(f"Running {len(jobs)} patient(s) " + ("in this process (serial)" if serial else
                                                  f"on Dask ({_cluster_text(client, cluster, scheduler)})"))
        if client is not None:
            log(execution.dashboard_line(client))
        if serial:
            done = execution.run_serial(jobs, settings, out_dir, progress=progress)
        else:
            done = execution.run_dask(client, jobs, settings, out_dir, progress=progress)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    for record in done:
        record["this_run"] = "processed"
    return _finish(out_dir, manifest, settings, kept + done, external_rows, harmonise, started, log)


def _cluster_text(client, cluster, scheduler):
    workers = len(client.scheduler_info().get("workers", {}))
    if cluster is not None:
        return f"LocalCluster, {workers} worker process(es), 1 thread each"
    return f"scheduler {scheduler}, {workers} worker(s)"


def _finish(out_dir, manifest, settings, records, external_rows, harmonise, started, log):
    by_patient = {r["patient"]: r for r in records}
    status_rows = []
    for patient, spec in manifest.patients.items():
        record = by_patient[patient]
        status_rows.append({"patient": patient, "state": record["state"], "error": record.get("error", ""),
                            "seconds": record.get("seconds"), "site": spec.site, "folder": spec.folder,
                            "this_run": record.get("this_run", "")})
    for patient, problems in sorted(manifest.invalid.items()):
        status_rows.append({"patient": patient, "state": "invalid", "error": "; ".join(p.message for p in problems),
                            "seconds": None, "site": "", "folder": "", "this_run": "not run"})
    status_rows.sort(key=lambda s: s["patient"])
    rows = table_module.complete([row for r in records if r["state"] == "done" for row in r["rows"]], "imaging")
    responses = sorted((c for r in records if r["state"] == "done" for c in r["responses"]),
                       key=lambda c: (c["patient"], c["day"] or 0, c["criterion"]))
    notes, molecular, correlations = [], [], []
    if external_rows is not None:
        from . import external
        done_specs = {p: s for p, s in manifest.patients.items() if by_patient[p]["state"] == "done"}
        extra, molecular, notes = external.join(external_rows, done_specs,
                                                settings["external"]["response_fall_percent"])
        rows += table_module.complete(extra, "external")
    estimates = None
    if harmonise:
        estimates = table_module.harmonise(rows, settings, {p: s.covariates for p, s in manifest.patients.items()},
                                           log=log)
        status_files.write_json(os.path.join(out_dir, results.HARMONISATION_JSON), estimates)
    rows = table_module.sort_rows(rows)
    if external_rows is not None:
        from . import external
        correlations = external.correlations(rows)
    table_module.write_csv(os.path.join(out_dir, results.TABLE_CSV), rows)
    table_module.write_parquet(os.path.join(out_dir, results.TABLE_PARQUET), rows,
                               {"tme_monitor.settings": settings, "tme_monitor.values": "harmonised and raw"
                                if estimates else "raw", "tme_monitor.manifest": manifest.source})
    table_module.write_csv(os.path.join(out_dir, results.STATUS_CSV), status_rows, STATUS_COLUMNS)
    table_module.write_csv(os.path.join(out_dir, results.RESPONSES_CSV), responses,
                           ("patient", "visit", "day", "criterion", "category", "reason"))
    from . import report
    html_path, _ = report.write_report(os.path.join(out_dir, results.REPORT_HTML), rows, responses, molecular,
                                       correlations, status_rows, settings, estimates, notes,
                                       os.path.join(out_dir, results.FIGURES))
    failed = [s for s in status_rows if s["state"] == "failed"]
    for note in notes:
        log("Note: " + note)
    log(f"Cohort table: {os.path.join(out_dir, results.TABLE_PARQUET)} and .csv ({len(rows)} rows)")
    log(f"Status: {os.path.join(out_dir, results.STATUS_CSV)}")
    log(f"Report: {html_path}")
    if failed:
        log(f"{len(failed)} patient(s) failed:")
        for s in failed:
            log(f"  {s['patient']}: {s['error']}")
    log(f"Done in {time.perf_counter() - started:.0f} s.")
    return RunOutcome(exit_code=1 if failed else 0, out_dir=out_dir, status=status_rows,
                      failed=[s["patient"] for s in failed],
                      skipped=[r["patient"] for r in records if r.get("this_run", "").startswith("skipped")],
                      processed=[r["patient"] for r in records if r.get("this_run") == "processed"],
                      report_html=html_path, notes=notes)
