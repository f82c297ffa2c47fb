"""Glycolysis truth of the synthetic patient: the pyruvate-to-lactate rate constant kPL (1/s) per tissue and
visit, and the relative delivery of injected pyruvate, for a hyperpolarized [1-13C]pyruvate acquisition.

Anatomy and truth only (the acquisition is ``HyperpolarizedModuleLib``'s): functions of a phantom visit's
tissue labels and of how far the therapy has acted, no module of a technique imported.

Values are representative, not patient-specific: tumour kPL 0.02-0.06 1/s and normal tissue ~0.01 1/s
at 3 T with the inputless model (R1P 1/30, R1L 1/25 1/s fixed), in the ranges the human studies report
(reviewed by the HP 13C consensus group, Larson et al., MRM 2024, doi:10.1002/mrm.29875; breast: Gallagher
et al., PNAS 2020, doi:10.1073/pnas.1913841117). The hypoxic habitat converts more (Warburg effect; LDH-A is
induced by hypoxia) but receives less pyruvate; necrosis neither receives nor converts much. kPL falls
within days of effective therapy, before the tumour shrinks (Day et al., Nat Med 2007, doi:10.1038/nm1650):
the responder's tumour-mean kPL falls ~40 % by week 2 and ~60 % by week 6; the non-responder's tissues keep theirs.
"""
import numpy as np

from .labels import LABELS

# label -> kPL (1/s) at baseline
KPL_PER_S = {
    LABELS["background"]: 0.0,
    LABELS["normal"]: 0.010,
    LABELS["fat"]: 0.002,
    LABELS["viable_rim"]: 0.040,
    LABELS["hypoxic"]: 0.055,
    LABELS["necrotic"]: 0.003,
    LABELS["artery"]: 0.0,          # blood: pyruvate in transit, no measurable conversion
}

# label -> pyruvate delivered (relative to the viable rim): perfusion-weighted, blood the highest
DELIVERY = {
    LABELS["background"]: 0.0,
    LABELS["normal"]: 0.5,
    LABELS["fat"]: 0.15,
    LABELS["viable_rim"]: 1.0,
    LABELS["hypoxic"]: 0.45,
    LABELS["necrotic"]: 0.05,
    LABELS["artery"]: 2.0,
}

# Multiplicative kPL change of a responder's tumour habitats at each visit after baseline.
RESPONDER_KPL_CHANGE = [
    {},                                                          # baseline
    {"viable_rim": 0.60, "hypoxic": 0.70},                       # week 2
    {"viable_rim": 0.40, "hypoxic": 0.50},                       # week 6
]

TRUTH_KEY = "kPL_mean"           # key of the tumour-mean kPL in the visit's truth summary


def kpl_change(visit_index, responder=True):
    """{habitat name: factor} of the visit (later visits keep the last change); {} for a non-responder."""
    if not responder or visit_index <= 0:
        return {}
    return RESPONDER_KPL_CHANGE[min(visit_index, len(RESPONDER_KPL_CHANGE) - 1)]


def kpl_map(labels, visit_index=0, responder=True):
    """kPL truth (1/s, float32) over a label map (k, j, i) of the phantom at visit ``visit_index``."""
    labels = np.asarray(labels)
    name_of = {value: name for name, value in LABELS.items()}
    change = kpl_change(visit_index, responder)
    out = np.zeros(labels.shape, np.float32)
    for label, value in KPL_PER_S.items():
        out[labels == label] = value * change.get(name_of[label], 1.0)
    return out


def delivery_map(labels):
    """Relative pyruvate delivery (float32, 0 outside the body) over a label map."""
    labels = np.asarray(labels)
    out = np.zeros(labels.shape, np.float32)
    for label, value in DELIVERY.items():
        out[labels == label] = value
    return out


def truth_summary(labels, tumour_mask, visit_index=0, responder=True):
    """Tumour-level glycolysis truth: {"kPL_mean": mean kPL (1/s) over the tumour's voxels}."""
    values = kpl_map(labels, visit_index, responder)[np.asarray(tumour_mask, bool)]
    return {TRUTH_KEY: float(values.mean()) if values.size else float("nan")}
