"""The synthetic patient on therapy in a Slicer scene, and the whole demo chain.

``build_demo_scene`` turns the digital reference object (``TMEMonitorLib.phantom``: anatomy and
truth) into a scene: patient -> visits in the subject hierarchy, each visit holding the
acquisitions every registered technique synthesises for it (e.g. DCE + VFA series, multi-b
DWI, a spectrum file), its tissue label map, tumour segmentation and the truth maps.
``run_demo`` then runs every analysis, the longitudinal response and the report, and writes the
scene as .mrb.
"""
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import quantities
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import report
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.techniques import (ROLE, SOURCE_PATH, SynthesisContext, SyntheticFile, SyntheticSeries,
                                      SyntheticVolume)

from . import techniques

# Volume sizes (slices, rows, cols) of the synthetic patient.
SIZES = {
    "tiny": (4, 32, 32),
    "small": (8, 64, 64),
    "default": (12, 96, 96),
    "large": (32, 256, 256),
}

# What each acquisition node is, so that the dashboard finds a visit's inputs.
ROLE_ATTRIBUTE = ROLE

# Truth maps shown in the scene (quantity, unit, colour map and window from the quantity registry,
# TMEMonitorLib.quantities, the same as the measured maps of that name).
TRUTH_MAPS = ("Ktrans", "ve", "vp", "T10_s", "ADC", "D", "f", "Dstar")


@dataclass
class DemoVisit:
    name: str
    item: int
    visit: object                       # the phantom's Visit (truth)
    nodes: dict = field(default_factory=dict)


@dataclass
class DemoBuild:
    patient: object                     # the phantom's Patient
    patient_item: int
    visits: list = field(default_factory=list)


def visit_role(day):
    return "baseline" if day <= 0 else "on-treatment"


def build_demo_scene(scene, size="small", seed=0, n_visits=3, progress=None, responder=True, out_dir=None,
                     only=None):
    """Add the synthetic patient (acquisitions, labels, truth) to ``scene``; returns a DemoBuild.

    Each registered technique synthesises its acquisition of every visit (in technique order,
    drawing from one random generator); files it writes go under ``out_dir`` (default: a new
    temporary folder). A visit whose techniques give no anatomy image gets the phantom's
    proton-density-like S0 map. ``only``: names of the techniques to synthesise (default all;
    a technique's self-test asks for its own)."""
    from TMEMonitorLib.phantom import make_patient

    shape = SIZES[size] if isinstance(size, str) else tuple(size)
    report(progress, 0.0, "building the synthetic patient")
    patient = make_patient(shape=shape, n_visits=n_visits, seed=seed, responder=responder)
    rng = np.random.default_rng(seed + 1000)
    out_dir = out_dir or tempfile.mkdtemp(prefix="tme-demo-acquisitions-")
    synthesizers = synthesizing_techniques(only, what="build_demo_scene(only=...)")

    patient_item = hierarchy.add_patient(scene, "Synthetic patient", patient.patient_id, patient.treatment_start_date)
    tissue_colors = tme_scene.label_color_node(scene, "tissue", tme_scene.TISSUE_LABELS)
    build = DemoBuild(patient=patient, patient_item=patient_item)
    for index, visit in enumerate(patient.visits):
        report(progress, (index + 0.1) / len(patient.visits), f"synthesising visit '{visit.name}'")
        item = hierarchy.add_visit(scene, patient_item, visit.name, visit.date, day=visit.day, role=visit_role(visit.day))
        ijk = visit.ijk_to_ras
        context = SynthesisContext(rng=rng, seed=seed, visit_index=index, out_dir=out_dir, responder=responder)
        nodes = synthesize_visit_nodes(scene, visit, synthesizers, context)

        nodes["labels"] = tme_scene.add_label_map(scene, visit.labels, ijk, f"{visit.name} tissue labels", tissue_colors)
        tumour = np.where(visit.tumour_mask, visit.labels, 0).astype(np.uint8)
        tumour_labels = tme_scene.add_label_map(scene, tumour, ijk, f"{visit.name} tumour labels", tissue_colors)
        nodes["tumour"] = tme_scene.labelmap_to_segmentation(scene, tumour_labels, f"{visit.name} tumour")
        scene.RemoveNode(tumour_labels)

        truth_folder = hierarchy.add_folder(scene, item, "Truth (phantom)")
        for key in TRUTH_MAPS:
            if key in visit.truth:
                node = tme_scene.add_quantity_map(scene, visit.truth[key], ijk,
                                                  f"{visit.name} truth {quantities.lookup(key).quantity}", key)
                hierarchy.place(scene, node, truth_folder)
        for role, node in nodes.items():
            node.SetAttribute(ROLE_ATTRIBUTE, role)
            hierarchy.place(scene, node, item)
            hierarchy.place_sequence_proxy(scene, node, item)
        build.visits.append(DemoVisit(name=visit.name, item=item, visit=visit, nodes=nodes))
    report(progress, 1.0, "synthetic patient ready")
    return build


