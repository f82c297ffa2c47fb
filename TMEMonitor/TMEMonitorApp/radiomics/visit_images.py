"""A visit's images (anatomy and quantitative maps) and region masks (tumour, habitats) for radiomics.

Images: the visit's anatomy and the maps the techniques tagged with ``BIOMARKER``. By default the
anatomy and every registered technique biomarker whose source is a map (Ktrans, ve, ADC, D, f,
R2*, stiffness ... whatever the registered techniques provide and the visit holds); any other
tagged map (e.g. a standard-error map) when named. Regions: the tumour as the dashboard measures
it (``measurement.measure_visit``: the visit's own segmentation, else the baseline tumour
propagated through the registration) and each habitat of the dashboard's habitat label map.

Frame: a follow-up visit whose registration to baseline exists (``registration.transform_for``,
the transform the dashboard uses for its response maps) is compared in the baseline frame: its
images and masks are resampled onto the baseline grid through that transform. Without a
registration every visit stays on its own grid (region features do not need voxel
correspondence, but grids then differ between visits; the frame is written with the results).
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.longitudinal import itk_geometry
from TMEMonitorLib.longitudinal.registration import resample_mask, resample_to_reference
from TMEMonitorLib.longitudinal.response_maps import HABITAT_LABELS
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.scene.colormaps import PREFIX as COLOR_PREFIX

from .. import techniques
from ..dashboard.measurement import measure_visit
from ..dashboard.registration import transform_for
from ..dashboard.visit_inputs import anatomy_node, visit_biomarker_maps

ANATOMY = "anatomy"
TUMOUR = "tumour"
HABITATS = "habitats"
REGION_GROUPS = (TUMOUR, HABITATS)
HABITAT_COLOR_TABLE = COLOR_PREFIX + "habitats"       # colour table of the dashboard's habitat label maps


def map_biomarkers():
    """{name: Biomarker} of the registered techniques' map biomarkers, in technique order."""
    return {name: spec for name, (spec, _) in techniques.biomarkers().items() if spec.source == "map"}


def available_images(scene, visit_items):
    """(default names, other names): the anatomy and the registered map biomarkers any visit holds,
    then the other tagged maps (selectable by name)."""
    tagged = {}
    for item in visit_items:
        for name in visit_biomarker_maps(scene, item):
            tagged.setdefault(name, None)
    registered = [name for name in map_biomarkers() if name in tagged]
    return [ANATOMY] + registered, [name for name in tagged if name not in registered]


def choose_images(scene, visit_items, requested=None):
    """The image names to use: ``requested`` (checked) or the defaults."""
    default, others = available_images(scene, visit_items)
    if not requested:
        return default
    requested = list(dict.fromkeys(str(name).strip() for name in requested if str(name).strip()))
    unknown = [name for name in requested if name not in default + others]
    if unknown:
        raise InputError(f"radiomics maps: {', '.join(unknown)} not found in any visit; available: "
                         f"{', '.join(default + others)}")
    return requested


def image_unit(name, node=None):
    """Unit of an image's intensities: the biomarker's, the node's voxel units, or a.u. for the anatomy."""
    spec = map_biomarkers().get(name)
    if spec is not None:
        return spec.unit
    if name == ANATOMY:
        return "a.u."
    units = node.GetVoxelValueUnits() if node is not None and hasattr(node, "GetVoxelValueUnits") else None
    return units.GetCodeValue() or "" if units is not None else ""


def habitat_node(scene, visit_item):
    """The dashboard's latest habitat label map of a visit (found by its colour table), or None."""
    found = None
    for node in hierarchy.children_nodes(scene, visit_item):
        if not node.IsA("vtkMRMLLabelMapVolumeNode"):
            continue
        display = node.GetDisplayNode()
        colors = display.GetColorNode() if display is not None else None
        if colors is not None and colors.GetName() == HABITAT_COLOR_TABLE:
            found = node
    return found


