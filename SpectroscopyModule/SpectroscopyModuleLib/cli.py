"""``tme-monitor mrs``: MR spectroscopy from a file, headless, on the same Logic as the Slicer module.

Single voxel: results.csv (the results table), results.json (biomarkers, quality, acquisition,
processing), optionally spectrum.png, and mrs.mrb. MRSI: the maps as NRRD, summary.csv,
results.json and mrsi.mrb.
"""
import math
import os

from TMEMonitorLib import cli_options as opt
from TMEMonitorLib.progress_bar import ProgressBar

from .settings import PROCESSING_STEPS, SEQUENCES, SpectroscopySettings

# Option limits: apodisation beyond 50 Hz erases every metabolite line (linewidths are 2-15 Hz);
# zero-filling beyond 8x adds no information and multiplies memory (an MRSI grid at 4096x is
# ~13 GiB).
MAX_LINE_BROADENING_HZ = 50.0
MAX_ZERO_FILL = 8


def add_parser(subparsers):
    parser = subparsers.add_parser("mrs", help="MR spectroscopy: processing, LCM fit, ratios, quality (SVS and MRSI)")
    parser.add_argument("path", type=opt.existing_path("spectroscopy file or folder"), help="spectroscopy file or folder (NIfTI-MRS and the formats the readers know)")
    parser.add_argument("--out", required=True, type=opt.output_folder(), help="output folder")
    basis = parser.add_mutually_exclusive_group()
    basis.add_argument("--basis", type=opt.existing_path("basis file or folder"), help="basis set: LCModel .basis file or FSL-MRS JSON folder")
    basis.add_argument("--simulate-basis", action="store_true",
                       help="simulate the basis for the data's field, TE and --sequence (default)")
    parser.add_argument("--sequence", choices=SEQUENCES, default="PRESS", help="sequence simulated for the basis (default: %(default)s)")
    parser.add_argument("--te", type=opt.non_negative(2.0, "s"), help="echo time (s); default from the header")
    parser.add_argument("--dwell-time", type=opt.positive(0.01, "s"), help="dwell time (s) when the file lacks it (LCModel .RAW)")
    parser.add_argument("--spectrometer-mhz", type=opt.number(1.0, 1500.0, "MHz"),
                        help="spectrometer frequency (MHz) when the file lacks it; a value that differs from the "
                             "file's is used, reported as an override, with a warning")
    parser.add_argument("--metabolites", type=opt.name_list(), help="basis metabolites, comma separated (default: the catalogue)")
    parser.add_argument("--process", type=_steps, default="coil_combine,align,average",
                        help="processing steps, comma separated, from: " + ", ".join(PROCESSING_STEPS)
                        + " ('none' for none; default: %(default)s)")
    parser.add_argument("--water-reference", type=opt.existing_path("water reference file"), help="unsuppressed water acquisition (for 'ecc' and water-scaled mM)")
    parser.add_argument("--tissue-fractions", nargs=3, type=opt.number(0.0, 1.0), metavar=("GM", "WM", "CSF"),
                        help="voxel tissue volume fractions for water-scaled mM (default: white matter only)")
    parser.add_argument("--ppm-range", nargs=2, type=opt.number(-50.0, 50.0, "ppm"), default=(0.2, 4.2), metavar=("MIN", "MAX"),
                        help="ppm range of the fit (default: 0.2 4.2)")
    parser.add_argument("--line-broadening", type=opt.non_negative(MAX_LINE_BROADENING_HZ, "Hz"), default=0.0,
                        help=f"apodisation (Hz), with 'apodise' (0 to {MAX_LINE_BROADENING_HZ:g})")
    parser.add_argument("--zero-fill", type=opt.integer(1, MAX_ZERO_FILL), default=2,
                        help=f"zero-fill factor, with 'zero_fill' (1 to {MAX_ZERO_FILL}; default: %(default)s)")
    parser.add_argument("--baseline", choices=("spline", "poly", "none"), default="spline",
                        help="baseline model of the fit (default: %(default)s)")
    parser.add_argument("--crlb-threshold", type=opt.number(0.0, 1000.0, "%%", low_open=True), default=20.0, help="CRLB (%%) above which a value is flagged (default: %(default)s)")
    parser.add_argument("--fwhm-threshold", type=opt.positive(5.0, "ppm"), default=0.1, help="linewidth (ppm) above which a fit is flagged (default: %(default)s)")
    parser.add_argument("--min-snr", type=opt.non_negative(1e6), default=3.0,
                        help="SNR below which a fit is flagged (default: %(default)s)")
    parser.add_argument("--png", action="store_true", help="also draw spectrum.png (needs matplotlib)")
    parser.set_defaults(func=run)


def _steps(text):
    """--process: step names separated by commas ('none' or empty: no processing)."""
    import argparse
    if str(text).strip().lower() == "none":
        return "none"
    steps = [s.strip() for s in str(text).split(",") if s.strip()]
    if not steps:
        raise argparse.ArgumentTypeError(f"'{text}' names no step; give steps from {', '.join(PROCESSING_STEPS)} "
                                         "separated by commas, or 'none'")
    unknown = [s for s in steps if s not in PROCESSING_STEPS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown step(s) {', '.join(u[:30] for u in unknown)} "
                                         f"(choose from {', '.join(PROCESSING_STEPS)}, or 'none')")
    return ",".join(steps)


