"""Regenerate the README pictures and the extension screenshot from real runs of the modules' Logic.

    python Utilities/make_readme_figures.py            # every figure, into Documentation/
    python Utilities/make_readme_figures.py --only hypoxia dashboard

Inputs are the project's synthetic data (no download): the demo patient of ``TMEMonitorApp.demo``
(DCE, DWI, spectra over three visits of a responder) analysed by the dashboard's visit analyses
(DCEModuleLib / DiffusionModuleLib Logic), the longitudinal response, the Spectroscopy Logic on the
visit's tumour spectrum, the Hypoxia Logic on the ``HypoxiaModuleLib.synthesis`` phantom, and the
Hyperpolarized Logic on the demo patient's synthetic 13C acquisition.

Maps are drawn as Slicer's axial slice view draws them, in the radiological convention: the
patient's right on the screen's left, anterior up, with orientation letters and a colour bar in
the map's units. Every PNG is kept under 200 KB (checked here).
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _module in ("TMEMonitor", "DCEModule", "DiffusionModule", "SpectroscopyModule", "HypoxiaModule",
                "HyperpolarizedModule", "ElastographyModule"):
    if os.path.join(ROOT, _module) not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, _module))

import numpy as np  # noqa: E402

OUT = os.path.join(ROOT, "Documentation")
MAX_BYTES = 200 * 1024
FIGURES = {
    "dashboard": "screenshot-dashboard.png",          # also the extension screenshot (EXTENSION_SCREENSHOTURLS)
    "dce": "DCEModule-Ktrans.png",
    "diffusion": "DiffusionModule-ADC.png",
    "spectroscopy": "SpectroscopyModule-spectrum.png",
    "hypoxia": "HypoxiaModule-R2star.png",
    "hyperpolarized": "HyperpolarizedModule-kPL.png",
    "elastography": "ElastographyModule-stiffness.png",
}


# --- drawing ---------------------------------------------------------------------------------------
def radiological_axial(volume_kji, ijk_to_ras, slice_index):
    """One axial slice as Slicer's axial view shows it: rows from anterior (top) to posterior,
    columns from the patient's right (screen left) to left; returns (image, width_mm, height_mm).

    The volume's axes must be aligned with RAS (any order and sign), as the demo's and the phantom's are."""
    volume = np.asarray(volume_kji)
    matrix = np.asarray(ijk_to_ras, dtype=float)[:3, :3]
    # array axis of each RAS axis: ijk column c is array axis 2 - c
    axis_of = {}
    for column in range(3):
        ras = int(np.argmax(np.abs(matrix[:, column])))
        if abs(matrix[ras, column]) < 0.999 * np.linalg.norm(matrix[:, column]):
            raise ValueError("radiological_axial: the volume is oblique; resample it to RAS axes first")
        axis_of[ras] = (2 - column, np.sign(matrix[ras, column]), abs(matrix[ras, column]))
    s_axis = axis_of[2][0]
    plane = np.take(volume, slice_index, axis=s_axis)
    remaining = [a for a in range(3) if a != s_axis]
    r_axis, r_sign, r_mm = axis_of[0]
    a_axis, a_sign, a_mm = axis_of[1]
    # plane axes are the remaining array axes in order; put A first (rows), R second (columns)
    image = plane if remaining.index(a_axis) == 0 else plane.T
    if a_sign > 0:          # index grows anteriorly: flip so anterior is the first row (top)
        image = image[::-1, :]
    if r_sign > 0:          # index grows to the patient's right: flip so right is the first column (screen left)
        image = image[:, ::-1]
    return image, image.shape[1] * r_mm, image.shape[0] * a_mm


