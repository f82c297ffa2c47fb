"""Tiny valid inputs for every ``tme-monitor`` sub-command (so that one nonsense option at a time
is what a fuzz case changes, and an accepted value runs a real, fast analysis)."""
import json
import os

import numpy as np


def _write_sequence(array, axis_values, path, axis_name="time", axis_unit="s"):
    from TMEMonitorLib import scene as tme_scene
    scene = tme_scene.create_scene()
    try:
        ijk = tme_scene.make_ijk_to_ras((2.0, 2.0, 4.0), (0.0, 0.0, 0.0))
        node = tme_scene.array_to_sequence(scene, np.asarray(array, np.float32), list(axis_values), ijk, "series",
                                           axis_name=axis_name, axis_unit=axis_unit)
        return tme_scene.write_node(node, path)
    finally:
        tme_scene.release_scene(scene)


def dce_concentration(folder, shape=(1, 3, 3)):
    """An extended-Tofts concentration series (mM) with a Parker AIF, 40 frames of 4 s."""
    from DCEModuleLib import aif
    from TMEMonitorLib import kinetics
    t = np.arange(40) * 4.0
    cp = aif.blood_to_plasma(aif.parker(t, 20.0), 0.42)
    rng = np.random.default_rng(1)
    ct = kinetics.concentration("extended_tofts", t, cp, Ktrans=rng.uniform(0.1, 0.3, shape),
                                ve=rng.uniform(0.2, 0.4, shape), vp=rng.uniform(0.02, 0.05, shape))
    return _write_sequence(np.moveaxis(ct, -1, 0), t, os.path.join(folder, "dce_conc.seq.nrrd"))


def dwi_nifti(folder, shape=(1, 3, 3), b_values=(0, 50, 100, 200, 400, 600, 800, 1000)):
    """A 4D NIfTI of an IVIM signal with its .bval beside it."""
    import SimpleITK as sitk
    b = np.asarray(b_values, float)
    signal = 1000.0 * (0.9 * np.exp(-b * 1.0e-3) + 0.1 * np.exp(-b * 20e-3))
    array = np.broadcast_to(signal[:, None, None, None], (b.size,) + shape).astype(np.float32)
    image = sitk.GetImageFromArray(np.ascontiguousarray(array), isVector=False)
    path = os.path.join(folder, "dwi.nii.gz")
    sitk.WriteImage(image, path)
    with open(os.path.join(folder, "dwi.bval"), "w") as handle:
        handle.write(" ".join(f"{v:g}" for v in b) + "\n")
    return path


def mrs_nifti(folder):
    """A single-voxel NIfTI-MRS tumour spectrum at 3 T, TE 30 ms."""
    from SpectroscopyModuleLib.io import write_nifti_mrs
    from SpectroscopyModuleLib.synthetic import TUMOUR_MM, synthesize_spectrum
    mrs = synthesize_spectrum(TUMOUR_MM, 123.2, 0.030, "PRESS", 1024, 2.5e-4, linewidth_hz=6.0, snr=80, rng=0)
    mrs.affine = np.diag([20.0, 20.0, 20.0, 1.0])
    mrs.dim_tags = []
    return write_nifti_mrs(mrs, os.path.join(folder, "svs.nii.gz"))


def gre_series(folder, shape=(1, 3, 3), echo_times_s=(0.005, 0.010, 0.015, 0.020, 0.025)):
    te = np.asarray(echo_times_s)
    signal = 1000.0 * np.exp(-te * 30.0)
    array = np.broadcast_to(signal[:, None, None, None], (te.size,) + shape)
    return _write_sequence(array, np.arange(te.size), os.path.join(folder, "gre.seq.nrrd"), axis_name="echo",
                           axis_unit=""), te


def mre_nifti(folder, shape=(4, 8, 8), frequencies=(60.0,), offsets=4):
    """Phase images (frequency x direction x offset frames) of a plane shear wave, with a sidecar."""
    import SimpleITK as sitk
    k = 2 * np.pi / 20.0                                     # 20 mm wavelength, 1.5 mm voxels
    x = np.arange(shape[2]) * 1.5
    frames = []
    for _ in frequencies:
        for _direction in range(3):
            for step in range(offsets):
                phase = 2 * np.pi * step / offsets
                frames.append(np.broadcast_to(np.sin(k * x + phase), shape))
    image = sitk.GetImageFromArray(np.stack(frames).astype(np.float32), isVector=False)
    image.SetSpacing((1.5, 1.5, 1.5, 1.0))
    path = os.path.join(folder, "mre.nii.gz")
    sitk.WriteImage(image, path)
    with open(os.path.join(folder, "mre.json"), "w") as handle:
        json.dump({"MREFrequency": list(frequencies), "MREPhaseOffsets": offsets,
                   "MREEncodingDirections": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "MREPhaseToDisplacement": 1.0}, handle)
    return path