def synthesizing_techniques(only=None, what="techniques"):
    """The registered techniques that synthesise an acquisition, in technique order; ``only``: names
    to keep (InputError naming ``what`` and the registered names when one is not among them)."""
    synthesizers = [t for t in techniques.techniques() if t.synthesize is not None and (only is None or t.name in only)]
    if only is not None and {t.name for t in synthesizers} != set(only):
        known = ", ".join(t.name for t in techniques.techniques() if t.synthesize is not None)
        raise InputError(f"{what}: {', '.join(sorted(set(only) - {t.name for t in synthesizers}))} "
                         f"is not a registered technique with a synthetic acquisition (registered: {known})")
    return synthesizers


def synthesize_visit_nodes(scene, visit, synthesizers, context):
    """{role: node} of one phantom visit's acquisitions by each of ``synthesizers`` (drawing from
    ``context.rng`` in that order); a visit whose techniques give no anatomy image gets the
    phantom's proton-density-like S0 map."""
    ijk = visit.ijk_to_ras
    nodes = {}
    for technique in synthesizers:
        for acquisition in technique.synthesize(visit, context) or ():
            if acquisition.role in nodes:
                raise InputError(f"technique '{technique.name}' synthesised a second '{acquisition.role}' "
                                 f"acquisition for visit '{visit.name}'")
            nodes[acquisition.role] = _acquisition_node(scene, acquisition, ijk, visit.name)
    if "anatomy" not in nodes:
        nodes["anatomy"] = tme_scene.array_to_volume(scene, visit.truth["S0_dwi"].astype(np.float32), ijk,
                                                     f"{visit.name} anatomy (phantom S0)")
    return nodes


def _acquisition_node(scene, acquisition, ijk_to_ras, visit_name):
    """The node of one synthetic acquisition (SyntheticSeries / SyntheticVolume / SyntheticFile)."""
    name = f"{visit_name} {acquisition.name}"
    if isinstance(acquisition, SyntheticSeries):
        grid = ijk_to_ras if acquisition.ijk_to_ras is None else acquisition.ijk_to_ras     # e.g. a coarse 13C grid
        node = tme_scene.array_to_sequence(scene, acquisition.array, acquisition.axis_values, grid, name,
                                           axis_name=acquisition.axis_name, axis_unit=acquisition.axis_unit,
                                           axis_source=acquisition.axis_source)
    elif isinstance(acquisition, SyntheticVolume):
        node = tme_scene.array_to_volume(scene, np.asarray(acquisition.array, dtype=np.float32), ijk_to_ras, name)
    elif isinstance(acquisition, SyntheticFile):
        node = scene.AddNewNodeByClass("vtkMRMLTextNode", scene.GenerateUniqueName(name))
        node.SetText(os.path.abspath(acquisition.path))
        node.SetAttribute(SOURCE_PATH, os.path.abspath(acquisition.path))
    else:
        raise InputError(f"synthetic acquisition '{name}': unknown kind {type(acquisition).__name__}")
    if acquisition.attributes:
        tme_scene.set_acquisition_attributes(node, acquisition.attributes)
    return node


def write_visit_files(scene, build, out_dir):
    """Files of every visit, one folder per visit, each the input of the command that uses it:
    maps named after the registry as the command line names them (``Ktrans.nrrd``,
    ``se_Ktrans.nrrd``; a map name two techniques share gets the technique's prefix) with
    quantity and unit in the NRRD header; label maps; the series as ``.seq.nrrd`` (with their
    acquisition keys, read back by ``tme-monitor dce`` / ``dwi`` / ``info``); the tumour
    segmentation as ``tumour.seg.nrrd`` (usable as ``--mask``)."""
    from TMEMonitorLib.io import map_metadata
    written = []
    for visit in build.visits:
        folder = os.path.join(out_dir, "nrrd", visit.name.replace(" ", "_"))
        os.makedirs(folder, exist_ok=True)
        taken = set()
        for node in hierarchy.children_nodes(scene, visit.item):
            fields = {}
            if node.IsA("vtkMRMLVolumeNode") and not node.GetHideFromEditors():
                if node.GetAttribute("Sequences.Proxy") or _is_proxy(scene, node):
                    continue
                fields = map_metadata.fields_for_node(node)
                measured = fields.get("MapName") and " truth " not in f" {node.GetName()} "   # truth_<name> kept apart
                stem = map_metadata.file_stem(fields["MapName"]) if measured else _file_name(node.GetName(), visit.name)
                if stem in taken:
                    stem = _file_name(node.GetName(), visit.name)
                path = os.path.join(folder, stem + ".nrrd")
            elif node.IsA("vtkMRMLSequenceNode"):
                stem = _file_name(node.GetName(), visit.name)
                path = os.path.join(folder, stem + ".seq.nrrd")
            elif node.IsA("vtkMRMLSegmentationNode") and node.GetAttribute(ROLE_ATTRIBUTE) == "tumour":
                stem = "tumour"
                path = os.path.join(folder, "tumour.seg.nrrd")
            else:
                continue
            taken.add(stem)
            tme_scene.write_node(node, path)
            if fields:
                map_metadata.annotate_map_file(path, fields)
            written.append(path)
    return written


