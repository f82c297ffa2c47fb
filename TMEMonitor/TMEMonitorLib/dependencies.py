"""Optional third-party packages, imported where they are used and never at module load.

Slicer bundles numpy, scipy, SimpleITK, vtk and pydicom only. Anything else is imported
through :func:`require`:

- headless, the packages come from ``pyproject.toml``; a missing one is an ImportError that
  names the pip command to run.
- inside Slicer, a missing package is installed on first use, after the user agreed in a
  dialog, with every package already in Slicer's Python pinned to its installed version
  (a pip constraints file): pip may add what is missing but can never upgrade or downgrade
  numpy, scipy, pydicom or anything else Slicer (or another extension) ships. If the package
  cannot be installed without changing one of them, pip stops and nothing is changed.

Converters that would break Slicer's stack are never installed into it: spec2nii 0.8 needs
pydicom 3 (Slicer 5.8 and 5.10 bundle pydicom 2.4.4), so it is used as an external program
(:func:`external_command`), found on PATH or where the user configured it.
"""
import importlib
import importlib.util
import os
import shutil
import sys
import tempfile

# import name -> pip requirement (pinned where behaviour matters; see pyproject.toml)
PIP_NAMES = {
    "lmfit": "lmfit>=1.2",
    "matplotlib": "matplotlib>=3.7",
    "nibabel": "nibabel>=5.0",
}

# Packages that must never be pip-installed into Slicer's Python, and why.
NEVER_INSTALL_IN_SLICER = {
    "spec2nii": "spec2nii 0.8 requires pydicom 3 and would replace the pydicom 2.4 that Slicer bundles",
}

# External programs: name -> (environment variable, Slicer setting key) naming a user-chosen path.
EXTERNAL_PROGRAMS = {
    "spec2nii": ("TME_MONITOR_SPEC2NII", "TMEMonitor/spec2niiPath"),
}

# Declined installs are remembered for the session, so a loop does not ask again and again.
_declined = set()


class MissingDependencyError(ImportError):
    """An optional package or program is missing; the message says how to get it."""


def _inside_slicer_application():
    try:
        import slicer
        return hasattr(slicer, "app") and hasattr(slicer.util, "pip_install")
    except ImportError:
        return False


def _top_level(module_name):
    return module_name.split(".")[0]


def requirement_for(module_name):
    top = _top_level(module_name)
    return PIP_NAMES.get(top, top)


def _normalised(name):
    return name.lower().replace("_", "-").replace(".", "-")


def installed_distributions():
    """(name, version) of every distribution importable from this Python, first one per name."""
    from importlib import metadata
    seen, out = set(), []
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata is not None else None
        if not name or not dist.version or _normalised(name) in seen:
            continue
        seen.add(_normalised(name))
        out.append((name, dist.version))
    return out


def pin_constraints(distributions, leave_free=()):
    """pip constraints text pinning each ``(name, version)`` except the names in ``leave_free``.

    A name seen twice keeps its first version (the one Python imports: first on sys.path)."""
    seen = {_normalised(name) for name in leave_free}
    lines = []
    for name, version in distributions:
        if _normalised(name) not in seen:
            seen.add(_normalised(name))
            lines.append(f"{name}=={version}\n")
    return "".join(lines)


def pip_arguments(requirement, constraints_path):
    """Arguments for ``slicer.util.pip_install``: install ``requirement`` under the constraints."""
    return [requirement, "--constraint", constraints_path]


def install_into_slicer(module_name, pip_install=None, distributions=None):
    """Install the package for ``module_name`` with Slicer's pip, pinning every installed package.

    ``pip_install`` (default ``slicer.util.pip_install``) and ``distributions`` (default: what is
    installed) are replaceable in tests. Raises MissingDependencyError when pip fails."""
    top = _top_level(module_name)
    if top in NEVER_INSTALL_IN_SLICER:
        raise MissingDependencyError(f"TME Monitor does not install '{top}' into Slicer: "
                                     f"{NEVER_INSTALL_IN_SLICER[top]}")
    requirement = requirement_for(module_name)
    if pip_install is None:
        import slicer
        pip_install = slicer.util.pip_install
    if distributions is None:
        distributions = installed_distributions()
    handle, constraints_path = tempfile.mkstemp(prefix="tme_monitor_constraints_", suffix=".txt")
    try:
        with os.fdopen(handle, "w") as constraints:
            constraints.write(pin_constraints(distributions, leave_free=(top,)))
        pip_install(pip_arguments(requirement, constraints_path))
    except Exception as error:
        raise MissingDependencyError(
            f"installing '{requirement}' into Slicer's Python failed without changing Slicer's own packages "
            f"(numpy, scipy, pydicom, ... are kept at their installed versions): {error}") from None
    finally:
        os.remove(constraints_path)
    importlib.invalidate_caches()


