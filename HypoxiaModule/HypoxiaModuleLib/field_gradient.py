"""Macroscopic field-gradient correction of multi-echo GRE magnitudes (sinc model).

A linear field variation across a voxel dephases its spins: with a frequency spread g_a (Hz)
across the voxel along axis a, the voxel signal is multiplied by

    F(TE) = prod_a sinc(g_a * TE),   sinc(x) = sin(pi x) / (pi x)

(Yablonskiy, MRM 1998;39:417-428, doi:10.1002/mrm.1910390312; Fernandez-Seara & Wehrli, MRM
2000;44:358-366; used for R2* by Hernando et al., MRM 2012;68:830-840). The fit then models
S0 exp(-R2* TE) F(TE) (the log-linear and ARLO paths divide the data by F). Echoes past the
point where |F| falls below ``MIN_FACTOR`` carry mostly dephased signal and are left out.

The frequency spread comes from a given (unwrapped) field map in Hz, or from complex data: the
phase of echo 2 against echo 1 / (2 pi dTE), differenced between neighbouring voxels on the
complex phasors, so a field that wraps in the image still gives the right local spread.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

MIN_FACTOR = 0.2


def field_map_from_complex(complex_signal, echo_times_s):
    """Field map (Hz) over the voxel dims from complex multi-echo data (..., E): echoes 1 and 2."""
    z = np.asarray(complex_signal)
    if not np.iscomplexobj(z):
        raise InputError("complex signal: the data are not complex; give a field map instead")
    te = np.asarray(echo_times_s, dtype=float)
    dte = te[1] - te[0]
    phase = np.angle(z[..., 1] * np.conj(z[..., 0]))
    return phase / (2.0 * np.pi * dte)


def spread_from_field_map(field_map_hz):
    """Frequency change (Hz) across one voxel along each array axis of an unwrapped field map."""
    field = np.asarray(field_map_hz, dtype=float)
    if field.ndim < 1:
        raise InputError("field map: expected an array over the voxel dims")
    return [np.gradient(field, axis=a) if field.shape[a] > 1 else np.zeros_like(field) for a in range(field.ndim)]


def spread_from_complex(complex_signal, echo_times_s):
    """Frequency change (Hz) across one voxel along each voxel axis, from complex echoes 1 and 2.

    Differences of the echo-2/echo-1 phasor between neighbours: no phase unwrapping needed as
    long as neighbours differ by less than 1 / (2 dTE) Hz."""
    z = np.asarray(complex_signal)
    if not np.iscomplexobj(z):
        raise InputError("complex signal: the data are not complex; give a field map instead")
    te = np.asarray(echo_times_s, dtype=float)
    dte = te[1] - te[0]
    phasor = z[..., 1] * np.conj(z[..., 0])
    spreads = []
    for axis in range(phasor.ndim):
        if phasor.shape[axis] < 2:
            spreads.append(np.zeros(phasor.shape))
            continue
        step = np.angle(np.take(phasor, np.arange(1, phasor.shape[axis]), axis)
                        * np.conj(np.take(phasor, np.arange(phasor.shape[axis] - 1), axis))) / (2 * np.pi * dte)
        # central differences inside, one-sided at the edges (as np.gradient)
        pad_before = np.take(step, [0], axis)
        pad_after = np.take(step, [-1], axis)
        forward = np.concatenate([step, pad_after], axis)
        backward = np.concatenate([pad_before, step], axis)
        spreads.append(0.5 * (forward + backward))
    return spreads


def sinc_factors(spreads, echo_times_s):
    """F (..., E): the signal fraction left by intra-voxel dephasing at each echo time."""
    te = np.asarray(echo_times_s, dtype=float)
    factor = np.ones(np.shape(spreads[0]) + (te.size,))
    for spread in spreads:
        factor *= np.sinc(np.asarray(spread)[..., None] * te)
    return factor
