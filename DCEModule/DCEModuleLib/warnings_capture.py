"""Warnings of the numeric core collected into an analysis' list (shown by the widget and the CLI)."""
import warnings as python_warnings
from contextlib import contextmanager


@contextmanager
def collecting_warnings(into):
    """Warnings of the numeric core go into the analysis' list (shown by the widget and the CLI)."""
    with python_warnings.catch_warnings(record=True) as caught:
        python_warnings.simplefilter("always")
        yield
    into.extend(str(w.message) for w in caught)
