"""MRSData: one spectroscopy acquisition in memory, in the NIfTI-MRS conventions.

Conventions every reader normalises to (checked on the vendored scanner files):
- ``fid`` is complex with the spectral (time) axis last: ``(spatial..., extra..., n_points)``.
  ``spatial`` is (i, j[, k]) of the voxel grid (all 1 for a single voxel); ``extra`` are the
  NIfTI-MRS higher dimensions named by ``dim_tags`` (DIM_COIL, DIM_DYN, DIM_EDIT, ...).
- Spectrum and ppm axis: ``spec = fftshift(fft(fid))``, ``f = fftshift(fftfreq(n, dwell_s))``,
  ``ppm = ppm_reference - f / spectrometer_mhz`` with ppm_reference 4.65 for 1H (water at body
  temperature): NAA comes out at 2.01 ppm. Formats that store the other sign (Philips SDAT,
  LCModel .RAW, jMRUI, Siemens) are conjugated on reading.
- ``affine`` maps voxel (i, j, k) to patient RAS in mm (Slicer's convention) where the header
  gives the geometry; None otherwise.
- ``history`` lists processing steps applied so far, as NIfTI-MRS ``ProcessingApplied`` does.
"""
import copy
from dataclasses import dataclass, field

import numpy as np

# 1H reference: water at 37 C (4.65 ppm); the convention of FSL-MRS and NIfTI-MRS tools.
PROTON_REFERENCE_PPM = 4.65
# Other nuclei are referenced at 0 ppm of their transmitter frequency unless a header says.
REFERENCE_PPM = {"1H": PROTON_REFERENCE_PPM}


@dataclass
class MRSData:
    fid: np.ndarray
    dwell_s: float
    spectrometer_mhz: float
    nucleus: str = "1H"
    te_s: float = None
    tr_s: float = None
    affine: np.ndarray = None
    metadata: dict = field(default_factory=dict)
    dim_tags: list = field(default_factory=list)
    history: list = field(default_factory=list)
    ppm_reference: float = None
    # An unsuppressed water acquisition stored with the data (Philips DICOM frame, ...), or None.
    water_reference: object = None

    def __post_init__(self):
        self.fid = np.asarray(self.fid)
        if not np.iscomplexobj(self.fid):
            self.fid = self.fid.astype(np.complex128)
        if self.ppm_reference is None:
            self.ppm_reference = REFERENCE_PPM.get(str(self.nucleus), 0.0)
        self.dim_tags = list(self.dim_tags or [])

    # ------------------------------------------------------------------ shape
    @property
    def n_points(self):
        return int(self.fid.shape[-1])

    @property
    def bandwidth_hz(self):
        return 1.0 / self.dwell_s

    @property
    def spatial_shape(self):
        return tuple(self.fid.shape[:self.fid.ndim - 1 - len(self.dim_tags)])

    @property
    def extra_shape(self):
        return tuple(self.fid.shape[self.fid.ndim - 1 - len(self.dim_tags):-1])

    def axis_of(self, tag):
        """Array axis of the NIfTI-MRS dimension ``tag`` (for example "DIM_COIL"), or None."""
        if tag not in self.dim_tags:
            return None
        return self.fid.ndim - 1 - len(self.dim_tags) + self.dim_tags.index(tag)

    # ------------------------------------------------------------------ axes
    def time_axis(self):
        return np.arange(self.n_points) * self.dwell_s

    def frequency_axis(self, n=None):
        """Hz, ascending, matching ``spectrum()``."""
        return np.fft.fftshift(np.fft.fftfreq(n or self.n_points, self.dwell_s))

    def ppm_axis(self, n=None):
        return self.ppm_reference - self.frequency_axis(n) / self.spectrometer_mhz

    def spectrum(self, fid=None):
        fid = self.fid if fid is None else fid
        return np.fft.fftshift(np.fft.fft(fid, axis=-1), axes=-1)

    # ------------------------------------------------------------------ copies
    def with_fid(self, fid, step=None, dim_tags=None, **changes):
        """A copy holding ``fid`` (and other changed fields), with ``step`` appended to history.

        ``step``: a dict {"Method": ..., "Details": ...} as in NIfTI-MRS ProcessingApplied, or a
        plain description."""
        out = copy.copy(self)
        out.fid = np.asarray(fid)
        out.metadata = copy.deepcopy(self.metadata)
        out.history = list(self.history)
        out.dim_tags = list(self.dim_tags if dim_tags is None else dim_tags)
        for name, value in changes.items():
            if not hasattr(out, name):
                raise AttributeError(f"MRSData has no field '{name}'")
            setattr(out, name, value)
        if step is not None:
            out.history.append(step if isinstance(step, dict) else {"Method": str(step), "Details": ""})
        return out

    def describe(self):
        tags = ", ".join(f"{t}={n}" for t, n in zip(self.dim_tags, self.extra_shape)) or "none"
        te = f"{self.te_s * 1e3:.1f} ms" if self.te_s is not None else "unknown"
        return (f"{self.nucleus} at {self.spectrometer_mhz:.3f} MHz, {self.n_points} points, dwell "
                f"{self.dwell_s * 1e6:.1f} us, TE {te}, grid {self.spatial_shape}, extra dims {tags}, "
                f"source {self.metadata.get('source_format', 'unknown')}")
