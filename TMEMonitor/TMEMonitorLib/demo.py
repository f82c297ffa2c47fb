"""The synthetic patient on therapy in a Slicer scene, and the whole demo chain.

``build_demo_scene`` turns the digital reference object (``TMEMonitorLib.phantom``) into a
scene: patient -> visits in the subject hierarchy, each visit holding its acquisitions (DCE
series and variable-flip-angle series, multi-b DWI, a spectrum where the spectroscopy module
is present), its tissue label map, tumour segmentation and the truth maps. ``run_demo`` then
runs every analysis, the longitudinal response and the report, and writes the scene as .mrb.
"""
import os
from dataclasses import dataclass, field

import numpy as np

from . import scene as tme_scene
from .progress import report
from .scene import hierarchy

# Volume sizes (slices, rows, cols) of the synthetic patient.
SIZES = {
    "tiny": (4, 32, 32),
    "small": (8, 64, 64),
    "default": (12, 96, 96),
    "large": (32, 256, 256),
}

# What each acquisition node is, so that the dashboard finds a visit's inputs.
ROLE_ATTRIBUTE = "TMEMonitor.Role"

# Truth maps shown in the scene: name -> (quantity, unit, colour map).
TRUTH_MAPS = {
    "Ktrans": ("Ktrans", "1/min", "inferno"),
    "ve": ("ve", "", "viridis"),
    "vp": ("vp", "", "viridis"),
    "T10_s": ("T10", "s", "viridis"),
    "ADC": ("ADC", "mm2/s", "viridis"),
    "D": ("D", "mm2/s", "viridis"),
    "f": ("f", "", "magma"),
    "Dstar": ("Dstar", "mm2/s", "magma"),
}


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


def build_demo_scene(scene, size="small", seed=0, n_visits=3, progress=None, responder=True):
    """Add the synthetic patient (acquisitions, labels, truth) to ``scene``; returns a DemoBuild."""
    from .phantom import make_patient
    from .phantom.dce import synthesize_dce
    from .phantom.dwi import synthesize_dwi

    shape = SIZES[size] if isinstance(size, str) else tuple(size)
    report(progress, 0.0, "building the synthetic patient")
    patient = make_patient(shape=shape, n_visits=n_visits, seed=seed, responder=responder)
    rng = np.random.default_rng(seed + 1000)

    patient_item = hierarchy.add_patient(scene, "Synthetic patient", patient.patient_id, patient.treatment_start_date)
    tissue_colors = tme_scene.label_color_node(scene, "tissue", tme_scene.TISSUE_LABELS)
    build = DemoBuild(patient=patient, patient_item=patient_item)
    for index, visit in enumerate(patient.visits):
        report(progress, (index + 0.1) / len(patient.visits), f"synthesising visit '{visit.name}'")
        item = hierarchy.add_visit(scene, patient_item, visit.name, visit.date, day=visit.day, role=visit_role(visit.day))
        nodes = {}
        ijk = visit.ijk_to_ras

        dce = synthesize_dce(visit, rng=rng)
        nodes["dce"] = tme_scene.array_to_sequence(scene, dce["signal"], dce["t_s"], ijk, f"{visit.name} DCE",
                                                   axis_source="synthetic acquisition (phantom frame times)")
        tme_scene.set_acquisition_attributes(nodes["dce"], dce["metadata"])
        nodes["vfa"] = tme_scene.array_to_sequence(scene, dce["vfa_signal"], dce["flip_angles_deg"], ijk,
                                                   f"{visit.name} VFA", axis_name="flip_angle", axis_unit="deg",
                                                   axis_source="synthetic acquisition (phantom flip angles)")
        tme_scene.set_acquisition_attributes(nodes["vfa"], dce["metadata"])

        dwi = synthesize_dwi(visit, rng=rng)
        nodes["dwi"] = tme_scene.array_to_sequence(scene, dwi["signal"], dwi["b_values"], ijk, f"{visit.name} DWI",
                                                   axis_name="b", axis_source="synthetic acquisition (phantom b-values)")
        tme_scene.set_acquisition_attributes(nodes["dwi"], {"noise_sigma": dwi["sigma"]})
        # Anatomy for display and registration: the b = 0 image.
        b0 = dwi["signal"][np.argmin(dwi["b_values"])]
        nodes["anatomy"] = tme_scene.array_to_volume(scene, b0.astype(np.float32), ijk, f"{visit.name} anatomy (b0)")

        nodes["labels"] = tme_scene.add_label_map(scene, visit.labels, ijk, f"{visit.name} tissue labels", tissue_colors)
        tumour = np.where(visit.tumour_mask, visit.labels, 0).astype(np.uint8)
        tumour_labels = tme_scene.add_label_map(scene, tumour, ijk, f"{visit.name} tumour labels", tissue_colors)
        nodes["tumour"] = tme_scene.labelmap_to_segmentation(scene, tumour_labels, f"{visit.name} tumour")
        scene.RemoveNode(tumour_labels)

        truth_folder = hierarchy.add_folder(scene, item, "Truth (phantom)")
        for key, (quantity, unit, colormap) in TRUTH_MAPS.items():
            if key in visit.truth:
                node = tme_scene.add_parameter_map(scene, visit.truth[key], ijk, f"{visit.name} truth {quantity}",
                                                   quantity, unit, colormap, mask=visit.labels > 0)
                hierarchy.place(scene, node, truth_folder)
        for role, node in nodes.items():
            node.SetAttribute(ROLE_ATTRIBUTE, role)
            hierarchy.place(scene, node, item)
            hierarchy.place_sequence_proxy(scene, node, item)
        build.visits.append(DemoVisit(name=visit.name, item=item, visit=visit, nodes=nodes))
    report(progress, 1.0, "synthetic patient ready")
    return build


