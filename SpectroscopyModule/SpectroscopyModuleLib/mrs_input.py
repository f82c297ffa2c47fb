"""Spectroscopy input: read an MRSData, split its axes, and check the acquisition values the
analysis uses (with where each came from).

Layout of ``mrs.fid`` (NIfTI-MRS order, spectral axis last): ``(spatial..., extra..., n_points)``
where the extra axes are those named by ``mrs.dim_tags`` (coils, transients, edits, ...). A
single voxel has no (or only singleton) spatial axes; an MRSI grid has them in (i, j[, k]) order,
matching the voxel->RAS ``mrs.affine``.
"""
import os

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

# Gyromagnetic ratio of 1H / 2 pi, 42.577 MHz/T (CODATA 2018), to show field strengths.
PROTON_MHZ_PER_T = 42.577478


def load_mrs(source, settings=None):
    """An MRSData from a path (any format ``io.read_mrs`` knows) or an MRSData-like object.

    ``settings.dwell_s`` / ``settings.spectrometer_mhz``, when set, replace or fill the header's
    values (recorded in ``metadata['overrides']``)."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise InputError(f"spectroscopy file '{path}' does not exist")
        from . import io as mrs_io
        overrides = {name: getattr(settings, name, None) for name in ("dwell_s", "spectrometer_mhz")}
        return mrs_io.read_mrs(path, **{k: float(v) for k, v in overrides.items() if v is not None})
    if source is None or not hasattr(source, "fid"):
        raise InputError(f"spectroscopy input must be a file path or an MRSData (got {type(source).__name__})")
    return source


def dim_tags(mrs):
    return [t for t in (getattr(mrs, "dim_tags", None) or []) if t]


def split_dims(mrs):
    """(spatial shape, extra shape, n_points) of ``mrs.fid``."""
    shape = np.shape(mrs.fid)
    n_extra = len(dim_tags(mrs))
    if len(shape) < 1 + n_extra:
        raise InputError(f"spectroscopy data: fid shape {shape} has fewer axes than its dimension tags {dim_tags(mrs)}")
    n_spatial = len(shape) - 1 - n_extra
    return tuple(shape[:n_spatial]), tuple(shape[n_spatial:-1]), shape[-1]


def is_mrsi(mrs):
    spatial, _, _ = split_dims(mrs)
    return int(np.prod(spatial)) > 1


def check_acquisition(mrs, settings, what="spectroscopy data"):
    """Acquisition values the analysis uses, {name: (value, where it came from)}; refuses bad headers."""
    fid = np.asarray(mrs.fid)
    if fid.ndim < 1 or fid.shape[-1] < 16:
        raise InputError(f"{what}: fid shape {fid.shape} has fewer than 16 spectral points")
    if not np.iscomplexobj(fid):
        raise InputError(f"{what}: the FID is real-valued; a complex (quadrature) FID is needed")
    if not np.all(np.isfinite(fid)):
        raise InputError(f"{what}: the FID holds NaN or infinite values")
    metadata = getattr(mrs, "metadata", None) or {}
    dwell = getattr(mrs, "dwell_s", None)
    if dwell is None or not np.isfinite(dwell):
        raise MetadataError(f"{what}: the dwell time (spectral width) is missing from the header")
    if not 0 < dwell <= 0.01:
        raise MetadataError(f"{what}: dwell time {dwell:g} s is implausible (expected 1e-5..1e-2 s; is it in ms?)")
    mhz = getattr(mrs, "spectrometer_mhz", None)
    if mhz is None or not np.isfinite(mhz):
        raise MetadataError(f"{what}: the spectrometer (transmitter) frequency is missing from the header")
    if not 1.0 <= mhz <= 1500.0:
        raise MetadataError(f"{what}: spectrometer frequency {mhz:g} MHz is implausible (expected MHz)")
    nucleus = getattr(mrs, "nucleus", None) or "1H"
    if str(nucleus).upper() != "1H":
        raise InputError(f"{what}: nucleus {nucleus}; only proton (1H) spectra can be fitted")
    header = metadata.get("source_format") or metadata.get("format") or "file header"
    acquisition = {"spectrometer_mhz": (float(mhz), header), "dwell_s": (float(dwell), header),
                   "n_points": (int(fid.shape[-1]), "data"),
                   "field_T": (float(mhz) / PROTON_MHZ_PER_T, "from the spectrometer frequency")}
    te = getattr(mrs, "te_s", None)
    if settings.te_s is not None:
        acquisition["te_s"] = (float(settings.te_s), "user setting")
    elif te is not None and np.isfinite(te):
        if not 0.0 <= te <= 2.0:
            raise MetadataError(f"{what}: TE {te:g} s in the header is implausible (is it in ms?)")
        acquisition["te_s"] = (float(te), header)
    elif settings.basis_source == "simulate":
        raise MetadataError(f"{what}: the echo time is missing from the header; give TE to simulate a basis")
    tr = getattr(mrs, "tr_s", None)
    if tr is not None and np.isfinite(tr):
        acquisition["tr_s"] = (float(tr), header)
    return acquisition
