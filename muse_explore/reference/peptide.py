"""Capped alanine peptides Ac-(Ala)_n-NHMe and the Langevin MD that samples them for xTB data.

The chain is built from internal coordinates (NeRF: Parsons et al., J. Comput. Chem. 26, 1063
(2005)) with the Engh & Huber bond lengths and angles (Acta Cryst. A47, 392 (1991)), trans
peptide bonds (omega = 180°) and L-chirality at every Cα. Hydrogens, which X-ray parameter sets
leave out, get the neutron/QM lengths N–H 1.01 Å and C–H 1.09 Å; the amide H lies in the peptide
plane on the bisector of the exterior C–N–Cα angle, methyl groups are tetrahedral and staggered.

Atom order (fixed; :func:`backbone_indices` and :func:`peptide_bonds` rebuild it from ``n``)::

    acetyl        0..5            CH3 H H H C O
    alanine i     6+10i..15+10i   N H CA HA CB HB1 HB2 HB3 C O       (i = 0 .. n-1)
    N-methyl      6+10n..11+10n   N H CH3 H H H

so there are 10 n + 12 atoms, C(3n+3) H(5n+7) N(n+1) O(n+1).
Backbone dihedrals of residue i (IUPAC sign convention, degrees):
phi_i = C_(i-1)–N_i–Cα_i–C_i and psi_i = N_i–Cα_i–C_i–N_(i+1), with the acetyl carbonyl C as
C_(-1) and the N-methyl N as N_n. All lengths in Å, energies in eV, times in fs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import FixCom
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, ZeroRotation

try:  # ASE >= 3.29, where MaxwellBoltzmannDistribution is deprecated
    from ase.md.velocitydistribution import thermalize_momenta
except ImportError:  # pragma: no cover
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    def thermalize_momenta(atoms: Atoms, temperature_K: float, *, rng=None) -> None:
        """Maxwell–Boltzmann momenta (the pre-3.29 ASE name)."""
        MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)


#: Bond lengths (Å): Engh & Huber (1991) for heavy atoms, neutron/QM values for hydrogens.
BONDS = {
    "N-CA": 1.458,
    "CA-C": 1.525,
    "C-N": 1.329,
    "C=O": 1.231,
    "CA-CB": 1.521,
    "CH3-C": 1.525,  # acetyl methyl: same as Cα–C
    "N-CH3": 1.458,  # N-methyl: same as N–Cα
    "N-H": 1.01,
    "C-H": 1.09,
}

#: Bond angles (degrees), Engh & Huber (1991); the caps reuse the backbone values.
ANGLES = {
    "N-CA-C": 111.2,
    "CA-C-N": 116.2,
    "CA-C=O": 120.8,
    "C-N-CA": 121.7,
    "N-CA-CB": 110.4,
    "C-CA-CB": 110.5,
    "X-C-H": 109.4712206,  # tetrahedral methyl
}

#: (phi, psi) in degrees of the named conformations.
CONFORMATIONS = {
    "extended": (-135.0, 135.0),  # beta-strand region; -180/180 would add C5 contacts
    "helix": (-57.0, -47.0),  # right-handed alpha helix
    "ppii": (-75.0, 145.0),  # polyproline II
    "c7": (-83.0, 69.0),  # C7eq, a γ turn per residue (the 2.2_7 ribbon); relaxes near (-84, 66)
}

OMEGA = 180.0

_ACE, _RES = 6, 10  # atoms in the acetyl cap and in one alanine


def _place(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, bond: float, angle: float, torsion: float
) -> np.ndarray:
    """Position of atom d with |cd| = ``bond``, angle bcd = ``angle``, dihedral abcd = ``torsion``.

    Angles in degrees, the dihedral with the IUPAC sign (NeRF, Parsons et al. 2005).
    """
    theta, tau = np.deg2rad(angle), np.deg2rad(torsion)
    bc = (c - b) / np.linalg.norm(c - b)
    normal = np.cross(b - a, bc)
    normal /= np.linalg.norm(normal)
    d = np.array(
        [
            -bond * np.cos(theta),
            bond * np.sin(theta) * np.cos(tau),
            bond * np.sin(theta) * np.sin(tau),
        ]
    )
    return c + d[0] * bc + d[1] * np.cross(normal, bc) + d[2] * normal


def _methyl(x: np.ndarray, y: np.ndarray, carbon: np.ndarray, start: float) -> list[np.ndarray]:
    """Three tetrahedral H on ``carbon`` (bonded to x), dihedrals y–x–C–H = start + 0/120/240."""
    return [
        _place(y, x, carbon, BONDS["C-H"], ANGLES["X-C-H"], start + k * 120.0) for k in range(3)
    ]


def _l_beta_carbon(n: np.ndarray, ca: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Cβ with exact N–Cα–Cβ and C–Cα–Cβ angles on the L side.

    L (= S for alanine) means (N − Cα) · [(C − Cα) × (Cβ − Cα)] > 0.
    """
    u = (n - ca) / np.linalg.norm(n - ca)
    v = (c - ca) / np.linalg.norm(c - ca)
    g = u @ v
    cu, cv = np.cos(np.deg2rad([ANGLES["N-CA-CB"], ANGLES["C-CA-CB"]]))
    a = (cu - g * cv) / (1 - g * g)
    b = (cv - g * cu) / (1 - g * g)
    k = np.cross(u, v)
    k /= np.linalg.norm(k)
    w = a * u + b * v + np.sqrt(1 - a * a - b * b - 2 * a * b * g) * k
    return ca + BONDS["CA-CB"] * w


