"""Hyperpolarized [1-13C]pyruvate MRI as a technique of the TME Monitor app (``TMEMonitorLib.techniques``
contract): its inputs at a visit, how it analyses one, the biomarkers it reports (tumour kPL and the
lactate/pyruvate AUC ratio), its synthetic acquisition of the phantom and its ``tme-monitor hp13c`` command."""
from TMEMonitorLib.techniques import SERIES, Biomarker, FigureStyle, InputRole, SyntheticSeries, Technique, visit_name

from . import cli, quantity_names  # noqa: F401  (registers the 13C maps in the quantity registry)
from .settings import HyperpolarizedSettings

# Input roles of the visit's nodes -> the Logic's metabolite names.
ROLES = {"hp_pyruvate": "pyruvate", "hp_lactate": "lactate", "hp_alanine": "alanine", "hp_bicarbonate": "bicarbonate"}

# The synthetic 13C acquisition of the demo: metabolite-specific EPI, coarse grid over the phantom's field of view.
GRID_IN_PLANE = 12                # 12 x 12 voxels over the 200 mm in-plane field of view: 16.7 mm, as clinical 13C EPI
GRID_SLICES = 2                   # slabs through the phantom's slices
N_FRAMES, TR_S = 20, 3.0
FLIP_DEG = {"pyruvate": 20.0, "lactate": 30.0}
PEAK_PYRUVATE_SNR = 200.0         # peak pyruvate of the brightest voxel / noise SD (magnitude images)


def analyse_visit(scene, visit_item, nodes, settings=None, progress=None):
    """Fit kPL over the visit's 13C grid (voxels with pyruvate above the SNR threshold); statistics over the
    tumour segmentation taken to the 13C grid; maps, status, table and folder under the visit."""
    from .logic import HyperpolarizedLogic
    metabolites = {ROLES[role]: node for role, node in nodes.items() if role in ROLES}
    return HyperpolarizedLogic(scene).run(metabolites, settings or HyperpolarizedSettings(),
                                          statistics_segmentation=nodes.get("tumour"), parent_item=visit_item,
                                          name_prefix=f"{visit_name(scene, visit_item)} HP13C", progress=progress)


def synthesize(visit, context):
    """Pyruvate and lactate dynamic series on a coarse 13C grid over the phantom visit, with the kPL truth of
    ``TMEMonitorLib.phantom.glycolysis`` (the responder's tumour kPL falls)."""
    from .synthesis import synthesize_visit_13c
    acquisition = synthesize_visit_13c(visit.labels, visit.ijk_to_ras, context.visit_index,
                                       responder=getattr(context, "responder", True), rng=context.rng,
                                       in_plane=GRID_IN_PLANE, n_slices=GRID_SLICES, n_frames=N_FRAMES, tr_s=TR_S,
                                       flip_deg=FLIP_DEG, snr=PEAK_PYRUVATE_SNR)
    source = "synthetic acquisition (13C frame times)"
    return [SyntheticSeries(f"hp_{metabolite}", f"HP {metabolite}", acquisition["signals"][metabolite],
                            acquisition["times_s"], "time", source, attributes={"flip_angle_deg": FLIP_DEG[metabolite]},
                            ijk_to_ras=acquisition["ijk_to_ras"])
            for metabolite in ("pyruvate", "lactate")]


TECHNIQUE = Technique(
    name="hp13c", title="HP 13C", order=40,
    inputs=(InputRole("hp_pyruvate", "hyperpolarized [1-13C]pyruvate dynamic series indexed by time (s)", SERIES, "time"),
            InputRole("hp_lactate", "[1-13C]lactate dynamic series on the pyruvate's grid and frames", SERIES, "time"),
            InputRole("hp_alanine", "[1-13C]alanine dynamic series (kPA fitted)", SERIES, "time", required=False),
            InputRole("hp_bicarbonate", "13C-bicarbonate dynamic series (kPB fitted)", SERIES, "time",
                      required=False)),
    analyse_visit=analyse_visit,
    biomarkers=(
        # No human test-retest repeatability of kPL is established yet (an evidence gap named by the HP 13C
        # consensus group, Larson et al., MRM 2024, doi:10.1002/mrm.29875): rc_percent None, so no real-change
        # call unless the user gives an RC. kPL falls in response (Day et al., Nat Med 2007, doi:10.1038/nm1650).
        Biomarker("kPL", "kPL", "1/s", truth_key="kPL_mean", charted=True, responding_direction=-1,
                  figure=FigureStyle("inferno", "kPL (1/s)", 1.0, (0.0, 0.05))),
        Biomarker("AUC_ratio", "lactate/pyruvate AUC ratio", "", responding_direction=-1),
    ),
    synthesize=synthesize,
    add_parser=cli.add_parser,
    settings_type=HyperpolarizedSettings,
)