@dataclass
class VisitImages:
    """A visit's images {name: (array [k, j, i], ijk_to_ras, unit)} and regions {name: (mask, ijk_to_ras)}."""
    visit: object                       # dashboard.patients.VisitInfo
    frame: str
    images: dict = field(default_factory=dict)
    regions: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    measurement: object = None          # dashboard.measurement.VisitMeasurement (tumour on the anatomy grid)

    def pairs(self):
        """(image name, SimpleITK image, {region: SimpleITK mask on the image grid}, unit) per image.

        Voxels without a value (NaN: failed fit, outside the map) are left out of every ROI."""
        for name, (array, ijk, unit) in self.images.items():
            finite = np.isfinite(array)
            masks = {}
            for region, (mask, mask_ijk) in self.regions.items():
                if not tme_scene.same_geometry(mask.shape, mask_ijk, array.shape, ijk):
                    mask = resample_mask(mask, mask_ijk, array.shape, ijk)
                left_out = int(np.count_nonzero(mask & ~finite))
                if left_out:
                    self.notes.append(f"{self.visit.name}: {left_out} voxel(s) of {region} without a {name} value "
                                      "left out of the ROI")
                masks[region] = itk_geometry.to_sitk((mask & finite).astype(np.uint8), ijk, f"{region} mask")
            image = itk_geometry.to_sitk(np.where(finite, array, 0.0), ijk, f"{name} image")
            yield name, image, masks, unit


def _node_of(scene, visit_item, name):
    if name == ANATOMY:
        return anatomy_node(scene, visit_item)
    return visit_biomarker_maps(scene, visit_item).get(name)


def load_visit_images(scene, visit, baseline, done, image_names, region_groups, registration=None, base=None):
    """VisitImages of ``visit``; ``done``: the VisitMeasurements of the visits already loaded
    (baseline first), ``base``: the baseline's VisitImages (its grids are the baseline frame)."""
    measurement = measure_visit(scene, visit, baseline, done, [], registration)
    transform = None if base is None or visit.item == baseline.item else transform_for(scene, visit.item, registration)
    frame = "baseline grid (registered to baseline)" if transform is not None else "own grid"
    if base is not None and transform is None and visit.item != baseline.item:
        frame = "own grid (no registration to baseline)"
    out = VisitImages(visit=visit, frame=frame, measurement=measurement)

    regions = {}
    if TUMOUR in region_groups:
        regions[TUMOUR] = (measurement.mask, measurement.ijk)
    if HABITATS in region_groups:
        node = habitat_node(scene, visit.item)
        if node is None:
            out.notes.append(f"{visit.name}: no habitat map (compute the response first; habitats need ADC and "
                             "Ktrans maps)")
        else:
            labels = tme_scene.volume_to_array(node)
            _, labels_ijk = tme_scene.volume_geometry(node)
            for value, (label, _) in HABITAT_LABELS.items():
                regions[label] = (labels == value, labels_ijk)

    for name in image_names:
        node = _node_of(scene, visit.item, name)
        if node is None:
            out.notes.append(f"{visit.name}: no {name} map")
            continue
        array = tme_scene.volume_to_array(node).astype(np.float64)
        _, ijk = tme_scene.volume_geometry(node)
        out.images[name] = (array, ijk, image_unit(name, node))

    if transform is not None:
        # Resample onto the baseline grid of the same image (else the baseline anatomy grid).
        anatomy_grid = base.images.get(ANATOMY, (None, base.measurement.ijk, None))
        fallback = (base.measurement.shape, anatomy_grid[1])
        for name, (array, ijk, unit) in list(out.images.items()):
            target = base.images.get(name)
            shape, target_ijk = (target[0].shape, target[1]) if target is not None else fallback
            resampled = resample_to_reference(array, ijk, shape, target_ijk, transform, "linear", default=np.nan)
            out.images[name] = (resampled.astype(np.float64), target_ijk, unit)
        for region, (mask, mask_ijk) in list(regions.items()):
            regions[region] = (resample_mask(mask, mask_ijk, base.measurement.shape, base.measurement.ijk, transform),
                               base.measurement.ijk)
    out.regions = regions
    return out
