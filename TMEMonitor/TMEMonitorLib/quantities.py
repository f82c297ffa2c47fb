"""The registry of quantities: what every map the project writes holds, and how to show it.

One entry per map name (the name a technique writes, e.g. "Ktrans", "ADC", "tCho/tCr",
"fit status"): the quantity (OSIPI CAPLEX names where CAPLEX has one, Dickie et al.,
MRM 2024, doi:10.1002/mrm.29840), the internal unit (DESIGN.md: time s, concentration mM,
Ktrans 1/min, fractions 0..1, D mm2/s), the unit as a reader sees it ("10⁻³ mm²/s") with the
scale from internal values to that form, a colour map, and a default display range in internal
units shared by every visit (None: from the data). Label maps (status, habitats, PRM, curve
type, MRS quality) are entries of kind "label".

The scene (scene/maps.py, scene/units.py), the technique display tables (DCE, diffusion,
kinetics units), statistics tables, report tables and the NRRD/NIfTI writers read this module
so that a map is named, unitised and scaled the same everywhere. No slicer import here.

Names not listed are resolved by pattern (:func:`lookup`): "se_<name>" (standard error,
same unit), "rmse_<model>", "r2_<model>", "excluded_<model>", "<metabolite>" amplitudes and
"<A>/<B>" ratios of MRS, "<name> (mM)" water-scaled concentrations, "change in <name> (%)".
"""
from dataclasses import dataclass, replace
from typing import Optional, Tuple

from .fitting import status as fit_status

CONTINUOUS, LABEL = "continuous", "label"

# Internal unit text -> (UCUM code, form shown to a reader). UCUM: https://ucum.org
UNITS = {
    "1/min": ("/min", "1/min"),
    "1/s": ("/s", "1/s"),
    "mL/min/mL": ("mL/min/mL", "mL/min/mL"),
    "mm2/s": ("mm2/s", "mm²/s"),
    "s": ("s", "s"),
    "ms": ("ms", "ms"),
    "mM": ("mmol/L", "mM"),
    "mM*s": ("mmol.s/L", "mM·s"),
    "mM/s": ("mmol/(L.s)", "mM/s"),
    "1/(mM s)": ("L/(mmol.s)", "1/(mM·s)"),
    "": ("1", "unitless"),
    "1": ("1", "unitless"),
    "%": ("%", "%"),
    "mm": ("mm", "mm"),
    "mm2": ("mm2", "mm²"),
    "mL": ("mL", "mL"),
    "d": ("d", "days"),
    "deg": ("deg", "°"),
    "ppm": ("[ppm]", "ppm"),
    "Hz": ("Hz", "Hz"),
    "a.u.": ("[arb'U]", "arbitrary units"),
    "a.u./s": ("[arb'U]/s", "arbitrary units/s"),
    "kPa": ("kPa", "kPa"),
    "1/s per s": ("/s2", "1/s²"),
    "code": ("{code}", "category code"),
    "Pa": ("Pa", "Pa"),
    "m/s": ("m/s", "m/s"),
    "m": ("m", "m"),
    "rad": ("rad", "rad"),
}


@dataclass(frozen=True)
class Quantity:
    name: str                                   # map name as written
    quantity: str                               # what the values are (CAPLEX-style label)
    unit: str                                   # internal unit (a key of UNITS)
    display_unit: str                           # unit as shown, for values times display_scale
    display_scale: float = 1.0                  # internal value x scale = displayed value
    colormap: str = "viridis"                   # colour map (scene/colormaps) or label table name
    display_range: Optional[Tuple[float, float]] = None   # internal units; None: from the data
    kind: str = CONTINUOUS
    symmetric: bool = False                     # window centred on zero (changes)
    description: str = ""

    def display_value(self, value):
        """Internal value -> displayed value (e.g. 1.2e-3 mm2/s -> 1.2 in 10⁻³ mm²/s)."""
        return value * self.display_scale

    @property
    def label(self):
        """Axis/column label: 'ADC (10⁻³ mm²/s)', 'Ktrans (1/min)'; a unitless quantity alone ('ve')."""
        shown = self.display_unit
        return f"{self.quantity} ({shown})" if shown and shown != "unitless" else self.quantity

    @property
    def display_limits(self):
        """The default display range in displayed units, or None."""
        if self.display_range is None:
            return None
        return tuple(v * self.display_scale for v in self.display_range)


def _q(name, quantity, unit, display_unit=None, scale=1.0, colormap="viridis", value_range=None, **extra):
    shown = UNITS[unit][1] if display_unit is None else display_unit
    return Quantity(name, quantity, unit, shown, scale, colormap, value_range, **extra)


