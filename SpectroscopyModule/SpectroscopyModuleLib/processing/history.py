"""Processing history as NIfTI-MRS ``ProcessingApplied`` entries (Clarke WT et al., MRM 2022)."""
import json

import numpy as np

from .step_record import PROGRAM


def history_entries(mrs, program=PROGRAM, version=None, include_parameters=False):
    """The steps of ``mrs.history`` as a JSON-serialisable ProcessingApplied list.

    Each entry has Time (when recorded), Program, Version (when given), Method and Details (a
    string); include_parameters also keeps the numeric results (shifts, phases, weights)."""
    entries = []
    for step in getattr(mrs, "history", None) or []:
        if not isinstance(step, dict):
            step = {"Method": str(step), "Details": ""}
        entry = {}
        if step.get("Time"):
            entry["Time"] = str(step["Time"])
        entry["Program"] = str(step.get("Program") or program)
        if version is not None or step.get("Version"):
            entry["Version"] = str(step.get("Version") or version)
        entry["Method"] = str(step.get("Method", ""))
        details = step.get("Details", "")
        entry["Details"] = details if isinstance(details, str) else json.dumps(details, default=_json_default)
        if include_parameters and step.get("Parameters"):
            entry["Parameters"] = json.loads(json.dumps(step["Parameters"], default=_json_default))
        entries.append(entry)
    return entries


def methods(mrs):
    """Method names of the applied steps, in order."""
    return [e["Method"] for e in history_entries(mrs)]


def _json_default(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
