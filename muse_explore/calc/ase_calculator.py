"""ASE calculator for MuSE models (and plain backbones, levels = 0)."""

from __future__ import annotations

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from muse_explore.calc.allocator import tune_cpu_allocator
from muse_explore.calc.derivatives import compute_properties
from muse_explore.calc.derivatives import hessian as _hessian
from muse_explore.calc.threads import apply_thread_default
from muse_explore.errors import MuSEConfigError

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


#: Assignments with more entries than this are returned as scipy sparse matrices.
DENSE_ASSIGNMENT_LIMIT = 4_000_000


def _as_array(s):
    """An assignment as a dense array (small systems) or a scipy CSR matrix (large ones)."""
    if s.num_fine * s.num_coarse <= DENSE_ASSIGNMENT_LIMIT:
        return s.dense().detach().cpu().numpy().astype(np.float64)
    from scipy.sparse import csr_matrix

    w = s.weight.detach().cpu().numpy().astype(np.float64)
    rows, cols = s.fine.cpu().numpy(), s.coarse.cpu().numpy()
    return csr_matrix((w, (rows, cols)), shape=(s.num_fine, s.num_coarse))  # sums images


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
        model: a MuSE model (``mx.build_model`` / ``mx.load_model``). It is moved to ``device``
            and ``dtype`` in place.
        dtype: ``"float64"`` (default; for tests, Hessians, finite differences) or ``"float32"``.
        device: ``None`` picks CUDA when present, else CPU. On CPU the calculator tunes
            glibc's allocator for speed (:mod:`muse_explore.calc.allocator`;
            ``MUSE_EXPLORE_TUNE_MALLOC=0`` disables it).
        freeze_topology: keep the coarse seeds of the first structure for all later ones
            (MD, scans): the energy is then smooth even through bond-length excursions.

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
    ``DENSE_ASSIGNMENT_LIMIT`` entries); ``coarse_positions`` one (K_l, 3) array per level.
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
        self, model, *, dtype: str = "float64", device=None, freeze_topology: bool = False, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = _DTYPES[dtype]
        self.device = _device(device)
        if self.device.type == "cpu":
            tune_cpu_allocator()
            apply_thread_default()
        self.model = model.to(device=self.device, dtype=self.dtype).eval()
        self.converter = model.graph_converter(dtype=self.dtype, follow=True)
        self.freeze_topology = freeze_topology

    def reset_topology(self) -> None:
        """Forget the seeds of earlier structures (and a frozen topology)."""
        self.converter.clear_cache()
        self.converter.unfreeze()

    def batch(self, atoms: Atoms):
        """The model-ready graph of ``atoms`` on the calculator's device."""
        return self.converter.batch(atoms, targets=False).to(self.device)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Evaluate ``atoms`` (ASE calls this; use ``atoms.get_*`` instead)."""
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        if self.freeze_topology and not self.converter.frozen and self.model.levels:
            self.converter.freeze(atoms)
        batch = self.batch(atoms)
        want_stress = bool(atoms.pbc.any())
        res = compute_properties(self.model, batch, forces=True, stress=want_stress)
        out = res["output"]
        energy = float(res["energy"].detach().sum())
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "forces": res["forces"].detach().cpu().numpy().astype(np.float64),
            "energies": out.atom_energies.detach().cpu().numpy().astype(np.float64),
            "scale_energies": out.scale_energies[0].detach().cpu().numpy().astype(np.float64),
            "node_energies": [e.detach().cpu().numpy() for e in out.node_energies],
            "assignments": [_as_array(s) for s in out.assignments],
            "coarse_positions": [p.detach().cpu().numpy() for p in out.positions[1:]],
        }
        if want_stress:
            full = res["stress"][0].detach().cpu().numpy().astype(np.float64)
            self.results["stress"] = full_3x3_to_voigt_6_stress(full)

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