def settings_from_args(args):
    from TMEMonitorLib.errors import InputError
    steps = [s.strip() for s in (args.process or "").split(",") if s.strip() and s.strip().lower() != "none"]
    metabolites = list(args.metabolites) if args.metabolites else None
    if metabolites and not args.basis:          # simulated: names from the spin-system catalogue
        from .basis.spin_systems import canonical_name
        try:
            for name in metabolites:
                canonical_name(name)
        except InputError as error:
            raise InputError(f"--metabolites: {error}") from None
    if args.ppm_range[0] == args.ppm_range[1]:
        raise InputError(f"--ppm-range: the two ends are equal ({args.ppm_range[0]:g} ppm); give MIN and MAX")
    if args.tissue_fractions and not (0.0 < sum(args.tissue_fractions) <= 1.0 + 1e-6
                                      and args.tissue_fractions[2] < 1.0):
        raise InputError(f"--tissue-fractions: GM {args.tissue_fractions[0]:g}, WM {args.tissue_fractions[1]:g}, "
                         f"CSF {args.tissue_fractions[2]:g}: the fractions must add up to more than 0 and at most 1, "
                         "with some tissue (CSF below 1)")
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


OVERRIDE_FLAGS = {"spectrometer_mhz": "--spectrometer-mhz", "dwell_s": "--dwell-time"}


def acquisition_sources(analysis, mrs=None):
    """{name: (value, source)} of the analysis, with a value given on the command line named as
    an override of the file's (never "from the file")."""
    overrides = (getattr(mrs, "metadata", None) or {}).get("overrides", {}) if mrs is not None else {}
    sources = {}
    for key, (value, source) in analysis.acquisition.items():
        if key in overrides:
            header = overrides[key].get("header")
            was = f"the file's {header:g}" if isinstance(header, (int, float)) and header == header \
                else "missing in the file"
            source = f"command line {OVERRIDE_FLAGS.get(key, key)} (override; {was})"
        elif key == "te_s" and source == "user setting":
            source = "command line --te"
        sources[key] = (value, source)
    return sources


def results_json(result, mrs=None):
    """What the command writes to results.json (also used by tests and scripts)."""
    analysis = result.analysis
    overrides = (getattr(mrs, "metadata", None) or {}).get("overrides", {}) if mrs is not None else {}
    out = {"biomarkers": analysis.biomarkers, "basis": analysis.basis,
           "acquisition": {k: {"value": v[0], "source": v[1]} for k, v in acquisition_sources(analysis, mrs).items()},
           "overrides": {k: dict(v) for k, v in overrides.items()},
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
    from TMEMonitorLib.output_folder import OutputFolder

    settings = settings_from_args(args)
    with OutputFolder(args.out, "mrs", getattr(args, "argv", ())) as out:     # --out checked first
        return _analyse(args, settings, out)


def _analyse(args, settings, out):
    from TMEMonitorLib import scene as tme_scene
    from TMEMonitorLib.atomic_files import write_json
    from TMEMonitorLib.termination import checkpoint

    from . import pipeline
    from .logic import SpectroscopyLogic

    mrs = pipeline.load_mrs(args.path, settings)
    metadata = getattr(mrs, "metadata", None) or {}
    for key, override in metadata.get("overrides", {}).items():
        header = override.get("header")
        was = f"the file says {header:g}" if isinstance(header, (int, float)) and header == header else "not in the file"
        print(f"override: {OVERRIDE_FLAGS.get(key, key)} {override.get('value'):g} used for {key} ({was})")
    for warning in metadata.get("warnings", []):
        print(f"warning: {warning}")
    checkpoint("inputs-read")
    scene = tme_scene.create_scene()
    try:
        bar = ProgressBar("MRS")
        logic = SpectroscopyLogic(scene)
        mrsi = pipeline.is_mrsi(mrs)
        if mrsi:
            result = logic.run_mrsi(mrs, settings, name_prefix="MRSI", progress=bar)
        else:
            result = logic.run_svs(mrs, settings, name_prefix="MRS", progress=bar)
        bar.done()
        checkpoint("after-fit")
        written = []
        if mrsi:
            for name, node in result.map_nodes.items():
                safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
                written.append(tme_scene.write_node(node, out.path(f"{safe}.nrrd")))
            written.append(tme_scene.write_node(result.status_node, out.path("fit_status.nrrd")))
            written.append(tme_scene.write_node(result.quality_node, out.path("quality.nrrd")))
            written.append(tme_scene.write_node(result.table_node, out.path("summary.csv")))
        else:
            written.append(tme_scene.write_node(result.table_node, out.path("results.csv")))
            if args.png:
                written.append(draw_spectrum_png(result.analysis.fit, out.path("spectrum.png"),
                                                 os.path.basename(args.path)))
        checkpoint("files-staged")
        written.append(write_json(out.path("results.json"), results_json(result, mrs), indent=2))
        from TMEMonitorLib.scene import views          # the .mrb opens ready to read: a ratio map, or the spectrum
        shown = next((n for name, n in result.map_nodes.items() if "/" in name), None) if mrsi else None
        views.show_for_reading(scene, foreground=shown, chart=None if mrsi else result.chart_node)
        written.append(tme_scene.save_scene(scene, out.path("mrsi.mrb" if mrsi else "mrs.mrb")))
        out.commit()
    finally:
        tme_scene.release_scene(scene)

    analysis = result.analysis
    for key, (value, source) in acquisition_sources(analysis, mrs).items():
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
