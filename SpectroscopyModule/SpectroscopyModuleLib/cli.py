"""``tme-monitor mrs``: MR spectroscopy from a file, headless, on the same Logic as the Slicer module.

Single voxel: results.csv (the results table), results.json (biomarkers, quality, acquisition,
processing), optionally spectrum.png, and mrs.mrb. MRSI: the maps as NRRD, summary.csv,
results.json and mrsi.mrb.
"""
import json
import math
import os

from TMEMonitorLib.progress_bar import ProgressBar

from .settings import PROCESSING_STEPS, SEQUENCES, SpectroscopySettings


def add_parser(subparsers):
    parser = subparsers.add_parser("mrs", help="MR spectroscopy: processing, LCM fit, ratios, quality (SVS and MRSI)")
    parser.add_argument("path", help="spectroscopy file or folder (NIfTI-MRS and the formats the readers know)")
    parser.add_argument("--out", required=True, help="output folder")
    basis = parser.add_mutually_exclusive_group()
    basis.add_argument("--basis", help="basis set: LCModel .basis file or FSL-MRS JSON folder")
    basis.add_argument("--simulate-basis", action="store_true",
                       help="simulate the basis for the data's field, TE and --sequence (default)")
    parser.add_argument("--sequence", choices=SEQUENCES, default="PRESS", help="sequence simulated for the basis (default: %(default)s)")
    parser.add_argument("--te", type=float, help="echo time (s); default from the header")
    parser.add_argument("--dwell-time", type=float, help="dwell time (s) when the file lacks it (LCModel .RAW)")
    parser.add_argument("--spectrometer-mhz", type=float, help="spectrometer frequency (MHz) when the file lacks it")
    parser.add_argument("--metabolites", help="basis metabolites, comma separated (default: the catalogue)")
    parser.add_argument("--process", default="coil_combine,align,average",
                        help="processing steps, comma separated, from: " + ", ".join(PROCESSING_STEPS)
                        + " ('none' for none; default: %(default)s)")
    parser.add_argument("--water-reference", help="unsuppressed water acquisition (for 'ecc' and water-scaled mM)")
    parser.add_argument("--tissue-fractions", nargs=3, type=float, metavar=("GM", "WM", "CSF"),
                        help="voxel tissue volume fractions for water-scaled mM (default: white matter only)")
    parser.add_argument("--ppm-range", nargs=2, type=float, default=(0.2, 4.2), metavar=("MIN", "MAX"),
                        help="ppm range of the fit (default: 0.2 4.2)")
    parser.add_argument("--line-broadening", type=float, default=0.0, help="apodisation (Hz), with 'apodise'")
    parser.add_argument("--zero-fill", type=int, default=2, help="zero-fill factor, with 'zero_fill' (default: %(default)s)")
    parser.add_argument("--baseline", choices=("spline", "poly", "none"), default="spline",
                        help="baseline model of the fit (default: %(default)s)")
    parser.add_argument("--crlb-threshold", type=float, default=20.0, help="CRLB (%%) above which a value is flagged (default: %(default)s)")
    parser.add_argument("--fwhm-threshold", type=float, default=0.1, help="linewidth (ppm) above which a fit is flagged (default: %(default)s)")
    parser.add_argument("--min-snr", type=float, default=3.0, help="SNR below which a fit is flagged (default: %(default)s)")
    parser.add_argument("--png", action="store_true", help="also draw spectrum.png (needs matplotlib)")
    parser.set_defaults(func=run)


def settings_from_args(args):
    steps = [s.strip() for s in (args.process or "").split(",") if s.strip() and s.strip().lower() != "none"]
    metabolites = [m.strip() for m in args.metabolites.split(",") if m.strip()] if args.metabolites else None
    return SpectroscopySettings(
        basis_source="file" if args.basis else "simulate", basis_path=args.basis, sequence=args.sequence,
        tissue_fractions=None if not args.tissue_fractions else dict(zip(("gm", "wm", "csf"), args.tissue_fractions)),
        te_s=args.te, dwell_s=args.dwell_time, spectrometer_mhz=args.spectrometer_mhz, metabolites=metabolites, processing=tuple(steps), water_reference_path=args.water_reference,
        ppm_min=min(args.ppm_range),
        ppm_max=max(args.ppm_range), line_broadening_hz=args.line_broadening, zero_fill_factor=args.zero_fill,
        crlb_threshold_percent=args.crlb_threshold, fwhm_threshold_ppm=args.fwhm_threshold, min_snr=args.min_snr,
        baseline=args.baseline).validated()


