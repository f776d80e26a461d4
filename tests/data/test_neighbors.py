import numpy as np
import pytest
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list as ase_neighbor_list

from muse_explore.data.neighbors import edge_vectors, neighbor_list


def _pairs(i, j, shifts):
    return sorted(zip(i.tolist(), j.tolist(), map(tuple, shifts.tolist()), strict=False))


@pytest.mark.parametrize(
    "cell, pbc",
    [
        (np.diag([3.0, 3.5, 4.0]), [True, True, True]),  # smaller than twice the cutoff
        ([[2.5, 0, 0], [1.2, 2.2, 0], [0.3, 0.4, 9.0]], [True, True, False]),  # triclinic slab
        (np.diag([20.0, 20.0, 20.0]), [False, False, False]),
        (np.zeros((3, 3)), [False, False, False]),  # no cell at all
        ([[2.2, 0.4, 0.3], [0.5, 7.0, 0], [0.2, 0.3, 6.0]], [True, False, False]),  # a wire
        ([[9.0, 0, 0], [0.8, 2.4, 0.5], [0.3, 0.6, 2.6]], [False, True, True]),
        ([[3.0, 0, 0], [1.5, 2.6, 0], [0, 0, 0]], [True, True, False]),  # a slab, no c vector
    ],
)
def test_matches_ase_including_small_cells(cell, pbc, rng):
    # points outside the cell too: shifts must refer to the positions as given
    atoms = Atoms("CHONCH", positions=rng.uniform(-3, 6, size=(6, 3)), cell=cell, pbc=pbc)
    cutoff = 5.0
    edge_index, shifts = neighbor_list(atoms.positions, np.asarray(atoms.cell), atoms.pbc, cutoff)
    i_ref, j_ref, s_ref = ase_neighbor_list("ijS", atoms, cutoff)
    assert _pairs(edge_index[1], edge_index[0], shifts) == _pairs(i_ref, j_ref, s_ref)


def test_shifts_refer_to_positions_as_given(rng):
    """Atoms far outside the cell: the edge vectors are still the true pair vectors."""
    cell = np.diag([4.0, 4.0, 4.0])
    pos = rng.uniform(-10, 10, size=(5, 3))
    edge_index, shifts = neighbor_list(pos, cell, np.array([True] * 3), 3.0)
    j, i = edge_index
    vec = pos[j] - pos[i] + shifts @ cell
    assert len(vec) > 0
    assert np.linalg.norm(vec, axis=1).max() < 3.0


def test_edge_vectors_are_differentiable():
    pos = torch.tensor([[0.0, 0, 0], [1.0, 0, 0]], dtype=torch.float64, requires_grad=True)
    cell = torch.eye(3, dtype=torch.float64).unsqueeze(0) * 5
    ei = torch.tensor([[1, 0], [0, 1]])
    shifts = torch.tensor([[1.0, 0, 0], [0, 0, 0]], dtype=torch.float64)
    v = edge_vectors(pos, ei, shifts, cell, torch.zeros(2, dtype=torch.long))
    assert torch.allclose(v[0], torch.tensor([6.0, 0, 0], dtype=torch.float64))
    v.norm(dim=-1).sum().backward()
    assert pos.grad is not None and torch.isfinite(pos.grad).all()


def test_empty():
    ei, s = neighbor_list(np.zeros((0, 3)), np.zeros((3, 3)), np.array([False] * 3), 5.0)
    assert ei.shape == (2, 0) and s.shape == (0, 3)


_CRASH_SCRIPT = """
import numpy as np
from scipy.spatial import cKDTree
from muse_explore.data.neighbors import neighbor_list
from muse_explore.data.validation import validate_atoms
from muse_explore.reference import graphene_flake
rng = np.random.default_rng(0)
for size, cutoff, thickness in [(300.0, 0.3, 0.0), (1000.0, 3.0, 3.0), (2000.0, 5.0, 0.0)]:
    pts = np.c_[rng.uniform(0, size, (30000, 2)), rng.uniform(0, thickness, 30000)]
    edges, _ = neighbor_list(pts, np.zeros((3, 3)), np.zeros(3, bool), cutoff)
    ref = cKDTree(pts).query_pairs(cutoff, output_type="ndarray")
    assert edges.shape[1] == 2 * len(ref), (size, cutoff, edges.shape, ref.shape)
flake = graphene_flake(75)  # about 34,000 atoms, 330 Å across: plain vesin 0.6.2 dies here
validate_atoms(flake, cutoff=5.0)
print("survived", len(flake))
"""


def test_large_thin_structures_do_not_crash_vesin():
    """Regression: vesin 0.6's cell grid could get zero cells along a thin direction and kill
    the process with SIGFPE (a 30,000-atom flake's 0.3 Å overlap check). Run in a subprocess so
    that a crash is a test failure, not a dead test session."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _CRASH_SCRIPT], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    assert "survived" in proc.stdout