_E3_MM2_S = "10⁻³ mm²/s"
_ENTRIES = [
    # --- DCE kinetic parameters (CAPLEX: Ktrans, ve, vp, kep, Fp, PS, E) and fit quality
    _q("Ktrans", "Ktrans", "1/min", colormap="inferno", value_range=(0.0, 0.4),
       description="volume transfer constant"),
    _q("kep", "kep", "1/min", colormap="inferno", value_range=(0.0, 2.0), description="rate constant EES -> plasma"),
    _q("ve", "ve", "", colormap="viridis", value_range=(0.0, 1.0), description="extravascular extracellular fraction"),
    _q("vp", "vp", "", colormap="viridis", value_range=(0.0, 0.2), description="plasma volume fraction"),
    _q("Fp", "Fp", "mL/min/mL", colormap="inferno", value_range=(0.0, 2.0), description="plasma flow"),
    _q("PS", "PS", "1/min", colormap="inferno", value_range=(0.0, 0.5), description="permeability-surface area product"),
    _q("E", "extraction fraction", "", colormap="viridis", value_range=(0.0, 1.0)),
    _q("delay_s", "delay", "s", colormap="viridis", value_range=(0.0, 30.0), description="AIF-to-tissue delay"),
    _q("model", "selected model", "code", colormap="viridis", description="1 Patlak, 2 Tofts, 3 extended Tofts"),
    _q("rmse", "RMSE", "mM", colormap="magma", value_range=(0.0, 0.1)),
    _q("r2", "R2", "", colormap="viridis", value_range=(0.0, 1.0)),
    _q("T10", "T10", "s", colormap="viridis", value_range=(0.0, 3.0), description="pre-contrast T1"),
    _q("T10_s", "T10", "s", colormap="viridis", value_range=(0.0, 3.0), description="pre-contrast T1"),
    _q("R10", "R10", "1/s", colormap="viridis", value_range=(0.0, 3.0)),
    _q("iAUC60", "iAUC60", "mM*s", colormap="inferno", value_range=(0.0, 30.0)),
    _q("iAUC90", "iAUC90", "mM*s", colormap="inferno", value_range=(0.0, 45.0)),
    _q("TTP_s", "time to peak", "s", colormap="viridis", value_range=(0.0, 300.0)),
    _q("peak_enhancement", "peak concentration", "mM", colormap="inferno", value_range=(0.0, 1.5)),
    _q("wash_in_slope", "wash-in slope", "mM/s", colormap="inferno", value_range=(0.0, 0.05)),
    _q("wash_out_slope", "wash-out slope", "mM/s", colormap="RdBu_r", value_range=(-0.005, 0.005), symmetric=True),
    _q("BAT_s", "bolus arrival time", "s", colormap="viridis", value_range=(0.0, 120.0)),
    _q("SER", "signal enhancement ratio", "", colormap="viridis", value_range=(0.0, 2.0)),
    _q("concentration", "concentration", "mM", colormap="inferno"),
    _q("curve type", "enhancement curve type", "code", colormap="curve type", kind=LABEL,
       description="1 persistent, 2 plateau, 3 washout"),
    _q("AIF voxels", "arterial input voxels", "code", colormap="AIF voxels", kind=LABEL),
    # --- diffusion (mm2/s shown as 10⁻³ mm²/s; f shown in %)
    _q("ADC", "ADC", "mm2/s", _E3_MM2_S, 1e3, "viridis", (0.0, 3.0e-3), description="apparent diffusion coefficient"),
    _q("D", "D", "mm2/s", _E3_MM2_S, 1e3, "viridis", (0.0, 3.0e-3), description="IVIM tissue diffusion"),
    _q("Dstar", "Dstar", "mm2/s", _E3_MM2_S, 1e3, "magma", (0.0, 0.1e0), description="IVIM pseudo-diffusion"),
    _q("f", "f", "", "%", 100.0, "magma", (0.0, 0.4), description="IVIM perfusion fraction"),
    _q("K", "K", "", colormap="inferno", value_range=(0.0, 2.0), description="diffusion kurtosis"),
    _q("D_kurtosis", "D (kurtosis)", "mm2/s", _E3_MM2_S, 1e3, "viridis", (0.0, 3.0e-3)),
    _q("S0", "S0", "a.u.", colormap="viridis"),
    _q("S0_IVIM", "S0 (IVIM)", "a.u.", colormap="viridis"),
    _q("S0_kurtosis", "S0 (kurtosis)", "a.u.", colormap="viridis"),
    _q("S0_dwi", "S0 (DWI)", "a.u.", colormap="viridis"),
    _q("computed DWI", "computed DWI", "a.u.", colormap="grey"),        # an image: grey (scene/colormaps GREY)
    # --- other relaxometry and techniques that maps already carry
    _q("R2star", "R2*", "1/s", colormap="inferno", value_range=(0.0, 100.0)),
    _q("M0", "M0", "a.u.", colormap="viridis"),
    # --- MRS (amplitudes a.u.; ratios unitless; quality)
    _q("SNR", "SNR", "", colormap="viridis", value_range=(0.0, 100.0)),
    _q("FWHM", "FWHM", "ppm", colormap="magma", value_range=(0.0, 0.15)),
    _q("tCho/tCr", "tCho/tCr", "", colormap="inferno", value_range=(0.0, 3.0)),
    _q("tCho/tNAA", "tCho/tNAA", "", colormap="inferno", value_range=(0.0, 3.0)),
    _q("tNAA/tCr", "tNAA/tCr", "", colormap="inferno", value_range=(0.0, 3.0)),
    _q("Lac/tCr", "Lac/tCr", "", colormap="inferno", value_range=(0.0, 2.0)),
    _q("Ins/tCr", "Ins/tCr", "", colormap="inferno", value_range=(0.0, 2.0)),
    _q("Glx/tCr", "Glx/tCr", "", colormap="inferno", value_range=(0.0, 3.0)),
    _q("(tCho+tCr)/Cit", "(tCho+tCr)/Cit", "", colormap="inferno", value_range=(0.0, 3.0)),
    _q("MRS quality", "MRS fit quality", "code", colormap="MRS quality", kind=LABEL,
       description="1 good fit, 2 poor quality"),
    # --- shared label maps and longitudinal response maps
    _q("fit status", "fit status", "code", colormap="fit status", kind=LABEL,
       description="; ".join(f"{code} {name}" for code, name in sorted(fit_status.NAMES.items()))),
    _q("habitats", "tumour habitat", "code", colormap="habitats", kind=LABEL),
    _q("PRM", "parametric response", "code", colormap="parametric response", kind=LABEL),
    _q("tissue labels", "tissue label", "code", colormap="tissue labels", kind=LABEL),
    # --- lesion measures and response scoring (tables, charts)
    _q("volume_ml", "tumour volume", "mL", value_range=None),
    _q("longest_diameter_mm", "longest diameter", "mm"),
    _q("recist_sum_mm", "RECIST sum of diameters", "mm"),
    _q("bidimensional_product_mm2", "bidimensional product", "mm2"),
    _q("day", "day", "d"),
]
# MRS amplitudes (arbitrary units) of the metabolites of the simulated basis, their pools and the
# macromolecule/lipid components; water-scaled concentrations are "<name> (mM)".
MRS_AMPLITUDES = ("NAA", "NAAG", "Cr", "PCr", "GPC", "PCh", "Cho", "Lac", "Cit", "Ins", "Glu", "Gln", "Tau", "Ala",
                  "Asp", "GABA", "GSH", "sIns", "Glc", "PE", "tNAA", "tCr", "tCho", "Glx", "MM09", "MM12", "MM14",
                  "MM17", "MM20", "Lip09", "Lip13", "Lip20")
