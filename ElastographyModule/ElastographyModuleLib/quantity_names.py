"""The elastography maps in the project's quantity registry (TMEMonitorLib.quantities): what each
map the inversions return holds, its internal unit, the unit a reader sees, a colour map and a
default display range shared by every visit, and physical limits.

The inversions compute in SI (Pa, rad, m/s, m). |G*|, G', G'' and rho c^2 are shown in kPa with a
common 0-10 kPa window (soft tissue and tumours: liver 2-8 kPa, tumours up to ~10 kPa at 30-60 Hz;
Hirsch, Braun & Sack, Magnetic Resonance Elastography, Wiley 2017); wave amplitude in um.

Registry names: the inversion's map key where it is specific to MRE (``abs_G``, ``phi``, ...); the
generic keys ``amplitude`` and ``confidence`` are registered as ``wave_amplitude`` and ``wave_SNR``
(:data:`REGISTRY_NAME`) so that no other technique's "amplitude" is given an MRE meaning.
Importing this module registers the entries (once; re-import is a no-op).
"""
from TMEMonitorLib import quantities

KPA_WINDOW_PA = (0.0, 10000.0)
_NON_NEGATIVE = (0.0, None)

# inversion map key -> registry name
REGISTRY_NAME = {"abs_G": "abs_G", "G_storage": "G_storage", "G_loss": "G_loss", "phi": "phi",
                 "wave_speed": "wave_speed", "rho_c2": "rho_c2", "amplitude": "wave_amplitude",
                 "confidence": "wave_SNR", "penetration_rate": "penetration_rate"}

ENTRIES = (
    quantities.entry("abs_G", "|G*|", "Pa", "kPa", 1e-3, "viridis", KPA_WINDOW_PA,
                     description="magnitude of the complex shear modulus"),
    quantities.entry("G_storage", "storage modulus G'", "Pa", "kPa", 1e-3, "viridis", KPA_WINDOW_PA,
                     description="real part of the complex shear modulus"),
    quantities.entry("G_loss", "loss modulus G''", "Pa", "kPa", 1e-3, "viridis", (0.0, 5000.0),
                     description="imaginary part of the complex shear modulus"),
    quantities.entry("phi", "loss angle phi", "rad", colormap="magma", value_range=(0.0, 1.5708),
                     description="phase angle of G* (0 elastic, pi/2 viscous)"),
    quantities.entry("wave_speed", "shear wave speed", "m/s", colormap="viridis", value_range=(0.0, 4.0),
                     description="shear-wave phase velocity"),
    quantities.entry("rho_c2", "rho c^2", "Pa", "kPa", 1e-3, "viridis", KPA_WINDOW_PA,
                     description="k-MDEV stiffness: density x shear-wave speed squared"),
    quantities.entry("wave_amplitude", "wave amplitude", "m", "µm", 1e6, "magma", (0.0, 50e-6),
                     description="amplitude of the first harmonic of the displacement"),
    quantities.entry("wave_SNR", "wave SNR", "", colormap="magma", value_range=(0.0, 50.0),
                     description="wave amplitude / noise amplitude (1 = noise level)"),
    quantities.entry("penetration_rate", "penetration rate a", "m/s", colormap="viridis", value_range=(0.0, 4.0),
                     description="k-MDEV shear-wave penetration (attenuation) rate"),
)

# Physically possible values (internal units): moduli, speeds and amplitudes are non-negative; the
# loss angle of a passive material lies in [0, pi/2].
PHYSICAL_LIMITS = {"abs_G": _NON_NEGATIVE, "G_storage": _NON_NEGATIVE, "G_loss": _NON_NEGATIVE,
                   "phi": (0.0, 1.5707963267948966), "wave_speed": _NON_NEGATIVE, "rho_c2": _NON_NEGATIVE,
                   "wave_amplitude": _NON_NEGATIVE, "wave_SNR": _NON_NEGATIVE, "penetration_rate": _NON_NEGATIVE}

quantities.register(*ENTRIES, physical_limits=PHYSICAL_LIMITS)


def entry_of(map_key):
    """The registry entry of an inversion map key (``abs_G``, ``amplitude``, ...)."""
    return quantities.REGISTRY[REGISTRY_NAME[map_key]]
