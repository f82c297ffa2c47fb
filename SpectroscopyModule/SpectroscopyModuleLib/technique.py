"""MR spectroscopy as a technique of the TME Monitor app (``TMEMonitorLib.techniques`` contract):
its input at a visit (a spectrum file), how it analyses one, the biomarkers it reports, its
synthetic acquisition of the phantom (a NIfTI-MRS tumour spectrum) and its ``tme-monitor mrs``
command."""
import os

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.techniques import FILE, SOURCE_PATH, Biomarker, InputRole, SyntheticFile, Technique, visit_name

from . import cli
from .settings import SpectroscopySettings


def analyse_visit(scene, visit_item, nodes, settings=None, progress=None):
    """Fit the visit's single-voxel spectrum (the file its ``mrs`` node names); the results table
    (with the biomarkers as JSON), chart and voxel box go under the visit."""
    from .logic import SpectroscopyLogic
    name = visit_name(scene, visit_item)
    source = nodes["mrs"].GetAttribute(SOURCE_PATH)
    if not source:
        raise InputError(f"visit '{name}': the spectroscopy node '{nodes['mrs'].GetName()}' has no source file "
                         f"(attribute {SOURCE_PATH})")
    return SpectroscopyLogic(scene).run_svs(source, settings, parent_item=visit_item, name_prefix=f"{name} MRS",
                                            progress=progress)


def synthesize(visit, context):
    """The phantom visit's tumour spectrum (3 T PRESS, truth concentrations), written as NIfTI-MRS."""
    import numpy as np

    from .io import write_nifti_mrs
    from .synthesis import visit_spectrum
    spectrum = visit_spectrum(visit, rng=np.random.default_rng(context.seed + context.visit_index))
    folder = os.path.join(context.out_dir, "mrs")
    os.makedirs(folder, exist_ok=True)
    path = write_nifti_mrs(spectrum, os.path.join(folder, visit.name.replace(" ", "_") + "_svs.nii.gz"))
    return [SyntheticFile("mrs", "MRS", path)]


TECHNIQUE = Technique(
    name="mrs", title="MRS", order=30,
    inputs=(InputRole("mrs", "single-voxel spectrum file (NIfTI-MRS, DICOM, .rda, .SDAT, ...)", FILE),),
    analyse_visit=analyse_visit,
    biomarkers=(Biomarker("tCho/tCr", "total choline / total creatine", "", source="table", truth_key="tCho/tCr",
                          charted=True, responding_direction=-1),),
    synthesize=synthesize,
    add_parser=cli.add_parser,
    settings_type=SpectroscopySettings,
)
