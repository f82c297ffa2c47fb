"""The ``tme-monitor`` command line (headless, on the same Logic as the Slicer modules); entry point ``main.main``."""
