"""DCE-MRI as a technique of the TME Monitor app (``TMEMonitorLib.techniques`` contract): its
inputs at a visit, how it analyses one, the biomarkers it reports, its synthetic acquisition
of the phantom and its ``tme-monitor dce`` command."""
from TMEMonitorLib.scene.signal_mask import temporary_signal_mask
from TMEMonitorLib.techniques import SERIES, Biomarker, FigureStyle, InputRole, SyntheticSeries, Technique, visit_name

from . import cli
from .settings import DCESettings


def analyse_visit(scene, visit_item, nodes, settings=None, progress=None):
    """Fit the visit's DCE series (T10 from its VFA series when present) inside the body's signal
    mask; maps and tables go under the visit; statistics over its tumour segmentation."""
    from .logic import DCELogic
    with temporary_signal_mask(scene, nodes["dce"], "time") as mask_node:
        return DCELogic(scene).run(nodes["dce"], settings or DCESettings(), vfa_node=nodes.get("vfa"),
                                   mask_node=mask_node, parent_item=visit_item,
                                   name_prefix=f"{visit_name(scene, visit_item)} DCE",
                                   statistics_segmentation=nodes.get("tumour"), progress=progress)


def synthesize(visit, context):
    """The phantom visit's DCE series (SPGR, extended Tofts, population AIF) and VFA series."""
    from .synthesis import synthesize_dce
    dce = synthesize_dce(visit, rng=context.rng)
    return [SyntheticSeries("dce", "DCE", dce["signal"], dce["t_s"], "time",
                            "synthetic acquisition (phantom frame times)", attributes=dce["metadata"]),
            SyntheticSeries("vfa", "VFA", dce["vfa_signal"], dce["flip_angles_deg"], "flip_angle",
                            "synthetic acquisition (phantom flip angles)", axis_unit="deg",
                            attributes=dce["metadata"])]


TECHNIQUE = Technique(
    name="dce", title="DCE", order=10,
    inputs=(InputRole("dce", "DCE series (signal or concentration) indexed by time (s)", SERIES, "time"),
            InputRole("vfa", "variable-flip-angle series for T10, indexed by flip angle (deg)", SERIES, "flip_angle",
                      required=False)),
    analyse_visit=analyse_visit,
    biomarkers=(
        Biomarker("Ktrans", "Ktrans", "1/min", truth_key="Ktrans_mean", prm_threshold=0.05, charted=True, responding_direction=-1,
                  figure=FigureStyle("inferno", "Ktrans (1/min)", 1.0, (0.0, 0.4))),
        Biomarker("ve", "ve", "", truth_key="ve_mean"),
        Biomarker("vp", "vp", "", truth_key="vp_mean"),
        Biomarker("kep", "kep", "1/min", truth_key="kep_mean"),
        Biomarker("iAUC60", "iAUC60", "mM*s"),
    ),
    synthesize=synthesize,
    add_parser=cli.add_parser,
    settings_type=DCESettings,
)
