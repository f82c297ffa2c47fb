"""MR spectroscopy basis sets: spin systems, density-matrix simulation, readers and resampling."""
from .basis_set import Basis
from .macromolecules import DEFAULT_MACROMOLECULES, MACROMOLECULE_LINES, macromolecule_fid
from .read import (read_basis, read_json_basis_folder, read_lcmodel_basis, write_basis_json_folder,
                   write_lcmodel_basis)
from .resample import match_basis, resample_basis
from .simulate import metabolite_lines, simulate_basis
from .spin_systems import DEFAULT_METABOLITES, METABOLITES, WATER_PPM, canonical_name, get_metabolite

__all__ = ["Basis", "DEFAULT_MACROMOLECULES", "MACROMOLECULE_LINES", "macromolecule_fid",
           "read_basis", "read_json_basis_folder", "read_lcmodel_basis", "write_basis_json_folder",
           "write_lcmodel_basis", "match_basis", "resample_basis", "metabolite_lines",
           "simulate_basis", "DEFAULT_METABOLITES", "METABOLITES", "WATER_PPM", "canonical_name",
           "get_metabolite"]
