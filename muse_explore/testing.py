"""Reusable checks that every backbone, alone and inside MuSE, must pass.

Each ``assert_*`` function raises ``AssertionError`` with a message saying what broke and by
how much. They take an ASE calculator (usually a float64 :class:`MuSECalculator`) and plain
``Atoms``, so a new backbone is tested by building a model and calling them; tests/ runs them
for every registered backbone with and without coarse levels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from muse_explore.analysis.interaction import interaction_energy
from muse_explore.errors import MuSEInputError


def _fresh(atoms: Atoms, calc: Calculator) -> Atoms:
    a = atoms.copy()
    a.calc = calc
    return a


def random_rotation(seed: int = 0) -> np.ndarray:
    """A random proper rotation matrix (3, 3)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def rattle(atoms: Atoms, stdev: float = 0.05, seed: int = 0) -> Atoms:
    """A copy with Gaussian displacements (breaks exact symmetries, as thermal motion does)."""
    a = atoms.copy()
    a.positions += np.random.default_rng(seed).normal(scale=stdev, size=a.positions.shape)
    return a


def assert_invariance(calc: Calculator, atoms: Atoms, *, atol: float = 1e-8, seed: int = 0) -> None:
    """Energy invariant and forces equivariant under rotation, translation and permutation."""
    ref = _fresh(atoms, calc)
    e0, f0 = ref.get_potential_energy(), ref.get_forces()
    s0 = ref.get_stress() if atoms.pbc.any() else None
    rot = random_rotation(seed)
    moved = atoms.copy()
    moved.positions = atoms.positions @ rot.T + np.array([1.3, -2.1, 0.7])
    if atoms.pbc.any():
        moved.cell = np.asarray(atoms.cell) @ rot.T
    moved = _fresh(moved, calc)
    de = abs(moved.get_potential_energy() - e0)
    assert de < atol, f"energy changed by {de:.3g} eV under rotation + translation"
    df = np.abs(moved.get_forces() - f0 @ rot.T).max()
    assert df < atol, f"forces not equivariant under rotation: max deviation {df:.3g} eV/Å"
    if s0 is not None:
        from ase.stress import full_3x3_to_voigt_6_stress, voigt_6_to_full_3x3_stress

        s_rot = full_3x3_to_voigt_6_stress(rot @ voigt_6_to_full_3x3_stress(s0) @ rot.T)
        ds = np.abs(moved.get_stress() - s_rot).max()
        assert ds < atol, f"stress not equivariant under rotation: max deviation {ds:.3g} eV/Å³"
    perm = np.random.default_rng(seed + 1).permutation(len(atoms))
    permuted = _fresh(atoms[perm], calc)
    de = abs(permuted.get_potential_energy() - e0)
    assert de < atol, f"energy changed by {de:.3g} eV under atom permutation"
    df = np.abs(permuted.get_forces() - f0[perm]).max()
    assert df < atol, f"forces not permutation-equivariant: max deviation {df:.3g} eV/Å"


def assert_forces_match_finite_differences(
    calc: Calculator, atoms: Atoms, *, d: float = 1e-4, atol: float = 1e-6, indices=None
) -> None:
    """Forces equal ASE's central finite differences of the energy."""
    from ase.calculators.fd import calculate_numerical_forces

    a = _fresh(atoms, calc)
    f = a.get_forces()
    idx = list(range(len(a))) if indices is None else list(indices)
    num = calculate_numerical_forces(a, eps=d, iatoms=idx)
    err = np.abs(f[list(idx)] - num).max()
    assert err < atol, f"forces differ from finite differences by {err:.3g} eV/Å"


