"""The hyperpolarized 13C maps in the project's quantity registry (TMEMonitorLib.quantities):
what each map holds, its unit, colour map, a default display range shared by every visit, and the
physically possible values. Registered once, at import; the Logic, statistics, report and
dashboard then show the maps like every other technique's.

"r2" (R2 of the lactate fit) and "SNR" (peak pyruvate SNR) reuse the registry's generic entries of
the same meaning; "nrmse" is registered here as the generic normalised RMSE of a fit.
Display ranges: kPL 0-0.1 1/s spans the tumour values reported in patients (about 0.01-0.05 1/s;
HP 13C consensus, Larson et al., MRM 2024, doi:10.1002/mrm.29875) with headroom; AUC ratio 0-1
likewise (the AUC ratio is proportional to kPL, Hill et al., PLoS One 2013,
doi:10.1371/journal.pone.0071996)."""
from TMEMonitorLib.quantities import display_triple, entry, register

_RATE = (0.0, 0.1)                  # 1/s: kPL, kPB, kPA default window shared by visits
_NON_NEGATIVE = (0.0, None)

HP_ENTRIES = (
    entry("kPL", "kPL", "1/s", colormap="inferno", value_range=_RATE,
          description="pyruvate-to-lactate conversion rate (inputless precursor-product model)"),
    entry("se_kPL_lactate_only", "kPL standard error (lactate noise only)", "1/s", colormap="magma",
          value_range=(0.0, 0.05), description="SE ignoring the noise of the driving pyruvate"),
    entry("kPL_ci95_low", "kPL 95% CI lower", "1/s", colormap="inferno", value_range=_RATE),
    entry("kPL_ci95_high", "kPL 95% CI upper", "1/s", colormap="inferno", value_range=_RATE),
    entry("kPB", "kPB", "1/s", colormap="inferno", value_range=(0.0, 0.05),
          description="pyruvate-to-bicarbonate conversion rate"),
    entry("kPA", "kPA", "1/s", colormap="inferno", value_range=_RATE, description="pyruvate-to-alanine conversion rate"),
    entry("R1L", "R1 lactate", "1/s", colormap="viridis", value_range=(0.0, 0.1)),
    entry("R1P", "R1 pyruvate", "1/s", colormap="viridis", value_range=(0.0, 0.1)),
    entry("S0_lactate", "initial lactate Mz", "a.u.", colormap="viridis"),
    entry("S0_bicarbonate", "initial bicarbonate Mz", "a.u.", colormap="viridis"),
    entry("S0_alanine", "initial alanine Mz", "a.u.", colormap="viridis"),
    entry("AUC_ratio", "lactate/pyruvate AUC ratio", "", colormap="inferno", value_range=(0.0, 1.0),
          description="sum of lactate / sum of pyruvate signal over the frames"),
    entry("nrmse", "NRMSE", "", colormap="magma", value_range=(0.0, 0.5),
          description="RMSE of a fit / peak of the fitted data"),
    entry("lactate_TTP", "lactate time to peak", "s", colormap="viridis", value_range=(0.0, 90.0)),
    entry("pyruvate_TTP", "pyruvate time to peak", "s", colormap="viridis", value_range=(0.0, 90.0)),
    entry("lactate_mean_time", "lactate mean time", "s", colormap="viridis", value_range=(0.0, 90.0)),
    entry("spectral_fit_poor_frames", "frames with a poor spectral fit", "", colormap="magma",
          description="dynamic spectra: frames whose peak fit did not converge or left a residual > 2x noise"),
    entry("input_rate", "pyruvate input rate", "a.u./s", colormap="viridis"),
    entry("arrival_s", "pyruvate arrival", "s", colormap="viridis"),
    entry("duration_s", "pyruvate bolus duration", "s", colormap="viridis", value_range=(0.0, 60.0)),
    entry("gamma_beta_s", "pyruvate input width", "s", colormap="viridis"),
)
# kPL/kPB/kPA are fitted within [0, 1] 1/s; rates, R1, times and ratios of non-negative signals are >= 0.
HP_PHYSICAL_LIMITS = {
    "kPL": _NON_NEGATIVE, "kPB": _NON_NEGATIVE, "kPA": _NON_NEGATIVE, "R1L": _NON_NEGATIVE, "R1P": _NON_NEGATIVE,
    "lactate_TTP": _NON_NEGATIVE, "pyruvate_TTP": _NON_NEGATIVE, "lactate_mean_time": _NON_NEGATIVE,
    "duration_s": _NON_NEGATIVE, "gamma_beta_s": _NON_NEGATIVE, "input_rate": _NON_NEGATIVE,
}
register(*HP_ENTRIES, physical_limits=HP_PHYSICAL_LIMITS)

# every map the hyperpolarized analysis can write (also "se_kPL"... by the registry's se_ pattern)
HP_MAPS = tuple(e.name for e in HP_ENTRIES) + ("se_kPL", "se_kPB", "se_kPA", "r2", "SNR")
# map name -> (quantity, unit, colour map)
MAP_DISPLAY = {name: display_triple(name) for name in HP_MAPS}


def map_display(name):
    return display_triple(name)
