"""Synthetic MRE wave fields of known complex shear modulus (tests, benchmarks, demo phantom).

Analytic solutions of the viscoelastic shear-wave (Helmholtz) equation
Lap(U) + k^2 U = 0, k = omega sqrt(rho / G*), time dependence exp(+i omega t):

* plane waves, cylindrical standing waves J0(k rho), spherical standing waves j0(k r) and
  damped outgoing spherical waves exp(-i k r) / r (source outside the field of view);
* one component: the scalar solution psi itself; three components: U = grad(psi) x a / k, a
  divergence-free (pure shear) field whose every component solves the same equation;
* an optional compressional (curl-free) plane wave at a given multiple of the shear amplitude;
* complex Gaussian noise at a given SNR, and wrapped phase images over phase offsets.

The heterogeneous (inclusion) simulation is in :mod:`.heterogeneous` and re-exported here.
"""
import numpy as np
from scipy import special

from .heterogeneous import inclusion_phantom, simulate_heterogeneous  # noqa: F401
from .moduli import wavenumber

SHAPES = ("plane", "cylindrical", "spherical", "damped_spherical")


def coordinates(shape, voxel_size_m, centre_vox=None):
    """Physical coordinates (m) of every voxel along (slice, row, col), relative to ``centre_vox``."""
    sizes = np.broadcast_to(np.asarray(voxel_size_m, float), (3,))
    centre = (np.asarray(shape, float) - 1) / 2 if centre_vox is None else np.asarray(centre_vox, float)
    return [((np.arange(n) - c) * h).reshape([-1 if i == a else 1 for i in range(3)])
            for a, (n, c, h) in enumerate(zip(shape, centre, sizes))]


