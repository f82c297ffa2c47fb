"""What a technique module gives the app: the plug-in contract (dataclasses only, Qt-free).

A technique (DCE, diffusion, spectroscopy; next hypoxia, elastography, hyperpolarized 13C)
lives in its own module folder. Its ``<Module>Lib/technique.py`` defines one module-level
``TECHNIQUE = Technique(...)``: the roles of the input series it analyses, how to analyse one
visit, the biomarkers it reports, its synthetic acquisition of a phantom visit (for the demo)
and, optionally, its ``tme-monitor`` sub-command. The app layer (``TMEMonitorApp.techniques``)
discovers every importable ``*ModuleLib.technique`` module and the ``tme_monitor.techniques``
entry points; the dashboard, demo, report and command line iterate what it found. Adding a
technique is adding a module folder: no list of modules is kept anywhere.

This file is only the contract: it knows no technique and nothing of the app, and holds no
registry (that is the app's).

Scene attributes shared by the app and the techniques (the names are the contract too):
``ROLE`` marks a visit's acquisition node with its input role; ``SOURCE_PATH`` the file it
came from; ``BIOMARKER`` / ``VISIT_ITEM`` tag a map node with the biomarker it holds and its
visit; ``BIOMARKERS_JSON`` on a table node holds a technique's per-visit values as JSON
(``{name: value}``) for biomarkers whose ``source`` is ``"table"``.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

ROLE = "TMEMonitor.Role"
SOURCE_PATH = "TMEMonitor.SourcePath"
BIOMARKER = "TMEMonitor.Biomarker"
VISIT_ITEM = "TMEMonitor.VisitItem"
BIOMARKERS_JSON = "TMEMonitor.Biomarkers"

SERIES, VOLUME, FILE = "series", "volume", "file"


@dataclass(frozen=True)
class InputRole:
    """One input of a technique at a visit: a node under the visit with ``ROLE`` = ``role``.

    ``kind``: ``"series"`` (a sequence node indexed by ``axis``: "time" s, "b" s/mm2,
    "flip_angle" deg), ``"volume"`` (a scalar volume) or ``"file"`` (a node whose
    ``SOURCE_PATH`` names a file the technique reads itself, e.g. a spectrum).
    The technique runs on a visit that has all of its ``required`` roles.
    """
    role: str
    description: str
    kind: str = SERIES
    axis: Optional[str] = None
    required: bool = True


@dataclass(frozen=True)
class FigureStyle:
    """How the report draws a biomarker map over the anatomy: values x ``scale`` in ``value_range``."""
    colormap: str
    label: str                                   # colour-bar label with its display unit
    scale: float = 1.0
    value_range: Tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class Biomarker:
    """A number a technique reports per visit and the dashboard follows over time.

    - ``name``: the key in report.json and the biomarker table; for ``source="map"`` also the
      key of the map node in the technique's result ``map_nodes`` (tagged ``BIOMARKER``).
    - ``quantity`` / ``unit``: what it is and its internal unit (CONTRIBUTING: 1/min, mm2/s, "").
    - ``source``: ``"map"``: mean of the visit's map over the tumour; ``"table"``: the value
      stored under ``name`` in the JSON of a visit table's ``BIOMARKERS_JSON`` attribute.
    - ``rc_percent``: relative repeatability coefficient (%) used to call a real change when
      ``TMEMonitorLib.longitudinal.repeatability`` has none for ``name`` (user overrides win).
    - ``truth_key``: key of the phantom visit's ``truth_summary`` (demo: measured vs true).
    - ``figure``: draw its map over the anatomy in the report; ``prm_threshold``: absolute
      change (``unit``) for a parametric response map of the last visit; ``charted``: a line in
      the change-from-baseline chart.
    - ``responding_direction``: +1 when a real increase indicates response (ADC: cell kill),
      -1 when a real decrease does (Ktrans, choline), None when it is not a response readout;
      the functional (research) call uses it.
    """
    name: str
    quantity: str
    unit: str
    source: str = "map"
    rc_percent: Optional[float] = None
    truth_key: Optional[str] = None
    figure: Optional[FigureStyle] = None
    prm_threshold: Optional[float] = None
    charted: bool = False
    responding_direction: Optional[int] = None


@dataclass
class SyntheticSeries:
    """A 4D acquisition: ``array`` (frames, slices, rows, cols) indexed by ``axis_values``.

    ``ijk_to_ras``: the acquisition's own grid (4x4) when it is not the visit's (e.g. a coarse
    hyperpolarized 13C grid); None: the visit's grid."""
    role: str
    name: str                                    # node name after the visit's name, e.g. "DCE"
    array: object
    axis_values: object
    axis_name: str
    axis_source: str
    axis_unit: Optional[str] = None
    attributes: dict = field(default_factory=dict)
    ijk_to_ras: object = None


@dataclass
class SyntheticVolume:
    """A 3D image (slices, rows, cols), e.g. the anatomy a technique's acquisition provides."""
    role: str
    name: str
    array: object
    attributes: dict = field(default_factory=dict)


@dataclass
class SyntheticFile:
    """A file the technique wrote (e.g. a NIfTI-MRS spectrum), added to the visit by path."""
    role: str
    name: str
    path: str
    attributes: dict = field(default_factory=dict)


@dataclass
class SynthesisContext:
    """What a synthetic acquisition gets beside the phantom visit: the demo's random generator
    (shared, techniques draw from it in registration order), the seed and the visit's index
    (for a technique that seeds its own generator), a folder for the files it writes and whether
    the synthetic patient responds to therapy (for truth the phantom visit does not carry)."""
    rng: object
    seed: int
    visit_index: int
    out_dir: str
    responder: bool = True


@dataclass(frozen=True)
class Technique:
    """A technique as the app sees it (see the module docstring).

    - ``analyse_visit(scene, visit_item, nodes, settings, progress)``: analyse one visit;
      ``nodes`` maps role -> node of the visit; ``settings`` is the technique's settings
      object or None (its defaults). Writes its outputs under the visit and returns the
      module Logic's result, whose ``map_nodes`` ({name: node}) the dashboard tags. Raises
      ``InputError`` on bad input; must leave the scene as it was when it raises.
    - ``synthesize(phantom_visit, context)``: the technique's acquisition of a
      ``TMEMonitorLib.phantom`` visit, a list of SyntheticSeries / SyntheticVolume /
      SyntheticFile (None: the demo has none for it).
    - ``add_parser(subparsers)``: its ``tme-monitor`` sub-command (argparse), or None.
    - ``order``: position among techniques (analysis and report order; lower first).
    """
    name: str
    title: str
    inputs: Tuple[InputRole, ...]
    analyse_visit: Callable
    biomarkers: Tuple[Biomarker, ...] = ()
    synthesize: Optional[Callable] = None
    add_parser: Optional[Callable] = None
    settings_type: Optional[type] = None
    order: int = 100

    def required_roles(self):
        return tuple(r.role for r in self.inputs if r.required)

    def applies_to(self, nodes_by_role):
        """True when a visit's nodes hold every required input of this technique."""
        return all(role in nodes_by_role for role in self.required_roles())


def visit_name(scene, visit_item):
    """Name of a visit's subject-hierarchy item (prefix of the nodes a technique writes)."""
    import slicer
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene).GetItemName(visit_item)
