"""MRS fitting: linear-combination modelling (single voxel and MRSI) and prior-knowledge peak fitting."""
from .lcm_result import LCMGridResult, LCMResult
from .linear_combination import fit_lcm, fit_lcm_grid

__all__ = ["fit_lcm", "fit_lcm_grid", "LCMResult", "LCMGridResult"]
