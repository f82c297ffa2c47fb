"""The longitudinal response of a patient: measure every visit, follow the lesions, score the
changes, compute the voxel-wise response maps and habitats, then write tables, maps and the
chart into the scene. Returns everything the report needs (``ResponseSummary``); nothing is
kept anywhere else."""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.longitudinal import registration as long_registration
from TMEMonitorLib.longitudinal import response_maps
from TMEMonitorLib.progress import report
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.scene import voxel_volume_ml

from .. import techniques
from . import response_nodes
from .lesions import follow_lesions
from .measurement import measure_visit
from .patients import baseline_visit, list_visits, scene_item_name
from .registration import registration_quality, transform_for
from .scoring import score

# Habitats: rule-based from ADC (cellularity) and Ktrans (perfusion), when both are measured.
HABITAT_INPUTS = ("ADC", "Ktrans")
SIZE_CHARTED = ("volume_ml", "longest_diameter_mm", "recist_sum_mm")


@dataclass
class ParametricResponse:
    name: str
    threshold: float
    unit: str
    follow_up: str
    labels: np.ndarray              # on the baseline grid
    scatter: tuple                  # (baseline values, follow-up values) in the tumour
    fractions: dict
    node: object = None


@dataclass
class ReportInputs:
    """Arrays for the report figures."""
    measurements: list              # measurement.VisitMeasurement in time order
    baseline_index: int
    days: list
    percent_series: dict            # biomarker -> change from baseline (%) per visit
    prm: dict = field(default_factory=dict)             # biomarker -> ParametricResponse
    figure_styles: dict = field(default_factory=dict)   # biomarker -> techniques' FigureStyle
    registration: dict = field(default_factory=dict)    # visit name -> quality summary


@dataclass
class ResponseSummary:
    table_node: object
    chart_nodes: list
    calls: list
    data: dict                      # everything for report.json
    figures: ReportInputs           # arrays for the report figures
    lesion_table_node: object = None  # one row per visit and lesion: identity, status, longest diameter

    def summary(self):
        lines = [f"{c.criterion} at {c.visit}: {c.category} ({c.reason})" for c in self.calls]
        return "Response: " + (" | ".join(lines) if lines else "no follow-up visit")

    def comparison_lines(self):
        lines = []
        for visit in self.data["visits"]:
            for name, entry in visit["biomarkers"].items():
                truth = entry.get("truth")
                if truth is None or entry.get("measured") is None:
                    continue
                measured = entry["measured"]
                error = 100.0 * (measured - truth) / truth if truth else float("nan")
                change = entry.get("change_from_baseline_percent")
                truth_change = entry.get("truth_change_from_baseline_percent")
                change_text = "" if change is None or truth_change is None or visit["name"] == self.data["baseline"] \
                    else f"; change {change:+6.1f} % (true {truth_change:+6.1f} %)"
                lines.append(f"{visit['name']:9s} {name:20s} measured {measured:10.4g}  true {truth:10.4g}  "
                             f"({error:+5.1f} %){change_text}")
        return lines


