"""pytest: make the module folders importable exactly as Slicer does (each module's
directory is on sys.path inside Slicer), without requiring an install."""
import os
import sys

_ROOT = os.path.dirname(os.path.abspath(__file__))
for _module in ("TMEMonitor", "DCEModule", "DiffusionModule", "SpectroscopyModule", "Testing",
                os.path.join("Testing", "Python")):     # shared test helpers
    _path = os.path.join(_ROOT, _module)
    if _path not in sys.path:
        sys.path.insert(0, _path)
