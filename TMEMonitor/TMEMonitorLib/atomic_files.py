"""Files written whole or not at all: write to a temporary name beside the target, then rename.

``os.replace`` within one folder is atomic on POSIX and Windows, so a reader (or a later run)
sees either the previous file or the complete new one, never a truncated file, even when the
process is killed mid-write. The new file is written under its own name inside a temporary
folder beside the target (``TEMP_PREFIX`` + random): Slicer's writers choose the format by the
extension and name a bundle's contents after the file name, and their own scratch folders
(``TempWrite<name>``) then land inside that folder and go with it. :func:`remove_leftovers`
deletes the temporary folders a killed process could not (only names with that prefix).

Every writer of the project's outputs uses these: scene/storage.py (maps, tables, .mrb), the
report writer, the command line's CSV/JSON writers and its staging folder (output_folder.py).
"""
import contextlib
import json
import os
import shutil
import uuid

TEMP_PREFIX = ".tme-partial-"


def temporary_name(path):
    """A unique temporary name in ``path``'s folder (for a scratch file or folder)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{name}")


def scratch_folder(path):
    """A new empty temporary folder beside ``path`` (same file system, so a rename out is atomic)."""
    folder = temporary_name(path)
    os.makedirs(folder)
    return folder


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


@contextlib.contextmanager
def replacing(path):
    """Yields a temporary path (``path``'s name inside a scratch folder beside it) to write to;
    renamed onto ``path`` when the block ends without an exception (and the file exists). The
    scratch folder (and whatever the writer left in it) is removed in every case."""
    path = os.path.abspath(path)
    scratch = scratch_folder(path)
    try:
        temporary = os.path.join(scratch, os.path.basename(path))
        yield temporary
        if not os.path.isfile(temporary):
            raise OSError(f"'{path}': the writer produced no file")
        os.replace(temporary, path)
    finally:
        _remove(scratch)


@contextlib.contextmanager
def open_replacing(path, mode="w", encoding="utf-8", newline=None):
    """``open`` for writing, renamed onto ``path`` when the block ends cleanly (flushed and
    fsync'ed first, so the rename never exposes a file whose data are not on disk)."""
    if "b" in mode:
        encoding = None
    with replacing(path) as temporary:
        with open(temporary, mode, encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


def write_text(path, text, encoding="utf-8"):
    with open_replacing(path, "w", encoding=encoding) as handle:
        handle.write(text)
    return path


def write_bytes(path, data):
    with open_replacing(path, "wb") as handle:
        handle.write(data)
    return path


def write_json(path, data, **dump_options):
    """JSON written whole (``dump_options`` as json.dump's: indent, allow_nan, ...)."""
    with open_replacing(path, "w") as handle:
        json.dump(data, handle, **dump_options)
    return path


def remove_leftovers(folder):
    """Remove temporary files/folders of killed writers in ``folder`` (names starting with
    TEMP_PREFIX only); returns the removed names."""
    removed = []
    if not os.path.isdir(folder):
        return removed
    for name in os.listdir(folder):
        if name.startswith(TEMP_PREFIX):
            _remove(os.path.join(folder, name))
            removed.append(name)
    return removed
