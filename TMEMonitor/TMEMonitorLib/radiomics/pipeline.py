"""Batch entry point for the CLI / dashboard: features of every (image or map, region)
pair as long-format rows; one failing pair yields flagged NaN rows, not a failed table."""
import numpy as np
import SimpleITK as sitk

from ..errors import InputError
from . import tags as tag_table
from .features import compute_features
from .image_input import read_image
from .settings import resolve_settings, settings_hash


def resample_mask_to(mask, image, partial_volume=0.5):
    """A mask on another grid brought onto the image grid (linear, then >= partial_volume)."""
    f = sitk.ResampleImageFilter()
    f.SetReferenceImage(image)
    f.SetInterpolator(sitk.sitkLinear)
    f.SetDefaultPixelValue(0.0)
    f.SetOutputPixelType(sitk.sitkFloat32)
    out = f.Execute(sitk.Cast(sitk.Cast(mask, sitk.sitkUInt8) > 0, sitk.sitkFloat32))
    out = sitk.Cast(out >= partial_volume, sitk.sitkUInt8)
    return out


def run_radiomics_for_images(images, masks, settings=None, patient="", visit="",
                             resample_masks_to_image=False):
    """Rows (dicts: patient, visit, region, image, feature, value, unit, settings_hash,
    flag) for every image (mapping name -> SimpleITK image or path) and every region
    (mapping name -> mask). With ``resample_masks_to_image`` a mask on another grid is
    resampled onto each image's grid; otherwise such a pair is reported as flagged NaN."""
    full = resolve_settings(settings)
    digest = settings_hash(full)
    if not images:
        raise InputError("radiomics: no images given")
    if not masks:
        raise InputError("radiomics: no masks (regions) given")
    rows = []
    all_tags = [t for f in full.get("families", []) for t in tag_table.tags_of_family(f)]
    for image_name, image in images.items():
        image = read_image(image, f"image '{image_name}'")
        for region, mask in masks.items():
            mask = read_image(mask, f"mask '{region}'")
            try:
                if resample_masks_to_image and (mask.GetSize() != image.GetSize()
                                                or not np.allclose(mask.GetSpacing(), image.GetSpacing())
                                                or not np.allclose(mask.GetOrigin(), image.GetOrigin())):
                    mask = resample_mask_to(mask, image)
                table = compute_features(image, mask, full)
                items = list(table.items())
                flags = table.flags
            except InputError as exc:
                items = [(t, float("nan")) for t in all_tags]
                flags = {t: str(exc) for t in all_tags}
            for tag, value in items:
                rows.append({"patient": patient, "visit": visit, "region": region, "image": image_name,
                             "feature": tag, "value": value, "unit": tag_table.UNITS.get(tag, ""),
                             "settings_hash": digest, "flag": flags.get(tag, "")})
    return rows
