"""Proton spin systems of brain and tumour metabolites: chemical shifts (ppm) and J couplings (Hz).

Sources (one per metabolite in ``Metabolite.source``):
- GOV2000: Govindaraju V, Young K, Maudsley AA. Proton NMR chemical shifts and coupling
  constants for brain metabolites. NMR Biomed 2000;13:129-153,
  doi:10.1002/1099-1492(200005)13:3<129::AID-NBM619>3.0.CO;2-V (and its corrigendum).
- GOV2015: Govind V, Young K, Maudsley AA. Corrigendum/update of the above.
  NMR Biomed 2015;28:923-924, doi:10.1002/nbm.3336 (revised GABA, GSH, Tau geminal couplings).
- Citrate: strongly coupled AB system (two equivalent CH2 groups), delta ~2.54/2.68 ppm,
  |J| ~15-16 Hz depending on cations and pH: van der Graaf M, Heerschap A. J Magn Reson B
  1996;112:58-62; Mulkern RV et al. (PRESS modulation of the citrate AB system).

Simplifications (documented so that the basis is reproducible):
- Exchangeable NH/OH protons (e.g. NAA NH at 7.82 ppm, Cr NH at 6.65 ppm) are left out: they
  lie outside the usual fit range and are saturated with the water in vivo.
- Couplings to 14N (< 3 Hz, quadrupolar-decoupled in practice) are left out; couplings to
  31P are kept (one 31P spin per group, weak coupling: only Iz.Iz).
- Molecules are split into groups that are not coupled to each other (an acetyl CH3 singlet,
  an aspartyl ABX, ...); each group is simulated on its own and the signals are summed.
  A group of N equivalent uncoupled protons is simulated as one spin scaled by N (exact).
- Glucose is the sum of the alpha (36 %) and beta (64 %) anomers (GOV2000).
"""
from dataclasses import dataclass, field

from TMEMonitorLib.errors import InputError

# Receiver reference: water at body temperature (GOV2000 uses DSS = 0 ppm; water ~4.65 ppm).
WATER_PPM = 4.65


@dataclass(frozen=True)
class SpinGroup:
    """Mutually coupled protons of one molecule fragment.

    shifts_ppm: one chemical shift per proton spin.
    couplings_hz: (i, j, J) with 0-based spin indices, J in Hz (sign kept; strong coupling exact).
    scale: signal multiplier (N for N equivalent uncoupled protons simulated as one spin;
        anomer fractions for glucose).
    phosphorus_hz: (i, J) couplings from proton i to one 31P nucleus (weak coupling).
    """
    shifts_ppm: tuple
    couplings_hz: tuple = ()
    scale: float = 1.0
    phosphorus_hz: tuple = ()

    @property
    def n_protons(self):
        return len(self.shifts_ppm)


@dataclass(frozen=True)
class Metabolite:
    name: str
    description: str
    groups: tuple
    source: str
    aliases: tuple = field(default=())

    @property
    def n_protons(self):
        """Number of non-exchangeable protons represented (signal at TE=0, pulse-acquire)."""
        return sum(g.n_protons * g.scale for g in self.groups)


def _singlet(ppm, n_protons):
    return SpinGroup((ppm,), (), float(n_protons))


def _pairs(shifts, *couplings, scale=1.0, phosphorus=()):
    """Couplings are given 1-based (as printed in GOV2000 tables) and stored 0-based."""
    return SpinGroup(tuple(shifts), tuple((i - 1, j - 1, float(J)) for i, j, J in couplings),
                     float(scale), tuple((i - 1, float(J)) for i, J in phosphorus))