def assert_stress_matches_finite_differences(
    calc: Calculator, atoms: Atoms, *, d: float = 1e-5, atol: float = 1e-6
) -> None:
    """Stress equals ASE's numerical stress (finite strains of cell and positions)."""
    from ase.calculators.fd import calculate_numerical_stress

    a = _fresh(atoms, calc)
    s = a.get_stress(voigt=True)
    num = calculate_numerical_stress(a, eps=d, voigt=True)
    err = np.abs(s - num).max()
    assert err < atol, f"stress differs from finite differences by {err:.3g} eV/Å³: {s} vs {num}"


def assert_hessian_matches_finite_differences(
    calc, atoms: Atoms, *, d: float = 1e-5, atol: float = 1e-4
) -> None:
    """Autograd Hessian is symmetric and equals central differences of the forces."""
    from muse_explore.calc import hessian

    h = hessian(calc, atoms)
    n = len(atoms)
    assert h.shape == (3 * n, 3 * n), f"Hessian shape {h.shape}, expected {(3 * n, 3 * n)}"
    asym = np.abs(h - h.T).max()
    assert asym < atol, f"Hessian not symmetric: max |H - H^T| = {asym:.3g} eV/Å²"
    a = _fresh(atoms, calc)
    num = np.zeros_like(h)
    for k in range(3 * n):
        for sign in (1, -1):
            a.positions[k // 3, k % 3] += sign * d
            num[k] -= sign * a.get_forces().reshape(-1) / (2 * d)
            a.positions[k // 3, k % 3] -= sign * d
    err = np.abs(h - num).max()
    assert err < atol, f"Hessian differs from finite differences of forces by {err:.3g} eV/Å²"


def path_energies_forces(
    calc: Calculator, frames: Sequence[Atoms], *, batch_size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Energies (T,) and forces (T, n, 3) along a path of frames (batched for MuSE calculators)."""
    from muse_explore.calc import MuSECalculator
    from muse_explore.calc.evaluate import evaluate_many

    if isinstance(calc, MuSECalculator):
        records = evaluate_many(
            calc.model, frames, dtype=None, forces=True, batch_size=batch_size,
            converter=calc.converter,
        )  # fmt: skip
        return np.array([r.energy for r in records]), np.array([r.forces for r in records])
    e, f = [], []
    for frame in frames:
        a = _fresh(frame, calc)
        e.append(a.get_potential_energy())
        f.append(a.get_forces())
    return np.array(e), np.array(f)


def interpolate(a: Atoms, b: Atoms, count: int) -> list[Atoms]:
    """``count`` frames on the straight line from ``a`` to ``b`` (same atoms, same cell)."""
    return [
        Atoms(a.numbers, positions=(1 - t) * a.positions + t * b.positions, cell=a.cell, pbc=a.pbc)
        for t in np.linspace(0.0, 1.0, count)
    ]


def path_energy_and_work(
    energies: np.ndarray, forces: np.ndarray, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The energy change over each pair of steps of a path, and the change its forces imply.

    ``positions`` (T, n, 3) are equally spaced on a straight line, T odd; ``energies`` (T,)
    and ``forces`` (T, n, 3) are a model's along it. Returns the energy changes over frames
    2k → 2k + 2 and the work done against the forces over the same stretch, −∫F·dr, by
    Simpson's rule (error O(h^5)). The two agree for an energy whose forces are its gradient
    along the whole path; where the energy jumps and the forces do not see it (a hard
    assignment switching node) they differ by the jump.
    """
    positions, forces = np.asarray(positions), np.asarray(forces)
    energies = np.asarray(energies)
    t = len(positions)
    if t < 3 or t % 2 == 0:
        raise ValueError(f"a path needs an odd number (>= 3) of frames, got {t}")
    if energies.shape != (t,) or forces.shape != positions.shape:
        raise ValueError(
            f"energies {energies.shape}, forces {forces.shape} and positions "
            f"{positions.shape} do not describe the same {t} frames"
        )
    step = positions[1] - positions[0]
    power = (forces * step).sum(axis=(1, 2))  # F . dr/dt per unit step
    work = -(power[:-2:2] + 4 * power[1:-1:2] + power[2::2]) / 3.0
    return energies[2::2] - energies[:-2:2], work


def assert_smooth_path(
    calc: Calculator,
    frames: Sequence[Atoms],
    *,
    energy_atol: float = 1e-6,
    energy_rtol: float = 1e-2,
    force_ratio: float = 0.75,
    force_atol: float = 1e-7,
) -> None:
    """Energy and forces change continuously along a finely sampled straight-line path.

    ``frames`` are equally spaced on a straight line (see :func:`interpolate`), an odd count.
    (1) Over each pair of steps the energy change equals the work of the forces by Simpson's
    rule (error O(h^5)); a jump in the energy breaks this by the size of the jump, so the
    tolerance is ``energy_atol`` plus ``energy_rtol`` times the energy change.
    (2) For a continuous force the change over one step is about half the change over two
    steps; a jump is not, so each one-step change must stay below ``force_ratio`` times the
    two-step change around it (plus ``force_atol``).
    """
    if len(frames) % 2 == 0 or len(frames) < 3:
        raise ValueError("assert_smooth_path needs an odd number (>= 3) of frames")
    pos = np.array([f.positions for f in frames])
    e, f = path_energies_forces(calc, frames)
    change, work = path_energy_and_work(e, f, pos)
    mismatch = np.abs(change - work)
    tol = energy_atol + energy_rtol * np.abs(change)
    k = int(np.argmax(mismatch - tol))
    assert mismatch[k] < tol[k], (
        f"energy jumps between frames {2 * k} and {2 * k + 2}: "
        f"ΔE = {change[k]:.4g} eV but the forces account for {work[k]:.4g} eV"
    )
    flat = f.reshape(len(frames), -1)
    one = np.linalg.norm(np.diff(flat, axis=0), axis=1)
    two = np.linalg.norm(flat[2::2] - flat[:-2:2], axis=1)
    worst = np.maximum(one[0::2], one[1::2])
    bad = np.flatnonzero(worst > force_ratio * two + force_atol)
    assert bad.size == 0, (
        f"forces jump between frames {2 * bad[0]} and {2 * bad[0] + 2}: one-step change "
        f"{worst[bad[0]]:.3g} eV/Å against {two[bad[0]]:.3g} eV/Å over two steps"
    )


def assert_extensive(
    calc: Calculator, a: Atoms, b: Atoms, *, separation: float = 60.0, atol: float = 1e-6
) -> None:
    """E(A + B, far apart) = E(A) + E(B) and the forces of each part are unchanged."""
    ea = _fresh(a, calc).get_potential_energy()
    fa = _fresh(a, calc).get_forces()
    eb = _fresh(b, calc).get_potential_energy()
    far = b.copy()
    far.positions += a.positions.mean(0) - b.positions.mean(0) + np.array([separation, 0, 0])
    ab = _fresh(a + far, calc)
    e_ab = ab.get_potential_energy()
    assert abs(e_ab - ea - eb) < atol, (
        f"not extensive: E(A+B) - E(A) - E(B) = {e_ab - ea - eb:.3g} eV at {separation} Å"
    )
    df = np.abs(ab.get_forces()[: len(a)] - fa).max()
    assert df < atol, f"forces on A change by {df:.3g} eV/Å when B is {separation} Å away"


def assert_reach(
    calc,
    substrate: Atoms,
    molecule: Atoms,
    *,
    heights: Sequence[float] = (6.0, 10.0, 16.0),
    beyond: float = 30.0,
    atol: float = 1e-10,
    min_interaction: float = 1e-6,
) -> None:
    """MuSE sees what its backbone cannot: the molecule ``heights`` Å above the substrate.

    The backbone alone (``calc.model.backbone_only()``) must give an interaction energy of
    exactly zero at each height beyond its cutoff, MuSE one above ``min_interaction`` eV, and
    both zero at ``beyond`` Å, past the model's reach.
    """
    from muse_explore.calc import MuSECalculator
    from muse_explore.reference.structures import place_molecule

    base = MuSECalculator(calc.model.backbone_only(), dtype="float64")
    n = len(substrate)
    for height in heights:
        complex_ = place_molecule(molecule, substrate, height)
        e_base = interaction_energy(base, complex_, n)
        assert abs(e_base) < atol, f"the backbone alone feels {e_base:.3g} eV at {height} Å"
        e = interaction_energy(calc, complex_, n)
        assert abs(e) > min_interaction, f"MuSE blind at {height} Å ({e:.3g} eV)"
    e = interaction_energy(calc, place_molecule(molecule, substrate, beyond), n)
    assert abs(e) < atol, f"MuSE still feels {e:.3g} eV at {beyond} Å, past its reach"


def assert_supercell_extensive(calc: Calculator, cell: Atoms, *, atol: float = 1e-6) -> None:
    """A periodic 2×1×1 supercell has twice the energy and the same forces per copy."""
    e1 = _fresh(cell, calc).get_potential_energy()
    f1 = _fresh(cell, calc).get_forces()
    sc = _fresh(cell.repeat((2, 1, 1)), calc)
    e2 = sc.get_potential_energy()
    assert abs(e2 - 2 * e1) < atol, f"E(2x1x1) - 2 E(1x1x1) = {e2 - 2 * e1:.3g} eV"
    df = np.abs(sc.get_forces() - np.concatenate([f1, f1])).max()
    assert df < atol, f"supercell forces differ from the unit cell's by {df:.3g} eV/Å"


def assert_single_valued(
    model, atoms: Atoms, *, rattles: int = 4, stdev: float = 0.02, atol: float = 1e-9, seed: int = 0
) -> None:
    """One geometry, one energy, whatever came before it and however it is evaluated.

    Evaluates ``rattles`` random displacements of ``atoms`` (keep ``stdev`` small enough that
    the bonds hold) four ways: a fresh :class:`MuSECalculator` per structure; one calculator
    that walks through them in order, and another in reverse order (the path-following mode of
    MD, scans and finite differences); and all of them in one batch (the trainer's and the
    explorer's mode). Energies and forces must agree to ``atol`` (eV, eV/Å).
    """
    from muse_explore.calc import MuSECalculator
    from muse_explore.calc.evaluate import evaluate_many

    dtype = next(model.parameters()).dtype
    kind = str(dtype).removeprefix("torch.")
    frames = [atoms] + [rattle(atoms, stdev, seed + k) for k in range(rattles)]

    def walk(order, calc=None):
        out = [None] * len(frames)
        for k in order:
            a = _fresh(frames[k], calc or MuSECalculator(model, dtype=kind))
            out[k] = (a.get_potential_energy(), a.get_forces())
        return out

    ks = range(len(frames))
    modes = {
        "path": walk(ks, MuSECalculator(model, dtype=kind)),
        "reverse path": walk(reversed(ks), MuSECalculator(model, dtype=kind)),
    }
    batched = evaluate_many(model, frames, dtype=None, forces=True, batch_size=len(frames))
    modes["batch"] = [(r.energy, r.forces) for r in batched]
    fresh = walk(ks)
    for name, values in modes.items():
        for k, ((e0, f0), (e1, f1)) in enumerate(zip(fresh, values, strict=True)):
            de, df = abs(e1 - e0), np.abs(f1 - f0).max()
            assert de <= atol and df <= atol, (
                f"not single-valued: structure {k} evaluated fresh and in {name} mode differs by "
                f"{de:.3g} eV (forces {df:.3g} eV/Å)"
            )


def assert_permutation_invariant(
    calc: Calculator, atoms: Atoms, *, permutations: int = 4, atol: float = 1e-6, seed: int = 0
) -> None:
    """Energy invariant and forces equivariant under random renumberings of the atoms.

    Meant for *exactly* symmetric inputs (benzene, circumcoronene, a graphene sheet, diamond)
    as well as rattled ones: where a rule picks among equivalent atoms by their index, exactly
    symmetric structures are where it shows.
    """
    ref = _fresh(atoms, calc)
    e0, f0 = ref.get_potential_energy(), ref.get_forces()
    rng = np.random.default_rng(seed)
    for _ in range(permutations):
        perm = rng.permutation(len(atoms))
        a = _fresh(atoms[perm], calc)
        de = abs(a.get_potential_energy() - e0)
        df = np.abs(a.get_forces() - f0[perm]).max()
        assert de <= atol, f"energy changed by {de:.3g} eV when the atoms were renumbered"
        assert df <= atol, f"forces changed by {df:.3g} eV/Å when the atoms were renumbered"


def assert_supercell_consistent(
    calc: Calculator,
    cell: Atoms,
    *,
    repeats: Sequence[tuple[int, int, int]] = ((2, 1, 1), (1, 2, 1), (2, 2, 1)),
    atol: float = 1e-6,
) -> None:
    """E(cell.repeat(n)) = n E(cell) to ``atol`` eV per atom, and the same forces per copy.

    A cell too small for the model may instead be refused: a :class:`MuSEInputError` whose
    message names the cell passes, any silent number that breaks the identity fails.
    """
    try:
        e1 = _fresh(cell, calc).get_potential_energy()
        f1 = _fresh(cell, calc).get_forces()
    except MuSEInputError as err:
        assert "cell" in str(err), f"refused without naming the cell: {err}"
        return
    for rep in repeats:
        count = int(np.prod(rep))
        sc = _fresh(cell.repeat(rep), calc)
        err = abs(sc.get_potential_energy() - count * e1) / len(sc)
        assert err <= atol, (
            f"E({rep[0]}x{rep[1]}x{rep[2]}) - {count} E(cell) = {err * len(sc):.3g} eV "
            f"({err:.3g} eV/atom)"
        )
        df = np.abs(sc.get_forces() - np.tile(f1, (count, 1))).max()
        assert df <= atol, f"{rep} supercell forces differ from the cell's by {df:.3g} eV/Å"


def assert_hessian_matches_fd(
    calc,
    atoms: Atoms,
    *,
    steps: Sequence[float] = (1e-4, 5e-3),
    indices: Sequence[int] | None = None,
    rtol: float = 200.0,
    atol: float = 1e-6,
) -> None:
    """Autograd Hessian equals central differences of the forces at *each* of ``steps`` (Å).

    Central differences carry a truncation error of order h²; the allowed error at step h is
    ``atol + rtol h² max|H|`` (eV/Å², h in Å). A model whose curvature spikes on a scale
    smaller than the step (an ε-regularised norm at a vanishing vector feature, a seed that
    switches) fails at the larger step although it may pass at a tiny one: 5·10⁻³ Å is the
    step of the GFN2-xTB reference Hessians. ``indices`` limits the rows and columns to some
    atoms (a partial Hessian).
    """
    from muse_explore.calc import hessian

    idx = list(range(len(atoms))) if indices is None else list(indices)
    h = hessian(calc, atoms, indices=None if indices is None else idx)
    cols = np.array([3 * i + k for i in idx for k in range(3)])
    scale = np.abs(h).max()
    a = _fresh(atoms, calc)
    for step in steps:
        num = np.zeros((len(cols), len(cols)))
        for row, c in enumerate(cols):
            for sign in (1, -1):
                a.positions[c // 3, c % 3] += sign * step
                num[row] -= sign * a.get_forces().reshape(-1)[cols] / (2 * step)
                a.positions[c // 3, c % 3] -= sign * step
        err = np.abs(h - num).max()
        tol = atol + rtol * step**2 * scale
        assert err <= tol, (
            f"Hessian differs from finite differences of the forces at a {step:g} Å step by "
            f"{err:.3g} eV/Å² (allowed {tol:.3g}; max |H| = {scale:.3g})"
        )


def assert_batch_consistent(model, structures: Sequence[Atoms], *, atol: float = 1e-8) -> None:
    """A batch of mixed structures gives each structure's energies and forces when alone."""
    from muse_explore.calc.evaluate import evaluate_many

    def run(frames):
        return evaluate_many(model, frames, dtype=None, forces=True, stress=True,
                             batch_size=len(frames))  # fmt: skip

    alone_each = [run([atoms])[0] for atoms in structures]
    for k, (both, alone) in enumerate(zip(run(structures), alone_each, strict=True)):
        de = abs(both.energy - alone.energy)
        assert de < atol, f"structure {k}: energy in the batch differs by {de:.3g} eV"
        df = float(np.abs(both.forces - alone.forces).max())
        assert df < atol, f"structure {k}: forces in the batch differ by {df:.3g} eV/Å"
        if both.atoms.pbc.any():
            ds = float(np.abs(both.stress - alone.stress).max())
            assert ds < atol, f"structure {k}: stress in the batch differs by {ds:.3g}"
        else:
            assert both.stress is None and alone.stress is None


def bad_inputs() -> dict[str, tuple[Atoms, str]]:
    """Named bad structures and a fragment of the error message each must produce."""
    water = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    nan = water.copy()
    nan.positions[1, 0] = np.nan
    inf = water.copy()
    inf.positions[2, 1] = np.inf
    overlap = water.copy()
    overlap.positions[2] = overlap.positions[1] + 1e-3
    tiny_cell = Atoms("C", positions=[[0, 0, 0]], cell=[0.1, 5, 5], pbc=True)
    flat_cell = Atoms(
        "C2", positions=[[0, 0, 0], [1.4, 0, 0]], cell=[[3, 0, 0], [6, 0, 0], [0, 0, 5]], pbc=True
    )
    dense_cell = Atoms(
        "C2", positions=[[0, 0, 0], [0.75, 0.75, 0.75]], cell=[1.5, 1.5, 1.5], pbc=True
    )
    return {
        "unknown element": (Atoms("UH", positions=[[0, 0, 0], [2, 0, 0]]), "unknown element"),
        "NaN coordinates": (nan, "NaN coordinates"),
        "infinite coordinates": (inf, "infinite coordinates"),
        "empty structure": (Atoms(), "empty structure"),
        "atoms on top of each other": (overlap, "on top of each other"),
        "cell too small": (tiny_cell, "cell too small"),
        "degenerate cell": (flat_cell, "cell too small"),
        "cell too dense": (dense_cell, "cell too dense"),
    }


def assert_bad_input_errors(calc: Calculator) -> None:
    """Each structure from :func:`bad_inputs` raises a MuSEInputError naming its problem."""
    for name, (atoms, fragment) in bad_inputs().items():
        a = _fresh(atoms, calc)
        try:
            a.get_potential_energy()
        except MuSEInputError as err:
            assert fragment in str(err), f"{name}: unhelpful message {err!r}"
        else:
            raise AssertionError(f"{name}: no error raised")


__all__ = [
    "assert_bad_input_errors",
    "assert_batch_consistent",
    "assert_extensive",
    "assert_forces_match_finite_differences",
    "assert_hessian_matches_fd",
    "assert_hessian_matches_finite_differences",
    "assert_invariance",
    "assert_permutation_invariant",
    "assert_single_valued",
    "assert_smooth_path",
    "interpolate",
    "assert_stress_matches_finite_differences",
    "assert_supercell_consistent",
    "assert_supercell_extensive",
    "bad_inputs",
    "interaction_energy",
    "path_energies_forces",
    "path_energy_and_work",
    "random_rotation",
    "rattle",
]
