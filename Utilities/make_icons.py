"""Draw the module icons (128x128 PNG) once; the PNGs are committed under each module's Resources/Icons."""
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def icon(path, draw):
    fig = plt.figure(figsize=(1.28, 1.28), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    draw(ax)
    fig.savefig(path, transparent=True)
    plt.close(fig)


def tumour(ax):
    y, x = np.mgrid[-1:1:128j, -1:1:128j]
    r = np.hypot(x, y)
    img = np.where(r < 0.85, 0.4, np.nan)
    img[r < 0.62] = 1.0
    img[r < 0.42] = 0.65
    img[r < 0.22] = 0.1
    ax.imshow(img, cmap="inferno", vmin=0, vmax=1.1)
    ax.plot([0.15 * 128, 0.85 * 128], [0.9 * 128, 0.9 * 128], color="#3bb", lw=3)


def dce(ax):
    t = np.linspace(0, 5, 100)
    c = (1 - np.exp(-3 * t)) * np.exp(-0.25 * t)
    ax.plot(t, c, color="#d33", lw=5)
    ax.plot(t, 1.6 * np.exp(-((t - 0.5) / 0.25) ** 2) + 0.2 * (t > 0.5), color="#333", lw=3)
    ax.set_xlim(-0.2, 5.2)
    ax.set_ylim(-0.1, 1.9)


def dwi(ax):
    b = np.linspace(0, 1000, 100)
    ax.semilogy(b, 0.1 * np.exp(-b / 40) + 0.9 * np.exp(-b * 1e-3), color="#26b", lw=5)
    ax.semilogy(b, np.exp(-b * 2e-3), color="#999", lw=3)


def mrs(ax):
    ppm = np.linspace(4.2, 0.5, 400)
    s = sum(h / (1 + ((ppm - p) / 0.03) ** 2) for p, h in [(3.21, 1.0), (3.03, 0.7), (2.01, 0.9), (1.31, 0.4)])
    ax.plot(ppm, s, color="#292", lw=4)
    ax.invert_xaxis()


if __name__ == "__main__":
    for module, draw in [("TMEMonitor", tumour), ("DCEModule", dce), ("DiffusionModule", dwi), ("SpectroscopyModule", mrs)]:
        icon(f"{module}/Resources/Icons/{module}.png", draw)
