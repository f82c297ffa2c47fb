"""VFA T1 mapping for DCE: the implementation lives in ``TMEMonitorLib.relaxometry.vfa_t1``
(shared with oxygen-enhanced MRI); this module keeps the documented ``DCEModuleLib.t1`` API."""
from TMEMonitorLib.relaxometry.vfa_t1 import DEFAULT_T1_BOUNDS_S, METHODS, fit_vfa  # noqa: F401  (re-exported)