_ENTRIES += [_q(name, name, "a.u.", colormap="viridis", description="MRS amplitude") for name in MRS_AMPLITUDES]
REGISTRY = {entry.name: entry for entry in _ENTRIES}
CHANGE_RANGE_PERCENT = (-100.0, 100.0)
MRS_AMPLITUDE_UNIT = "a.u."


def entry(name, quantity, unit, display_unit=None, scale=1.0, colormap="viridis", value_range=None, **extra):
    """A :class:`Quantity` for :func:`register` (display_unit None: the reader's form of ``unit``)."""
    if unit not in UNITS:
        raise KeyError(f"quantity '{name}': unknown unit '{unit}'; known: {', '.join(sorted(UNITS))}")
    return _q(name, quantity, unit, display_unit, scale, colormap, value_range, **extra)


def register(*entries, physical_limits=None):
    """Add a technique's map entries (and optionally {name: (low, high)} physical limits) to the
    registry. A technique module calls this once, at import of its quantity table, so that the
    scene, statistics, report and writers show its maps like every other (no per-module display
    table). Registering the same entry again is a no-op; a different entry under a name already
    registered raises ValueError (two techniques must not give one map name two meanings)."""
    for item in entries:
        known = REGISTRY.get(item.name)
        if known is not None and known != item:
            raise ValueError(f"quantity '{item.name}' is already registered as {known}; "
                             f"refusing the different entry {item}")
    for name, limits in (physical_limits or {}).items():
        known = PHYSICAL_LIMITS.get(name)
        if known is not None and tuple(known) != tuple(limits):
            raise ValueError(f"physical limits of '{name}' already registered as {known}; refusing {limits}")
    for item in entries:
        REGISTRY[item.name] = item
    for name, limits in (physical_limits or {}).items():
        PHYSICAL_LIMITS[name] = tuple(limits)


def _with(base, name, **changes):
    return replace(base, name=name, **changes)