def _angles(value: float | Sequence[float], n: int, name: str) -> np.ndarray:
    """One angle per residue from a scalar (broadcast) or a sequence of n angles."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a float or a sequence of n={n} angles, got {value!r}")
    return arr.copy()


def backbone_indices(n: int) -> dict[str, list[int]]:
    """Indices of the named atoms of Ac-(Ala)_n-NHMe as built by :func:`alanine_peptide`.

    Args:
        n: number of alanine residues.

    Returns:
        Plain lists of ints. ``"N"`` and ``"H"`` (amide N and its H) have n + 1 entries:
        the n alanines then the N-methyl cap. ``"C"`` and ``"O"`` (carbonyl) have n + 1:
        the acetyl cap then the n alanines. ``"CA"``, ``"HA"`` and ``"CB"`` have n.
        ``"CH3"`` holds the two cap methyl carbons (acetyl, N-methyl). So residue i has
        phi from ``C[i], N[i], CA[i], C[i+1]`` and psi from ``N[i], CA[i], C[i+1], N[i+1]``;
        ``N[k]``–``H[k]`` donates to ``O[m]`` across k + 1 − m residues (4 in an α helix).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    res = [_ACE + _RES * i for i in range(n)]
    nme = _ACE + _RES * n
    return {
        "N": [*res, nme],
        "H": [r + 1 for r in res] + [nme + 1],
        "CA": [r + 2 for r in res],
        "HA": [r + 3 for r in res],
        "CB": [r + 4 for r in res],
        "C": [4] + [r + 8 for r in res],
        "O": [5] + [r + 9 for r in res],
        "CH3": [0, nme + 2],
    }


def residue_of_atoms(n: int) -> np.ndarray:
    """Residue of each atom of Ac-(Ala)_n-NHMe as built by :func:`alanine_peptide`.

    Returns an int array of length 10 n + 12: 0 for the acetyl cap, i for the i-th alanine
    (its N, H, CA, HA, CB with its three H, C and O), n + 1 for the N-methyl cap.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    out = np.zeros(_ACE + _RES * n + _ACE, dtype=int)
    for i, first in enumerate(backbone_indices(n)["N"]):  # each alanine's N, then the cap's
        out[first:] = i + 1
    return out


def bond_hops(bonds: np.ndarray, atoms: int) -> np.ndarray:
    """(atoms, atoms) number of bonds between each pair along the bond graph (inf: none)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    graph = coo_matrix((np.ones(len(bonds)), (bonds[:, 0], bonds[:, 1])), shape=(atoms, atoms))
    return shortest_path(graph, directed=False, unweighted=True)


