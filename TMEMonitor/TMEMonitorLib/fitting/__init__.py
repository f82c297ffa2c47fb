"""The shared voxel-wise fitting engine: batched bounded Levenberg-Marquardt
(levenberg_marquardt.py), batched linear least squares (linear.py), goodness of fit
(quality.py), model selection (model_selection.py) and status codes (status.py)."""
from . import status  # noqa: F401
