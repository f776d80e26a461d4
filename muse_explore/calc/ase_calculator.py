"""ASE calculator for MuSE models (and plain backbones, levels = 0)."""

from __future__ import annotations

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from muse_explore.calc.allocator import tune_cpu_allocator
from muse_explore.calc.derivatives import hessian as _hessian
from muse_explore.calc.evaluate import evaluate_many
from muse_explore.calc.threads import apply_thread_default
from muse_explore.data.graph import batch_to
from muse_explore.errors import MuSEConfigError, MuSEInputError
from muse_explore.models import MuSE

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _device(device) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise MuSEConfigError(f"device: {device!r} is not a torch device ({err})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        why = "has no CUDA support" if torch.version.cuda is None else "finds no CUDA device"
        raise MuSEConfigError(
            f"device={device!r}, but this torch ({torch.__version__}) {why}: use device='cpu' "
            f"or None, or install a CUDA build of torch (README, 'CPU or GPU')"
        )
    return dev


class MuSECalculator(Calculator):
    """Energies, forces, stress, per-atom and per-scale energies and assignments from a model.

    Args:
        model: a MuSE model (``mx.build_model`` / ``mx.load_model``), which is moved to
            ``device`` and ``dtype`` in place; anything else is a ``MuSEInputError`` that
            points to ``mx.load_pretrained(name_or_path)`` for names and model files.
        dtype: ``"float64"`` (default; for tests, Hessians, finite differences) or ``"float32"``.
        device: ``None`` picks CUDA when present, else CPU. On CPU the calculator tunes
            glibc's allocator for speed (:mod:`muse_explore.calc.allocator`;
            ``MUSE_EXPLORE_TUNE_MALLOC=0`` disables it).
        freeze_topology: keep the coarse seeds of the first structure for all later ones
            (MD, scans): the energy is then smooth even through bond-length excursions.
        skin: a Verlet buffer in Å for MD (0: none): the atom-level neighbour list is built
            for cutoff + skin and reused, pairs filtered by their current length, until an atom
            has moved more than ``skin / 2``. The numbers are those of a fresh list; only the
            preparation is faster (``calc.converter.verlet.builds`` counts the rebuilds).

    Coarse seeds depend on the covalent bond graph alone, so the energy of a geometry does not
    depend on what the calculator saw before: the converter caches seedings per bond graph only
    to save time. (Legacy models, loaded from format-1 files, still reuse the seeds of an
    earlier structure with the same bond graph along a path, ``Seeder(follow=True)``;
    ``calc.reset_topology()`` forgets that path.)

    ``results`` after a calculation: ``energy``, ``free_energy`` (eV); ``forces`` (n, 3) eV/Å;
    ``stress`` (Voigt 6, eV/Å³, periodic cells only); ``energies`` (n,) per-atom energies;
    ``scale_energies`` (L+1,) per-level energies, atoms first, summing to the energy;
    ``node_energies`` per level; ``assignments`` one (n_{l-1}, K_l) array per coarse level with
    rows summing to 1 (a scipy CSR matrix when it would have more than
    ``evaluate.DENSE_ASSIGNMENT_LIMIT`` entries); ``coarse_positions`` one (K_l, 3) array per level.
    """

    implemented_properties = [
        "energy",
        "free_energy",
        "energies",
        "forces",
        "stress",
        "scale_energies",
    ]

    def __init__(
        self,
        model,
        *,
        dtype: str = "float64",
        device=None,
        freeze_topology: bool = False,
        skin: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if dtype not in _DTYPES:
            raise MuSEConfigError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = _DTYPES[dtype]
        self.device = _device(device)
        if not isinstance(model, MuSE):
            raise MuSEInputError(
                f"MuSECalculator takes a MuSE model (mx.build_model, mx.load_model), got "
                f"{type(model).__name__}: for a pretrained model's name or a model file, "
                "mx.load_pretrained(name_or_path) returns a ready calculator"
            )
        if self.device.type == "cpu":
            tune_cpu_allocator()
            apply_thread_default()
        self.model = model.to(device=self.device, dtype=self.dtype).eval()
        self.converter = model.graph_converter(dtype=self.dtype, follow=True, skin=skin)
        self.freeze_topology = freeze_topology

    def reset_topology(self) -> None:
        """Forget the seeds of earlier structures (and a frozen topology, and a Verlet list)."""
        self.converter.clear_cache()
        if self.converter.verlet is not None:
            self.converter.verlet.reset()
        self.converter.unfreeze()

    def batch(self, atoms: Atoms):
        """The model-ready graph of ``atoms`` on the calculator's device."""
        return batch_to(self.converter.batch(atoms, targets=False), self.device, self.dtype)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Evaluate ``atoms`` (ASE calls this; use ``atoms.get_*`` instead)."""
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        if self.freeze_topology and not self.converter.frozen and self.model.levels:
            self.converter.freeze(atoms)
        want_stress = bool(atoms.pbc.any())
        (rec,) = evaluate_many(
            self.model, [atoms], dtype=None, forces=True, stress=want_stress,
            converter=self.converter,
        )  # fmt: skip
        self.results = {
            "energy": rec.energy,
            "free_energy": rec.energy,
            "forces": rec.forces,
            "energies": rec.atom_energies,
            "scale_energies": rec.scale_energies,
            "node_energies": rec.node_energies,
            "assignments": rec.assignments,
            "coarse_positions": rec.positions[1:],
        }
        if want_stress:
            self.results["stress"] = full_3x3_to_voigt_6_stress(rec.stress)

    def get_hessian(self, atoms: Atoms, *, indices=None, chunk_size: int = 96) -> np.ndarray:
        """Hessian (3m, 3m) in eV/Å² by autograd; see :func:`muse_explore.hessian`."""
        batch = self.batch(atoms)
        h = _hessian(self.model, batch, indices=indices, chunk_size=chunk_size)
        return h.cpu().numpy().astype(np.float64)


def hessian(
    calc: MuSECalculator, atoms: Atoms, *, indices=None, chunk_size: int = 96
) -> np.ndarray:
    """Hessian of ``atoms`` with the model of ``calc``, as a (3N, 3N) array in eV/Å².

    Args:
        calc: a :class:`MuSECalculator` (its model, dtype and device are used).
        atoms: the structure.
        indices: atoms to include (partial Hessian, the others held fixed); all if ``None``.
        chunk_size: Hessian rows computed per vectorised backward pass (memory bound).
    """
    return calc.get_hessian(atoms, indices=indices, chunk_size=chunk_size)
