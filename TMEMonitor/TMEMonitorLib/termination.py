"""SIGTERM as a clean abort, critical sections that finish first, and a test hook to stop a run.

- :func:`sigterm_aborts` (used by the ``tme-monitor`` entry point) turns SIGTERM into a
  :class:`Terminated` exception, so every ``finally`` runs (staging folders and scenes are
  cleaned up) and the command exits with 143 (128 + 15), as a killed process would.
- :func:`deferred` marks a short critical section (swapping a finished output set into place):
  a SIGTERM arriving inside it is held and raised when the section ends, so the swap completes.
- :func:`checkpoint` is a **test hook**: when the environment variable ``TME_MONITOR_TEST_KILL_AT``
  names the stage being passed (e.g. ``TME_MONITOR_TEST_KILL_AT=after-fit``), the process sends
  itself SIGTERM there (``after-fit:KILL`` sends SIGKILL: no clean-up at all). The kill-and-rerun
  tests use it to stop a real run at a known point; in normal use the variable is unset and a
  checkpoint costs one dictionary look-up. Stages: see :data:`STAGES`.
"""
import contextlib
import os
import signal
import threading

KILL_AT_VARIABLE = "TME_MONITOR_TEST_KILL_AT"
EXIT_CODE = 128 + signal.SIGTERM          # 143: what a shell reports for a process ended by SIGTERM

# The named points of a command run (TMEMonitorLib.output_folder and the command line pass them).
STAGES = ("inputs-read",          # inputs read, nothing fitted yet
          "after-fit",            # analysis done, nothing written
          "files-staged",         # some output files written to the staging folder
          "before-commit",        # the full new set staged, none swapped in
          "mid-commit")           # inside the swap (after the first file moved): SIGTERM is held


class Terminated(BaseException):
    """Raised by the SIGTERM handler (a BaseException, like KeyboardInterrupt, so that ordinary
    ``except Exception`` blocks do not swallow it)."""

    def __init__(self, signal_number=signal.SIGTERM):
        super().__init__(f"terminated by signal {signal_number}")
        self.signal_number = signal_number


_state = threading.local()
_received = []              # signals received while sigterm_aborts was active (see received())


def _deferring():
    return getattr(_state, "depth", 0)


# A SIGTERM that arrives inside an import is delivered again after this many seconds (see _handler).
IMPORT_RETRY_S = 0.05


def _importing(frame):
    """True while the interpreter is inside an import (importlib's frames on the stack)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _handler(signal_number, frame):
    _received.append(signal_number)
    if _deferring():
        _state.pending = signal_number
        return
    if _importing(frame):
        # Raising inside an import can leave a C extension half initialised, and the next import
        # of it crashes the interpreter (vtk under slicer-core on Python 3.12: the command died by
        # SIGSEGV instead of exiting with 143 in 4 of 18 SIGTERMs sent 0.2-1 s after start). The
        # signal is sent again a moment later, until it lands outside any import.
        timer = threading.Timer(IMPORT_RETRY_S, os.kill, (os.getpid(), signal_number))
        timer.daemon = True
        timer.start()
        return
    raise Terminated(signal_number)


def received():
    """True when SIGTERM arrived inside sigterm_aborts: an exception that another library made of
    Terminated (e.g. vtk's lazy importer turns it into an ImportError) still means "stopped"."""
    return bool(_received)


@contextlib.contextmanager
def sigterm_aborts():
    """SIGTERM raises Terminated inside the block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _handler)
    del _received[:]
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def deferred():
    """A critical section: SIGTERM inside is held and raised (as Terminated) when it ends."""
    _state.depth = _deferring() + 1
    try:
        yield
    finally:
        _state.depth -= 1
        pending = getattr(_state, "pending", None)
        if pending is not None and not _state.depth:
            _state.pending = None
            raise Terminated(pending)


def checkpoint(stage):
    """Test hook: stop this process at ``stage`` when TME_MONITOR_TEST_KILL_AT names it."""
    wanted = os.environ.get(KILL_AT_VARIABLE)
    if not wanted:
        return
    name, _, how = wanted.partition(":")
    if name != stage:
        return
    # Delivered at once to this thread; a Python handler (sigterm_aborts) runs at the next bytecode.
    os.kill(os.getpid(), signal.SIGKILL if how.upper() == "KILL" else signal.SIGTERM)
