"""Former name of :mod:`SpectroscopyModuleLib.synthesis` (documented in the module README); kept as an alias."""
from .synthesis import *  # noqa: F401,F403
from .synthesis import NORMAL_BRAIN_MM, TUMOUR_MM, SyntheticMRS, synthesize_mrsi, synthesize_spectrum  # noqa: F401
