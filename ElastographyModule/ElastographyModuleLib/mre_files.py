"""Reading MRE phase data from files: 4D NIfTI + JSON sidecar, MATLAB ``.mat``, and the Slicer
volume sequence (``.seq.nrrd``) the module and the demo write.

JSON sidecar keys (all optional; command-line flags override them, and the source of each
value is recorded): ``MREFrequency`` (Hz, number or list), ``MREPhaseOffsets`` (list, or a count
for evenly spaced offsets), ``MREPhaseOffsetsUnit`` ("rad" default or "deg"),
``MREEncodingDirections`` (list of [i, j, k] vectors), ``MREPhaseToDisplacement`` (um of motion
per rad of phase), ``MEGAmplitude`` (mT/m), ``MEGFrequency`` (Hz), ``MEGCycles``, ``MEGWaveform``.

``.mat`` variables: ``phase`` either (frames, slices, rows, cols) or MATLAB order (rows, cols,
slices, offsets[, directions[, frequencies]]); ``frequencies`` (Hz), ``offsets`` (rad),
``directions`` (n x 3, i j k), ``voxel_size_mm`` (col, row, slice spacing), ``um_per_rad``.

``.seq.nrrd`` keys (the phase sequence node's attributes, kept by Slicer's sequence storage node;
JSON values, as ElastographyLogic reads them from the node): ``TMEMonitor.MREFrequencies`` (Hz, list),
``TMEMonitor.MREPhaseOffsets`` (rad, list), ``TMEMonitor.MREDirections`` (list of [i, j, k]),
``TMEMonitor.MREPhaseToDisplacement_um_per_rad``. Frames ordered frequency, direction, phase offset;
the sequence index itself (a frame number) carries no acquisition value.
"""
import os

import numpy as np

from TMEMonitorLib.errors import InputError

from .phase_file import PhaseFile  # noqa: F401  (re-exported: readers return it)

SIDE_KEYS = {"frequencies_hz": "MREFrequency", "offsets": "MREPhaseOffsets", "directions_ijk": "MREEncodingDirections",
             "um_per_rad": "MREPhaseToDisplacement"}


def read_nifti(path):
    from TMEMonitorLib.io import bids_sidecar
    from TMEMonitorLib.io.geometry import ijk_to_ras_from_sitk
    from TMEMonitorLib.io.nifti_series import read_sitk_image, sitk_4d_array
    image = read_sitk_image(path)
    array = sitk_4d_array(image, path, np.float64)
    json_path = bids_sidecar.companion(path, ".json")
    sidecar = bids_sidecar.read_json(json_path) if json_path else {}
    values, sources = {}, {}
    for name, key in SIDE_KEYS.items():
        if key in sidecar:
            values[name] = sidecar[key]
            sources[name] = f"sidecar {os.path.basename(json_path)} {key}"
    if sidecar.get("MREPhaseOffsetsUnit") == "deg" and "offsets" in values:
        values["offsets"] = np.radians(np.asarray(values["offsets"], float)).tolist()
    if "MEGAmplitude" in sidecar and "MEGCycles" in sidecar:
        values["meg"] = {"gradient_mT_per_m": float(sidecar["MEGAmplitude"]), "cycles": float(sidecar["MEGCycles"]),
                         "frequency_hz": sidecar.get("MEGFrequency"), "waveform": sidecar.get("MEGWaveform", "sinusoidal")}
        sources["meg"] = f"sidecar {os.path.basename(json_path)} MEG*"
    return PhaseFile(array, ijk_to_ras_from_sitk(image), values, sources)


def read_mat(path):
    from scipy.io import loadmat
    from TMEMonitorLib.scene.geometry import make_ijk_to_ras
    try:
        content = loadmat(path)
    except (OSError, ValueError, NotImplementedError) as error:
        raise InputError(f".mat file {path} cannot be read: {error}") from None
    if "phase" not in content:
        raise InputError(f".mat file {path} holds no 'phase' variable (found: "
                         f"{', '.join(k for k in content if not k.startswith('__'))})")
    phase = np.asarray(content["phase"], dtype=float)
    if phase.ndim in (5, 6) or (phase.ndim == 4 and content.get("layout", [""])[0] == "matlab"):
        while phase.ndim < 6:
            phase = phase[..., np.newaxis]
        # (rows, cols, slices, offsets, directions, frequencies) -> frames ordered f, d, offset.
        phase = np.transpose(phase, (5, 4, 3, 2, 0, 1)).reshape((-1,) + (phase.shape[2], phase.shape[0], phase.shape[1]))
    elif phase.ndim != 4:
        raise InputError(f".mat 'phase' of shape {phase.shape}: expected 4 to 6 dimensions")
    values, sources = {}, {}
    for name, key in (("frequencies_hz", "frequencies"), ("offsets", "offsets"), ("directions_ijk", "directions"),
                      ("um_per_rad", "um_per_rad")):
        if key in content:
            values[name] = np.asarray(content[key], float).squeeze().tolist()
            sources[name] = f".mat variable '{key}'"
    spacing = np.asarray(content.get("voxel_size_mm", [1.0, 1.0, 1.0]), float).ravel()
    if spacing.size != 3 or np.any(spacing <= 0):
        raise InputError(f".mat 'voxel_size_mm' {spacing.tolist()}: expected 3 positive spacings (col, row, slice)")
    sources["voxel_size"] = ".mat variable 'voxel_size_mm'" if "voxel_size_mm" in content else "default 1 mm (no voxel_size_mm)"
    return PhaseFile(phase, make_ijk_to_ras(tuple(spacing)), values, sources)


def read_nrrd(path):
    import json

    from TMEMonitorLib.errors import MetadataError
    from TMEMonitorLib.io.nrrd_series import TME_PREFIX, read_nrrd_frames

    from .logic import ATTRIBUTE_KEYS
    frames = read_nrrd_frames(path)
    keys = frames.metadata.get("nrrd_keys", {})
    values, sources = {}, {}
    for name, key in zip(("frequencies_hz", "offsets", "directions_ijk", "um_per_rad"), ATTRIBUTE_KEYS):
        text = keys.get(TME_PREFIX + key, "").strip()
        if not text:
            continue
        try:
            values[name] = json.loads(text)
        except ValueError:
            raise MetadataError(f"{path}: NRRD key '{TME_PREFIX}{key}' is not a JSON number or list: {text[:80]!r}") from None
        sources[name] = f"NRRD key '{TME_PREFIX}{key}'"
    sources["voxel_size"] = frames.provenance["geometry"]
    return PhaseFile(frames.array, frames.ijk_to_ras, values, sources)


def read_phase_file(path, phase_units=None):
    """PhaseFile of ``path``; DICOM (a folder or a .dcm file) is read with :mod:`.mre_dicom`, its phase
    converted to rad (``phase_units`` overrides the scaling rule there)."""
    lower = path.lower()
    if os.path.isdir(path) or lower.endswith((".dcm", ".ima")):
        from .mre_dicom import read_dicom
        return read_dicom(path, phase_units=phase_units)
    if lower.endswith(".mat"):
        return read_mat(path)
    if lower.endswith((".nii", ".nii.gz")):
        return read_nifti(path)
    if lower.endswith((".nrrd", ".nhdr")):
        return read_nrrd(path)
    raise InputError(f"{path}: MRE phase data must be a DICOM folder, a 4D NIfTI (+ JSON sidecar), a .mat file "
                     "or a Slicer volume sequence (.seq.nrrd)")
