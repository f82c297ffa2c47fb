"""A terminal progress bar: a ``progress(fraction, message)`` callable for the command lines (the
app's and each technique's sub-command)."""
import sys
import time


class ProgressBar:
    def __init__(self, label, stream=None, width=30):
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1

    def __call__(self, fraction, message=""):
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(round(fraction * self.width))
        text = f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction * 100:5.1f}% {message}"
        if self.interactive:
            self.stream.write("\r" + text[:120].ljust(120))
            if fraction >= 1.0:
                self.stream.write("\n")
        else:
            # In logs, write a line every 10 % only.
            decile = int(fraction * 10)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, message=""):
        elapsed = time.perf_counter() - self.started
        self(1.0, f"{message} ({elapsed:.1f} s)")
