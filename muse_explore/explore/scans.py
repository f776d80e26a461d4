"""Graphene-distance scans: a molecule moved rigidly along z above a flake, E_int(d) per model.

E_int(d) = E(complex at d) − E(flake) − E(molecule), with the per-scale split of the same
difference for MuSE models. All complexes of a scan are evaluated as a batch.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from ase import Atoms

from muse_explore.data.validation import validate_atoms
from muse_explore.errors import MuSEInputError
from muse_explore.reference.molecules import MOLECULES, small_molecule
from muse_explore.reference.structures import graphene_flake, place_molecule

#: Flakes offered by the scan widget: name -> rings of hexagons around the central one.
FLAKES = {"coronene C24H12": 1, "circumcoronene C54H18": 2, "C96H24": 3}


@dataclass
class ScanSetup:
    """What a scan places where (Å, degrees).

    Attributes:
        molecule: a name from :data:`muse_explore.reference.MOLECULES` or an ``Atoms``.
        rings: flake size (1 coronene, 2 circumcoronene, 3 C96H24).
        offset: lateral offset of the molecule's centroid from the flake's centre.
        rotation: rotation about z; ``tilt``: tilt about x after laying the molecule flat.
        distances: heights of the molecule's centroid above the flake plane.
    """

    molecule: str | Atoms = "benzene"
    rings: int = 2
    offset: tuple[float, float] = (0.0, 0.0)
    rotation: float = 0.0
    tilt: float = 0.0
    distances: np.ndarray = field(default_factory=lambda: np.linspace(2.8, 14.0, 50))

    def __post_init__(self) -> None:
        d = np.asarray(self.distances, dtype=float).ravel()
        if d.size == 0 or not np.all(np.isfinite(d)):
            raise MuSEInputError("scan distances must be finite and at least one")
        if d.min() < 1.5:
            raise MuSEInputError(
                f"scan distance {d.min():.2f} Å is below 1.5 Å: the molecule would sit in the flake"
            )
        self.distances = d
        if not 0 <= int(self.rings) <= 6:
            raise MuSEInputError(f"flake rings must be in 0..6, got {self.rings}")

    def molecule_atoms(self) -> Atoms:
        """The molecule as ``Atoms``."""
        if isinstance(self.molecule, Atoms):
            return self.molecule.copy()
        if self.molecule not in MOLECULES:
            raise MuSEInputError(
                f"unknown molecule {self.molecule!r}; choose one of {list(MOLECULES)} or give Atoms"
            )
        return small_molecule(self.molecule)


def scan_frames(setup: ScanSetup) -> tuple[Atoms, Atoms, list[Atoms]]:
    """The flake alone, the molecule alone (same geometry) and one complex per distance."""
    flake = graphene_flake(int(setup.rings))
    first = place_molecule(
        setup.molecule_atoms(), flake, float(setup.distances[0]),
        offset=tuple(setup.offset), rotation=setup.rotation, tilt=setup.tilt,
    )  # fmt: skip
    n = len(flake)
    lowest = first.positions[n:, 2].min() - flake.positions[:, 2].mean()
    if lowest < 1.2:
        raise MuSEInputError(
            f"at d = {setup.distances[0]:.2f} Å an atom of the molecule sits {lowest:.2f} Å above "
            "the flake plane (below 1.2 Å): start the scan further out or tilt less"
        )
    complexes = []
    for d in setup.distances:
        c = first.copy()
        c.positions[n:, 2] += float(d) - float(setup.distances[0])
        c.info["height"] = float(d)
        complexes.append(c)
    return first[:n], first[n:], complexes


def interaction_curves(
    models: Mapping[str, object],
    setup: ScanSetup,
    *,
    dtype: torch.dtype = torch.float32,
    frames: tuple[Atoms, Atoms, list[Atoms]] | None = None,
) -> dict:
    """E_int(d) in eV for each model, and its per-scale split for models with coarse levels.

    Args:
        models: label -> a MuSE model, calculator, pretrained name or file.
        setup: the scan.
        dtype: evaluation precision (float32 is the interactive default).
        frames: :func:`scan_frames` output, if already built.

    Returns:
        ``distances`` (d,), and per label ``{"e_int": (d,), "scales": (L+1, d)}``.
    """
    from muse_explore.explore.snapshot import snapshots

    flake, mol, complexes = frames if frames is not None else scan_frames(setup)
    out: dict = {"distances": np.asarray(setup.distances, dtype=float)}
    for label, model in models.items():
        snaps = snapshots(model, [flake, mol, *complexes], dtype=dtype, path=True, batch_size=64)
        e = np.array([s.energy for s in snaps])
        scales = np.array([s.scale_energies for s in snaps])
        out[label] = {
            "e_int": e[2:] - e[0] - e[1],
            "scales": (scales[2:] - scales[0] - scales[1]).T,
        }
    return out


def reference_curve(setup: ScanSetup, *, every: int = 1, frames=None) -> dict:
    """GFN2-xTB E_int(d) (eV) at every ``every``-th distance (about 1 s per point here)."""
    from muse_explore.reference.xtb import single_point

    flake, mol, complexes = frames if frames is not None else scan_frames(setup)
    e_flake = single_point(flake).get_potential_energy()
    e_mol = single_point(mol).get_potential_energy()
    picked = list(range(0, len(complexes), max(1, int(every))))
    e = np.array([single_point(complexes[i]).get_potential_energy() for i in picked])
    return {"distances": setup.distances[picked], "e_int": e - e_flake - e_mol}


def read_molecule(content: bytes | str, filename: str) -> Atoms:
    """A molecule from the text of an .xyz or .extxyz file (an upload).

    Raises:
        MuSEInputError: for another extension or an unreadable file, naming the file.
    """
    from ase.io import read

    name = filename.lower()
    if not name.endswith((".xyz", ".extxyz")):
        raise MuSEInputError(f"{filename}: give an .xyz or .extxyz file")
    try:
        text = content.decode() if isinstance(content, bytes) else content
    except UnicodeDecodeError:
        raise MuSEInputError(f"{filename}: not a text file (xyz files are text)") from None
    if not text.strip():
        raise MuSEInputError(f"{filename}: the file is empty")
    try:
        atoms = read(io.StringIO(text), format="extxyz", index=0)
    except Exception as err:  # ASE raises many kinds for malformed files
        detail = str(err) or type(err).__name__
        raise MuSEInputError(f"{filename}: not a readable xyz file ({detail})") from None
    if len(atoms) == 0:
        raise MuSEInputError(f"{filename}: the file holds no atoms")
    try:
        validate_atoms(atoms)  # NaN or infinite coordinates, unknown elements, overlaps
    except MuSEInputError as err:
        raise MuSEInputError(f"{filename}: {err}") from None
    return atoms
