"""MRE analysis on arrays: wrapped phase images -> unwrapped phase -> displacement -> first
harmonic per component -> inversions (MDEV, k-MDEV, Helmholtz per frequency), with units,
status maps and notes. Qt- and MRML-free; the Logic and the CLI call :func:`analyse_mre`."""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib.errors import InputError

from . import inversion, noise, quantity_names, unwrap
from .harmonic import first_harmonic
from .settings import ElastographySettings

# name -> (quantity, internal unit, unit of the map node, factor internal -> node, colour map), from the
# quantity registry (quantity_names.py); the nodes hold the registry's display form (kPa, um).
_NODE_UNIT = {"µm": "um", "unitless": ""}


def _display_row(key):
    entry = quantity_names.entry_of(key)
    return (entry.quantity, entry.unit, _NODE_UNIT.get(entry.display_unit, entry.display_unit), entry.display_scale,
            entry.colormap)


MAP_DISPLAY = {key: _display_row(key) for key in quantity_names.REGISTRY_NAME}
# Pure noise has a wave SNR of about 1 (its median slightly below); a region whose median is
# under 2 holds no usable wave.
REGION_MIN_WAVE_SNR = 2.0
PHASE_FACTORS = {"rad": 1.0, "deg": np.pi / 180.0, "int12": np.pi / 4096.0, "uint12": np.pi / 2048.0, "mrad": 1e-3}
PHASE_OFFSETS = {"uint12": -np.pi}           # rad added after the factor


@dataclass
class MREAnalysis:
    results: dict                              # method -> {map name: array (internal units), "status": ...}
    waves: dict                                # frequency -> complex wave (components, slices, rows, cols)
    mask: np.ndarray
    acquisition: object
    settings: ElastographySettings
    noise_sigma: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def _unwrap(phase, method):
    """(offsets, slices, rows, cols) wrapped phase (rad) -> unwrapped."""
    if method == "none":
        return phase
    if method == "spatiotemporal":
        return unwrap.unwrap_laplacian(phase, periodic_axes=(0,))
    if method == "quality":
        return unwrap.align_frames(np.stack([unwrap.unwrap_quality_guided(frame) for frame in phase]))
    return unwrap.align_frames(np.stack([unwrap.unwrap_laplacian(frame) for frame in phase]))


def phase_to_waves(phase, acquisition, settings):
    """{frequency: complex wave (components along slice, row, col or the single direction)}, noise SDs."""
    factor = PHASE_FACTORS[settings.phase_units]
    phase = np.asarray(phase, dtype=float) * factor + PHASE_OFFSETS.get(settings.phase_units, 0.0)
    finite = np.isfinite(phase)
    if not finite.all():
        raise InputError(f"phase images hold {int((~finite).sum())} non-finite value(s)")
    if np.abs(phase).max() > np.pi * 1.01:
        raise InputError(f"phase values reach {np.abs(phase).max():.3g} rad, outside [-pi, pi]: set the phase "
                         "units (--phase-units deg or int12) or give phase in rad")
    waves, sigmas = {}, {}
    for fi, frequency in enumerate(acquisition.frequencies_hz):
        components, sigma_parts = [], []
        scale = acquisition.rad_per_m.get(frequency)
        for di in range(len(acquisition.directions)):
            unwrapped = _unwrap(phase[acquisition.frames(fi, di)], settings.unwrap)
            displacement = unwrapped / scale if scale else unwrapped
            wave, sigma = first_harmonic(displacement, acquisition.offsets_rad)
            components.append(wave)
            sigma_parts.append(sigma)
        measured = np.stack(components)
        if len(components) >= 3:
            # Components along the image axes from the encoded directions (least squares).
            projection = np.linalg.pinv(acquisition.directions)
            measured = np.tensordot(projection, measured, axes=(1, 0))
            gain = float(np.max(np.linalg.norm(projection, axis=1)))
        else:
            gain = 1.0
        waves[frequency] = measured
        sigma = float(np.nanmax(sigma_parts)) * gain
        sigmas[frequency] = sigma if np.isfinite(sigma) else noise.spatial_noise_sigma(measured)
    return waves, sigmas


def _applied_smoothing(results):
    """' (applied: 40 Hz 0.62 voxels, ...)' from the MDEV result, the widths the wavelength allowed."""
    widths = results.get("mdev", {}).get("smoothing_sigma_vox")
    if not widths:
        return ""
    return " (applied, in-plane: " + ", ".join(f"{f:g} Hz {max(w[1], w[2]):.2f} voxels"
                                                for f, w in sorted(widths.items())) + ")"


def analyse_mre(phase, acquisition, settings=None, mask=None):
    """Full analysis of phase images (frames, slices, rows, cols) laid out as ``acquisition``."""
    settings = (settings or ElastographySettings()).validated()
    phase = np.asarray(phase)
    if phase.ndim != 4 or phase.shape[0] != acquisition.n_frames:
        raise InputError(f"phase images of shape {phase.shape}: expected ({acquisition.n_frames}, slices, rows, cols)")
    shape = phase.shape[1:]
    mask = np.ones(shape, bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != shape or not mask.any():
        raise InputError(f"mask of shape {mask.shape} is empty or not on the phase grid {shape}")
    waves, sigmas = phase_to_waves(phase, acquisition, settings)
    snr = np.sqrt(sum(noise.wave_snr(w, sigmas[f]) ** 2 for f, w in waves.items()))
    region_snr = float(np.median(snr[mask]))
    if not region_snr >= REGION_MIN_WAVE_SNR:
        raise InputError(f"wave amplitude below noise in the region: median wave SNR {region_snr:.2f} "
                         f"(1 = noise level, {REGION_MIN_WAVE_SNR:g} needed); check the mask, phase scaling and driver")
    options = dict(density_kg_m3=settings.density_kg_m3, mask=mask, compression=settings.compression,
                   noise_sigma=sigmas, min_wave_snr=settings.min_wave_snr,
                   highpass_sigma_vox=settings.highpass_sigma_vox)
    laplacian_options = dict(smoothing_sigma_vox=settings.smoothing_sigma_vox, laplacian=settings.laplacian,
                             axes=settings.derivative_axes, smoothing_per_wavelength=settings.smoothing_per_wavelength)
    results, notes = {}, []
    voxel = acquisition.voxel_size_m
    if "mdev" in settings.inversions:
        results["mdev"] = inversion.mdev(waves, voxel, **options, **laplacian_options)
    if "kmdev" in settings.inversions:
        results["kmdev"] = inversion.kmdev(waves, voxel, axes=settings.kmdev_axes, **options)
    if "helmholtz" in settings.inversions:
        for frequency, wave in waves.items():
            single = dict(options, noise_sigma=sigmas[frequency])
            results[f"helmholtz_{frequency:g}Hz"] = inversion.helmholtz(wave, voxel, frequency, **single,
                                                                         **laplacian_options)
    components = next(iter(waves.values())).shape[0]
    notes.append(f"{len(waves)} frequencies ({', '.join(f'{f:g}' for f in waves)} Hz), {components} component(s), "
                 f"{len(acquisition.offsets_rad)} phase offsets; unwrap {settings.unwrap}; compression removal "
                 f"{settings.compression}; smoothing {settings.smoothing_sigma_vox:g} voxels at most "
                 f"{settings.smoothing_per_wavelength:g} wavelength{_applied_smoothing(results)}; density "
                 f"{settings.density_kg_m3:g} kg/m3; median wave SNR in the region {region_snr:.1f}")
    return MREAnalysis(results=results, waves=waves, mask=mask, acquisition=acquisition, settings=settings,
                       noise_sigma=sigmas, notes=notes)
