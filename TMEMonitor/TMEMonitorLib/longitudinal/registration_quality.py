"""How good is a registration: image similarity before/after and overlap of tumour masks.

- Normalised mutual information NMI = (H(A) + H(B)) / H(A, B), 1 (independent) .. 2
  (identical up to a one-to-one intensity map); Studholme et al., Pattern Recognit 1999,
  doi:10.1016/S0031-3203(98)00091-0. Works across contrasts.
- Pearson correlation (same contrast only).
- Dice = 2|A & B| / (|A| + |B|) of the follow-up tumour propagated onto baseline against the
  baseline tumour (Dice, Ecology 1945, doi:10.2307/1932409). Note: a tumour that really
  shrank or grew lowers Dice too, so a low Dice is a prompt to look, not proof of misalignment.

A warning is raised when Dice < 0.7 (a common acceptance level for tumour contour
propagation, e.g. AAPM TG-132, Brock et al., Med Phys 2017, doi:10.1002/mp.12256, which
suggests 0.8-0.9 for organs) or when registration made the NMI worse (beyond NMI_TOLERANCE).
"""
from dataclasses import dataclass, field

import numpy as np

DICE_WARNING = 0.7
NMI_BINS = 32
# Allowed NMI drop: "before" samples the follow-up on the baseline grid without moving it
# (often no interpolation at all), "after" interpolates, which smooths noise and lowers NMI
# by a few thousandths even when the alignment is right.
NMI_TOLERANCE = 0.01


def dice(a, b):
    """Dice overlap of two masks; NaN when both are empty."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    total = int(a.sum()) + int(b.sum())
    return float(2.0 * np.logical_and(a, b).sum() / total) if total else float("nan")


def _pair(a, b, region):
    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = np.isfinite(a) & np.isfinite(b)
    if region is not None:
        keep &= np.asarray(region, bool)
    return a[keep], b[keep]


def correlation(a, b, region=None):
    """Pearson correlation of two images over ``region`` (finite voxels only); NaN when undefined."""
    x, y = _pair(a, b, region)
    if x.size < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def normalised_mutual_information(a, b, region=None, bins=NMI_BINS):
    """Studholme NMI of two images over ``region`` (finite voxels only); NaN when undefined."""
    x, y = _pair(a, b, region)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    joint, _, _ = np.histogram2d(x, y, bins=bins)
    p = joint / joint.sum()

    def entropy(q):
        q = q[q > 0]
        return -float((q * np.log(q)).sum())
    h_joint = entropy(p.ravel())
    return float((entropy(p.sum(1)) + entropy(p.sum(0))) / h_joint) if h_joint > 0 else float("nan")


@dataclass
class RegistrationQuality:
    correlation_before: float
    correlation_after: float
    nmi_before: float
    nmi_after: float
    dice: float = float("nan")          # propagated vs drawn tumour masks (NaN when not given)
    warnings: list = field(default_factory=list)

    @property
    def poor(self):
        return bool(self.warnings)

    def as_dict(self):
        return {"correlation_before": self.correlation_before, "correlation_after": self.correlation_after,
                "nmi_before": self.nmi_before, "nmi_after": self.nmi_after, "dice": self.dice,
                "poor": self.poor, "warnings": list(self.warnings)}


def assess(fixed, moved_before, moved_after, region=None, fixed_mask=None, propagated_mask=None,
           dice_warning=DICE_WARNING):
    """Quality of a registration from the fixed image and the moving image resampled onto it
    without (``moved_before``) and with (``moved_after``) the transform; masks optional."""
    quality = RegistrationQuality(correlation(fixed, moved_before, region), correlation(fixed, moved_after, region),
                                  normalised_mutual_information(fixed, moved_before, region),
                                  normalised_mutual_information(fixed, moved_after, region))
    if fixed_mask is not None and propagated_mask is not None:
        quality.dice = dice(fixed_mask, propagated_mask)
        if not quality.dice >= dice_warning:
            quality.warnings.append(f"tumour overlap Dice {quality.dice:.2f} < {dice_warning:g} "
                                    "(misregistration, or a real change in size)")
    if not np.isfinite(quality.nmi_after):
        quality.warnings.append("similarity after registration could not be computed (no overlap?)")
    elif np.isfinite(quality.nmi_before) and quality.nmi_after < quality.nmi_before - NMI_TOLERANCE:
        quality.warnings.append(f"registration did not improve similarity (NMI {quality.nmi_before:.3f} -> "
                                f"{quality.nmi_after:.3f})")
    return quality
