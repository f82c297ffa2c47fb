"""The Basis object: metabolite name -> FID (NIfTI-MRS convention) plus acquisition metadata."""
import numpy as np

from TMEMonitorLib.errors import InputError

from .spin_systems import WATER_PPM


class Basis(dict):
    """A dict ``name -> complex FID (n_points,)`` with the acquisition it describes.

    FIDs follow the NIfTI-MRS convention: spec = fftshift(fft(fid)),
    f = fftshift(fftfreq(n, dwell)), ppm = ppm_reference - f / spectrometer_mhz.
    A simulated singlet of N protons has fid[0] = N (x 1/2 for STEAM), so fitted amplitudes
    are in molecule units (concentration x a common scale).
    """

    def __init__(self, fids, spectrometer_mhz, dwell_s, te_s=None, sequence=None,
                 nucleus="1H", ppm_reference=WATER_PPM, metadata=None):
        super().__init__()
        if spectrometer_mhz is None or not np.isfinite(spectrometer_mhz) or spectrometer_mhz <= 0:
            raise InputError(f"basis spectrometer frequency must be positive (got {spectrometer_mhz})")
        if dwell_s is None or not np.isfinite(dwell_s) or dwell_s <= 0:
            raise InputError(f"basis dwell time must be positive (got {dwell_s} s)")
        n_points = None
        for name, fid in fids.items():
            fid = np.asarray(fid, dtype=complex)
            if fid.ndim != 1:
                raise InputError(f"basis FID '{name}' must be 1-D (got shape {fid.shape})")
            if n_points is not None and fid.size != n_points:
                raise InputError(f"basis FID '{name}' has {fid.size} points, others have {n_points}")
            if not np.all(np.isfinite(fid)):
                raise InputError(f"basis FID '{name}' contains NaN or infinite values")
            n_points = fid.size
            self[str(name)] = fid
        if not self:
            raise InputError("basis set is empty")
        self.spectrometer_mhz = float(spectrometer_mhz)
        self.dwell_s = float(dwell_s)
        self.te_s = None if te_s is None else float(te_s)
        self.sequence = sequence
        self.nucleus = nucleus
        self.ppm_reference = float(ppm_reference)
        self.metadata = dict(metadata or {})

    @property
    def names(self):
        return list(self.keys())

    @property
    def n_points(self):
        return next(iter(self.values())).size

    @property
    def bandwidth_hz(self):
        return 1.0 / self.dwell_s

    def as_array(self, names=None):
        """(n_metabolites, n_points) complex array in ``names`` order."""
        names = self.names if names is None else list(names)
        missing = [n for n in names if n not in self]
        if missing:
            raise InputError(f"basis has no {', '.join(missing)}; it holds {', '.join(self.names)}")
        return np.stack([self[n] for n in names])

    def subset(self, names):
        names = list(names)
        return Basis(dict(zip(names, self.as_array(names))), self.spectrometer_mhz, self.dwell_s, self.te_s, self.sequence, self.nucleus,
                     self.ppm_reference, self.metadata)

    def time_axis(self):
        return np.arange(self.n_points) * self.dwell_s

    def ppm_axis(self):
        f = np.fft.fftshift(np.fft.fftfreq(self.n_points, self.dwell_s))
        return self.ppm_reference - f / self.spectrometer_mhz

    def spectrum(self, name):
        return np.fft.fftshift(np.fft.fft(self[name]))

    def copy_with(self, fids, **changes):
        kwargs = dict(spectrometer_mhz=self.spectrometer_mhz, dwell_s=self.dwell_s, te_s=self.te_s,
                      sequence=self.sequence, nucleus=self.nucleus, ppm_reference=self.ppm_reference,
                      metadata=self.metadata)
        kwargs.update(changes)
        return Basis(fids, **kwargs)

    def __repr__(self):
        return (f"Basis({len(self)} metabolites, {self.spectrometer_mhz:.3f} MHz, TE {self.te_s} s, "
                f"{self.sequence}, {self.n_points} points x {self.dwell_s * 1e6:.1f} us)")