_LIST = [
    Metabolite("NAA", "N-acetylaspartate", (
        _singlet(2.0080, 3),
        _pairs((4.3817, 2.6727, 2.4863), (1, 2, 3.861), (1, 3, 9.821), (2, 3, -15.592)),
    ), "GOV2000"),
    Metabolite("NAAG", "N-acetylaspartylglutamate", (
        _singlet(2.0420, 3),
        _pairs((4.6070, 2.7210, 2.5190), (1, 2, 4.412), (1, 3, 9.515), (2, 3, -15.910)),
        _pairs((4.1280, 2.0490, 1.8810, 2.1800, 2.1900),
               (1, 2, 4.610), (1, 3, 8.420), (2, 3, -14.280), (2, 4, 10.560), (2, 5, 6.090),
               (3, 4, 4.900), (3, 5, 11.110), (4, 5, -15.280)),
    ), "GOV2000"),
    Metabolite("Cr", "creatine", (_singlet(3.0270, 3), _singlet(3.9130, 2)), "GOV2000"),
    Metabolite("PCr", "phosphocreatine", (_singlet(3.0290, 3), _singlet(3.9300, 2)), "GOV2000"),
    Metabolite("GPC", "glycerophosphocholine", (
        _singlet(3.2120, 9),
        _pairs((4.3120, 4.3120, 3.6590, 3.6590),
               (1, 2, -9.32), (1, 3, 3.10), (1, 4, 5.90), (2, 3, 5.90), (2, 4, 3.10), (3, 4, -9.32),
               phosphorus=((1, 6.03), (2, 6.03))),
        _pairs((3.6050, 3.6720, 3.9030, 3.8710, 3.9460),
               (1, 2, -14.78), (1, 3, 5.77), (2, 3, 4.53), (3, 4, 5.77), (3, 5, 4.53), (4, 5, -14.78),
               phosphorus=((4, 6.03), (5, 6.03))),
    ), "GOV2000 (corrigendum)"),
    Metabolite("PCh", "phosphocholine", (
        _singlet(3.2080, 9),
        _pairs((4.2805, 4.2805, 3.6410, 3.6410),
               (1, 2, -14.89), (1, 3, 2.284), (1, 4, 7.231), (2, 3, 7.326), (2, 4, 2.235),
               (3, 4, -14.19), phosphorus=((1, 6.298), (2, 6.249))),
    ), "GOV2000 (corrigendum)", ("PCho",)),
    Metabolite("Cho", "free choline", (
        _singlet(3.1850, 9),
        _pairs((4.0540, 4.0540, 3.5010, 3.5010),
               (1, 2, -14.10), (1, 3, 3.14), (1, 4, 6.979), (2, 3, 7.011), (2, 4, 3.168),
               (3, 4, -14.07)),
    ), "GOV2000"),
    Metabolite("Lac", "lactate (A3X)", (
        _pairs((4.0974, 1.3142, 1.3142, 1.3142), (1, 2, 6.933), (1, 3, 6.933), (1, 4, 6.933)),
    ), "GOV2000"),
    Metabolite("Cit", "citrate (two equivalent strongly coupled AB CH2 groups)", (
        _pairs((2.54, 2.68), (1, 2, -15.1), scale=2.0),
    ), "van der Graaf & Heerschap 1996 (J Magn Reson B 112:58); brief values 2.54/2.68 ppm"),
    Metabolite("Ins", "myo-inositol", (
        _pairs((3.5217, 4.0538, 3.5217, 3.6144, 3.2690, 3.6144),
               (1, 2, 2.889), (1, 6, 9.998), (2, 3, 3.006), (3, 4, 9.997), (4, 5, 9.485),
               (5, 6, 9.482)),
    ), "GOV2000", ("mI", "Myo", "mIns")),
    Metabolite("Glu", "glutamate", (
        _pairs((3.7433, 2.0375, 2.1200, 2.3378, 2.3520),
               (1, 2, 7.331), (1, 3, 4.651), (2, 3, -14.849), (2, 4, 6.413), (2, 5, 8.406),
               (3, 4, 8.478), (3, 5, 6.875), (4, 5, -15.915)),
    ), "GOV2000"),
    Metabolite("Gln", "glutamine (amide NH2 left out)", (
        _pairs((3.7530, 2.1290, 2.1090, 2.4320, 2.4540),
               (1, 2, 5.847), (1, 3, 6.500), (2, 3, -14.504), (2, 4, 9.165), (2, 5, 6.347),
               (3, 4, 6.324), (3, 5, 9.209), (4, 5, -15.371)),
    ), "GOV2000"),
    Metabolite("Tau", "taurine (AA'BB')", (
        _pairs((3.4206, 3.4206, 3.2459, 3.2459),
               (1, 2, -12.438), (1, 3, 6.742), (1, 4, 6.464), (2, 3, 6.403), (2, 4, 6.792),
               (3, 4, -12.930)),
    ), "GOV2000 (corrigendum) / GOV2015"),
    Metabolite("Ala", "alanine (A3X)", (
        _pairs((3.7746, 1.4667, 1.4667, 1.4667), (1, 2, 7.234), (1, 3, 7.234), (1, 4, 7.234)),
    ), "GOV2000"),
    Metabolite("Asp", "aspartate (ABX)", (
        _pairs((3.8914, 2.8011, 2.6533), (1, 2, 3.647), (1, 3, 9.107), (2, 3, -17.426)),
    ), "GOV2000"),
    Metabolite("GABA", "gamma-aminobutyric acid", (
        _pairs((2.2840, 2.2840, 1.8880, 1.8880, 3.0130, 3.0130),
               (1, 2, -15.938), (1, 3, 7.678), (1, 4, 6.980), (2, 3, 6.980), (2, 4, 7.678),
               (3, 4, -15.000), (3, 5, 8.510), (3, 6, 6.503), (4, 5, 6.503), (4, 6, 8.510),
               (5, 6, -14.062)),
    ), "GOV2015 (revised GABA couplings)"),
    Metabolite("GSH", "glutathione (glycine, cysteinyl and glutamyl groups)", (
        _singlet(3.7690, 2),
        _pairs((4.5608, 2.9264, 2.9747), (1, 2, 7.09), (1, 3, 4.71), (2, 3, -14.06)),
        _pairs((3.7690, 2.1590, 2.1460, 2.5100, 2.5600),
               (1, 2, 6.34), (1, 3, 6.36), (2, 3, -15.48), (2, 4, 6.7), (2, 5, 7.6),
               (3, 4, 7.6), (3, 5, 6.7), (4, 5, -15.92)),
    ), "GOV2015 (revised GSH)"),
    Metabolite("sIns", "scyllo-inositol", (_singlet(3.3400, 6),), "GOV2000", ("Scyllo", "sI")),
    Metabolite("Glc", "glucose (alpha 36 % + beta 64 %)", (
        _pairs((5.2160, 3.5190, 3.6980, 3.3950, 3.8220, 3.8260, 3.7490),
               (1, 2, 3.8), (2, 3, 9.6), (3, 4, 9.4), (4, 5, 9.9), (5, 6, 1.5), (5, 7, 6.0),
               (6, 7, -12.1), scale=0.36),
        _pairs((4.6300, 3.2300, 3.4730, 3.3870, 3.4500, 3.8820, 3.7070),
               (1, 2, 8.0), (2, 3, 9.1), (3, 4, 9.4), (4, 5, 8.9), (5, 6, 1.6), (5, 7, 5.4),
               (6, 7, -12.3), scale=0.64),
    ), "GOV2000"),
    Metabolite("PE", "phosphoethanolamine", (
        _pairs((3.9765, 3.9765, 3.2160, 3.2160),
               (1, 2, -14.56), (1, 3, 3.182), (1, 4, 6.716), (2, 3, 7.204), (2, 4, 2.980),
               (3, 4, -14.71), phosphorus=((1, 7.288), (2, 7.088))),
    ), "GOV2000", ("PEtn",)),
    Metabolite("water", "water (reference singlet at the receiver frequency)",
               (_singlet(WATER_PPM, 2),), "receiver reference", ("H2O", "Water")),
]

METABOLITES = {m.name: m for m in _LIST}
ALIASES = {alias: m.name for m in _LIST for alias in m.aliases}

# A standard brain/tumour basis: everything but the water reference.
DEFAULT_METABOLITES = tuple(m.name for m in _LIST if m.name != "water")


def canonical_name(name):
    """Catalogue name for ``name`` or one of its aliases ("Scyllo" -> "sIns")."""
    if name in METABOLITES:
        return name
    if name in ALIASES:
        return ALIASES[name]
    raise InputError(f"metabolite '{name}' is not in the spin-system catalogue; "
                     f"known: {', '.join(sorted(METABOLITES))} (aliases: {', '.join(sorted(ALIASES))})")


def get_metabolite(name):
    return METABOLITES[canonical_name(name)]
