"""The longitudinal dashboard's operations on a scene (used by the TMEMonitor widget, the console,
the demo and ``tme-monitor report``). Everything takes the scene explicitly.

A patient is a subject-hierarchy subject; its visits are studies with a date (and day on
treatment). Inside a visit, acquisition nodes carry a role attribute (``TMEMonitor.Role``: the
roles the registered techniques declare, plus anatomy, labels, tumour) and the maps the
techniques produce carry ``TMEMonitor.Biomarker``. One file per job:

- ``patients``: patients and dated visits; ``visit_inputs``: adding files to a visit, a visit's nodes
- ``analyses``: run every registered technique on a visit (all or nothing)
- ``registration``: visits to baseline, transforms kept as nodes with their quality
- ``measurement``: tumour and biomarker values per visit; ``lesions``: RECIST target lesions
- ``scoring``: changes, real-change flags, response calls (no scene)
- ``response``: the whole response; ``response_nodes``: its tables, maps and chart in the scene
- ``display``: one window per quantity across visits; ``reading_scene``: the scene opened ready to read
- ``report``: report.html + report.json
"""
from TMEMonitorLib.techniques import BIOMARKER, ROLE, SOURCE_PATH, VISIT_ITEM  # noqa: F401

from .analyses import run_visit_analyses  # noqa: F401
from .display import apply_shared_windows  # noqa: F401
from .patients import VisitInfo, add_visit, baseline_visit, list_patients, list_visits, scene_item_name  # noqa: F401
from .registration import (TRANSFORM_OF_VISIT, RegistrationSummary, register_visits,  # noqa: F401
                           registration_quality, transform_for, visit_transform_nodes)
from .reading_scene import ReadingScene, place_visits_on_baseline, prepare_reading_scene  # noqa: F401
from .report import write_report  # noqa: F401
from .response import ParametricResponse, ReportInputs, ResponseSummary, compute_response  # noqa: F401
from .visit_inputs import (VOLUME_ROLES, add_series_to_visit, anatomy_node, file_roles, roles,  # noqa: F401
                           series_roles, visit_biomarker_maps, visit_nodes_by_role)
