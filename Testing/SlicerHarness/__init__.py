"""Headless test harness for the modules' Slicer panels (see README.md)."""
from .environment import MODULE_NAMES, TAGS, SlicerEnvironment  # noqa: F401
