"""The radiomics parameter file: JSON (YAML when PyYAML is importable) or a preset name.

The file holds the settings mapping ``TMEMonitorLib.radiomics.resolve_settings`` takes (keys in
``TMEMonitorLib/radiomics/README.md``; ``"preset"`` may name a preset whose keys it overrides).
The resolved settings are written with every result (settings.json, table-node attribute)."""
import os

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.settings_files import read_settings_file
from TMEMonitorLib.radiomics import PRESETS, resolve_settings

DEFAULT_PRESET = "default"          # the library defaults: FBN 32 bins, no interpolation, every family
PRESET_CHOICES = (DEFAULT_PRESET,) + tuple(sorted(PRESETS))


def _read_mapping(path, flag):
    data = read_settings_file(path, flag)
    if not isinstance(data, dict):
        raise InputError(f"{flag} '{path}': expected a mapping of settings (e.g. {{\"discretisation\": "
                         f"{{\"method\": \"fbn\", \"bins\": 32}}}}), got {type(data).__name__}")
    return data


def load_settings(settings_file=None, preset=None, file_flag="settings file", preset_flag="preset"):
    """Resolved settings from a parameter file or a preset (not both); neither: the defaults.

    ``file_flag`` / ``preset_flag`` name the inputs in errors (``--settings`` for the CLI)."""
    if settings_file and preset and preset != DEFAULT_PRESET:
        raise InputError(f"give either {file_flag} or {preset_flag}, not both (a settings file may name a "
                         "preset under \"preset\")")
    if settings_file:
        data = _read_mapping(os.fspath(settings_file), file_flag)
        try:
            return resolve_settings(data)
        except InputError as error:
            raise InputError(f"{file_flag} '{settings_file}': {error}") from None
    if preset in (None, "", DEFAULT_PRESET):
        return resolve_settings(None)
    if preset not in PRESETS:
        raise InputError(f"{preset_flag} '{preset}' is unknown; known presets: {', '.join(PRESET_CHOICES)}")
    return resolve_settings(preset)
