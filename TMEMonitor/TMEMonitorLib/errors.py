"""Exceptions for bad input. Raised before any output node is created."""


class InputError(ValueError):
    """Input that cannot be processed; the message names the input and what is wrong."""


class MetadataError(InputError):
    """Acquisition metadata (frame times, b-values, flip angles, ...) missing or implausible."""
