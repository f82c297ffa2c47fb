"""Per-visit measurements over the tumour: its size (volume, longest diameter, bidimensional
product) and the mean of every registered technique's biomarker (maps over the tumour mask,
or the values a technique stored in a visit table)."""
import json
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.longitudinal.lesion_measurements import longest_diameter_mm, volume_ml
from TMEMonitorLib.longitudinal.segmentation_tools import bidimensional_product_mm2, propagate_mask
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.statistics import region_statistics
from TMEMonitorLib.techniques import BIOMARKERS_JSON, ROLE

from .patients import scene_item_name
from .registration import transform_for
from .visit_inputs import anatomy_node, visit_biomarker_maps, visit_nodes_by_role

# Size biomarkers the app measures itself on the tumour mask: name -> unit.
SIZE_UNITS = {"volume_ml": "mL", "longest_diameter_mm": "mm", "recist_sum_mm": "mm",
              "bidimensional_product_mm2": "mm2"}
SIZE_TRUTH_KEYS = {"volume_ml": "volume_ml", "longest_diameter_mm": "longest_diameter_mm"}


@dataclass
class VisitMeasurement:
    """One visit's tumour and biomarker values (arrays on the visit's own grid, [k, j, i])."""
    visit: object                               # patients.VisitInfo
    values: dict                                # biomarker -> float or None (missing, never zero)
    mask: np.ndarray                            # tumour mask
    mask_source: str                            # where the mask came from
    ijk: np.ndarray                             # IJK-to-RAS of the visit's grid
    shape: tuple
    arrays: dict                                # biomarker -> map array (map biomarkers only)
    anatomy: np.ndarray
    own_segmentation: bool                      # a tumour drawn or imported for this visit
    lesions: list = field(default_factory=list)         # target_lesions.LesionMeasurement
    new_lesions: int = 0
    habitats: np.ndarray = None


def _tumour_mask(scene, visit_item, shape, ijk_to_ras):
    node = visit_nodes_by_role(scene, visit_item).get("tumour")
    if node is None:
        raise InputError(f"visit '{scene_item_name(scene, visit_item)}' has no tumour segmentation "
                         f"(a segmentation with {ROLE} = tumour)")
    return tme_scene.mask_from_node(scene, node, shape, ijk_to_ras, what="tumour segmentation")


def visit_tumour(scene, visit, baseline, done, shape, ijk, registration=None):
    """(tumour mask on the visit's grid, where it came from): the visit's own segmentation, or the
    baseline tumour propagated through the visit's registration. Baseline must be first and drawn."""
    if visit_nodes_by_role(scene, visit.item).get("tumour") is not None:
        return _tumour_mask(scene, visit.item, shape, ijk), "segmentation drawn or imported for this visit"
    if visit.item == baseline.item or not done:
        return _tumour_mask(scene, visit.item, shape, ijk), ""       # raises: baseline needs a drawn tumour
    base = done[0]
    transform = transform_for(scene, visit.item, registration)
    mask = propagate_mask(base.mask, base.ijk, shape, ijk, transform)
    if not np.any(mask):
        raise InputError(f"visit '{visit.name}': the baseline tumour propagated through the registration does not "
                         "overlap this visit's image; check the registration")
    return mask.astype(bool), "baseline tumour propagated through the registration"


def table_biomarkers(scene, visit_item):
    """{name: value} the techniques stored for a visit as JSON in a table's ``BIOMARKERS_JSON``."""
    out = {}
    for node in hierarchy.children_nodes(scene, visit_item):
        text = node.GetAttribute(BIOMARKERS_JSON)
        if text:
            try:
                values = json.loads(text)
            except ValueError:
                continue
            if isinstance(values, dict):
                for name, value in values.items():
                    out.setdefault(name, value)
    return out


def measure_visit(scene, visit, baseline, done, biomarkers, registration=None):
    """A VisitMeasurement of ``visit``; ``biomarkers``: the registered Biomarker specs to read."""
    maps = visit_biomarker_maps(scene, visit.item)
    charted_maps = [b.name for b in biomarkers if b.source == "map" and b.name in maps]
    reference = maps[charted_maps[0]] if charted_maps else anatomy_node(scene, visit.item)
    shape, ijk = tme_scene.volume_geometry(reference)
    mask, mask_source = visit_tumour(scene, visit, baseline, done, shape, ijk, registration)
    values = {"volume_ml": volume_ml(mask, ijk), "longest_diameter_mm": longest_diameter_mm(mask, ijk),
              "bidimensional_product_mm2": bidimensional_product_mm2(mask, ijk)}
    arrays = {}
    tables = None
    for biomarker in biomarkers:
        if biomarker.source == "table":
            tables = table_biomarkers(scene, visit.item) if tables is None else tables
            values[biomarker.name] = tables.get(biomarker.name)
            continue
        node = maps.get(biomarker.name)
        if node is None:
            values[biomarker.name] = None                 # missing, never zero
            continue
        array = tme_scene.volume_to_array(node)
        node_shape, node_ijk = tme_scene.volume_geometry(node)
        if not tme_scene.same_geometry(node_shape, node_ijk, shape, ijk):
            # A map on its own (coarser) grid, e.g. hyperpolarized 13C: the value of the voxel each visit voxel
            # lies in (nearest), for the tumour statistics and figures only; the map node stays as it is.
            from TMEMonitorLib.longitudinal.registration import resample_to_reference
            array = resample_to_reference(array, node_ijk, shape, ijk, interpolation="nearest")
        arrays[biomarker.name] = array
        values[biomarker.name] = region_statistics(array, mask)["mean"]
    return VisitMeasurement(visit=visit, values=values, mask=mask, mask_source=mask_source, ijk=ijk, shape=shape,
                            arrays=arrays, anatomy=tme_scene.volume_to_array(anatomy_node(scene, visit.item)),
                            own_segmentation=visit_nodes_by_role(scene, visit.item).get("tumour") is not None)
