"""Phase to displacement: the motion-encoding efficiency (rad of phase per m of motion).

A motion-encoding gradient G(t) = G g(t) over the encoding time T and a harmonic motion
u(t) = u0 cos(omega t + theta) give the phase gamma G u0 |int_0^T g(t) exp(i omega t) dt| cos(...)
(Muthupillai et al., Science 1995, doi:10.1126/science.269.5232.1854; for a gradient frequency
other than the vibration frequency, fractional encoding: Rump et al., Magn Reson Med 2007,
doi:10.1002/mrm.21143). For N matched sinusoidal cycles this is gamma G N T_vib / 2; for
matched square (trapezoid-limit) cycles 2 gamma G N T_vib / pi.
"""
import numpy as np

GAMMA_H_RAD_PER_S_T = 2.6752218744e8      # proton gyromagnetic ratio (CODATA 2018)
WAVEFORMS = ("sinusoidal", "square")


def encoding_efficiency(gradient_mT_per_m, meg_frequency_hz, cycles, vibration_frequency_hz, waveform="sinusoidal"):
    """Phase per displacement amplitude (rad/m) of a motion-encoding gradient."""
    if waveform not in WAVEFORMS:
        raise ValueError(f"MEG waveform '{waveform}' is not one of {', '.join(WAVEFORMS)}")
    for name, value in (("gradient amplitude", gradient_mT_per_m), ("MEG frequency", meg_frequency_hz),
                        ("MEG cycles", cycles), ("vibration frequency", vibration_frequency_hz)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} {value} must be positive")
    duration = cycles / meg_frequency_hz
    t = (np.arange(20000 * int(np.ceil(cycles))) + 0.5) * duration / (20000 * int(np.ceil(cycles)))
    shape = np.sin(2 * np.pi * meg_frequency_hz * t)
    if waveform == "square":
        shape = np.sign(shape)
    integral = np.abs(np.sum(shape * np.exp(1j * 2 * np.pi * vibration_frequency_hz * t)) * (t[1] - t[0]))
    return GAMMA_H_RAD_PER_S_T * gradient_mT_per_m * 1e-3 * integral


def phase_scaling(um_per_rad=None, meg=None, vibration_frequency_hz=None, source=""):
    """(rad per m, provenance text) from a given factor (um of motion per rad) or MEG parameters.

    ``meg``: dict with gradient_mT_per_m, frequency_hz (default the vibration frequency), cycles,
    waveform. Without either, phase is kept in rad (factor 1 rad/m is NOT assumed): returns (None, ...).
    """
    if um_per_rad is not None:
        if not um_per_rad > 0:
            raise ValueError(f"phase-to-displacement factor {um_per_rad} um/rad must be positive")
        return 1.0 / (um_per_rad * 1e-6), f"{um_per_rad:g} um/rad ({source or 'given'})"
    if meg:
        efficiency = encoding_efficiency(meg["gradient_mT_per_m"], meg.get("frequency_hz") or vibration_frequency_hz,
                                         meg["cycles"], vibration_frequency_hz, meg.get("waveform", "sinusoidal"))
        return efficiency, (f"MEG {meg['gradient_mT_per_m']:g} mT/m, {meg['cycles']:g} {meg.get('waveform', 'sinusoidal')} "
                            f"cycles at {meg.get('frequency_hz') or vibration_frequency_hz:g} Hz -> "
                            f"{efficiency * 1e-6:.4g} rad/um ({source or 'given'})")
    return None, "no phase scaling: displacement in rad of phase (moduli do not depend on it)"