def peptide_bonds(n: int) -> np.ndarray:
    """Covalent bonds of Ac-(Ala)_n-NHMe as an (10 n + 11, 2) int array of atom index pairs."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    bonds = [(0, 1), (0, 2), (0, 3), (0, 4), (4, 5), (4, _ACE)]
    for i in range(n):
        r = _ACE + _RES * i
        bonds += [(r, r + 1), (r, r + 2), (r + 2, r + 3), (r + 2, r + 4), (r + 2, r + 8)]
        bonds += [(r + 4, r + 5), (r + 4, r + 6), (r + 4, r + 7), (r + 8, r + 9), (r + 8, r + 10)]
    m = _ACE + _RES * n
    bonds += [(m, m + 1), (m, m + 2), (m + 2, m + 3), (m + 2, m + 4), (m + 2, m + 5)]
    return np.array(bonds, dtype=np.int64)


def alanine_peptide(
    n: int = 6,
    *,
    conformation: str = "extended",
    phi: float | Sequence[float] | None = None,
    psi: float | Sequence[float] | None = None,
) -> Atoms:
    """Ac-(Ala)_n-NHMe with all hydrogens, built from internal coordinates.

    Args:
        n: number of alanine residues (>= 1); the molecule has 10 n + 12 atoms.
        conformation: ``"extended"`` (phi, psi = -135°, 135°, a β strand), ``"helix"``
            (α helix, -57°, -47°), ``"ppii"`` (polyproline II, -75°, 145°) or ``"c7"``
            (C7eq, -83°, 69°: a γ turn at every residue, the N–H after it bonded to the C=O before
            it).
        phi: overrides the conformation's phi: one angle for all residues or n angles (degrees).
        psi: same for psi.

    Returns:
        The peptide, centroid at the origin, no cell, no periodicity. ``info["n_residues"]``
        is n and ``info["backbone"]`` the dict of :func:`backbone_indices` (plain lists of
        ints; ASE's extxyz and traj formats both round-trip it).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if conformation not in CONFORMATIONS:
        raise ValueError(
            f"conformation must be one of {sorted(CONFORMATIONS)}, got {conformation!r}"
        )
    phi0, psi0 = CONFORMATIONS[conformation]
    phis = _angles(phi0 if phi is None else phi, n, "phi")
    psis = _angles(psi0 if psi is None else psi, n, "psi")

    # backbone trace: CH3(ace) C(ace) then N CA C per residue, then N CH3 of the N-methyl cap
    ch3 = np.zeros(3)
    c_ace = np.array([BONDS["CH3-C"], 0.0, 0.0])
    theta = np.deg2rad(180.0 - ANGLES["CA-C-N"])
    n_first = c_ace + BONDS["C-N"] * np.array([np.cos(theta), np.sin(theta), 0.0])
    trace = [ch3, c_ace, n_first]

    def extend(bond: str, angle: str, torsion: float) -> None:
        trace.append(_place(*trace[-3:], BONDS[bond], ANGLES[angle], torsion))

    for i in range(n):
        extend("N-CA", "C-N-CA", OMEGA)
        extend("CA-C", "N-CA-C", phis[i])
        extend("C-N", "CA-C-N", psis[i])
    extend("N-CH3", "C-N-CA", OMEGA)

    def carbonyl_o(ca, c, n_next):
        # in the peptide plane, opposite N_next across the Cα–C axis
        return _place(n_next, ca, c, BONDS["C=O"], ANGLES["CA-C=O"], 180.0)

    def amide_h(c_prev, o_prev, nn):
        # in the plane, trans to the preceding C=O, bisecting the exterior C–N–Cα angle
        angle = (360.0 - ANGLES["C-N-CA"]) / 2
        return _place(o_prev, c_prev, nn, BONDS["N-H"], angle, 180.0)

    o_ace = carbonyl_o(ch3, c_ace, n_first)
    pos = [ch3, *_methyl(c_ace, o_ace, ch3, 0.0), c_ace, o_ace]
    c_prev, o_prev = c_ace, o_ace
    for i in range(n):
        nn, ca, c = trace[2 + 3 * i : 5 + 3 * i]
        n_next = trace[5 + 3 * i]
        cb = _l_beta_carbon(nn, ca, c)
        bisector = sum((p - ca) / np.linalg.norm(p - ca) for p in (nn, c, cb))
        ha = ca - BONDS["C-H"] * bisector / np.linalg.norm(bisector)
        o = carbonyl_o(ca, c, n_next)
        pos += [nn, amide_h(c_prev, o_prev, nn), ca, ha, cb, *_methyl(ca, nn, cb, 60.0), c, o]
        c_prev, o_prev = c, o
    n_nme, ch3_nme = trace[-2], trace[-1]
    pos += [n_nme, amide_h(c_prev, o_prev, n_nme), ch3_nme, *_methyl(n_nme, c_prev, ch3_nme, 60.0)]

    symbols = "CHHHCO" + "NHCHCHHHCO" * n + "NHCHHH"
    atoms = Atoms(symbols, positions=np.array(pos))
    atoms.positions -= atoms.positions.mean(0)
    atoms.info["n_residues"] = int(n)
    atoms.info["backbone"] = backbone_indices(int(n))
    return atoms


def residue_count(atoms: Atoms) -> int:
    """The n of an Ac-(Ala)_n-NHMe frame.

    Args:
        atoms: the frame; ``info["n_residues"]`` is used when present, else the atom count.

    Returns:
        n, after checking that the frame has 10 n + 12 atoms.
    """
    n = atoms.info.get("n_residues")
    if n is None:
        n, rest = divmod(len(atoms) - 12, 10)
        if rest or n < 1:
            raise ValueError(f"{len(atoms)} atoms is not an Ac-(Ala)_n-NHMe (10 n + 12 atoms)")
    n = int(n)
    if len(atoms) != 10 * n + 12:
        raise ValueError(f"info says n_residues={n} but there are {len(atoms)} atoms")
    return n


def _dihedrals(pos: np.ndarray, quads: np.ndarray) -> np.ndarray:
    """Dihedrals a–b–c–d (IUPAC sign, degrees in (-180, 180]) for the rows of ``quads``."""
    a, b, c, d = (pos[quads[:, k]] for k in range(4))
    b1 = (c - b) / np.linalg.norm(c - b, axis=1, keepdims=True)
    # components of the outer bonds perpendicular to the central one
    v = (a - b) - np.einsum("ij,ij->i", a - b, b1)[:, None] * b1
    w = (d - c) - np.einsum("ij,ij->i", d - c, b1)[:, None] * b1
    x = np.einsum("ij,ij->i", v, w)
    y = np.einsum("ij,ij->i", np.cross(b1, v), w)
    return np.degrees(np.arctan2(y, x))


def dihedral_angles(atoms: Atoms) -> tuple[np.ndarray, np.ndarray]:
    """Backbone (phi, psi) of the n residues of an Ac-(Ala)_n-NHMe frame.

    Args:
        atoms: a peptide from :func:`alanine_peptide` or any frame of it (the residue count
            comes from ``info["n_residues"]`` or, if missing, from the atom count).

    Returns:
        phi and psi, each shape (n,), degrees in (-180, 180].
    """
    idx = backbone_indices(residue_count(atoms))
    c, nn, ca = (np.array(idx[k]) for k in ("C", "N", "CA"))
    phi = _dihedrals(atoms.positions, np.stack([c[:-1], nn[:-1], ca, c[1:]], axis=1))
    psi = _dihedrals(atoms.positions, np.stack([nn[:-1], ca, c[1:], nn[1:]], axis=1))
    return phi, psi


class PeptideLangevin:
    """Resumable Langevin MD of a (gas-phase) peptide: :func:`peptide_md` in chunks.

    Velocities start from a Maxwell–Boltzmann distribution at ``temperature`` with zero total
    linear and angular momentum; the centre of mass is held fixed with
    :class:`ase.constraints.FixCom`. Both the initial velocities and the Langevin noise come
    from ``numpy`` generators seeded by ``seed``. :meth:`state` is a JSON-ready snapshot
    (positions, momenta, step count and the noise generator's state); a new object built with
    ``state=`` continues the same trajectory, so a long run can stop after any chunk and go on
    in another process: ``run(a)`` then ``run(b)`` and ``run(a)``, save, resume, ``run(b)``
    draw the same noise.

    Args:
        atoms: starting structure (not modified).
        calc: ASE calculator giving energy and forces.
        temperature: thermostat temperature, K.
        timestep: MD time step, fs.
        friction: Langevin friction, 1/fs (0.01 fs⁻¹ = 10 ps⁻¹).
        seed: seed of the velocity and noise generators.
        state: a :meth:`state` of an earlier object with the same structure (its positions and
            momenta replace the starting ones).
    """

    def __init__(
        self,
        atoms: Atoms,
        calc: Calculator,
        *,
        temperature: float = 500.0,
        timestep: float = 1.0,
        friction: float = 0.01,
        seed: int = 0,
        state: dict | None = None,
    ) -> None:
        self.temperature = float(temperature)
        self.timestep = float(timestep)
        work = atoms.copy()
        work.set_constraint([*work.constraints, FixCom()])
        work.calc = calc
        velocity_rng, self._noise = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)
        )
        self.step = 0
        if state is None:
            thermalize_momenta(work, temperature, rng=velocity_rng)
            Stationary(work)
            ZeroRotation(work)
        else:
            positions = np.asarray(state.get("positions"), dtype=float)
            momenta = np.asarray(state.get("momenta"), dtype=float)
            if positions.shape != (len(work), 3) or momenta.shape != (len(work), 3):
                raise ValueError(
                    f"MD state holds {positions.shape} positions and {momenta.shape} momenta, "
                    f"but the structure has {len(work)} atoms"
                )
            work.positions = positions
            work.set_momenta(momenta, apply_constraint=False)
            self._noise.bit_generator.state = state["noise_rng"]
            self.step = int(state["step"])
        self.atoms = work
        self._dyn = Langevin(
            work,
            timestep * units.fs,
            temperature_K=temperature,
            friction=friction / units.fs,
            fixcm=False,
            rng=self._noise,
        )

    def state(self) -> dict:
        """JSON-ready snapshot: ``positions``, ``momenta``, ``step`` and ``noise_rng``."""
        return {
            "positions": self.atoms.positions.tolist(),
            "momenta": self.atoms.get_momenta().tolist(),
            "step": self.step,
            "noise_rng": self._noise.bit_generator.state,
        }

    def run(
        self,
        steps: int,
        *,
        sample_every: int = 10,
        progress: Callable[[int], object] | None = None,
    ) -> list[Atoms]:
        """Advance ``steps`` steps; return the frames at global steps divisible by ``sample_every``.

        Frames are copies with a :class:`~ase.calculators.singlepoint.SinglePointCalculator`
        holding the energy (eV) and unconstrained forces (eV/Å) of the MD's own force call at
        that geometry, their momenta, and ``info`` with ``md_step`` (counted from the very
        first step, across resumes), ``temperature_K`` (the thermostat's) and
        ``kinetic_temperature_K`` (the frame's instantaneous one). ``progress(step)`` is called
        after every step with the step count of this call.
        """
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        if sample_every < 1:
            raise ValueError(f"sample_every must be >= 1, got {sample_every}")
        work, frames, first = self.atoms, [], self.step

        def sample() -> None:
            done = self._dyn.nsteps - start
            if done <= 0:
                return
            self.step = first + done
            if self.step % sample_every == 0:
                # the step's own force call computed these at the current positions: both cached
                energy = work.get_potential_energy()
                forces = work.get_forces(apply_constraint=False)
                frame = work.copy()
                frame.set_constraint()
                frame.info.update(
                    md_step=int(self.step),
                    temperature_K=self.temperature,
                    kinetic_temperature_K=float(work.get_temperature()),
                )
                frame.calc = SinglePointCalculator(frame, energy=energy, forces=forces.copy())
                frames.append(frame)
            if progress is not None:
                progress(done)

        start = self._dyn.nsteps
        self._dyn.attach(sample, interval=1)
        try:
            self._dyn.run(steps)
        finally:
            self._dyn.observers.clear()
        return frames


