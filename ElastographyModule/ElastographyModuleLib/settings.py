"""Elastography analysis settings, shared by the widget's parameter node, the command line and scripts."""
from dataclasses import asdict, dataclass, field

from TMEMonitorLib.errors import InputError

from .compression import METHODS as COMPRESSION_METHODS
from .derivatives import LAPLACIAN_METHODS

INVERSIONS = ("mdev", "kmdev", "helmholtz")
UNWRAP_METHODS = ("laplacian", "spatiotemporal", "quality", "none")
# int12: -4096..4095 for -pi..pi (Siemens 12-bit phase after rescale); uint12: 0..4095 for -pi..pi
# (stored 12-bit phase); mrad: milliradians (see mre_dicom.py for the sources)
PHASE_UNITS = ("rad", "deg", "int12", "uint12", "mrad")


@dataclass
class ElastographySettings:
    inversions: tuple = field(default_factory=lambda: ("mdev", "kmdev"))
    unwrap: str = "laplacian"           # per-volume 3D Laplacian + frame alignment (robust to large motion)
    phase_units: str = "rad"
    compression: str = "auto"           # curl with 3 components, band-pass with 1
    smoothing_sigma_vox: float = 1.5
    smoothing_per_wavelength: float = 0.1   # the Gaussian no wider than this fraction of the wavelength (0: off)
    laplacian: str = "fd4"
    derivative_axes: str = "3d"         # "2d": in-plane only (thick slices)
    highpass_sigma_vox: float = 5.0
    kmdev_axes: str = "2d"
    density_kg_m3: float = 1000.0       # soft tissue ~ water (the usual MRE assumption)
    min_wave_snr: float = 3.0

    def as_dict(self):
        return asdict(self)

    def validated(self):
        """``self`` after checking every choice and range; InputError naming the setting otherwise."""
        unknown = [m for m in self.inversions if m not in INVERSIONS]
        if unknown or not self.inversions:
            raise InputError(f"inversions {list(self.inversions)}: choose from {', '.join(INVERSIONS)}")
        for name, choices in (("unwrap", UNWRAP_METHODS), ("phase_units", PHASE_UNITS),
                              ("compression", COMPRESSION_METHODS), ("laplacian", LAPLACIAN_METHODS),
                              ("derivative_axes", ("3d", "2d")), ("kmdev_axes", ("3d", "2d"))):
            if getattr(self, name) not in choices:
                raise InputError(f"{name.replace('_', ' ')} '{getattr(self, name)}' is not one of {', '.join(choices)}")
        if not 0 <= self.smoothing_sigma_vox <= 10:
            raise InputError(f"smoothing sigma {self.smoothing_sigma_vox} voxels must lie in [0, 10]")
        if not 0 <= self.smoothing_per_wavelength <= 0.5:
            raise InputError(f"smoothing per wavelength {self.smoothing_per_wavelength} must lie in [0, 0.5] "
                             "(a fraction of the wavelength; 0 keeps the width fixed)")
        if not self.highpass_sigma_vox > 0:
            raise InputError(f"high-pass sigma {self.highpass_sigma_vox} voxels must be positive")
        if not 500.0 <= self.density_kg_m3 <= 2000.0:
            raise InputError(f"density {self.density_kg_m3} kg/m3 is implausible for tissue (500-2000)")
        if not self.min_wave_snr >= 0:
            raise InputError(f"minimum wave SNR {self.min_wave_snr} must not be negative")
        return self