def _ask(requirement, purpose):
    import slicer
    text = (f"TME Monitor needs the Python package '{requirement}' for {purpose or 'this step'}.\n\n"
            "Install it now into Slicer's Python? (Packages Slicer ships, such as numpy, scipy and "
            "pydicom, are kept at their current versions.)")
    return slicer.util.confirmOkCancelDisplay(text, windowTitle="TME Monitor: install a package")


def require(module_name, purpose=None, ask=None, install=None):
    """Import and return ``module_name``; inside Slicer, install it on first use if the user agrees.

    ``purpose`` is shown in the question ("peak fitting", "report figures"); ``ask`` (requirement,
    purpose) -> bool and ``install`` (module_name) replace the dialog and the installer in tests."""
    try:
        return importlib.import_module(module_name)
    except ImportError:
        pass
    top = _top_level(module_name)
    requirement = requirement_for(module_name)
    if not _inside_slicer_application():
        raise MissingDependencyError(
            f"TME Monitor needs the optional package '{requirement}' for {purpose or 'this step'}; "
            f"install it with: {os.path.basename(sys.executable)} -m pip install '{requirement}'") from None
    if top in NEVER_INSTALL_IN_SLICER:
        raise MissingDependencyError(f"'{top}' is not installed into Slicer ({NEVER_INSTALL_IN_SLICER[top]})")
    if top in _declined:
        raise MissingDependencyError(f"'{requirement}' is not installed (installation was declined in this "
                                     f"session); it is needed for {purpose or 'this step'}")
    ask = ask or _ask
    if not ask(requirement, purpose):
        _declined.add(top)
        raise MissingDependencyError(
            f"'{requirement}' is not installed: it is needed for {purpose or 'this step'} and installing it was "
            f"declined. To install it later, restart Slicer and accept, or run in Slicer's Python console: "
            f"from TMEMonitorLib.dependencies import install_into_slicer; install_into_slicer('{top}') "
            "(it keeps Slicer's own packages at their versions)")
    (install or install_into_slicer)(module_name)
    return importlib.import_module(module_name)


def _configured_path(name):
    environment_variable, setting_key = EXTERNAL_PROGRAMS.get(name, (None, None))
    if environment_variable and os.environ.get(environment_variable):
        return os.environ[environment_variable], f"environment variable {environment_variable}"
    if setting_key and _inside_slicer_application():
        import slicer
        value = slicer.app.userSettings().value(setting_key)
        if value:
            return str(value), f"Slicer setting {setting_key}"
    return None, None


def external_command(name, module=None, which=None):
    """Command (list) that runs the external program ``name``; never installs anything.

    Looked up in order: a user-configured path (environment variable, or inside Slicer the
    application setting of :data:`EXTERNAL_PROGRAMS`), ``name`` on PATH, and headless only
    ``python -m <module>`` when ``module`` is importable here. Raises MissingDependencyError
    naming where it looked and how to provide it."""
    which = which or shutil.which
    configured, where = _configured_path(name)
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return [configured]
        raise MissingDependencyError(f"{where} names '{configured}' for {name}, which is not an executable file")
    found = which(name)
    if found:
        return [found]
    if module and not _inside_slicer_application():
        try:
            if importlib.util.find_spec(_top_level(module)) is not None:
                return [sys.executable, "-m", module]
        except (ImportError, ValueError):
            pass
    environment_variable, setting_key = EXTERNAL_PROGRAMS.get(name, (None, None))
    how = f"put '{name}' on PATH"
    if environment_variable:
        how += f", or set the environment variable {environment_variable} (or, in Slicer, the setting " \
               f"{setting_key}) to its full path"
    reason = f" ({NEVER_INSTALL_IN_SLICER[name]}, so it is never installed into Slicer)" \
        if name in NEVER_INSTALL_IN_SLICER else ""
    raise MissingDependencyError(f"the external program '{name}' was not found{reason}. Install it in its own "
                                 f"Python environment (e.g. 'pipx install {name}') and {how}")