def draw_map(ax, anatomy, values, ijk_to_ras, slice_index, label, unit, cmap, vmin=None, vmax=None, title=None,
             figure=None, categorical=None):
    """Anatomy in grey with the map in colour on top (NaN transparent), orientation letters, colour bar."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap
    background, width, height = radiological_axial(anatomy, ijk_to_ras, slice_index)
    overlay, _, _ = radiological_axial(values, ijk_to_ras, slice_index)
    extent = (0, width, 0, height)
    low, high = np.nanpercentile(background, [1, 99.5])
    ax.imshow(background, cmap="gray", vmin=low, vmax=high, extent=extent, interpolation="nearest")
    masked = np.ma.masked_invalid(np.where(overlay == 0, np.nan, overlay) if categorical else overlay)
    if categorical:
        values_sorted = sorted(categorical)
        colours = ListedColormap([categorical[v][1] for v in values_sorted])
        bounds = [v - 0.5 for v in values_sorted] + [values_sorted[-1] + 0.5]
        image = ax.imshow(masked, cmap=colours, norm=BoundaryNorm(bounds, colours.N), extent=extent,
                          interpolation="nearest", alpha=0.85)
    else:
        image = ax.imshow(masked, cmap=cmap, vmin=vmin, vmax=vmax, extent=extent, interpolation="nearest", alpha=0.9)
    ax.set_xticks([])
    ax.set_yticks([])
    from matplotlib import patheffects
    outline = [patheffects.withStroke(linewidth=2, foreground="black")]
    style = dict(color="yellow", fontsize=11, fontweight="bold", ha="center", va="center", path_effects=outline)
    ax.text(0.04 * width, height / 2, "R", **style)
    ax.text(0.96 * width, height / 2, "L", **style)
    ax.text(width / 2, 0.95 * height, "A", **style)
    ax.text(width / 2, 0.05 * height, "P", **style)
    ax.plot([0.06 * width, 0.06 * width + 20.0], [0.07 * height] * 2, color="white", lw=2, path_effects=outline)
    ax.text(0.06 * width + 10.0, 0.1 * height, "20 mm", color="white", fontsize=7, ha="center", path_effects=outline)
    if title:
        ax.set_title(title, fontsize=10)
    bar = (figure or plt.gcf()).colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    if categorical:
        bar.set_ticks(sorted(categorical))
        bar.set_ticklabels([categorical[v][0] for v in sorted(categorical)], fontsize=7)
    else:
        bar.set_label(f"{label} ({unit})" if unit else label, fontsize=9)
        bar.ax.tick_params(labelsize=8)
    return image


def tumour_slice(mask_kji, ijk_to_ras):
    """The axial slice with the most tumour voxels (array index along the S axis)."""
    matrix = np.asarray(ijk_to_ras, dtype=float)[:3, :3]
    column = int(np.argmax(np.abs(matrix[2, :])))
    axis = 2 - column
    other = tuple(a for a in range(3) if a != axis)
    return int(np.argmax(np.asarray(mask_kji).sum(axis=other)))


def save(figure, name):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    figure.savefig(path, dpi=100, bbox_inches="tight", pil_kwargs={"optimize": True})
    size = os.path.getsize(path)
    if size > MAX_BYTES:
        raise RuntimeError(f"{path}: {size / 1024:.0f} KB, over the {MAX_BYTES // 1024} KB limit")
    print(f"wrote {os.path.relpath(path, ROOT)} ({size / 1024:.0f} KB)")
    return path


# --- the demo patient ------------------------------------------------------------------------------
class DemoRun:
    """The demo patient analysed once (shared by the DCE, Diffusion, Spectroscopy and dashboard figures)."""

    def __init__(self, size="small", seed=0):
        from TMEMonitorApp import dashboard
        from TMEMonitorLib import scene as tme_scene
        from TMEMonitorApp.demo import build_demo_scene
        self.tme_scene = tme_scene
        self.scene = tme_scene.create_scene()
        self.build = build_demo_scene(self.scene, size=size, seed=seed, n_visits=3)
        for visit in self.build.visits:
            print(f"analysing {visit.name} (DCE, DWI)...")
            dashboard.run_visit_analyses(self.scene, visit.item)
        dashboard.register_visits(self.scene, self.build.patient_item, method="rigid")
        truth = {visit.name: visit.visit.truth_summary for visit in self.build.visits}
        self.response = dashboard.compute_response(self.scene, self.build.patient_item, organ="breast", truth=truth)
        self.maps = {visit.name: dashboard.visit_biomarker_maps(self.scene, visit.item) for visit in self.build.visits}

    def array(self, node):
        return self.tme_scene.volume_to_array(node)

    def visit(self, index):
        visit = self.build.visits[index]
        return visit, self.maps[visit.name]


def figure_dce(run):
    import matplotlib.pyplot as plt
    visit, maps = run.visit(0)
    ijk, mask = visit.visit.ijk_to_ras, visit.visit.tumour_mask
    k = tumour_slice(mask, ijk)
    figure, ax = plt.subplots(figsize=(5.2, 4.4))
    ktrans = np.where(mask, run.array(maps["Ktrans"]), np.nan)
    draw_map(ax, run.array(visit.nodes["anatomy"]), ktrans, ijk, k, "Ktrans", "1/min", "inferno", vmin=0,
             vmax=float(np.nanpercentile(ktrans, 99)), figure=figure,
             title=f"Ktrans (extended Tofts) over the anatomy — {visit.name}")
    return save(figure, FIGURES["dce"])


def figure_diffusion(run):
    import matplotlib.pyplot as plt
    visit, maps = run.visit(0)
    ijk, mask = visit.visit.ijk_to_ras, visit.visit.labels > 0
    k = tumour_slice(visit.visit.tumour_mask, ijk)
    figure, ax = plt.subplots(figsize=(5.2, 4.4))
    adc = np.where(mask, run.array(maps["ADC"]) * 1e3, np.nan)          # shown in 10^-3 mm2/s as radiologists read it
    draw_map(ax, run.array(visit.nodes["anatomy"]), adc, ijk, k, "ADC", "10⁻³ mm²/s", "viridis", vmin=0, vmax=3.0,
             figure=figure, title=f"ADC (log-linear) over the b = 0 image — {visit.name}")
    return save(figure, FIGURES["diffusion"])


def figure_spectroscopy(run):
    import matplotlib.pyplot as plt
    from SpectroscopyModuleLib.demo_spectrum import visit_spectrum
    from SpectroscopyModuleLib.logic import SpectroscopyLogic, main_components
    visit, _ = run.visit(0)
    spectrum = visit_spectrum(visit.visit, rng=np.random.default_rng(0))
    print("fitting the baseline tumour spectrum...")
    result = SpectroscopyLogic(run.scene).run_svs(spectrum, name_prefix=f"{visit.name} MRS")
    fit = result.analysis.fit
    figure, ax = plt.subplots(figsize=(7.0, 4.0))
    window = (fit.ppm > 0.5) & (fit.ppm < 4.2)
    ppm = fit.ppm[window]
    ax.plot(ppm, fit.spectrum.real[window], color="0.25", lw=0.9, label="measured")
    ax.plot(ppm, fit.fit_spectrum.real[window], color="tab:red", lw=1.3, label="fit")
    ax.plot(ppm, fit.baseline.real[window], color="tab:green", lw=0.9, ls="--", label="baseline")
    offset = 1.15 * np.nanmax(np.abs(fit.spectrum.real[window]))
    ax.plot(ppm, fit.residual.real[window] - 0.35 * offset, color="0.5", lw=0.7, label="residual (shifted)")
    for index, (name, component) in enumerate(main_components(fit).items()):
        ax.plot(ppm, component[window] - 0.7 * offset, lw=0.9, label=name, color=f"C{index % 10}")
    ax.set_xlim(4.2, 0.5)               # NMR convention: ppm decreasing to the right
    ax.set_xlabel("chemical shift (ppm)")
    ax.set_ylabel("signal (a.u.)")
    ax.set_title(f"Tumour single-voxel spectrum with its linear-combination fit — {visit.name}", fontsize=10)
    ax.legend(fontsize=7, ncol=2, loc="upper right", frameon=False)
    return save(figure, FIGURES["spectroscopy"])


def figure_dashboard(run):
    import matplotlib.pyplot as plt
    visit, maps = run.visit(len(run.build.visits) - 1)
    ijk, mask = visit.visit.ijk_to_ras, visit.visit.tumour_mask
    k = tumour_slice(mask, ijk)
    base_visit, base_maps = run.visit(0)
    vmax = float(np.nanpercentile(np.where(base_visit.visit.tumour_mask, run.array(base_maps["Ktrans"]), np.nan), 99))
    figure, (ax_map, ax_chart) = plt.subplots(1, 2, figsize=(10.5, 4.3), gridspec_kw={"width_ratios": [1.0, 1.15]})
    ktrans = np.where(mask, run.array(maps["Ktrans"]), np.nan)
    draw_map(ax_map, run.array(visit.nodes["anatomy"]), ktrans, ijk, k, "Ktrans", "1/min", "inferno", vmin=0,
             vmax=vmax, figure=figure, title=f"{visit.name}: Ktrans over the anatomy")
    visits = run.response.data["visits"]
    days = [v["day"] for v in visits]
    names = {"Ktrans": "Ktrans", "ADC": "ADC", "volume_ml": "tumour volume"}
    for index, (name, label) in enumerate(names.items()):
        changes = [v["biomarkers"].get(name, {}).get("change_from_baseline_percent") for v in visits]
        if any(c is None for c in changes[1:]):
            continue
        changes = [0.0 if c is None else c for c in changes]
        rc = visits[-1]["biomarkers"][name].get("rc_percent")
        real = [False] + [bool(v["biomarkers"][name].get("real_change")) for v in visits[1:]]
        colour = f"C{index}"
        ax_chart.plot(days, changes, "-", color=colour, label=f"{label} (repeatability ±{rc:g} %)" if rc else label)
        for day, change, flag in zip(days, changes, real):
            ax_chart.plot(day, change, "o", color=colour, markerfacecolor=colour if flag else "white", markersize=7)
    ax_chart.axhline(0, color="0.5", lw=0.8)
    ax_chart.set_xlabel("day from the start of treatment (d)")
    ax_chart.set_ylabel("change from baseline (%)")
    ax_chart.set_title("Change from baseline (filled: a real change, beyond repeatability)", fontsize=10)
    calls = [f"{c.criterion}: {c.category}" for c in run.response.calls
             if c.visit == visit.name and not c.criterion.startswith("functional")]
    if calls:
        ax_chart.text(0.02, 0.03, f"{visit.name}: " + "; ".join(calls), transform=ax_chart.transAxes, fontsize=8,
                      va="bottom", bbox=dict(facecolor="white", edgecolor="0.7", alpha=0.9))
    ax_chart.legend(fontsize=8, frameon=False, loc="upper left")
    ax_chart.grid(alpha=0.3)
    figure.tight_layout()
    return save(figure, FIGURES["dashboard"])


# --- hypoxia ---------------------------------------------------------------------------------------
def figure_hypoxia(seed=0):
    """The Hypoxia Logic on the synthetic phantom (week 0, responder): R2* and the Perfused-Oxy-R map."""
    import matplotlib.pyplot as plt
    from HypoxiaModuleLib import hypoxia_map, synthesis
    from HypoxiaModuleLib.logic import HypoxiaLogic
    from HypoxiaModuleLib.settings import HypoxiaSettings
    from TMEMonitorLib import scene as tme_scene
    shape, noise = (5, 64, 64), 8.0
    rng = np.random.default_rng(seed)
    p = synthesis.hypoxia_phantom(shape, visit=0)
    j, i = np.meshgrid(*(np.arange(n) - (n - 1) / 2.0 for n in shape[1:]), indexing="ij")
    body = ((j / (0.48 * shape[1])) ** 2 + (i / (0.48 * shape[2])) ** 2) <= 1.0
    s0 = np.where(body[None], p.s0, 0.0)
    te, times = 0.002 + 0.004 * np.arange(8), np.arange(0.0, 540.0, 15.0)
    tr, flip = 0.004, 15.0
    ijk = tme_scene.make_ijk_to_ras((1.0, 1.0, 3.0), (-31.5, -31.5, 0.0))
    scene = tme_scene.create_scene()
    gre = np.moveaxis(synthesis.multi_echo(p.r2star_per_s, s0, te, noise, rng), -1, 0)
    oe = np.moveaxis(synthesis.oe_dynamic(p.t1_s, p.delta_r1_per_s, s0, times, synthesis.default_paradigm(), tr, flip,
                                          noise * 0.02, rng), -1, 0)
    gre_node = tme_scene.array_to_sequence(scene, gre, te * 1000.0, ijk, "GRE", axis_name="echo_time", axis_unit="ms",
                                           axis_source="synthetic EchoTime")
    oe_node = tme_scene.array_to_sequence(scene, oe, times, ijk, "OE")
    tme_scene.set_acquisition_attributes(oe_node, {"TR_s": tr, "flip_angle_deg": flip})
    t10 = tme_scene.array_to_volume(scene, p.t1_s, ijk, "T10")
    enhancement = tme_scene.array_to_volume(scene, p.enhancement, ijk, "enhancement")
    print("fitting R2* and the oxygen challenge on the hypoxia phantom...")
    # No mask: the fit's noise floor is estimated from the air around the body.
    result = HypoxiaLogic(scene).run(HypoxiaSettings(gas_on_s=120.0, gas_off_s=420.0, enhancement_threshold=0.1),
                                     gre_node=gre_node, oe_node=oe_node, t10_node=t10, enhancement_node=enhancement)
    anatomy = gre[3]            # the TE = 14 ms echo: T2*-weighted contrast under the maps
    k = tumour_slice(p.tumour, ijk)
    figure, (ax_r2, ax_class) = plt.subplots(1, 2, figsize=(10.5, 4.3))
    r2star = np.where(body[None], tme_scene.volume_to_array(result.map_nodes["R2star"]), np.nan)
    draw_map(ax_r2, anatomy, r2star, ijk, k, "R2*", "1/s", "inferno", vmin=0, vmax=90, figure=figure,
             title="R2* (nonlinear fit of 8 echoes, TE 2–30 ms)")
    classes = np.where(p.tumour, tme_scene.volume_to_array(result.class_node), 0).astype(float)
    labels = {value: (hypoxia_map.CLASS_NAMES[value].split(" (")[0], rgb)
              for value, rgb in hypoxia_map.CLASS_COLOURS.items()}
    fraction = hypoxia_map.class_fractions(classes.astype(np.uint8), p.tumour)["hypoxic_fraction"]
    draw_map(ax_class, anatomy, classes, ijk, k, "class", "", None, figure=figure, categorical=labels,
             title=f"Perfused-Oxy-R map in the tumour (hypoxic fraction {100 * fraction:.0f} %)")
    figure.tight_layout()
    tme_scene.release_scene(scene)
    return save(figure, FIGURES["hypoxia"])


# --- hyperpolarized 13C ----------------------------------------------------------------------------
def figure_hyperpolarized(size="small", seed=0):
    """The Hyperpolarized Logic on the demo patient's 13C acquisition (responder): kPL at baseline and week 6.

    The 13C grid (12 x 12 x 2 voxels of 16.7 x 16.7 x 20 mm) is drawn as Slicer draws a coarse overlay: each
    anatomy voxel shows the value of the 13C voxel it lies in (nearest); the map itself is not resampled."""
    import matplotlib.pyplot as plt
    from TMEMonitorApp import demo
    from TMEMonitorApp.dashboard.analyses import run_visit_analyses
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.longitudinal.registration import resample_to_reference
    scene = tme_scene.create_scene()
    print("fitting kPL on the demo patient's hyperpolarized 13C acquisitions...")
    build = demo.build_demo_scene(scene, size=size, seed=seed, n_visits=3, only=["hp13c"])
    figure, axes = plt.subplots(1, 2, figsize=(10.5, 4.3))
    for ax, visit in zip(axes, (build.visits[0], build.visits[-1])):
        node = run_visit_analyses(scene, visit.item)["hp13c"].map_nodes["kPL"]
        truth = visit.visit
        kpl = resample_to_reference(tme_scene.volume_to_array(node), tme_scene.node_ijk_to_ras(node),
                                    truth.labels.shape, truth.ijk_to_ras, interpolation="nearest")
        kpl = np.where(truth.labels > 0, kpl, np.nan)
        mean = np.nanmean(kpl[truth.tumour_mask])
        anatomy = tme_scene.volume_to_array(visit.nodes["anatomy"])
        draw_map(ax, anatomy, kpl, truth.ijk_to_ras, tumour_slice(truth.tumour_mask, truth.ijk_to_ras), "kPL", "1/s",
                 "inferno", vmin=0.0, vmax=0.04, figure=figure,
                 title=f"{visit.name}: kPL on the 13C grid (tumour mean {mean:.3f} 1/s)")
    figure.tight_layout()
    tme_scene.release_scene(scene)
    return save(figure, FIGURES["hyperpolarized"])


def figure_elastography(size="small", seed=0):
    """The Elastography Logic (MDEV) on the demo patient's MRE acquisition (responder): |G*| at baseline
    and week 6 over the anatomy, on one colour scale."""
    import matplotlib.pyplot as plt
    from TMEMonitorApp import demo
    from TMEMonitorApp.dashboard.analyses import run_visit_analyses
    from TMEMonitorLib import scene as tme_scene
    scene = tme_scene.create_scene()
    print("inverting the demo patient's MRE acquisitions (MDEV)...")
    build = demo.build_demo_scene(scene, size=size, seed=seed, n_visits=3, only=["mre"])
    figure, axes = plt.subplots(1, 2, figsize=(10.5, 4.3))
    for ax, visit in zip(axes, (build.visits[0], build.visits[-1])):
        result = run_visit_analyses(scene, visit.item)["mre"]
        node = result.map_nodes["abs_G"]
        truth = visit.visit
        stiffness = np.where(truth.labels > 0, tme_scene.volume_to_array(node), np.nan)      # kPa (node's unit)
        mean = np.nanmean(stiffness[truth.tumour_mask])
        anatomy = tme_scene.volume_to_array(visit.nodes["anatomy"])
        draw_map(ax, anatomy, stiffness, truth.ijk_to_ras, tumour_slice(truth.tumour_mask, truth.ijk_to_ras), "|G*|",
                 "kPa", "viridis", vmin=0.0, vmax=10.0, figure=figure,
                 title=f"{visit.name}: |G*| by MDEV (tumour mean {mean:.1f} kPa)")
    figure.tight_layout()
    tme_scene.release_scene(scene)
    return save(figure, FIGURES["elastography"])


def main(argv=None):
    import matplotlib
    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(FIGURES), help="figures to make (default: all)")
    parser.add_argument("--size", default="small", help="demo volume size (tiny, small, default)")
    args = parser.parse_args(argv)
    wanted = args.only or list(FIGURES)
    written = []
    if "hypoxia" in wanted:
        written.append(figure_hypoxia())
    if "hyperpolarized" in wanted:
        written.append(figure_hyperpolarized(size=args.size))
    if "elastography" in wanted:
        written.append(figure_elastography(size=args.size))
    if any(name in wanted for name in ("dce", "diffusion", "spectroscopy", "dashboard")):
        run = DemoRun(size=args.size)
        for name, make in (("dce", figure_dce), ("diffusion", figure_diffusion), ("spectroscopy", figure_spectroscopy),
                           ("dashboard", figure_dashboard)):
            if name in wanted:
                written.append(make(run))
    return written


if __name__ == "__main__":
    main()
