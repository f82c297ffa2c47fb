"""Hypoxia MRI as a technique of the TME Monitor app (``TMEMonitorLib.techniques`` contract): its
inputs at a visit, how it analyses one, the biomarkers it reports, its synthetic acquisition of the
phantom and its ``tme-monitor hypoxia`` command.

At a visit: R2*/T2* from the multi-echo gradient echo (required); with an oxygen-enhanced dynamic
series also Delta R1 and, when the same visit's DCE maps exist, the Perfused-Oxy-R (hypoxic) map:
the DCE technique (which runs first) leaves its Ktrans and T10 maps under the visit tagged with
``BIOMARKER``; they are found by that tag, so nothing of the DCE module is imported here.

Repeatability (relative %RC = 2.77 wCV; used when ``TMEMonitorLib.longitudinal.repeatability`` has
no entry for the name, and user overrides win):
- R2*: tumour wCV 23.3 % (prostate cancer before androgen deprivation; Alonzi et al., JMRI 2010,
  doi:10.1002/jmri.22215) -> 65 %. T2* = 1/R2*: the same relative wCV for small changes.
- Hypoxic fraction: no published test-retest value for the perfused Oxy-R *fraction* is known to us;
  the perfused Oxy-R tumour *volume* has wCV 25.9 % in NSCLC (Salem et al., Clin Cancer Res 2019,
  doi:10.1158/1078-0432.CCR-18-3932) -> 72 %, used as the closest published figure (the tumour volume
  in the denominator is far more repeatable, about 15 % RC).
- Delta R1 with O2: none published for tumours that we know of, and a relative RC is meaningless for a
  quantity that can be 0: None (no real-change flag).

Responding directions: the hypoxic fraction falls in response (re-oxygenation; Salem 2019: perfused
Oxy-R volume reduced 14 days into radiotherapy) and R2* falls (less deoxyhaemoglobin; Padhani et
al., Eur Radiol 2007, doi:10.1007/s00330-006-0431-y). T2* carries the same information as R2* (not
scored twice). The tumour-mean Delta R1 has no single direction: re-oxygenation raises it, growing
necrosis (no O2 delivery) lowers it.
"""
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.scene.signal_mask import temporary_signal_mask
from TMEMonitorLib.techniques import (BIOMARKER, SERIES, Biomarker, FigureStyle, InputRole, SyntheticSeries, Technique,
                                      visit_name)

from . import cli
from .settings import HypoxiaSettings

# Ktrans (1/min) above which a voxel counts as perfused when the visit's DCE Ktrans map is used and the
# user set no threshold: between necrosis (< 0.01) and the least perfused viable tumour (a few 0.01).
# A choice, not a published cut-off; set HypoxiaSettings.enhancement_threshold to change it.
KTRANS_PERFUSED_THRESHOLD_PER_MIN = 0.02
# Biomarker names of the DCE maps this technique reads from the visit (tags, not imports).
DCE_PERFUSION_BIOMARKER = "Ktrans"
DCE_T10_BIOMARKER = "T10"


@dataclass
class HypoxiaVisitResult:
    """What the app tags and measures: ``map_nodes`` {biomarker name: node}; ``logic`` the module's result."""
    logic: object
    map_nodes: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def visit_map_by_biomarker(scene, visit_item, name):
    """The latest map node under the visit tagged ``BIOMARKER`` = ``name`` (None when there is none)."""
    found = None
    for node in hierarchy.children_nodes(scene, visit_item):
        if node.GetAttribute(BIOMARKER) == name and node.IsA("vtkMRMLScalarVolumeNode"):
            found = node
    return found


def _number(node, key):
    text = node.GetAttribute("TMEMonitor." + key) if node is not None else None
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def settings_for_visit(settings, oe_node):
    """``settings`` with the gas timing filled from the OE series' attributes where the user left it unset."""
    if oe_node is None:
        return settings
    fill = {}
    if settings.gas_on_s is None and _number(oe_node, "GasOn_s") is not None:
        fill["gas_on_s"] = _number(oe_node, "GasOn_s")
    if settings.gas_off_s is None and _number(oe_node, "GasOff_s") is not None:
        fill["gas_off_s"] = _number(oe_node, "GasOff_s")
    gas = oe_node.GetAttribute("TMEMonitor.Gas")
    if gas and settings.gas == HypoxiaSettings.gas and gas != settings.gas:
        fill["gas"] = gas
    return replace(settings, **fill) if fill else settings


def hypoxic_indicator(classes):
    """1 where perfused Oxy-R (hypoxic), 0 where analysed and not, NaN where not analysed: its mean over
    a region is the hypoxic fraction of the region's analysed voxels."""
    from .hypoxia_map import NOT_ANALYSED, PERFUSED_OXY_REFRACTORY
    classes = np.asarray(classes)
    out = (classes == PERFUSED_OXY_REFRACTORY).astype(np.float32)
    out[classes == NOT_ANALYSED] = np.nan
    return out


