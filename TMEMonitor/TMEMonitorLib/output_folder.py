"""An output folder that receives a run's files as one set: all new files, or the previous ones.

A command opens ``OutputFolder(DIR, ...)`` before it reads anything (so a bad ``--out`` fails
first), writes every file under :meth:`OutputFolder.path` (a staging folder inside DIR,
``.tme-staging-<pid>-<random>``), and :meth:`OutputFolder.commit` swaps the finished set in:

1. a commit journal is written into the staging folder (from then on the set is complete and a
   later run *rolls the swap forward* if this process dies in the middle of it);
2. files the previous run wrote (``DIR/manifest.json``) that this run did not are moved to
   ``DIR/previous/`` (never deleted; files the product did not write are never touched);
3. each new file is renamed into place (``os.replace``: atomic per file, same file system);
4. the new ``DIR/manifest.json`` (command, arguments, version, time, files with size and
   sha256) is written, and the staging folder removed.

The swap runs as a critical section (TMEMonitorLib.termination.deferred): a SIGTERM during it is
held until it completes. A run that fails or is stopped before the commit removes its staging
folder (:meth:`abort`, also on Terminated) and leaves DIR exactly as it was. A staging folder of
a process that was SIGKILLed is removed (no journal) or completed (journal) by the next run.
"""
import datetime
import hashlib
import json
import os
import shutil
import uuid

from . import termination
from .atomic_files import remove_leftovers, write_json
from .errors import InputError

MANIFEST = "manifest.json"
PREVIOUS = "previous"
STAGING_PREFIX = ".tme-staging-"
JOURNAL = ".commit.json"
MANIFEST_FORMAT = "tme-monitor output manifest 1"

# Staging folders of OutputFolders open in this process (never touched by recover()).
_ACTIVE = set()


def product_version():
    try:
        from importlib import metadata
        return metadata.version("tme-monitor")
    except Exception:                  # not installed (a source checkout, or inside Slicer)
        return "source checkout"


def sha256_of(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder):
    """The manifest of the last complete run in ``folder`` (a dict), or None (none / unreadable)."""
    path = os.path.join(folder, MANIFEST)
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT \
            or not isinstance(manifest.get("files"), dict):
        return None
    return manifest


def _pid_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _staged_files(staging):
    """Relative paths of the files in ``staging`` (the journal and writers' scratch excluded)."""
    files = []
    for root, folders, names in os.walk(staging):
        folders[:] = sorted(f for f in folders if not f.startswith(".tme-"))
        for name in sorted(names):
            if name == JOURNAL or name.startswith(".tme-"):
                continue
            files.append(os.path.relpath(os.path.join(root, name), staging).replace(os.sep, "/"))
    return files


def _inside(folder, relative):
    """``folder/relative`` for a manifest entry, refused if it points outside ``folder``."""
    path = os.path.normpath(os.path.join(folder, relative))
    if os.path.isabs(relative) or not path.startswith(os.path.normpath(folder) + os.sep):
        return None
    return path


