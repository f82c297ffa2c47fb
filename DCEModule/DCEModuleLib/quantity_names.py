"""Display of each DCE map."""
# map name -> (quantity, unit, colour map)
PARAMETER_DISPLAY = {
    "Ktrans": ("Ktrans", "1/min", "inferno"),
    "ve": ("ve", "", "viridis"),
    "vp": ("vp", "", "viridis"),
    "kep": ("kep", "1/min", "inferno"),
    "Fp": ("Fp", "mL/min/mL", "inferno"),
    "PS": ("PS", "1/min", "inferno"),
    "E": ("extraction fraction", "", "viridis"),
    "delay_s": ("delay", "s", "viridis"),
    "model": ("selected model", "code", "viridis"),
    "rmse": ("RMSE", "mM", "magma"),
    "r2": ("R2", "", "viridis"),
    "T10": ("T10", "s", "viridis"),
    "iAUC60": ("iAUC60", "mM*s", "inferno"),
    "iAUC90": ("iAUC90", "mM*s", "inferno"),
    "TTP_s": ("time to peak", "s", "viridis"),
    "peak_enhancement": ("peak concentration", "mM", "inferno"),
    "wash_in_slope": ("wash-in slope", "mM/s", "inferno"),
    "wash_out_slope": ("wash-out slope", "mM/s", "RdBu_r"),
    "BAT_s": ("bolus arrival time", "s", "viridis"),
    "SER": ("signal enhancement ratio", "", "viridis"),
}
