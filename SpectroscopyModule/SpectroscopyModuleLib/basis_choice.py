"""The basis a spectrum is fitted with: simulated for the acquisition or read from a file
(both cached), checked against the data's field and echo time."""
import os
from functools import lru_cache

import numpy as np

from TMEMonitorLib.errors import InputError

from .mrs_input import PROTON_MHZ_PER_T

# Basis/data field tolerance, as the basis resampler (basis.resample.FIELD_RTOL).
FIELD_RTOL = 0.01


_SIMULATED = {}          # (field, TE, sequence, metabolites, points, dwell) -> BasisSet
_SIMULATED_MAX = 16


def _simulated_basis(spectrometer_mhz, te_s, sequence, metabolites, n_points, dwell_s, progress=None):
    """Cached simulation; ``progress`` hears from the simulation (several seconds, one report per
    metabolite) only when it runs, so Cancel works there too."""
    key = (spectrometer_mhz, te_s, sequence, metabolites, n_points, dwell_s)
    if key not in _SIMULATED:
        from .basis import simulate_basis
        if len(_SIMULATED) >= _SIMULATED_MAX:
            _SIMULATED.pop(next(iter(_SIMULATED)))
        _SIMULATED[key] = simulate_basis(spectrometer_mhz, te_s, sequence,
                                         None if metabolites is None else list(metabolites), n_points, dwell_s,
                                         progress=progress)
    return _SIMULATED[key]


@lru_cache(maxsize=8)
def _basis_from_file(path, modified_ns):
    from .basis import read_basis
    return read_basis(path)


def basis_for(settings, spectrometer_mhz, te_s, n_points, dwell_s, progress=None):
    """The basis to fit with: simulated for this acquisition, or read from ``settings.basis_path``.

    Both are cached (simulated per field/TE/sequence/metabolites/sampling; a file until it
    changes), so a cohort or an MRSI grid pays for them once."""
    if settings.basis_source == "simulate":
        metabolites = None if settings.metabolites is None else tuple(settings.metabolites)
        return _simulated_basis(round(float(spectrometer_mhz), 6), round(float(te_s), 9), str(settings.sequence),
                                metabolites, int(n_points), round(float(dwell_s), 12), progress=progress)
    path = os.path.abspath(os.fspath(settings.basis_path))
    if not os.path.exists(path):
        raise InputError(f"basis '{path}' does not exist")
    basis = _basis_from_file(path, os.stat(path).st_mtime_ns)
    if settings.metabolites is not None:
        missing = [m for m in settings.metabolites if m not in basis]
        if missing:
            raise InputError(f"basis '{path}' lacks {', '.join(missing)} (it holds {', '.join(basis.names)})")
        basis = basis.subset(list(settings.metabolites))
    return basis


def check_basis(basis, spectrometer_mhz, te_s=None):
    """Refuse a basis made at another field; return warnings (another TE)."""
    if abs(basis.spectrometer_mhz - spectrometer_mhz) > FIELD_RTOL * spectrometer_mhz:
        raise InputError(
            f"basis: made for {basis.spectrometer_mhz:.3f} MHz ({basis.spectrometer_mhz / PROTON_MHZ_PER_T:.2f} T) "
            f"but the data were acquired at {spectrometer_mhz:.3f} MHz ({spectrometer_mhz / PROTON_MHZ_PER_T:.2f} T); "
            "J-coupling patterns differ between fields: use or simulate a basis for this field")
    warnings = []
    if te_s is not None and basis.te_s is not None and not np.isclose(basis.te_s, te_s, atol=5e-4):
        warnings.append(f"basis TE {basis.te_s * 1e3:.1f} ms differs from the data TE {te_s * 1e3:.1f} ms")
    return warnings


def describe_basis(basis):
    meta = basis.metadata
    source = meta.get("source") or meta.get("path") or "file"
    te = f"TE {basis.te_s * 1e3:.1f} ms" if basis.te_s is not None else "TE unknown"
    return (f"{source}; {len(basis)} spectra at {basis.spectrometer_mhz:.3f} MHz, {te}, "
            f"{basis.sequence or 'sequence unknown'}")


def clear_basis_cache():
    _SIMULATED.clear()
    _basis_from_file.cache_clear()
