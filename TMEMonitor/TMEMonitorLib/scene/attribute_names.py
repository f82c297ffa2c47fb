"""Names of the MRML node and subject-hierarchy attributes TME Monitor writes, in one place.

Rule: every attribute the project names is ``TMEMonitor.<UpperCamelCase>``. Acquisition values
keep their metadata key (the same key as in the readers' metadata and in our NRRD headers,
e.g. ``TMEMonitor.TR_s``, ``TMEMonitor.b_values``); where such a value came from is
``TMEMonitor.Source.<key>`` (:func:`source_attribute`).

Scenes saved before these names were fixed used snake_case for some of them
(``TMEMonitor.input_kind``, ``TMEMonitor.<key>_source``, ``TMEMonitor.AIF_source``); they are
still read (:func:`get`, :func:`legacy_names`) but no longer written.
"""
PREFIX = "TMEMonitor."

# --- what a map or table node holds
QUANTITY = "TMEMonitor.Quantity"
UNIT = "TMEMonitor.Unit"
MAP_NAME = "TMEMonitor.MapName"
DISPLAY_UNIT = "TMEMonitor.DisplayUnit"
DISPLAY_SCALE = "TMEMonitor.DisplayScale"
STATUS_CODES = "TMEMonitor.StatusCodes"
MODEL_CODES = "TMEMonitor.ModelCodes"
INPUT_KIND = "TMEMonitor.InputKind"                 # DCE: signal | concentration
# --- where values came from
AXIS_SOURCE = "TMEMonitor.AxisSource"               # frame times / b-values of a sequence
FRAME_SOURCE_PREFIX = "TMEMonitor.FrameSource."     # + frame index
AIF_SOURCE = "TMEMonitor.AIFSource"
SOURCE_PREFIX = "TMEMonitor.Source."                # + acquisition key
# SOURCE_PATH (file a node was read from), ROLE, BIOMARKER, VISIT_ITEM and BIOMARKERS (a technique's
# per-visit values as JSON) are part of the technique plug-in contract: defined there, named here too.
from ..techniques import BIOMARKER, BIOMARKERS_JSON as BIOMARKERS, ROLE, SOURCE_PATH, VISIT_ITEM  # noqa: E402,F401
READ_WARNINGS = "TMEMonitor.ReadWarnings"
# --- visits, roles and the longitudinal dashboard
VISIT_DATE = "DICOM.StudyDate"                      # DICOM's own name (YYYYMMDD)
VISIT_DAY = "TMEMonitor.DayOnTreatment"
VISIT_ROLE = "TMEMonitor.VisitRole"                 # baseline / on-treatment / post-treatment
TREATMENT_START = "TMEMonitor.TreatmentStartDate"
REGISTRATION_OF_VISIT = "TMEMonitor.RegistrationOfVisit"
REGISTRATION_METHOD = "TMEMonitor.RegistrationMethod"
REGISTRATION_QUALITY = "TMEMonitor.RegistrationQuality"
# --- spectroscopy
BASIS = "TMEMonitor.Basis"
QUALITY_FLAGS = "TMEMonitor.QualityFlags"
VOXEL = "TMEMonitor.Voxel"
GRID_SHAPE = "TMEMonitor.GridShape"
X_AXIS_REVERSED = "TMEMonitor.XAxisReversed"
# display (issue 13): where a map's window came from, and the change chart the layout shows
WINDOW_SOURCE = "TMEMonitor.WindowSource"           # "registry" / "patient" / "this map"
WINDOW_NOTE = "TMEMonitor.WindowNote"               # the window stated for a reader (legend)
RESPONSE_CHART = "TMEMonitor.ResponseChart"         # "change": the change-from-baseline chart

# Old name -> current name (scenes saved before the names were fixed).
_LEGACY = {"TMEMonitor.input_kind": INPUT_KIND, "TMEMonitor.AIF_source": AIF_SOURCE}
# Keys of an acquisition record that are node descriptors rather than acquisition values.
_RECORD_KEYS = {"input_kind": INPUT_KIND, "AIF_source": AIF_SOURCE}
_SOURCE_SUFFIX = "_source"


def acquisition_attribute(key):
    """Attribute holding the acquisition value ``key`` (e.g. 'TR_s' -> 'TMEMonitor.TR_s')."""
    return PREFIX + key


def source_attribute(key):
    """Attribute saying where the acquisition value ``key`` came from."""
    return SOURCE_PREFIX + key


def record_attribute(key):
    """Attribute of one entry of an acquisition record {key: value}: ``<key>_source`` entries
    become :func:`source_attribute`, descriptors their own names, values :func:`acquisition_attribute`."""
    if key in _RECORD_KEYS:
        return _RECORD_KEYS[key]
    if key.endswith(_SOURCE_SUFFIX) and len(key) > len(_SOURCE_SUFFIX):
        return source_attribute(key[:-len(_SOURCE_SUFFIX)])
    return acquisition_attribute(key)


def record_key(attribute):
    """Inverse of :func:`record_attribute` for current and legacy names; None for other attributes."""
    attribute = _LEGACY.get(attribute, attribute)
    for key, name in _RECORD_KEYS.items():
        if attribute == name:
            return key
    if attribute.startswith(SOURCE_PREFIX):
        return attribute[len(SOURCE_PREFIX):] + _SOURCE_SUFFIX
    if attribute.startswith(PREFIX):
        return attribute[len(PREFIX):]
    return None


def legacy_names(name):
    """Names under which an attribute may have been saved by earlier versions (oldest last)."""
    names = [old for old, new in _LEGACY.items() if new == name]
    if name.startswith(SOURCE_PREFIX):
        names.append(PREFIX + name[len(SOURCE_PREFIX):] + _SOURCE_SUFFIX)
    return names


def get(node, name):
    """The attribute ``name`` of a node, falling back to its legacy names; None when absent."""
    for candidate in [name] + legacy_names(name):
        value = node.GetAttribute(candidate)
        if value is not None:
            return value
    return None