def analyse_visit(scene, visit_item, nodes, settings=None, progress=None):
    """R2*/T2* inside the body's signal mask; with the OE series also Delta R1 (pre-gas T1: the visit's
    DCE T10 map, else ``settings.t10_s``) and with the visit's DCE Ktrans map the Perfused-Oxy-R map.
    Outputs under the visit's "Hypoxia" folder; statistics over its tumour segmentation."""
    from .logic import HypoxiaLogic
    settings = settings_for_visit(settings or HypoxiaSettings(), nodes.get("oe_dynamic"))
    oe = nodes.get("oe_dynamic")
    inputs = {"gre_node": nodes["multi_echo_gre"]}
    notes = []
    if oe is not None:
        t10 = visit_map_by_biomarker(scene, visit_item, DCE_T10_BIOMARKER)
        if t10 is None and settings.t10_s is None:
            raise InputError(f"visit '{visit_name(scene, visit_item)}': the oxygen-enhanced series needs a pre-gas T1 "
                             "(the visit's DCE T10 map, from a VFA series, or a fixed T10 in the hypoxia settings)")
        inputs["oe_node"] = oe
        if t10 is not None and settings.t10_s is None:
            inputs["t10_node"] = t10
            notes.append(f"pre-gas T1: the visit's DCE T10 map '{t10.GetName()}'")
        perfusion = visit_map_by_biomarker(scene, visit_item, DCE_PERFUSION_BIOMARKER)
        if perfusion is not None:
            inputs["enhancement_node"] = perfusion
            if settings.enhancement_threshold is None:
                settings = replace(settings, enhancement_threshold=KTRANS_PERFUSED_THRESHOLD_PER_MIN)
            notes.append(f"perfused: the visit's DCE Ktrans map '{perfusion.GetName()}' > "
                         f"{settings.enhancement_threshold:g} /min")
    with temporary_signal_mask(scene, nodes["multi_echo_gre"], None) as mask_node, warnings.catch_warnings():
        # Voxels without a valid pre-gas T1 (outside the DCE mask) have no finite frame: numpy warns on
        # their empty means; they are flagged in the Delta R1 status map.
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        warnings.filterwarnings("ignore", "Degrees of freedom <= 0", RuntimeWarning)
        result = HypoxiaLogic(scene).run(settings, name_prefix=f"{visit_name(scene, visit_item)} Hypoxia",
                                         parent_item=visit_item, statistics_segmentation=nodes.get("tumour"),
                                         progress=progress, mask_node=mask_node, **inputs)
    maps = {name: result.map_nodes[name] for name in ("R2star", "T2star", "dR1") if name in result.map_nodes}
    if result.class_node is not None:
        ijk = tme_scene.volume_geometry(result.class_node)[1]
        node = tme_scene.add_parameter_map(scene, hypoxic_indicator(tme_scene.volume_to_array(result.class_node)),
                                           ijk, f"{visit_name(scene, visit_item)} Hypoxia hypoxic (perfused Oxy-R)",
                                           "hypoxic (perfused Oxy-R)", "1", "magma",
                                           description="1: perfused Oxy-R; 0: analysed, not hypoxic; "
                                                       "its mean over a region is the hypoxic fraction")
        hierarchy.place(scene, node, result.folder_item if result.folder_item is not None else visit_item)
        maps["hypoxic_fraction"] = node
    return HypoxiaVisitResult(logic=result, map_nodes=maps, notes=notes)


def synthesize(visit, context):
    """The phantom visit's multi-echo GRE (R2*) and oxygen-enhanced dynamic series (air -> O2), with
    their own random generator (seeded by the demo seed and visit) so the other techniques'
    acquisitions do not depend on this one."""
    from .synthesis import synthesize_visit
    rng = np.random.default_rng([int(context.seed), int(context.visit_index), 14])
    data = synthesize_visit(visit, rng=rng)
    return [SyntheticSeries("multi_echo_gre", "multi-echo GRE", data["gre"], data["echo_times_s"], "echo_time",
                            "synthetic acquisition (phantom echo times)", axis_unit="s",
                            attributes={"noise_sigma": data["gre_sigma"]}),
            SyntheticSeries("oe_dynamic", "OE dynamic", data["oe"], data["oe_times_s"], "time",
                            "synthetic acquisition (phantom frame times)", axis_unit="s",
                            attributes=data["oe_metadata"])]


TECHNIQUE = Technique(
    name="hypoxia", title="Hypoxia", order=40,
    inputs=(InputRole("multi_echo_gre", "multi-echo gradient-echo series indexed by echo time (s)", SERIES,
                      "echo_time"),
            InputRole("oe_dynamic", "oxygen-enhanced dynamic T1-weighted series (air -> O2) indexed by time (s), "
                      "with the gas timing (TMEMonitor.GasOn_s attribute or the settings)", SERIES, "time",
                      required=False)),
    analyse_visit=analyse_visit,
    biomarkers=(
        Biomarker("R2star", "R2*", "1/s", truth_key="R2star_mean", rc_percent=65.0, charted=True,
                  responding_direction=-1, prm_threshold=10.0,
                  figure=FigureStyle("inferno", "R2* (1/s)", 1.0, (0.0, 80.0))),
        Biomarker("T2star", "T2*", "ms", truth_key="T2star_ms_mean", rc_percent=65.0),
        Biomarker("hypoxic_fraction", "hypoxic fraction (perfused Oxy-R)", "", truth_key="hypoxic_fraction",
                  rc_percent=72.0, charted=True, responding_direction=-1,
                  figure=FigureStyle("magma", "perfused Oxy-R (hypoxic)", 1.0, (0.0, 1.0))),
        Biomarker("dR1", "Delta R1 (O2 - air)", "1/s", truth_key="dR1_mean", rc_percent=None),
    ),
    synthesize=synthesize,
    add_parser=cli.add_parser,
    settings_type=HypoxiaSettings,
)