def _json_safe(value):
    """Plain JSON: numpy scalars to float, inf/NaN to None."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    return str(value)


def results_json(result):
    """What the command writes to results.json (also used by tests and scripts)."""
    analysis = result.analysis
    out = {"biomarkers": analysis.biomarkers, "basis": analysis.basis,
           "acquisition": {k: {"value": v[0], "source": v[1]} for k, v in analysis.acquisition.items()},
           "processing": [{"step": step, "outcome": outcome} for step, outcome in analysis.processing],
           "settings": analysis.settings.as_dict(), "warnings": list(analysis.warnings)}
    if hasattr(analysis, "fit"):
        fit = analysis.fit
        out.update(kind="single voxel", amplitudes=fit.amplitudes, crlb_percent=fit.crlb_percent,
                   ratios=analysis.ratios, ratio_sd=analysis.ratio_sd, totals=analysis.sums,
                   quality={"flags": analysis.quality["flags"], "snr": fit.snr, "fwhm_ppm": fit.fwhm_ppm,
                            "fwhm_hz": fit.fwhm_hz, "fit_status": fit.status_name, "r2": fit.r2})
    else:
        from TMEMonitorLib.fitting.status import describe
        out.update(kind="MRSI", grid=list(analysis.status.shape), fit_status=describe(analysis.status),
                   good_voxels=int((analysis.quality == 1).sum()))
    return _json_safe(out)


def draw_spectrum_png(fit, path, title=""):
    from TMEMonitorLib.dependencies import require
    matplotlib = require("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .logic import main_components
    figure, axes = plt.subplots(figsize=(8, 4.5))
    axes.plot(fit.ppm, fit.spectrum.real, color="k", lw=1, label="measured")
    axes.plot(fit.ppm, fit.fit_spectrum.real, color="tab:red", lw=1.2, label="fit")
    axes.plot(fit.ppm, fit.baseline.real, color="0.5", lw=1, label="baseline")
    offset = 1.1 * max(abs(fit.spectrum.real).max(), 1e-12)
    axes.plot(fit.ppm, fit.residual.real + offset, color="tab:blue", lw=0.8, label="residual (offset)")
    for label, values in main_components(fit).items():
        axes.plot(fit.ppm, values, lw=0.8, label=label)
    axes.set_xlim(fit.ppm.max(), fit.ppm.min())
    axes.set_xlabel("chemical shift (ppm)")
    axes.set_ylabel("signal (a.u.)")
    axes.set_title(title)
    axes.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def run(args):
    from TMEMonitorLib import scene as tme_scene

    from . import pipeline
    from .logic import SpectroscopyLogic

    settings = settings_from_args(args)
    mrs = pipeline.load_mrs(args.path, settings)
    scene = tme_scene.create_scene()
    bar = ProgressBar("MRS")
    logic = SpectroscopyLogic(scene)
    mrsi = pipeline.is_mrsi(mrs)
    if mrsi:
        result = logic.run_mrsi(mrs, settings, name_prefix="MRSI", progress=bar)
    else:
        result = logic.run_svs(mrs, settings, name_prefix="MRS", progress=bar)
    bar.done()
    os.makedirs(args.out, exist_ok=True)
    written = []
    if mrsi:
        for name, node in result.map_nodes.items():
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
            written.append(tme_scene.write_node(node, os.path.join(args.out, f"{safe}.nrrd")))
        written.append(tme_scene.write_node(result.status_node, os.path.join(args.out, "fit_status.nrrd")))
        written.append(tme_scene.write_node(result.quality_node, os.path.join(args.out, "quality.nrrd")))
        written.append(tme_scene.write_node(result.table_node, os.path.join(args.out, "summary.csv")))
    else:
        written.append(tme_scene.write_node(result.table_node, os.path.join(args.out, "results.csv")))
        if args.png:
            written.append(draw_spectrum_png(result.analysis.fit, os.path.join(args.out, "spectrum.png"),
                                             os.path.basename(args.path)))
    json_path = os.path.join(args.out, "results.json")
    with open(json_path, "w") as handle:
        json.dump(results_json(result), handle, indent=2)
    written.append(json_path)
    from TMEMonitorLib.scene import views          # the .mrb opens ready to read: a ratio map, or the spectrum
    shown = next((n for name, n in result.map_nodes.items() if "/" in name), None) if mrsi else None
    views.show_for_reading(scene, foreground=shown, chart=None if mrsi else result.chart_node)
    written.append(tme_scene.save_scene(scene, os.path.join(args.out, "mrsi.mrb" if mrsi else "mrs.mrb")))

    analysis = result.analysis
    for key, (value, source) in analysis.acquisition.items():
        print(f"  {key}: {value:g} ({source})")
    print(f"  basis: {analysis.basis}")
    for step, outcome in analysis.processing:
        print(f"  {step}: {outcome}")
    for warning in analysis.warnings:
        print(f"warning: {warning}")
    shown = {k: v for k, v in analysis.biomarkers.items() if "/" in k or k in ("tCho", "tNAA", "tCr", "Lac")}
    print("  " + ", ".join(f"{k} {v:.3g}" for k, v in shown.items()))
    if not mrsi:
        print(f"  SNR {analysis.fit.snr:.1f}, FWHM {analysis.fit.fwhm_ppm:.3f} ppm, "
              f"quality: {'; '.join(analysis.quality['flags']) or 'no flags'}")
    print(f"wrote {len(written)} files to {args.out}")
    return 0