def _is_proxy(scene, node):
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSequenceBrowserNode")):
        browser = scene.GetNthNodeByClass(index, "vtkMRMLSequenceBrowserNode")
        if browser.IsProxyNodeID(node.GetID()):
            return True
    return False


def _file_name(node_name, visit_name):
    name = node_name[len(visit_name):].strip() if node_name.startswith(visit_name) else node_name
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "volume"


@dataclass
class DemoOutcome:
    out_dir: str
    scene_path: str
    report_html: str
    report_json: str
    files: list
    summary_lines: list


def run_demo(out_dir, size="default", seed=0, n_visits=3, progress=None, log=print, final_dir=None):
    """The whole chain on the synthetic patient; writes the scene (.mrb), NRRD files and the report.

    ``final_dir``: where the files written to ``out_dir`` (a staging folder) will be moved; the
    file paths the scene records (``SOURCE_PATH``) then point there."""
    from . import dashboard

    os.makedirs(out_dir, exist_ok=True)
    scene = tme_scene.create_scene()
    stage = _Stages(progress, [("synthetic patient", 0.10), ("analyses", 0.55), ("registration", 0.15),
                               ("response", 0.10), ("report and files", 0.10)])
    build = build_demo_scene(scene, size=size, seed=seed, n_visits=n_visits, progress=stage.next(), out_dir=out_dir)
    log(f"Synthetic patient {build.patient.patient_id}: {len(build.visits)} visits, volume {build.visits[0].visit.labels.shape} "
        f"(slices, rows, cols)")
    analyse = stage.next()
    titles = {t.name: t.title for t in techniques.techniques()}
    for index, visit in enumerate(build.visits):
        results = dashboard.run_visit_analyses(scene, visit.item, progress=_scaled(analyse, index, len(build.visits)))
        log(f"  analysed visit '{visit.name}' (day {visit.visit.day}): " + ", ".join(titles[n] for n in results))
    registration = dashboard.register_visits(scene, build.patient_item, method="rigid", progress=stage.next())
    log(registration.summary())
    truth = {visit.name: visit.visit.truth_summary for visit in build.visits}
    response = dashboard.compute_response(scene, build.patient_item, organ="breast", truth=truth, progress=stage.next(),
                                          registration=registration)
    log(response.summary())
    finish = stage.next()
    report_html = dashboard.write_report(scene, build.patient_item, out_dir, response=response, progress=finish)
    if final_dir:
        _relocate_source_paths(scene, out_dir, final_dir)
    scene_path = tme_scene.save_scene(scene, os.path.join(out_dir, "TMEMonitorDemo.mrb"))
    files = write_visit_files(scene, build, out_dir)
    report(progress, 1.0, "done")
    return DemoOutcome(out_dir=out_dir, scene_path=scene_path, report_html=report_html,
                       report_json=os.path.join(out_dir, "report.json"), files=files,
                       summary_lines=response.comparison_lines())


def _relocate_source_paths(scene, old_dir, new_dir):
    """Point the SOURCE_PATH of nodes holding files under ``old_dir`` at the same files under ``new_dir``."""
    old_dir = os.path.abspath(old_dir)
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        path = node.GetAttribute(SOURCE_PATH) if hasattr(node, "GetAttribute") else None
        if path and os.path.abspath(path).startswith(old_dir + os.sep):
            moved = os.path.join(os.path.abspath(new_dir), os.path.relpath(path, old_dir))
            node.SetAttribute(SOURCE_PATH, moved)
            if node.IsA("vtkMRMLTextNode") and node.GetText() == path:
                node.SetText(moved)


class _Stages:
    """Splits one progress callable into consecutive weighted stages."""

    def __init__(self, progress, stages):
        self.progress = progress
        self.stages = stages
        self.start = 0.0
        self.index = 0

    def next(self):
        name, weight = self.stages[self.index]
        start = self.start
        self.start += weight
        self.index += 1
        return lambda fraction, message="": report(self.progress, start + weight * fraction, f"{name}: {message}")


def _scaled(progress, index, count):
    return lambda fraction, message="": progress((index + fraction) / count, message)
