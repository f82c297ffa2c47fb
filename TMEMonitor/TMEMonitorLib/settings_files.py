"""Reading a settings file given on the command line: JSON, or YAML when PyYAML is importable.

One reader for every ``--settings`` file (cohort settings, radiomics parameter files), so that each
names the flag and the file in the same clear errors: missing, not text, YAML without PyYAML,
not valid JSON/YAML. What the mapping must hold is the caller's to check."""
import json
import os

from .errors import InputError


def read_settings_file(path, flag="--settings"):
    """The parsed content of the JSON/YAML file at ``path`` (an empty YAML file gives None)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{flag} '{path}': file not found")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise InputError(f"{flag} '{path}': not a text file (JSON or YAML settings are expected)") from None
    if path.lower().endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError:
            raise InputError(f"{flag} '{path}': YAML settings need PyYAML, which is not installed here; "
                             "install it (pip install pyyaml) or write the settings as JSON") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise InputError(f"{flag} '{path}': not valid YAML: {error}") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise InputError(f"{flag} '{path}': not valid JSON: {error}") from None