def hp13c_series(folder, shape=(1, 3, 3), n_frames=12, tr_s=3.0):
    """Pyruvate and lactate dynamic series (.seq.nrrd, frames 3 s apart) of a known kPL, SNR ~ 100."""
    from HyperpolarizedModuleLib import synthesis
    curves = synthesis.simulate(np.full(shape, 0.05), tr_s, n_frames, 20.0, 30.0, snr=100, rng=2)
    times = np.arange(n_frames) * tr_s
    return {m: _write_sequence(np.moveaxis(curves[m], -1, 0), times, os.path.join(folder, f"hp_{m}.seq.nrrd"))
            for m in ("pyruvate", "lactate")}


def radiomics_image(folder, shape=(8, 8, 8)):
    """A small image and a spherical mask (NRRD) for radiomics."""
    import SimpleITK as sitk
    rng = np.random.default_rng(3)
    k, j, i = np.indices(shape)
    mask = ((k - 4) ** 2 + (j - 4) ** 2 + (i - 4) ** 2 <= 9).astype(np.uint8)
    image = (100.0 + 20.0 * mask + rng.normal(0, 5, shape)).astype(np.float32)
    paths = {}
    for name, array in (("image", image), ("mask", mask)):
        volume = sitk.GetImageFromArray(array)
        volume.SetSpacing((2.0, 2.0, 2.0))
        paths[name] = os.path.join(folder, f"radiomics_{name}.nrrd")
        sitk.WriteImage(volume, paths[name])
    return paths


def make_all(folder):
    """{name: path} of every input, plus 'binary' (random bytes), 'text' (not a number list)."""
    paths = {"dce": dce_concentration(folder), "dwi": dwi_nifti(folder), "mrs": mrs_nifti(folder),
             "mre": mre_nifti(folder)}
    paths["gre"], paths["gre_te_s"] = gre_series(folder)
    paths["hp13c"] = hp13c_series(folder)
    paths["radiomics"] = radiomics_image(folder)
    paths["binary"] = os.path.join(folder, "binary.dat")
    with open(paths["binary"], "wb") as handle:
        handle.write(np.random.default_rng(0).bytes(4096))
    paths["text"] = os.path.join(folder, "words.txt")
    with open(paths["text"], "w") as handle:
        handle.write("this is not an image\n")
    paths["folder"] = os.path.join(folder, "a_folder")
    os.makedirs(paths["folder"], exist_ok=True)
    return paths


def base_commands(paths, out):
    """A valid, fast command line per sub-command (the fuzz changes one option at a time)."""
    te_ms = ",".join(f"{v * 1000:g}" for v in paths["gre_te_s"])
    return {
        "dce": ["dce", paths["dce"], "--out", out, "--input-kind", "concentration", "--no-semi-quantitative"],
        "dwi": ["dwi", paths["dwi"], "--out", out, "--models", "adc", "--high-b", "none"],
        "mrs": ["mrs", paths["mrs"], "--out", out, "--process", "none", "--metabolites", "NAA,Cr,PCh"],
        "hypoxia": ["hypoxia", "--out", out, "--gre", paths["gre"], "--echo-times", te_ms, "--no-noise-floor"],
        "mre": ["mre", paths["mre"], "--out", out, "--inversions", "mdev"],
        "info": ["info", paths["dwi"]],
        "hp13c": ["hp13c", "--out", out, "--pyruvate", paths["hp13c"]["pyruvate"], "--lactate",
                  paths["hp13c"]["lactate"], "--flip-pyruvate", "20", "--flip-lactate", "30"],
        "radiomics": ["radiomics", paths["radiomics"]["image"], "--mask", paths["radiomics"]["mask"], "--out", out],
        "demo": None,          # options only: nonsense is refused at parse time, accepted values are not run
        "report": None,
    }
