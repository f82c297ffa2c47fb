"""Inclusion recovery of each MRE inversion on a numerically simulated heterogeneous medium.

Anti-plane shear waves (60-120 Hz) are solved through a 3 kPa background (phi 0.2 rad) with four
cylindrical inclusions of 9 kPa (3:1) and radius 10, 6, 4 and 2 voxels (1 mm voxels;
ElastographyModuleLib.heterogeneous). For each method this prints the recovered modulus in the
inclusion core (median within half the radius) and the boundary blur: the 10-90 % width (voxels)
of the azimuthally averaged radial profile between the background and the inclusion plateau.
k-MDEV gives a speed; it is shown as rho c^2 cos^2(phi/2), the |G*| that speed implies at the
true loss angle.

    PYTHONPATH=ElastographyModule:TMEMonitor python Testing/benchmarks/validation_mre_inclusions.py
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "ElastographyModule"), os.path.join(ROOT, "TMEMonitor")]

from ElastographyModuleLib import inversion, synthesis  # noqa: E402

H = 1e-3
PHI = 0.2
BACKGROUND, INCLUSION = 3000.0, 9000.0
INCLUSIONS = [(40, 40, 10), (40, 100, 6), (100, 40, 4), (100, 100, 2)]
FREQUENCIES = (60.0, 80.0, 100.0, 120.0)


def blur_width(values, centre, radius):
    """10-90 % width (voxels) of the radial profile from the inclusion level to the background."""
    rows, cols = np.indices(values.shape)
    distance = np.hypot(rows - centre[0], cols - centre[1])
    edges = np.arange(0, radius + 12, 0.5)
    profile = np.array([np.nanmedian(values[(distance >= a) & (distance < a + 0.5)]) for a in edges])
    inside, outside = np.nanmedian(profile[edges <= radius * 0.4]), np.nanmedian(profile[edges >= radius + 8])
    if not np.isfinite(inside - outside) or abs(inside - outside) < 1e-9:
        return np.nan
    level = (profile - outside) / (inside - outside)
    try:
        r90 = edges[np.nonzero(level < 0.9)[0][0]]
        r10 = edges[np.nonzero(level < 0.1)[0][0]]
    except IndexError:
        return np.nan
    return float(r10 - r90)


def main():
    g = synthesis.inclusion_phantom((140, 140), BACKGROUND * np.exp(1j * PHI),
                                    [(r, c, rad, INCLUSION * np.exp(1j * PHI)) for r, c, rad in INCLUSIONS])
    waves = {f: np.repeat(synthesis.simulate_heterogeneous(g, H, f)[None, None], 7, axis=1) for f in FREQUENCIES}
    results = {"MDEV (4 f)": inversion.mdev(waves, H, smoothing_sigma_vox=1.0)["abs_G"][3],
               "Helmholtz 100 Hz": inversion.helmholtz(waves[100.0], H, 100.0, smoothing_sigma_vox=1.0)["abs_G"][3]}
    speed = inversion.kmdev(waves, H)["wave_speed"][3]
    results["k-MDEV (4 f)"] = 1000.0 * speed ** 2 * np.cos(PHI / 2) ** 2
    rows, cols = np.indices(g.shape)
    print(f"true |G*|: inclusions {INCLUSION:.0f} Pa, background {BACKGROUND:.0f} Pa (phi {PHI} rad)")
    print("| method | " + " | ".join(f"r={rad} vox: |G*| kPa (ratio), blur vox" for _, _, rad in INCLUSIONS)
          + " | background kPa |")
    print("|---" * (len(INCLUSIONS) + 2) + "|")
    background = np.abs(g - BACKGROUND * np.exp(1j * PHI)) < 1
    for name, values in results.items():
        cells = []
        for r0, c0, rad in INCLUSIONS:
            core = np.hypot(rows - r0, cols - c0) <= max(rad * 0.5, 1.0)
            value = np.nanmedian(values[core])
            cells.append(f"{value / 1e3:.2f} ({value / INCLUSION:.2f}), {blur_width(values, (r0, c0), rad):.1f}")
        inner = background & (rows > 10) & (cols > 10) & (rows < 130) & (cols < 130)
        print(f"| {name} | " + " | ".join(cells) + f" | {np.nanmedian(values[inner]) / 1e3:.2f} |")


if __name__ == "__main__":
    main()
