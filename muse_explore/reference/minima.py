r"""GFN2-xTB minima with their Hessians, and thermal normal-mode sampling around them.

A :class:`Minimum` is a relaxed structure and its (partial) GFN2-xTB Hessian over the atoms
that move. :meth:`Minimum.sample` draws a classical harmonic thermal displacement: with the
mass-weighted Hessian :math:`\tilde H = M^{-1/2} H M^{-1/2} = \sum_k \lambda_k e_k e_k^T`,

.. math:: \Delta x = M^{-1/2} \sum_k \sqrt{k_B T / \lambda_k}\,\xi_k\, e_k,
          \qquad \xi_k \sim \mathcal N(0, 1),

over the vibrational modes (the six rigid-body modes of a free structure are left out, and so
is any mode softer than :data:`SOFTEST_MODE_CM`, whose harmonic amplitude would be
unphysical). Every mode then carries :math:`k_B T / 2` of potential energy on average. For a
partial Hessian (an adsorbate on a fixed flake), whose soft modes include the molecule's
librations, the rigid-body part of the displacement is applied as a finite rotation and
translation (:func:`rigid_motion_exact`), so that the molecule stays intact.

The named minima (:data:`NAMES`) are cached as ``NAME.npz`` in a folder
(``sample_data/data/minima/`` for ``muse-explore make-data``): relaxing circumcoronene and
taking its Hessian by central differences costs a few minutes, C96H24 about ten. A cached
file records how it was made; one made differently is recomputed, never silently reused.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from ase import Atoms, units

from muse_explore.errors import MuSEFileError
from muse_explore.units import CM_PER_SQRT_EV_A2_AMU as _TO_CM

#: Modes softer than this (cm⁻¹) are not sampled.
SOFTEST_MODE_CM = 20.0
#: Relaxation threshold (eV/Å) and Hessian finite-difference step (Å) of the cached minima.
FMAX = 0.002
DELTA = 0.005
#: Height of an adsorbate's starting geometry above the flake before relaxation, Å.
ADSORBATE_START = 3.3


def rigid_motion_exact(positions: np.ndarray, masses: np.ndarray, dx: np.ndarray) -> np.ndarray:
    r"""``dx`` with its rigid-body part made a finite rotation and translation.

    ``dx`` is split, in the mass metric, into a rigid motion of the body (translation
    :math:`\mathbf t`, small rotation :math:`\boldsymbol\omega` about the centre of mass
    :math:`\mathbf c`) and an internal deformation :math:`\boldsymbol\delta_i`:
    :math:`\Delta\mathbf r_i = \mathbf t + \boldsymbol\omega\times(\mathbf r_i - \mathbf c)
    + \boldsymbol\delta_i`. The displaced body is then
    :math:`\mathbf c + \mathbf t + R(\boldsymbol\omega)(\mathbf r_i - \mathbf c +
    \boldsymbol\delta_i)`, with :math:`R` the rotation by :math:`|\boldsymbol\omega|` about
    :math:`\boldsymbol\omega`. Both agree to first order in ``dx``; but a linear rotation by θ
    lengthens every radius by :math:`\sqrt{1+\theta^2}`, and the librations of a light adsorbate
    (water on graphene, about 100 cm⁻¹) reach θ ≈ 1 rad at 400 K: applied linearly they stretch
    an O-H bond to 1.3-2.3 Å (a broken molecule, eV above the minimum). The moving atoms are
    taken as one body (one molecule). Shapes: (m, 3), (m,), (m, 3) -> (m, 3).
    """
    from scipy.spatial.transform import Rotation

    w = masses[:, None]
    centre = (w * positions).sum(0) / masses.sum()
    t = (w * dx).sum(0) / masses.sum()
    r = positions - centre
    inertia = (w[:, 0] * (r**2).sum(1)).sum() * np.eye(3) - (w * r).T @ r
    # a (nearly) linear body has no rotation about its axis: its tiny axial moment is dropped
    inverse = np.linalg.pinv(inertia, rcond=1e-6)
    omega = inverse @ (w * np.cross(r, dx - t)).sum(0)
    internal = dx - t - np.cross(omega, r)
    rotated = (r + internal) @ Rotation.from_rotvec(omega).as_matrix().T
    return centre + t + rotated - positions


@dataclass(frozen=True)
class Minimum:
    """A relaxed structure and its GFN2-xTB Hessian over the moving atoms.

    Attributes:
        name: what it is (``"circumcoronene"``, ``"benzene"``, ``"benzene/circumcoronene"``).
        atoms: the relaxed structure.
        hessian: (3m, 3m) Hessian over ``indices``, eV/Å².
        indices: the m atoms that move; ``None`` for all (a free structure).
    """

    name: str
    atoms: Atoms
    hessian: np.ndarray
    indices: np.ndarray | None = None

    def _moving(self) -> np.ndarray:
        return np.arange(len(self.atoms)) if self.indices is None else np.asarray(self.indices)

    @cached_property
    def _eig(self) -> tuple[np.ndarray, np.ndarray]:
        m = np.repeat(self.atoms.get_masses()[self._moving()], 3)
        h = 0.5 * (self.hessian + self.hessian.T) / np.sqrt(np.outer(m, m))
        return np.linalg.eigh(h)

    def modes(self) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvalues (eV/Å²/amu, ascending) and eigenvectors of the mass-weighted Hessian."""
        lam, vec = self._eig
        return lam.copy(), vec.copy()

    def frequencies(self) -> np.ndarray:
        """Harmonic frequencies, cm⁻¹ (imaginary ones negative), ascending."""
        lam = self.modes()[0]
        return np.sign(lam) * np.sqrt(np.abs(lam)) * _TO_CM

    def sample(self, temperature: float, rng: np.random.Generator) -> np.ndarray:
        """A classical thermal displacement (n, 3), Å, at ``temperature`` K (zero on fixed atoms).

        Raises:
            ValueError: for a negative temperature.
        """
        if not temperature >= 0:
            raise ValueError(f"temperature must be >= 0 K, got {temperature}")
        lam, vec = self._eig
        skip = 6 if self.indices is None else 0
        lam, vec = lam[skip:], vec[:, skip:]
        keep = lam > (SOFTEST_MODE_CM / _TO_CM) ** 2
        lam, vec = lam[keep], vec[:, keep]
        q = np.sqrt(units.kB * temperature / lam) * rng.standard_normal(len(lam))
        moving = self._moving()
        masses = self.atoms.get_masses()[moving]
        dx = (vec @ q / np.sqrt(np.repeat(masses, 3))).reshape(-1, 3)
        if self.indices is not None:
            dx = rigid_motion_exact(self.atoms.positions[moving], masses, dx)
        out = np.zeros((len(self.atoms), 3))
        out[moving] = dx
        return out

    def save(self, path: str | os.PathLike, meta: dict) -> None:
        """Write to ``path`` (``.npz``) atomically, with ``meta`` (how it was made)."""
        from muse_explore.atomic import atomic_path

        with atomic_path(Path(path)) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                numbers=self.atoms.numbers,
                positions=self.atoms.positions,
                hessian=self.hessian,
                indices=np.array([] if self.indices is None else self.indices, dtype=np.int64),
                free=np.array(self.indices is None),
                meta=np.array(json.dumps({"name": self.name, **meta})),
            )

    @classmethod
    def load(cls, path: str | os.PathLike) -> tuple[Minimum, dict]:
        """Read a file written by :meth:`save`; returns the minimum and its ``meta``.

        Raises:
            MuSEFileError: for a missing, truncated or malformed file.
        """
        try:
            with np.load(path, allow_pickle=False) as f:
                meta = json.loads(str(f["meta"]))
                atoms = Atoms(numbers=f["numbers"], positions=f["positions"])
                hessian = np.array(f["hessian"], dtype=float)
                indices = None if bool(f["free"]) else np.array(f["indices"], dtype=np.int64)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise MuSEFileError(f"{path} is not a readable minimum file ({exc})") from None
        m = len(atoms) if indices is None else len(indices)
        if hessian.shape != (3 * m, 3 * m):
            raise MuSEFileError(f"{path}: Hessian shape {hessian.shape} does not fit {m} atoms")
        return cls(meta["name"], atoms, hessian, indices), meta