def compute_response(scene, patient_item, organ="breast", response_biomarker="ADC", truth=None, rc_overrides=None,
                     prm_thresholds=None, progress=None, registration=None, present=True):
    """Per-visit biomarkers, changes against repeatability, PRM and habitats, response calls, table and plots.

    ``registration``: the RegistrationSummary of ``register_visits`` in this session (exact
    transforms); without it the visits' transform nodes are used (as after loading a scene).
    ``response_biomarker`` is kept for existing callers (every tracked biomarker is scored).
    ``present``: leave the scene ready to read (reading_scene.prepare_reading_scene: the latest
    visit's key map over its anatomy and this chart, one window per quantity across visits)."""
    visits = list_visits(scene, patient_item)
    if len(visits) < 1:
        raise InputError("the patient has no visits")
    baseline = baseline_visit(visits)
    specs = {name: spec for name, (spec, _) in techniques.biomarkers().items()}
    measured = []
    for index, visit in enumerate(visits):
        report(progress, 0.5 * index / len(visits), f"biomarkers of {visit.name}")
        measured.append(measure_visit(scene, visit, baseline, measured, list(specs.values()), registration))

    report(progress, 0.5, "lesions and RECIST target sum")
    base = measured[visits.index(baseline)]
    target_info = follow_lesions(scene, measured, base, registration)
    scores = score(measured, baseline, specs, organ, truth, rc_overrides)
    measurements, days = scores.measurements, scores.days
    patient_name = scene_item_name(scene, patient_item)
    data = {"patient": {"name": patient_name,
                        "id": hierarchy.item_attribute(scene, patient_item, "DICOM.PatientID"),
                        "treatment_start": hierarchy.item_attribute(scene, patient_item, hierarchy.TREATMENT_START)},
            "organ": organ, "baseline": baseline.name, "visits": scores.rows,
            "response": [c.as_dict() for c in scores.calls], "prm": {}, "habitats": {},
            "target_lesions": target_info.as_dict()}

    # Voxel-wise response maps (last visit against baseline, in baseline space) and habitats.
    report(progress, 0.6, "response maps")
    thresholds = {name: spec.prm_threshold for name, spec in specs.items() if spec.prm_threshold is not None}
    thresholds.update(prm_thresholds or {})
    prm = {}
    last = measurements[-1]
    if last is not base:
        transform = transform_for(scene, last.visit.item, registration)
        for name, threshold in thresholds.items():
            if name not in base.arrays or name not in last.arrays:
                continue
            follow = long_registration.resample(last.arrays[name], last.ijk, base.shape, base.ijk, transform)
            labels, fractions, scatter = response_maps.parametric_response_map(base.arrays[name], follow, base.mask,
                                                                              threshold)
            prm[name] = ParametricResponse(name, threshold, specs[name].unit if name in specs else "",
                                           last.visit.name, labels, scatter, fractions)
            data["prm"][name] = {"threshold": threshold, "unit": prm[name].unit, "fractions": fractions,
                                 "follow_up": last.visit.name}
    habitat_volumes = {}
    for entry in measurements:
        if all(name in entry.arrays for name in HABITAT_INPUTS):
            entry.habitats = response_maps.habitats(entry.arrays["ADC"], entry.arrays["Ktrans"], entry.mask)
            habitat_volumes[entry.visit.name] = response_maps.habitat_volumes_ml(entry.habitats,
                                                                                 voxel_volume_ml(entry.ijk))
    data["habitats"] = habitat_volumes

    report(progress, 0.85, "table and plots")
    charted = SIZE_CHARTED + tuple(name for name, spec in specs.items() if spec.charted)
    series = response_nodes.percent_series(scores, charted, scores.baseline_index)
    for result in prm.values():
        result.node = response_nodes.prm_node(scene, result.labels, base, result.name, result.follow_up)
    for entry in measurements:
        if entry.habitats is not None:
            response_nodes.habitat_node(scene, entry.habitats, entry)
    table = response_nodes.biomarker_table(scene, patient_item, patient_name, scores, measurements, days,
                                           target_info.names)
    lesion_table = response_nodes.lesion_table(scene, patient_item, patient_name, measurements, days)
    charts = []
    if series and len(visits) > 1:
        charts.append(response_nodes.change_chart(scene, patient_item, days, series))
    if present:
        from .reading_scene import prepare_reading_scene
        prepare_reading_scene(scene, patient_item)
    report(progress, 1.0, "response done")
    figures = ReportInputs(measurements=measurements, baseline_index=scores.baseline_index, days=days,
                           percent_series=series, prm=prm,
                           figure_styles={name: spec.figure for name, spec in specs.items() if spec.figure},
                           registration=registration_quality(scene, visits))
    return ResponseSummary(table_node=table, chart_nodes=charts, calls=scores.calls, data=data, figures=figures,
                           lesion_table_node=lesion_table)
