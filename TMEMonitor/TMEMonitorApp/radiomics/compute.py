"""Features of a patient's visits (every region x image) and their change from baseline."""
import math
import time
from dataclasses import dataclass, field

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.progress import report
from TMEMonitorLib.radiomics import delta_rows, resolve_settings, run_radiomics_for_images, settings_hash

from ..dashboard.patients import baseline_visit, list_visits, scene_item_name
from . import repeatability
from .visit_images import REGION_GROUPS, choose_images, load_visit_images


@dataclass
class RadiomicsResult:
    """What ``compute_patient_radiomics`` returns (the scene nodes are added by ``nodes.write_result_nodes``).

    ``rows``: long-format feature rows (patient, visit, region, image, feature, value, unit,
    settings_hash, flag); ``deltas``: one row per follow-up visit, region, image and feature with
    the baseline value, the value, ``delta_absolute``, ``delta_relative_percent`` and ``rc_percent``
    (NaN where no repeatability is known, with ``repeatability_note``)."""
    patient_item: int
    patient_name: str
    settings: dict
    settings_hash: str
    baseline: str
    visits: list                                    # dashboard.patients.VisitInfo in date order
    rows: list
    deltas: list
    frames: dict                                    # visit name -> frame of its features
    images: list
    regions: list
    organ: str = "breast"
    notes: list = field(default_factory=list)
    seconds_per_visit: dict = field(default_factory=dict)
    table_nodes: dict = field(default_factory=dict)  # visit name -> vtkMRMLTableNode
    delta_table: object = None
    chart: object = None

    def value(self, visit, region, image, feature):
        for row in self.rows:
            if (row["visit"], row["region"], row["image"], row["feature"]) == (visit, region, image, feature):
                return row["value"]
        raise KeyError((visit, region, image, feature))

    def summary(self):
        finite = sum(1 for r in self.rows if isinstance(r["value"], float) and math.isfinite(r["value"]))
        lines = [f"Radiomics of {self.patient_name}: {len(self.visits)} visit(s), regions {', '.join(self.regions)}, "
                 f"images {', '.join(self.images)}; settings {self.settings_hash}",
                 f"  {len(self.rows)} feature values ({len(self.rows) - finite} NaN, flagged), "
                 f"{len(self.deltas)} delta values from baseline '{self.baseline}'"]
        for visit in self.visits:
            seconds = self.seconds_per_visit.get(visit.name)
            lines.append(f"  {visit.name}: {self.frames.get(visit.name, '')}"
                         + (f", {seconds:.1f} s" if seconds is not None else ""))
        lines += [f"  note: {note}" for note in dict.fromkeys(self.notes)]
        return "\n".join(lines)


def _rows_of_visit(visit_images, settings, patient_name, progress, start, width):
    rows = []
    pairs = list(visit_images.pairs())
    for index, (name, image, masks, unit) in enumerate(pairs):
        report(progress, start + width * index / max(len(pairs), 1), f"{visit_images.visit.name}: {name}")
        for row in run_radiomics_for_images({name: image}, masks, settings, patient=patient_name,
                                            visit=visit_images.visit.name):
            if unit and "intensity" in row["unit"]:
                row["unit"] = row["unit"].replace("intensity", unit)
            rows.append(row)
    return rows


def _deltas(rows, baseline, visits, settings, organ):
    values = {(r["visit"], r["region"], r["image"], r["feature"]): r for r in rows}
    days = {v.name: v.day for v in visits}
    out = []
    for delta in delta_rows(rows, baseline=baseline):
        base = values[(baseline, delta["region"], delta["image"], delta["feature"])]
        current = values[(delta["visit"], delta["region"], delta["image"], delta["feature"])]
        rc, note = repeatability.feature_rc(delta["region"], delta["image"], delta["feature"], settings, organ)
        relative = delta["delta_relative"]
        out.append({"patient": delta["patient"], "visit": delta["visit"], "day": days.get(delta["visit"]),
                    "baseline": baseline, "region": delta["region"], "image": delta["image"],
                    "feature": delta["feature"], "unit": current["unit"], "baseline_value": base["value"],
                    "value": current["value"], "delta_absolute": delta["delta_absolute"],
                    "delta_relative_percent": 100.0 * relative if math.isfinite(relative) else float("nan"),
                    "rc_percent": float("nan") if rc is None else float(rc),
                    "real_change": repeatability.real_change_text(base["value"], current["value"], rc),
                    "repeatability_note": note})
    return out


def compute_patient_radiomics(scene, patient_item, settings=None, regions=REGION_GROUPS, images=None, organ="breast",
                              registration=None, progress=None):
    """IBSI features of every visit of a patient: for each region (``"tumour"`` and/or ``"habitats"``:
    each habitat of the dashboard's habitat map) and each image (``images``: names, default the
    anatomy and every registered map biomarker the visits hold), plus the deltas from baseline.

    ``settings``: resolved settings, a partial mapping or a preset name (see ``settings_file``).
    ``registration``: the RegistrationSummary of this session (else the visits' transform nodes).
    Reads the scene only; raises InputError (bad input) or Cancelled before anything is written."""
    settings = resolve_settings(settings)
    regions = tuple(regions or ())
    unknown = [r for r in regions if r not in REGION_GROUPS]
    if not regions or unknown:
        raise InputError(f"radiomics regions: choose among {', '.join(REGION_GROUPS)} (got {', '.join(regions) or 'none'})")
    visits = list_visits(scene, patient_item)
    if not visits:
        raise InputError("radiomics: the patient has no visits")
    baseline = baseline_visit(visits)
    image_names = choose_images(scene, [v.item for v in visits], images)
    patient_name = scene_item_name(scene, patient_item)
    order = [baseline] + [v for v in visits if v.item != baseline.item]
    done, loaded, rows_by_visit, seconds, notes = [], {}, {}, {}, []
    base = None
    for index, visit in enumerate(order):
        started = time.perf_counter()
        report(progress, index / len(order), f"{visit.name}: images and regions")
        data = load_visit_images(scene, visit, baseline, done, image_names, regions, registration, base)
        done.append(data.measurement)
        base = base or data
        loaded[visit.name] = data
        rows_by_visit[visit.name] = _rows_of_visit(data, settings, patient_name, progress, index / len(order),
                                                   1.0 / len(order))
        notes += data.notes
        seconds[visit.name] = time.perf_counter() - started
    rows = [row for visit in visits for row in rows_by_visit[visit.name]]
    report(progress, 1.0, "delta features")
    region_names = list(dict.fromkeys(r["region"] for r in rows))
    return RadiomicsResult(patient_item=patient_item, patient_name=patient_name, settings=settings,
                           settings_hash=settings_hash(settings), baseline=baseline.name, visits=visits, rows=rows,
                           deltas=_deltas(rows, baseline.name, visits, settings, organ),
                           frames={name: data.frame for name, data in loaded.items()},
                           images=[n for n in image_names if any(n in d.images for d in loaded.values())],
                           regions=region_names, organ=organ, notes=notes, seconds_per_visit=seconds)
