"""Autograd derivatives of the energy and the ASE calculator."""

from muse_explore.calc.allocator import tune_cpu_allocator
from muse_explore.calc.ase_calculator import MuSECalculator, hessian
from muse_explore.calc.derivatives import compute_properties

__all__ = ["MuSECalculator", "compute_properties", "hessian", "tune_cpu_allocator"]