def peptide_md(
    atoms: Atoms,
    calc: Calculator,
    *,
    temperature: float = 500.0,
    steps: int = 1000,
    timestep: float = 1.0,
    friction: float = 0.01,
    sample_every: int = 10,
    seed: int = 0,
    progress: Callable[[int], object] | None = None,
) -> list[Atoms]:
    """Langevin MD of a (gas-phase) peptide, returning labelled snapshots.

    One :class:`PeptideLangevin` run from the start: velocities from a Maxwell–Boltzmann
    distribution at ``temperature`` with zero total linear and angular momentum, the centre of
    mass held fixed, velocities and noise from ``numpy`` generators seeded by ``seed``. A run
    is reproducible given a deterministic calculator in the same state: pass a fresh one per
    run, as some keep state between calls (TBLite reuses the previous wavefunction as its SCF
    guess, which changes results at the SCF tolerance).

    Args:
        atoms: starting structure (not modified).
        calc: ASE calculator giving energy and forces (e.g. ``TBLite(method="GFN2-xTB")``).
        temperature: thermostat temperature, K.
        steps: number of MD steps.
        timestep: MD time step, fs.
        friction: Langevin friction, 1/fs (0.01 fs⁻¹ = 10 ps⁻¹).
        sample_every: keep a snapshot every this many steps (at steps k · sample_every,
            k >= 1; the starting structure is not included).
        seed: seed of the velocity and noise generators.
        progress: called as ``progress(step)`` after every step (e.g. a progress bar update).

    Returns:
        ``steps // sample_every`` frames, as :meth:`PeptideLangevin.run` returns them (which
        also checks ``steps`` and ``sample_every``).
    """
    md = PeptideLangevin(
        atoms, calc, temperature=temperature, timestep=timestep, friction=friction, seed=seed
    )
    return md.run(steps, sample_every=sample_every, progress=progress)
