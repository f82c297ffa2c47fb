"""Diffusion MRI as a technique of the TME Monitor app (``TMEMonitorLib.techniques`` contract):
its input at a visit, how it analyses one, the biomarkers it reports, its synthetic
acquisition of the phantom and its ``tme-monitor dwi`` command."""
import numpy as np

from TMEMonitorLib.scene.signal_mask import temporary_signal_mask
from TMEMonitorLib.techniques import (SERIES, Biomarker, FigureStyle, InputRole, SyntheticSeries, SyntheticVolume,
                                      Technique, visit_name)

from . import cli
from .settings import DiffusionSettings


def analyse_visit(scene, visit_item, nodes, settings=None, progress=None):
    """Fit the visit's multi-b series inside the body's signal mask; maps and tables go under the
    visit; statistics over its tumour segmentation."""
    from .logic import DiffusionLogic
    with temporary_signal_mask(scene, nodes["dwi"], "b") as mask_node:
        return DiffusionLogic(scene).run(nodes["dwi"], settings, mask_node=mask_node, parent_item=visit_item,
                                         name_prefix=f"{visit_name(scene, visit_item)} DWI",
                                         statistics_segmentation=nodes.get("tumour"), progress=progress)


def synthesize(visit, context):
    """The phantom visit's multi-b DWI (IVIM, Rician noise), and its b = 0 image as the visit's
    anatomy (for display and registration)."""
    from .synthesis import synthesize_dwi
    dwi = synthesize_dwi(visit, rng=context.rng)
    b0 = dwi["signal"][int(np.argmin(dwi["b_values"]))]
    return [SyntheticSeries("dwi", "DWI", dwi["signal"], dwi["b_values"], "b",
                            "synthetic acquisition (phantom b-values)", attributes={"noise_sigma": dwi["sigma"]}),
            SyntheticVolume("anatomy", "anatomy (b0)", b0.astype(np.float32))]


TECHNIQUE = Technique(
    name="dwi", title="DWI", order=20,
    inputs=(InputRole("dwi", "multi-b diffusion-weighted series indexed by b (s/mm2)", SERIES, "b"),),
    analyse_visit=analyse_visit,
    biomarkers=(
        Biomarker("ADC", "ADC", "mm2/s", truth_key="ADC_mean", prm_threshold=0.3e-3, charted=True, responding_direction=1,
                  figure=FigureStyle("viridis", "ADC (10^-3 mm2/s)", 1e3, (0.0, 3.0))),
        Biomarker("D", "D", "mm2/s", truth_key="D_mean", responding_direction=1),
        Biomarker("f", "f", "", truth_key="f_mean"),
        Biomarker("Dstar", "D*", "mm2/s", truth_key="Dstar_mean"),
    ),
    synthesize=synthesize,
    add_parser=cli.add_parser,
    settings_type=DiffusionSettings,
)
