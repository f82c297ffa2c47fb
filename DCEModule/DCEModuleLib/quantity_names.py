"""Display of each DCE map: (quantity, unit, colour map) from the quantity registry
(TMEMonitorLib.quantities), for the maps the DCE analysis writes."""
from TMEMonitorLib.quantities import display_triple

from .block_fit import SEMI_QUANTITATIVE_MAPS

DCE_MAPS = ("Ktrans", "ve", "vp", "kep", "Fp", "PS", "E", "delay_s", "model", "rmse", "r2", "T10") + SEMI_QUANTITATIVE_MAPS
# map name -> (quantity, unit, colour map)
PARAMETER_DISPLAY = {name: display_triple(name) for name in DCE_MAPS}