def lookup(name):
    """The :class:`Quantity` of a map name, by entry or by pattern (see the module text); a
    name that matches nothing is returned as a unitless quantity of that name with no default
    range, so a new map still shows (and a test, test_quantities, lists those that should be added)."""
    if name in REGISTRY:
        return REGISTRY[name]
    if name.startswith("se_"):
        base = lookup(name[3:])
        return _with(base, name, quantity=f"standard error of {base.quantity}", colormap="magma",
                     display_range=None if base.display_range is None else (0.0, 0.5 * base.display_range[1]),
                     kind=CONTINUOUS, symmetric=False, description="")
    if name.startswith("rmse_"):
        return _q(name, f"RMSE ({name[5:]})", "a.u.", colormap="magma")
    if name.startswith("r2_"):
        return _q(name, f"R2 ({name[3:]})", "", colormap="viridis", value_range=(0.0, 1.0))
    if name.startswith("excluded_"):
        return _q(name, f"excluded samples ({name[9:]})", "", colormap="magma")
    if name.startswith("change in ") and name.endswith(" (%)"):
        return _q(name, name[:-4], "%", colormap="RdBu_r", value_range=CHANGE_RANGE_PERCENT, symmetric=True)
    if name.endswith(" (mM)"):
        return _q(name, f"{name[:-5]} concentration", "mM", colormap="viridis")
    if "/" in name:
        return _q(name, name, "", colormap="inferno")
    if name.startswith("computed DWI"):
        return _with(REGISTRY["computed DWI"], name, quantity=name)
    return _q(name, name, "", colormap="viridis")


def is_registered(name):
    """True when the name is an entry or matches a pattern other than the catch-all."""
    if name in REGISTRY:
        return True
    return any((name.startswith(p) and is_registered(name[len(p):])) for p in ("se_",)) or \
        name.startswith(("rmse_", "r2_", "excluded_", "computed DWI")) or name.endswith(" (mM)") or \
        (name.startswith("change in ") and name.endswith(" (%)")) or "/" in name


def display_triple(name):
    """(quantity, unit, colour map) of a map: the form the scene writers take."""
    entry = lookup(name)
    return entry.quantity, entry.unit, entry.colormap


def unit_of(name):
    return lookup(name).unit


def ucum(unit):
    """(UCUM code, human form) of an internal unit; KeyError names the known ones."""
    if unit not in UNITS:
        raise KeyError(f"unknown unit '{unit}'; known: {', '.join(sorted(UNITS))}")
    return UNITS[unit]


def human_unit(unit):
    """The reader's form of an internal unit (the unit itself when unknown)."""
    return UNITS.get(unit, (unit, unit))[1]


# --- physically possible values (internal units; None: no limit), for flagging impossible fit
# results in the status map (fit status IMPLAUSIBLE) and leaving them out of statistics. Only
# quantities whose definition bounds them: rates, diffusivities, relaxation times and flows are
# non-negative; volume and extraction fractions lie in 0..1 (Tofts et al., JMRI 1999,
# doi:10.1002/(SICI)1522-2586(199909)10:3<223::AID-JMRI2>3.0.CO;2-S; Le Bihan, Radiology 1988,
# doi:10.1148/radiology.168.2.3393671). Semi-quantitative curve measures can be negative with
# noise and are not listed.
_NON_NEGATIVE = (0.0, None)
_FRACTION = (0.0, 1.0)
PHYSICAL_LIMITS = {
    "Ktrans": _NON_NEGATIVE, "kep": _NON_NEGATIVE, "Fp": _NON_NEGATIVE, "PS": _NON_NEGATIVE,
    "ve": _FRACTION, "vp": _FRACTION, "E": _FRACTION,
    "ADC": _NON_NEGATIVE, "D": _NON_NEGATIVE, "Dstar": _NON_NEGATIVE, "D_kurtosis": _NON_NEGATIVE,
    "f": _FRACTION,
    "T10": _NON_NEGATIVE, "T10_s": _NON_NEGATIVE, "R10": _NON_NEGATIVE, "R2star": _NON_NEGATIVE,
}


def physical_limits(name):
    """(lower, upper) physically possible values of a map in internal units (None: unbounded side),
    or None when the quantity has no such limits. A standard error is non-negative."""
    if name in PHYSICAL_LIMITS:
        return PHYSICAL_LIMITS[name]
    if name.startswith("se_"):
        return _NON_NEGATIVE
    return None


def legend_title(name):
    """The colour-legend title of a map: the quantity with the unit its stored values are in
    (the legend labels show stored values, so the internal unit, not the display scale)."""
    entry = lookup(name)
    shown = human_unit(entry.unit)
    return f"{entry.quantity} ({shown})" if entry.unit not in ("", "1", "code") else entry.quantity
