"""Unit conversions beyond ASE's (muse_explore works in eV, Å, eV/Å, eV/Å² and amu)."""

from __future__ import annotations

import numpy as np
from ase import units

#: A harmonic frequency in cm⁻¹ per sqrt(eigenvalue of a mass-weighted Hessian, eV/Å²/amu).
CM_PER_SQRT_EV_A2_AMU = 1.0 / (2 * np.pi * units._c * 100) * np.sqrt(units._e / units._amu) * 1e10