#: Names :func:`minimum` knows: the flakes, the molecules and the adsorbates on circumcoronene.
def names() -> tuple[str, ...]:
    """Every name :func:`minimum` accepts."""
    from muse_explore.reference.molecules import MOLECULES

    flakes = ("coronene", "circumcoronene", "C96H24", "C68H24")
    return flakes + tuple(MOLECULES) + tuple(f"{m}/circumcoronene" for m in MOLECULES)


def _start(name: str, folder: Path | None) -> tuple[Atoms, np.ndarray | None]:
    """The unrelaxed starting structure of ``name`` and the atoms that move."""
    from muse_explore.reference.molecules import small_molecule
    from muse_explore.reference.structures import graphene_flake, graphene_ribbon, place_molecule

    if name == "coronene":
        return graphene_flake(1), None
    if name == "circumcoronene":
        return graphene_flake(2), None
    if name == "C96H24":
        return graphene_flake(3), None
    if name == "C68H24":
        return graphene_ribbon(), None
    if "/" in name:
        mol_name, substrate = name.split("/")
        flake = minimum(substrate, folder=folder).atoms
        mol = minimum(mol_name, folder=folder).atoms
        c = place_molecule(mol, flake, ADSORBATE_START, offset=(0.3, 0.2), rotation=15.0)
        return c, np.arange(len(flake), len(c))
    return small_molecule(name), None


