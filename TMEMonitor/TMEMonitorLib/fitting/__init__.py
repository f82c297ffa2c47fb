"""The shared voxel-wise fitting engine (see levenberg_marquardt.py and status.py)."""
from . import status  # noqa: F401
