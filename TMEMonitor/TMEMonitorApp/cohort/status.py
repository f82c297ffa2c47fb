"""Per-patient status file, the content hash that decides ``--resume``, and atomic folders.

A patient's outputs are written in ``DIR/.partial/<folder>-<token>/`` and renamed to
``DIR/<folder>/`` only when complete, so a run killed at any moment leaves either the previous
complete folder or the new one, never a half-written patient (left-over partial folders are
removed at the next start). ``status.json`` inside the folder records the state, the hash of
the inputs (file contents, manifest rows) and settings, the outputs and the long-table rows.
"""
import hashlib
import json
import os
import shutil
import uuid

STATUS_FILE = "status.json"
PARTIAL = ".partial"
HASH_VERSION = "tme-cohort-hash-1"


def _hash_path(digest, path):
    """File contents (a folder: every file under it, by relative path) into ``digest``."""
    if os.path.isdir(path):
        for current, folders, files in os.walk(path):
            folders.sort()
            for name in sorted(files):
                full = os.path.join(current, name)
                digest.update(os.path.relpath(full, path).encode())
                _hash_file(digest, full)
    else:
        _hash_file(digest, path)


def _hash_file(digest, path):
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)


def input_hash(spec, settings_digest):
    """sha256 of the patient's manifest entries, the contents of its files and the settings hash."""
    digest = hashlib.sha256(HASH_VERSION.encode())
    digest.update(settings_digest.encode())
    digest.update(json.dumps({"site": spec.site, "covariates": spec.covariates,
                              "treatment_start": str(spec.treatment_start)}, sort_keys=True).encode())
    for visit in spec.visits:
        digest.update(f"visit|{visit.name}|{visit.date.isoformat()}|{visit.baseline}|{visit.day}".encode())
        for series in visit.series:
            digest.update(f"series|{series.role}|{series.flip_angles_deg}".encode())
            _hash_path(digest, series.path)
    return digest.hexdigest()


def read_status(folder):
    path = os.path.join(folder, STATUS_FILE)
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except (OSError, ValueError):
        return None


def is_complete(folder, expected_hash):
    """True when ``folder`` holds a finished patient made from the same inputs and settings."""
    status = read_status(folder)
    if not status or status.get("state") != "done" or status.get("input_hash") != expected_hash:
        return False
    return all(os.path.isfile(os.path.join(folder, name)) for name in status.get("outputs", []))


def new_partial_folder(out_dir, folder):
    path = os.path.join(out_dir, PARTIAL, f"{folder}-{uuid.uuid4().hex[:12]}")
    os.makedirs(path)
    return path


def commit_folder(partial, final):
    """Replace ``final`` by ``partial`` (same file system): the old folder is moved aside first, then
    removed, so ``final`` is always either the old complete folder or the new one."""
    aside = None
    if os.path.exists(final):
        aside = f"{partial}.old"
        os.replace(final, aside)
    os.replace(partial, final)
    if aside:
        shutil.rmtree(aside, ignore_errors=True)


def clean_partial(out_dir):
    """Remove what a killed run left in ``DIR/.partial``; returns the names removed."""
    root = os.path.join(out_dir, PARTIAL)
    if not os.path.isdir(root):
        return []
    names = sorted(os.listdir(root))
    for name in names:
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    return names


def write_json(path, data):
    """Write JSON through a temporary file and a rename (never a half-written file)."""
    temporary = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with open(temporary, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=1, default=str)
    os.replace(temporary, path)
    return path
