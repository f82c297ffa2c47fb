"""Progress reporting and cancellation for long computations.

Numeric code takes an optional ``progress`` callable ``progress(fraction, message="")``
with fraction in [0, 1]. To cancel, the callable raises :class:`Cancelled` (a widget's
Cancel button sets a flag that its progress callable checks), so the core needs no
knowledge of the GUI.
"""


class Cancelled(Exception):
    """Raised to abandon a computation; no output must have been written."""


def report(progress, fraction, message=""):
    """Call ``progress`` if one was given."""
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)


class CancelFlag:
    """A progress callable that forwards to ``callback`` and raises Cancelled once ``cancel()`` is called."""

    def __init__(self, callback=None):
        self.callback = callback
        self.cancelled = False

    def cancel(self):
        self.cancelled = True

    def __call__(self, fraction, message=""):
        if self.cancelled:
            raise Cancelled("cancelled by the user")
        if self.callback is not None:
            self.callback(fraction, message)
