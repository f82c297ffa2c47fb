"""Cohorts: a trial's patients and visits processed in parallel on Dask, resumable, harmonised
across sites (ComBat), with non-imaging biomarkers (ctDNA, PSA, ...) beside the images.

Headless only (worker processes cannot be started from inside Slicer). Dask, distributed and
pyarrow are imported only inside the code that runs a cohort; :func:`load_cohort_results`
(for the Slicer dashboard) needs none of them.

Files (one job each): ``manifest`` (CSV / BIDS-like discovery, up-front validation),
``settings`` (per-technique settings file), ``status`` (content hash, per-patient status,
atomic folders), ``patient_runner`` (the one adapter onto the dashboard/scene: one patient),
``tasks`` (one patient as a task), ``execution`` (serial or dask.distributed), ``table``
(long table, Parquet/CSV), ``combat`` (harmonisation numerics), ``external`` (liquid biopsy),
``figures`` and ``report`` (cohort report), ``synthetic`` (``cohort demo``), ``runner``
(``cohort run``), ``results`` (loading results), ``cli``.
"""
from .results import load_cohort_results  # noqa: F401
