"""Optional third-party packages, imported where they are used and never at module load.

Slicer bundles numpy, scipy, SimpleITK, vtk and pydicom only. Anything else is imported
through :func:`require`: headless installs get it from ``pyproject.toml``; inside Slicer it
is installed on first use with ``slicer.util.pip_install``.
"""
import importlib

# import name -> pip requirement (pinned where behaviour matters; see pyproject.toml)
PIP_NAMES = {
    "lmfit": "lmfit>=1.2",
    "matplotlib": "matplotlib>=3.7",
    "nibabel": "nibabel>=5.0",
    "spec2nii": "spec2nii",
}


def _inside_slicer_application():
    try:
        import slicer
        return hasattr(slicer, "app") and hasattr(slicer.util, "pip_install")
    except ImportError:
        return False


def require(module_name):
    """Import and return ``module_name``, installing it inside Slicer on first use."""
    try:
        return importlib.import_module(module_name)
    except ImportError:
        requirement = PIP_NAMES.get(module_name.split(".")[0], module_name.split(".")[0])
        if not _inside_slicer_application():
            raise ImportError(
                f"TME Monitor needs the optional package '{requirement}' for this step; "
                f"install it with: pip install '{requirement}'") from None
        import slicer
        slicer.util.pip_install(requirement)
        return importlib.import_module(module_name)