def _compute(name: str, folder: Path | None) -> Minimum:
    from ase.constraints import FixAtoms

    from muse_explore.reference.xtb import hessian, relax

    atoms, idx = _start(name, folder)
    work = atoms.copy()
    if idx is not None:
        work.set_constraint(FixAtoms(indices=np.setdiff1d(np.arange(len(work)), idx)))
    relaxed = relax(work, fmax=FMAX, steps=2000)
    relaxed.set_constraint()
    relaxed.positions -= relaxed.positions.mean(0) if idx is None else 0.0
    return Minimum(name, relaxed, hessian(relaxed, idx, delta=DELTA), idx)


def _recipe() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tblite = version("tblite")
    except PackageNotFoundError:
        tblite = None
    return {"method": "GFN2-xTB", "fmax": FMAX, "delta": DELTA, "tblite": tblite}


def minimum(name: str, *, folder: str | os.PathLike | None = None) -> Minimum:
    """The GFN2-xTB minimum of ``name`` (one of :func:`names`), from ``folder`` when cached.

    An adsorbate (``"benzene/circumcoronene"``) is relaxed on the relaxed flake held fixed,
    and its Hessian covers the adsorbate only (the flake frozen, as in ASE's ``FixAtoms`` +
    ``Vibrations``): its six softest modes are the intermolecular ones.

    Args:
        name: which minimum.
        folder: cache folder (created when needed); ``None`` computes without caching.

    Raises:
        ValueError: for an unknown name.
    """
    if name not in names():
        raise ValueError(f"unknown minimum {name!r}; choose one of {list(names())}")
    recipe = _recipe()
    path = None
    if folder is not None:
        folder = Path(folder)
        path = folder / (name.replace("/", "_on_").replace(",", "") + ".npz")
        if path.is_file():
            cached, meta = Minimum.load(path)
            made = {k: meta.get(k) for k in ("method", "fmax", "delta")}
            if made == {k: recipe[k] for k in made} and meta.get("name") == name:
                return cached
    t0 = time.perf_counter()
    result = _compute(name, folder)
    if path is not None:
        folder.mkdir(parents=True, exist_ok=True)
        result.save(path, {**recipe, "seconds": round(time.perf_counter() - t0, 1)})
    return result