def _scalar_and_gradient(kind, shape, voxel_size_m, k, direction, centre_vox, source_vox):
    x = coordinates(shape, voxel_size_m, centre_vox)
    if kind == "plane":
        n = np.asarray(direction, float) / np.linalg.norm(direction)
        psi = np.exp(-1j * k * sum(xa * na for xa, na in zip(x, n)))
        psi = np.broadcast_to(psi, shape)
        return psi, [-1j * k * na * psi for na in n]
    if kind == "cylindrical":             # axis along the slices: in-plane standing wave
        rho = np.broadcast_to(np.sqrt(x[1] ** 2 + x[2] ** 2), shape)
        psi = special.jv(0, k * rho)
        radial = -k * special.jv(1, k * rho)
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = [np.zeros(shape), np.where(rho > 0, x[1] / rho, 0.0), np.where(rho > 0, x[2] / rho, 0.0)]
        return psi, [radial * u for u in unit]
    r_centre = centre_vox if kind == "spherical" else source_vox
    x = coordinates(shape, voxel_size_m, r_centre)
    r = np.broadcast_to(np.sqrt(sum(xa ** 2 for xa in x)), shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = [np.where(r > 0, xa / r, 0.0) for xa in x]
        if kind == "spherical":
            kr = k * r
            psi = np.where(r > 0, np.sin(kr) / kr, 1.0)
            radial = np.where(r > 0, (kr * np.cos(kr) - np.sin(kr)) / (k * r ** 2), 0.0)
        elif kind == "damped_spherical":
            if np.min(r) == 0:
                raise ValueError("damped spherical wave: the source must lie outside the grid")
            psi = np.exp(-1j * k * r) / r
            radial = psi * (-1j * k - 1.0 / r)
        else:
            raise ValueError(f"wave shape '{kind}' is not one of {', '.join(SHAPES)}")
    return psi, [radial * u for u in unit]


def shear_wave(kind, shape, voxel_size_m, frequency_hz, g_complex_pa, density_kg_m3=1000.0, components=3,
               amplitude_m=10e-6, direction=(0.0, 0.6, 0.8), polarisation_axis=(0.3, 0.5, -0.8),
               centre_vox=None, source_vox=None):
    """Complex first-harmonic shear displacement (components, slices, rows, cols), m.

    RMS amplitude over the grid (per component, averaged) is ``amplitude_m``."""
    if components not in (1, 3):
        raise ValueError("components must be 1 or 3")
    k = wavenumber(g_complex_pa, frequency_hz, density_kg_m3)
    if source_vox is None:
        source_vox = (np.asarray(shape, float) - 1) / 2 + np.array([0.0, -1.5, -1.2]) * max(shape)
    psi, grad = _scalar_and_gradient(kind, shape, voxel_size_m, k, direction, centre_vox, source_vox)
    if components == 1:
        wave = np.asarray(psi, complex)[np.newaxis]
    else:
        a = np.asarray(polarisation_axis, float) / np.linalg.norm(polarisation_axis)
        g0, g1, g2 = grad
        wave = np.stack([g1 * a[2] - g2 * a[1], g2 * a[0] - g0 * a[2], g0 * a[1] - g1 * a[0]]) / k
    rms = np.sqrt(np.mean(np.abs(wave) ** 2))
    return (wave * (amplitude_m / rms)).astype(np.complex128)


def add_compressional_wave(wave, voxel_size_m, frequency_hz, amplitude_ratio=10.0, speed_m_s=1540.0,
                           direction=(0.2, 0.7, 0.7), phase_rad=0.7):
    """``wave`` plus a longitudinal plane wave (curl-free) of ``amplitude_ratio`` x the shear RMS."""
    shape = wave.shape[1:]
    n = np.asarray(direction, float) / np.linalg.norm(direction)
    x = coordinates(shape, voxel_size_m)
    k_p = 2 * np.pi * frequency_hz / speed_m_s
    carrier = np.exp(1j * phase_rad - 1j * k_p * sum(xa * na for xa, na in zip(x, n)))
    rms = np.sqrt(np.mean(np.abs(wave) ** 2))
    if wave.shape[0] == 1:
        longitudinal = carrier[np.newaxis]
    else:
        longitudinal = np.stack([na * carrier for na in n])
    longitudinal = longitudinal * (amplitude_ratio * rms / np.sqrt(np.mean(np.abs(longitudinal) ** 2)))
    return wave + longitudinal


def add_noise(wave, snr, seed=0):
    """``wave`` plus complex Gaussian noise; SNR = RMS |U| / SD of each real and imaginary part.

    Returns (noisy wave, noise SD in m)."""
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(np.mean(np.abs(wave) ** 2)) / snr
    noise = rng.normal(0.0, sigma, wave.shape) + 1j * rng.normal(0.0, sigma, wave.shape)
    return wave + noise, sigma


def phase_images(wave, offsets_rad, phase_per_m, background_rad=None, noise_rad=0.0, seed=0):
    """Wrapped MRE phase images (offsets, components, slices, rows, cols), rad in (-pi, pi].

    Each offset theta sees the displacement Re(U exp(i theta)) times the encoding efficiency
    ``phase_per_m`` (rad/m), plus a static ``background_rad`` (components, ...) and noise."""
    offsets = np.asarray(offsets_rad, float)
    wave = np.asarray(wave)
    phase = np.real(wave[np.newaxis] * np.exp(1j * offsets).reshape((-1,) + (1,) * wave.ndim)) * phase_per_m
    if background_rad is not None:
        phase = phase + background_rad
    if noise_rad:
        phase = phase + np.random.default_rng(seed).normal(0.0, noise_rad, phase.shape)
    return np.angle(np.exp(1j * phase))


# ---------------------------------------------------------------------------------------------
# The MRE acquisition of a phantom visit (the demo's synthetic patient, TMEMonitorLib.phantom)
# ---------------------------------------------------------------------------------------------
# Standard vibration frequencies (Hz). MDEV pools several frequencies so that one frequency's wave
# nodes are filled by another's (Papazoglou et al., PMB 2012, doi:10.1088/0031-9155/57/8/2329); the
# demo takes up to DEMO_MAX_FREQUENCIES of the highest whose wavelength in the normal tissue around
# the tumour spans at least DEMO_VOXELS_PER_WAVELENGTH in-plane voxels (fewer and the finite
# differences cannot resolve the wave; coarse demo grids therefore vibrate at low frequency).
DEMO_FREQUENCIES_HZ = (20.0, 30.0, 40.0, 50.0, 60.0, 80.0, 100.0)
DEMO_VOXELS_PER_WAVELENGTH = 4.0
DEMO_MAX_FREQUENCIES = 4
DEMO_OFFSETS = 4                       # wave phase offsets over one period
DEMO_AMPLITUDE_UM = 8.0                # RMS shear displacement
DEMO_UM_PER_RAD = 4.0                  # encoding: 4 um of motion per rad of phase (peaks wrap)
DEMO_PHASE_NOISE_RAD = 0.03
# The wave is solved on a grid with voxels no larger than this (in-plane), averaged into the image
# voxels (the voxel integrates the motion, as MRI does), so the demo's waves follow the continuous
# wave equation rather than the 5-point stencil's dispersion on 6 mm voxels (9 % in k^2 at 6 voxels
# per wavelength).
DEMO_SOLVER_VOXEL_MM = 3.2


def demo_oversample(visit):
    """Solver grid refinement for a visit: ceil(in-plane voxel / DEMO_SOLVER_VOXEL_MM)."""
    return max(1, int(np.ceil(abs(float(visit.ijk_to_ras[0, 0])) / DEMO_SOLVER_VOXEL_MM - 1e-9)))


def _normal_tissue_speed(visit, density_kg_m3):
    from TMEMonitorLib.phantom import LABELS

    from .moduli import phase_velocity
    normal = visit.labels == LABELS["normal"]
    return float(np.median(phase_velocity(visit.truth["abs_G"][normal], visit.truth["phi"][normal], density_kg_m3)))


def demo_frequencies_hz(visit, density_kg_m3=1000.0, count=DEMO_MAX_FREQUENCIES):
    """Up to ``count`` of the highest DEMO_FREQUENCIES_HZ with >= DEMO_VOXELS_PER_WAVELENGTH in-plane
    voxels per shear wavelength in normal tissue (the lowest one when none qualifies), ascending."""
    speed = _normal_tissue_speed(visit, density_kg_m3)
    voxel_m = float(np.min(np.abs(np.diag(visit.ijk_to_ras)[:2]))) * 1e-3
    usable = [f for f in DEMO_FREQUENCIES_HZ if speed / f >= DEMO_VOXELS_PER_WAVELENGTH * voxel_m]
    return tuple(usable[-int(count):]) if usable else (min(DEMO_FREQUENCIES_HZ),)


def demo_frequency_hz(visit, density_kg_m3=1000.0):
    """The highest usable demo frequency (see :func:`demo_frequencies_hz`)."""
    return demo_frequencies_hz(visit, density_kg_m3)[-1]


def _slice_wave(g_slice, voxel_m, frequency, density_kg_m3, oversample):
    """Anti-plane wave of one slice, solved on an ``oversample``-times finer grid and averaged into voxels."""
    factor = max(int(oversample), 1)
    fine = np.repeat(np.repeat(g_slice, factor, axis=0), factor, axis=1) if factor > 1 else g_slice
    h = voxel_m / factor
    # Absorbing layer one longest wavelength deep (cost grows with its area; reflections stay small).
    sponge = max(8, int(np.ceil(np.sqrt(np.max(np.abs(g_slice)) / density_kg_m3) / frequency / h)))
    wave = simulate_heterogeneous(fine, h, frequency, density_kg_m3, sponge_vox=sponge)
    if factor > 1:
        rows, cols = g_slice.shape
        wave = wave.reshape(rows, factor, cols, factor).mean(axis=(1, 3))
    return wave


def synthesize_visit(visit, rng=None, frequency_hz=None, n_offsets=DEMO_OFFSETS, amplitude_um=DEMO_AMPLITUDE_UM,
                     um_per_rad=DEMO_UM_PER_RAD, phase_noise_rad=DEMO_PHASE_NOISE_RAD, density_kg_m3=1000.0,
                     frequencies_hz=None, oversample=None):
    """Multifrequency, one-component (through-plane) MRE of a phantom visit.

    Each slice's anti-plane shear wave is solved numerically at each frequency through that slice's
    true complex modulus G* = |G*| exp(i phi) (``visit.truth["abs_G"]`` Pa, ``["phi"]`` rad;
    :func:`simulate_heterogeneous` on a grid ``oversample`` times finer, averaged into the voxels: exact
    for tissue uniform along the slice axis, an approximation at the tumour's top and bottom); outside
    the body the modulus of normal tissue continues (the magnitude image masks it). Phase images:
    Re(U exp(i theta)) / ``um_per_rad`` over ``n_offsets`` offsets, Gaussian phase noise, wrapped; frames
    ordered frequency, phase offset. ``frequency_hz`` (one) or ``frequencies_hz`` choose the frequencies
    (default :func:`demo_frequencies_hz`); ``oversample`` the solver refinement (default :func:`demo_oversample`).
    Returns {"phase": (frames, k, j, i) float32 rad, "magnitude": (k, j, i) float32, "frequencies_hz",
    "frequency_hz" (the highest), "offsets_rad", "attributes" (TMEMonitor.MRE* values, JSON),
    "waves": {frequency: complex (k, j, i) m}, "wave": that of the highest frequency}.
    """
    import json

    from TMEMonitorLib.phantom import LABELS
    rng = np.random.default_rng(0) if rng is None else rng
    if frequencies_hz is None:
        frequencies_hz = (frequency_hz,) if frequency_hz else demo_frequencies_hz(visit, density_kg_m3)
    frequencies = tuple(float(f) for f in frequencies_hz)
    labels = visit.labels
    g = visit.truth["abs_G"] * np.exp(1j * visit.truth["phi"].astype(float))
    outside = labels == 0
    normal = labels == LABELS["normal"]
    g = np.where(outside, complex(np.mean(g[normal])) if normal.any() else 2000.0, g)
    voxel_m = float(abs(visit.ijk_to_ras[0, 0])) * 1e-3
    oversample = demo_oversample(visit) if oversample is None else int(oversample)
    offsets = 2 * np.pi * np.arange(int(n_offsets)) / int(n_offsets)
    waves, frames = {}, []
    for frequency in frequencies:
        wave = np.stack([_slice_wave(g[k], voxel_m, frequency, density_kg_m3, oversample)
                         for k in range(labels.shape[0])])
        wave = wave * (amplitude_um * 1e-6 / np.sqrt(np.mean(np.abs(wave[~outside]) ** 2)))
        waves[frequency] = wave
        frames.append(np.real(wave[None] * np.exp(1j * offsets)[:, None, None, None]) / (um_per_rad * 1e-6))
    phase = np.concatenate(frames)
    phase = phase + rng.normal(0.0, phase_noise_rad, phase.shape)
    phase = np.angle(np.exp(1j * phase)).astype(np.float32)
    magnitude = np.where(outside, 0.0, visit.truth["M0"]).astype(np.float32)
    listed = ", ".join(f"{f:g}" for f in frequencies)
    attributes = {"MREFrequencies": json.dumps(list(frequencies)), "MREPhaseOffsets": json.dumps(offsets.tolist()),
                  "MREDirections": json.dumps([[0.0, 0.0, 1.0]]), "MREPhaseToDisplacement_um_per_rad": json.dumps(um_per_rad),
                  "MRESource": f"synthetic acquisition ({listed} Hz, {int(n_offsets)} offsets, through-plane motion)"}
    return {"phase": phase, "magnitude": magnitude, "frequencies_hz": frequencies, "frequency_hz": frequencies[-1],
            "offsets_rad": offsets, "attributes": attributes, "waves": waves, "wave": waves[frequencies[-1]]}