def _finish_commit(folder, staging):
    """Steps 2-4 of the swap, from the journal in ``staging``; idempotent (a rerun completes it)."""
    with open(os.path.join(staging, JOURNAL), encoding="utf-8") as handle:
        journal = json.load(handle)
    for relative in journal["set_aside"]:
        source = _inside(folder, relative)
        if source and os.path.isfile(source):
            target = _inside(os.path.join(folder, PREVIOUS), relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(source, target)
    first = True
    for relative in journal["manifest"]["files"]:
        staged = os.path.join(staging, relative)
        if not os.path.isfile(staged):
            continue                    # moved by an earlier, interrupted attempt
        target = _inside(folder, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(staged, target)
        if first:
            termination.checkpoint("mid-commit")
            first = False
    write_json(os.path.join(folder, MANIFEST), journal["manifest"], indent=1)
    shutil.rmtree(staging, ignore_errors=True)


def recover(folder):
    """Deal with what killed runs left in ``folder``: finish a swap that had started (its set is
    complete), remove staging folders of dead processes that had not, and writers' scratch."""
    if not os.path.isdir(folder):
        return
    for name in sorted(os.listdir(folder)):
        if not name.startswith(STAGING_PREFIX):
            continue
        staging = os.path.join(folder, name)
        try:
            pid = int(name[len(STAGING_PREFIX):].split("-")[0])
        except ValueError:
            pid = -1
        if staging in _ACTIVE or (pid > 0 and pid != os.getpid() and _pid_alive(pid)):
            continue                    # a run writing into this folder now
        if os.path.isfile(os.path.join(staging, JOURNAL)):
            with termination.deferred():
                _finish_commit(folder, staging)
        else:
            shutil.rmtree(staging, ignore_errors=True)
    remove_leftovers(folder)


class OutputFolder:
    """The output folder of one command run (see the module docstring). Use as a context manager:
    leaving the block by an exception (or Terminated) aborts; :meth:`commit` must be called to
    keep the new set."""

    def __init__(self, folder, command, arguments=(), option="--out"):
        self.option = option
        self.folder = os.path.abspath(os.fspath(folder))
        self.command = command
        self.arguments = [str(a) for a in arguments]
        self.staging = None
        self._staged_at = None          # the staging folder, remembered for final_path after commit
        self.created_folder = False
        self.committed = None

    def open(self):
        """Create DIR (if needed) and the staging folder; InputError naming the option if impossible."""
        if os.path.exists(self.folder) and not os.path.isdir(self.folder):
            raise InputError(f"{self.option} '{self.folder}': is an existing file; give a folder")
        try:
            if not os.path.isdir(self.folder):
                os.makedirs(self.folder)
                self.created_folder = True
            recover(self.folder)
            staging = os.path.join(self.folder, f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}")
            os.makedirs(staging)
            probe = os.path.join(staging, ".tme-probe")
            with open(probe, "w") as handle:
                handle.write("")
            os.remove(probe)
        except OSError as error:
            self._remove_created()
            raise InputError(f"{self.option} '{self.folder}': cannot write there "
                             f"({error.strerror or error})") from None
        self.staging = self._staged_at = staging
        _ACTIVE.add(staging)
        return self

    def path(self, relative):
        """Where to write the output ``relative`` (e.g. 'Ktrans.nrrd', 'nrrd/visit1/DWI.seq.nrrd')."""
        if self.staging is None:
            raise RuntimeError("OutputFolder.path() before open()")
        target = _inside(self.staging, relative)
        if target is None:
            raise InputError(f"output name '{relative}' points outside the output folder")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        return target

    def final_path(self, path):
        """The path a staged file will have after the commit (for messages and scene references)."""
        path = os.path.abspath(path)
        staging = self._staged_at
        if staging and (path == staging or path.startswith(staging + os.sep)):
            return os.path.join(self.folder, os.path.relpath(path, staging))
        return path

    def commit(self):
        """Swap the staged set in (see the module docstring); returns the manifest written."""
        files = _staged_files(self.staging)
        termination.checkpoint("before-commit")
        manifest = {"format": MANIFEST_FORMAT, "command": self.command, "arguments": self.arguments,
                    "version": product_version(),
                    "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "files": {relative: {"bytes": os.path.getsize(os.path.join(self.staging, relative)),
                                         "sha256": sha256_of(os.path.join(self.staging, relative))}
                              for relative in files}}
        previous = read_manifest(self.folder)
        set_aside = sorted(set(previous["files"]) - set(files)) if previous else []
        set_aside = [r for r in set_aside if r != MANIFEST and _inside(self.folder, r)
                     and os.path.isfile(os.path.join(self.folder, r))]
        manifest["set_aside"] = [f"{PREVIOUS}/{r}" for r in set_aside]
        with termination.deferred():
            write_json(os.path.join(self.staging, JOURNAL), {"manifest": manifest, "set_aside": set_aside})
            _finish_commit(self.folder, self.staging)
        self.committed = manifest
        _ACTIVE.discard(self.staging)
        self.staging = None
        return manifest

    def abort(self):
        """Remove the staging folder (and DIR itself if this run created it and left it empty)."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            _ACTIVE.discard(self.staging)
            self.staging = None
        self._remove_created()

    def _remove_created(self):
        if self.created_folder:
            try:
                os.rmdir(self.folder)
            except OSError:
                pass

    def __enter__(self):
        return self.open() if self.staging is None else self

    def __exit__(self, kind, value, traceback):
        if kind is not None or self.committed is None:
            self.abort()
        return False