def write_visit_files(scene, build, out_dir):
    """NRRD files of every volume and label map (and .seq.nrrd of the series), one folder per visit."""
    written = []
    for visit in build.visits:
        folder = os.path.join(out_dir, "nrrd", visit.name.replace(" ", "_"))
        os.makedirs(folder, exist_ok=True)
        for node in hierarchy.children_nodes(scene, visit.item):
            if node.IsA("vtkMRMLVolumeNode") and not node.GetHideFromEditors():
                if node.GetAttribute("Sequences.Proxy") or _is_proxy(scene, node):
                    continue
                path = os.path.join(folder, _file_name(node.GetName(), visit.name) + ".nrrd")
            elif node.IsA("vtkMRMLSequenceNode"):
                path = os.path.join(folder, _file_name(node.GetName(), visit.name) + ".seq.nrrd")
            else:
                continue
            tme_scene.write_node(node, path)
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


def run_demo(out_dir, size="default", seed=0, n_visits=3, progress=None, log=print):
    """The whole chain on the synthetic patient; writes the scene (.mrb), NRRD files and the report."""
    from . import dashboard

    os.makedirs(out_dir, exist_ok=True)
    scene = tme_scene.create_scene()
    stage = _Stages(progress, [("synthetic patient", 0.10), ("analyses", 0.55), ("registration", 0.15),
                               ("response", 0.10), ("report and files", 0.10)])
    build = build_demo_scene(scene, size=size, seed=seed, n_visits=n_visits, progress=stage.next())
    log(f"Synthetic patient {build.patient.patient_id}: {len(build.visits)} visits, volume {build.visits[0].visit.labels.shape} "
        f"(slices, rows, cols)")
    analyse = stage.next()
    spectra = _spectroscopy_available()
    for index, visit in enumerate(build.visits):
        dashboard.run_visit_analyses(scene, visit.item, progress=_scaled(analyse, index, len(build.visits)))
        if spectra:
            _analyse_visit_spectrum(scene, visit, out_dir, seed + index)
        log(f"  analysed visit '{visit.name}' (day {visit.visit.day}): DCE, DWI" + (", MRS" if spectra else ""))
    registration = dashboard.register_visits(scene, build.patient_item, method="rigid", progress=stage.next())
    log(registration.summary())
    truth = {visit.name: visit.visit.truth_summary for visit in build.visits}
    response = dashboard.compute_response(scene, build.patient_item, organ="breast", truth=truth, progress=stage.next())
    log(response.summary())
    finish = stage.next()
    report_html = dashboard.write_report(scene, build.patient_item, out_dir, response=response, progress=finish)
    scene_path = tme_scene.save_scene(scene, os.path.join(out_dir, "TMEMonitorDemo.mrb"))
    files = write_visit_files(scene, build, out_dir)
    report(progress, 1.0, "done")
    return DemoOutcome(out_dir=out_dir, scene_path=scene_path, report_html=report_html,
                       report_json=os.path.join(out_dir, "report.json"), files=files,
                       summary_lines=response.comparison_lines())


def _spectroscopy_available():
    try:
        import SpectroscopyModuleLib.logic  # noqa: F401
        return True
    except ImportError:
        return False


def _analyse_visit_spectrum(scene, visit, out_dir, seed):
    """The visit's synthetic tumour spectrum: written as NIfTI-MRS and fitted into the visit's folder."""
    from SpectroscopyModuleLib.demo_spectrum import visit_spectrum
    from SpectroscopyModuleLib.io import write_nifti_mrs
    from SpectroscopyModuleLib.logic import SpectroscopyLogic
    spectrum = visit_spectrum(visit.visit, rng=np.random.default_rng(seed))
    folder = os.path.join(out_dir, "mrs")
    os.makedirs(folder, exist_ok=True)
    write_nifti_mrs(spectrum, os.path.join(folder, visit.name.replace(" ", "_") + "_svs.nii.gz"))
    return SpectroscopyLogic(scene).run_svs(spectrum, parent_item=visit.item, name_prefix=f"{visit.name} MRS")


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
