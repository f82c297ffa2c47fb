"""The Hypoxia maps in the project's quantity registry (TMEMonitorLib.quantities): quantity, unit,
colour map, default display range shared by every visit, and physical limits.

Registered once at import; the pipeline, Logic, statistics and writers read the registry (no
display table of the module's own). "R2star" (R2*, 1/s, 0-100) and "S0" are the project's entries
and are reused, not redefined. T2* and T2 are stored and shown in ms, as clinicians read them
(the module's maps and the T2* biomarker of the longitudinal table are in ms). Change maps are
shown on a window centred on zero. R2' = R2* - R2 may be negative from noise (no limit); p-values
lie in 0..1.
"""
from TMEMonitorLib import quantities
from TMEMonitorLib.quantities import entry

_NON_NEGATIVE = (0.0, None)

ENTRIES = (
    entry("T2star", "T2*", "ms", colormap="viridis", value_range=(0.0, 100.0),
          description="transverse relaxation time with field inhomogeneity (1000 / R2*)"),
    entry("R2star_r2", "R2* fit R2", "1", colormap="viridis", value_range=(0.0, 1.0),
          description="coefficient of determination of the R2* fit"),
    entry("R2star_n_echoes", "R2* echoes used", "1", colormap="viridis",
          description="echoes above the noise floor used by the R2* fit"),
    entry("R2", "R2", "1/s", colormap="inferno", value_range=(0.0, 50.0),
          description="transverse relaxation rate from multi-echo spin echo"),
    entry("T2", "T2", "ms", colormap="viridis", value_range=(0.0, 200.0),
          description="transverse relaxation time from multi-echo spin echo (1000 / R2)"),
    entry("R2prime", "R2'", "1/s", colormap="inferno", value_range=(0.0, 50.0),
          description="reversible transverse relaxation rate R2* - R2"),
    entry("dR1", "Delta R1 (gas - air)", "1/s", colormap="RdBu_r", value_range=(-0.1, 0.1), symmetric=True,
          description="oxygen-induced change of R1 (oxygen-enhanced MRI)"),
    entry("dR1_p", "Delta R1 p-value", "1", colormap="viridis", value_range=(0.0, 1.0),
          description="Welch t-test of the gas-epoch frames against the baseline frames"),
    entry("dR2star", "Delta R2* (gas - air)", "1/s", colormap="RdBu_r", value_range=(-10.0, 10.0), symmetric=True,
          description="gas-induced change of R2* (BOLD)"),
    entry("dR2star_p", "Delta R2* p-value", "1", colormap="viridis", value_range=(0.0, 1.0),
          description="Welch t-test of the gas-epoch frames against the baseline frames"),
    entry("T1_air", "T1 on air", "s", colormap="viridis", value_range=(0.0, 3.0), description="T1 before gas"),
    entry("T1_gas", "T1 on gas", "s", colormap="viridis", value_range=(0.0, 3.0), description="T1 during gas"),
    entry("T1_air_r2", "T1 fit R2 (air)", "1", colormap="viridis", value_range=(0.0, 1.0),
          description="coefficient of determination of the T1 fit before gas"),
    entry("T1_gas_r2", "T1 fit R2 (gas)", "1", colormap="viridis", value_range=(0.0, 1.0),
          description="coefficient of determination of the T1 fit during gas"),
    entry("R2_refocusing_angle", "SE refocusing angle (EPG)", "deg", colormap="viridis", value_range=(90.0, 180.0),
          description="refocusing flip angle fitted with R2 by the EPG stimulated-echo model"),
)
PHYSICAL_LIMITS = {"T2star": _NON_NEGATIVE, "R2": _NON_NEGATIVE, "T2": _NON_NEGATIVE,
                   "R2star_n_echoes": _NON_NEGATIVE, "T1_air": _NON_NEGATIVE, "T1_gas": _NON_NEGATIVE,
                   "dR1_p": (0.0, 1.0), "dR2star_p": (0.0, 1.0), "R2_refocusing_angle": (0.0, 180.0)}
quantities.register(*ENTRIES, physical_limits=PHYSICAL_LIMITS)

# every map name the module writes (the shared "R2star" and "S0" entries included)
MAP_NAMES = ("R2star", "S0") + tuple(item.name for item in ENTRIES)


def map_display(name):
    """(quantity, unit, colour map) of a map: a view of the registry."""
    return quantities.display_triple(name)


def is_diverging(name):
    """True for change maps shown on a window centred on zero."""
    return quantities.lookup(name).symmetric
