"""Spectroscopy analysis settings, shared by the widget's parameter node, the command line and scripts."""
import os
from dataclasses import asdict, dataclass

BASIS_SOURCES = ("simulate", "file")
SEQUENCES = ("PRESS", "STEAM", "sLASER", "FID")
# Optional processing steps, in the order they are applied when chosen.
PROCESSING_STEPS = ("coil_combine", "ecc", "align", "reject_outliers", "average", "water_removal", "reference",
                    "phase", "apodise", "zero_fill")
PROCESSING_LABELS = {
    "coil_combine": "coil combination",
    "ecc": "eddy-current correction (needs a water reference)",
    "align": "frequency/phase alignment of transients",
    "reject_outliers": "rejection of outlier transients",
    "average": "averaging of transients",
    "water_removal": "HLSVD residual-water removal",
    "reference": "chemical-shift referencing",
    "phase": "zero-order phasing",
    "apodise": "apodisation (line broadening)",
    "zero_fill": "zero filling",
}
DEFAULT_PROCESSING = ("coil_combine", "align", "average")


@dataclass
class SpectroscopySettings:
    basis_source: str = "simulate"           # simulate (density matrix) | file (LCModel .basis / JSON folder)
    basis_path: str = None
    sequence: str = "PRESS"                  # sequence simulated when basis_source is "simulate"
    te_s: float = None                       # None: from the data header
    dwell_s: float = None                    # None: from the header (needed for LCModel .RAW without DELTAT)
    spectrometer_mhz: float = None           # None: from the header
    metabolites: tuple = None                # None: the basis catalogue's default list
    processing: tuple = DEFAULT_PROCESSING   # steps from PROCESSING_STEPS; inapplicable ones are skipped
    water_reference_path: str = None         # unsuppressed water acquisition (ECC, water-scaled mM)
    water_scaling: bool = True               # concentrations in mM when a water reference is available
    tissue_fractions: dict = None            # {"gm", "wm", "csf"} volume fractions; None: white matter
    ppm_min: float = 0.2
    ppm_max: float = 4.2
    line_broadening_hz: float = 0.0          # apodisation (only with "apodise")
    zero_fill_factor: int = 2                # only with "zero_fill"
    crlb_threshold_percent: float = 20.0
    fwhm_threshold_ppm: float = 0.1
    min_snr: float = 3.0
    baseline: str = "spline"                 # spline | poly | none

    @property
    def ppm_range(self):
        return (float(self.ppm_min), float(self.ppm_max))

    def as_dict(self):
        return asdict(self)

    def validated(self):
        from TMEMonitorLib.errors import InputError
        if self.basis_source not in BASIS_SOURCES:
            raise InputError(f"basis source '{self.basis_source}' is not one of {', '.join(BASIS_SOURCES)}")
        if self.basis_source == "file" and not self.basis_path:
            raise InputError("basis source 'file' needs a basis path (LCModel .basis file or JSON folder)")
        if str(self.sequence).upper().replace("-", "") not in {s.upper() for s in SEQUENCES} | {"SEMILASER"}:
            raise InputError(f"sequence '{self.sequence}' is not one of {', '.join(SEQUENCES)}")
        unknown = [s for s in (self.processing or ()) if s not in PROCESSING_STEPS]
        if unknown:
            raise InputError(f"processing step(s) {', '.join(unknown)} unknown; choose from {', '.join(PROCESSING_STEPS)}")
        if self.te_s is not None and not 0.0 <= float(self.te_s) <= 2.0:
            raise InputError(f"TE {self.te_s} s is implausible (TE is in seconds)")
        if self.dwell_s is not None and not 0 < float(self.dwell_s) <= 0.01:
            raise InputError(f"dwell time {self.dwell_s} s is implausible (expected 1e-5..1e-2 s)")
        if self.spectrometer_mhz is not None and not 1.0 <= float(self.spectrometer_mhz) <= 1500.0:
            raise InputError(f"spectrometer frequency {self.spectrometer_mhz} MHz is implausible")
        if not float(self.ppm_min) < float(self.ppm_max):
            raise InputError(f"ppm range {self.ppm_min}..{self.ppm_max}: the minimum must be below the maximum")
        if self.baseline not in ("spline", "poly", "none", None):
            raise InputError(f"baseline '{self.baseline}' is not one of spline, poly, none")
        if self.crlb_threshold_percent <= 0 or self.fwhm_threshold_ppm <= 0:
            raise InputError("quality thresholds (CRLB %, FWHM ppm) must be positive")
        if int(self.zero_fill_factor) < 1:
            raise InputError(f"zero-fill factor {self.zero_fill_factor} must be at least 1")
        if self.line_broadening_hz < 0:
            raise InputError(f"line broadening {self.line_broadening_hz} Hz must not be negative")
        self.processing = tuple(s for s in PROCESSING_STEPS if s in (self.processing or ()))
        if "ecc" in self.processing and self.water_reference_path and not os.path.exists(self.water_reference_path):
            raise InputError(f"water reference '{self.water_reference_path}' does not exist")
        if self.metabolites is not None:
            self.metabolites = tuple(self.metabolites)
        if self.tissue_fractions is not None:
            from .quantification import _check_fractions
            self.tissue_fractions = _check_fractions(self.tissue_fractions)
        return self
