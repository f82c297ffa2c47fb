"""MR elastography as a technique of the TME Monitor app (``TMEMonitorLib.techniques`` contract): its
inputs at a visit, how it analyses one, the biomarkers it reports, its synthetic acquisition of the
phantom and its ``tme-monitor mre`` command.

Biomarkers (tumour means of the MDEV maps; |G*| is read from the map the Logic writes in kPa, the
node recording its internal unit Pa and display factor):
- |G*| (kPa). Repeatability: no tumour test-retest value is known to us; liver MRE has within-subject
  CV 6.1-10.8 % (Shire et al., JMRI 2011, doi:10.1002/jmri.22716) -> %RC = 2.77 x 10.8 = 30 % (the upper
  end, as tumours are more heterogeneous than liver parenchyma). Responding direction -1: responding
  tumours soften (treated HCC 3.9 vs untreated 6.9 kPa, stiffness falling with necrosis: Gordic et al.,
  Abdom Radiol 2017, doi:10.1007/s00261-017-1066-y; softening after a vascular disrupting agent: Li et
  al., Br J Cancer 2014, doi:10.1038/bjc.2014.76). Caveat: therapy-induced fibrosis stiffens tissue, so a
  rise is not proof of progression.
- loss angle phi (rad): no repeatability value and no consistent direction on therapy are published
  that we know of: None for both.
- shear-wave speed c (m/s): c ~ sqrt(|G*|), so its relative wCV is half that of |G*| -> 15 %. Not scored
  separately (it carries the same information as |G*|).
"""
import contextlib
from dataclasses import dataclass, field, replace

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.scene.signal_mask import signal_mask
from TMEMonitorLib.techniques import (SERIES, VOLUME, Biomarker, FigureStyle, InputRole, SyntheticSeries,
                                      SyntheticVolume, Technique, visit_name)

from . import cli
from .settings import ElastographySettings

# Slices thicker than this multiple of the in-plane voxel size: in-plane derivatives only (as clinical
# 2D MRE inversions do); the through-slice sampling cannot resolve the wave.
THICK_SLICE_RATIO = 1.25
BIOMARKER_METHOD = "mdev"


@dataclass
class ElastographyVisitResult:
    """What the app tags and measures: ``map_nodes`` {biomarker name: node}; ``logic`` the module's result."""
    logic: object
    map_nodes: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def settings_for_grid(settings, ijk_to_ras):
    """The user's settings, or the module defaults with in-plane derivatives when slices are thick."""
    if settings is not None:
        return settings
    spacing = tme_scene.spacing_mm(ijk_to_ras)                    # (i, j, k)
    defaults = ElastographySettings()
    if spacing[2] > THICK_SLICE_RATIO * max(spacing[0], spacing[1]):
        defaults = replace(defaults, derivative_axes="2d")
    return defaults


@contextlib.contextmanager
def magnitude_mask(scene, magnitude_node, name):
    """A hidden label map of the magnitude image's signal (the body) for the block; None without one."""
    if magnitude_node is None:
        yield None
        return
    array = tme_scene.volume_to_array(magnitude_node)
    ijk = tme_scene.volume_geometry(magnitude_node)[1]
    node = tme_scene.add_label_map(scene, signal_mask(np.asarray(array, float)[np.newaxis]), ijk, name)
    node.SetHideFromEditors(True)
    try:
        yield node
    finally:
        scene.RemoveNode(node)


def analyse_visit(scene, visit_item, nodes, settings=None, progress=None):
    """MDEV (and the other chosen inversions) of the visit's phase images, inside the body's signal
    mask from the magnitude image when there is one; statistics over the tumour segmentation."""
    from .logic import ElastographyLogic
    phase = nodes["mre_phase"]
    ijk = tme_scene.sequence_to_array(phase)[4] if phase.IsA("vtkMRMLSequenceNode") else None
    settings = settings_for_grid(settings, ijk) if ijk is not None else (settings or ElastographySettings())
    prefix = f"{visit_name(scene, visit_item)} MRE"
    with magnitude_mask(scene, nodes.get("mre_magnitude"), f"{prefix} analysis mask") as mask_node:
        result = ElastographyLogic(scene).run(phase, settings, mask_node=mask_node, parent_item=visit_item,
                                              name_prefix=prefix, statistics_segmentation=nodes.get("tumour"),
                                              progress=progress)
    maps = {name: result.map_nodes[(BIOMARKER_METHOD, name)] for name in ("abs_G", "phi", "wave_speed")
            if (BIOMARKER_METHOD, name) in result.map_nodes}
    notes = [f"derivatives: {settings.derivative_axes}"]
    return ElastographyVisitResult(logic=result, map_nodes=maps, notes=notes)


def synthesize(visit, context):
    """The phantom visit's MRE phase images (up to four frequencies resolvable on the grid, one
    through-plane component, four offsets) and magnitude, with their own random generator (seeded by
    the demo seed and visit)."""
    from .synthesis import synthesize_visit
    rng = np.random.default_rng([int(context.seed), int(context.visit_index), 16])
    data = synthesize_visit(visit, rng=rng)
    return [SyntheticSeries("mre_phase", "MRE phase", data["phase"], np.arange(data["phase"].shape[0], dtype=float),
                            "frame", "synthetic acquisition (frames: frequency, direction, phase offset)",
                            axis_unit="", attributes=data["attributes"]),
            SyntheticVolume("mre_magnitude", "MRE magnitude", data["magnitude"])]


TECHNIQUE = Technique(
    name="mre", title="Elastography", order=50,
    inputs=(InputRole("mre_phase", "MRE phase images (frames ordered frequency, direction, phase offset) with "
                      "TMEMonitor.MREFrequencies / MREPhaseOffsets / MREDirections / phase scaling attributes",
                      SERIES, "frame"),
            InputRole("mre_magnitude", "MRE magnitude image (body mask)", VOLUME, required=False)),
    analyse_visit=analyse_visit,
    biomarkers=(
        Biomarker("abs_G", "|G*|", "kPa", truth_key="abs_G_kPa_mean", rc_percent=30.0, charted=True,
                  responding_direction=-1, prm_threshold=1.0,
                  figure=FigureStyle("viridis", "|G*| (kPa)", 1.0, (0.0, 10.0))),
        Biomarker("phi", "loss angle phi", "rad", truth_key="phi_mean", rc_percent=None),
        Biomarker("wave_speed", "shear-wave speed", "m/s", truth_key="wave_speed_mean", rc_percent=15.0),
    ),
    synthesize=synthesize,
    add_parser=cli.add_parser,
    settings_type=ElastographySettings,
)
