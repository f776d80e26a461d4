r"""The molecule–graphene reference set: small molecules over circumcoronene (C54H18).

Each configuration is a triple of structures with the *same* displaced geometry: the complex,
the flake alone and the molecule alone, so that the interaction energy

.. math:: E_\mathrm{int} = E(\text{complex}) - E(\text{flake}) - E(\text{molecule})

is known for every complex. Heights are centroid heights of the molecule above the flake
plane (z = 0), in Å; they are drawn densely near the minimum (2.5–4.5 Å) and still beyond
10 Å. Lateral offsets, in-plane rotations and tilts are random; every atom is displaced by
Gaussian noise so that the forces carry information. The profile scans (:func:`scan_specs`)
keep one displaced geometry and move the molecule rigidly along z: they are test data only.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same
structures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from ase import Atoms

from muse_explore.reference.molecules import MOLECULES, small_molecule
from muse_explore.reference.structures import graphene_flake, place_molecule

if TYPE_CHECKING:
    from muse_explore.reference.minima import Minimum

#: (low, high, probability) of the height bands, Å.
HEIGHT_BANDS = ((2.5, 4.5, 0.45), (4.5, 10.0, 0.30), (10.0, 20.0, 0.25))
#: Height bands of the contact set (``make-data contact``): extra training data on the
#: repulsive wall and around the minimum, where the interaction energy changes fastest.
CONTACT_BANDS = ((2.5, 3.5, 0.7), (3.5, 4.5, 0.3))
#: Heights of the profile scans, Å: dense around the minimum, out to 20 Å.
SCAN_HEIGHTS = tuple(
    [round(2.6 + 0.2 * k, 2) for k in range(10)]
    + [5.0, 5.5, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
)
#: Closest allowed molecule–flake atom distance, Å (closer draws are redrawn).
MIN_CONTACT = 1.6


def _rattle(atoms: Atoms, sigma: float, rng: np.random.Generator) -> None:
    atoms.positions += rng.normal(scale=sigma, size=atoms.positions.shape)


def _contact(complex_: Atoms, n_flake: int) -> float:
    d = complex_.positions[:n_flake, None, :] - complex_.positions[None, n_flake:, :]
    return float(np.sqrt((d**2).sum(-1)).min())


def sample_specs(
    n: int,
    *,
    seed: int = 0,
    molecules: Sequence[str] = MOLECULES,
    max_offset: float = 3.0,
    max_tilt: float = 30.0,
    rattle: float = 0.02,
    bands: Sequence[tuple[float, float, float]] = HEIGHT_BANDS,
    set_name: str = "graphene",
) -> list[dict]:
    """Draw ``n`` random configurations (plain dicts; build them with :func:`build_triple`).

    Args:
        n: number of configurations.
        seed: random seed.
        molecules: names from :data:`MOLECULES`.
        max_offset: largest lateral offset of the molecule's centroid from the flake centre, Å.
        max_tilt: largest tilt out of the plane, degrees.
        rattle: standard deviation of the Gaussian displacement of every atom, Å.
        bands: (low, high, probability) height bands, Å; a band is drawn by probability,
            then a height uniformly inside it.
        set_name: ``info["set"]`` of the structures. Triples are grouped by set and
            configuration number, so a set with another name never shares a group with
            (or changes the split of) the main set.
    """
    rng = np.random.default_rng(seed)
    flake = graphene_flake(2)
    mols = {name: small_molecule(name) for name in molecules}
    low, high, prob = (np.array(v, dtype=float) for v in zip(*bands, strict=True))
    if (low < MIN_CONTACT).any() or (high < low).any() or (prob < 0).any() or prob.sum() <= 0:
        raise ValueError(f"invalid height bands {bands!r}")
    specs = []
    while len(specs) < n:
        name = str(molecules[rng.integers(len(molecules))])
        band = rng.choice(len(prob), p=prob / prob.sum())
        radius, phi = max_offset * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
        spec = {
            "set": set_name,
            "config": len(specs),
            "molecule": name,
            **_pose(rng, (low[band], high[band]), radius, phi, max_tilt),
            "rattle": float(rattle),
            "rattle_seed": int(rng.integers(2**31)),
        }
        if _contact(_place(spec, flake, mols[name]), len(flake)) >= MIN_CONTACT + 3 * rattle:
            specs.append(spec)
    return specs


def _pose(rng, heights, radius: float, phi: float, max_tilt: float) -> dict:
    """Height (uniform in ``heights``), lateral offset, rotation and tilt of one draw.

    Draws the height, then the rotation, then the tilt: the order every seeded set relies on.
    """
    height = float(rng.uniform(*heights))
    return {
        "height": height,
        "offset_x": float(radius * np.cos(phi)),
        "offset_y": float(radius * np.sin(phi)),
        "rotation": float(rng.uniform(0, 360)),
        "tilt": float(rng.uniform(0, max_tilt)),
    }


def _place(spec: dict, flake: Atoms, mol: Atoms) -> Atoms:
    return place_molecule(
        mol,
        flake,
        spec["height"],
        offset=(spec["offset_x"], spec["offset_y"]),
        rotation=spec["rotation"],
        tilt=spec["tilt"],
    )


def build_triple(spec: dict, flake: Atoms, molecules: dict[str, Atoms]) -> list[Atoms]:
    """The complex, the flake alone and the molecule alone of one configuration (unlabelled).

    Args:
        spec: one entry of :func:`sample_specs`.
        flake: the flake (circumcoronene).
        molecules: the (relaxed) molecules by name.

    Returns:
        [complex, flake, molecule], each with ``info`` holding the configuration and its
        ``part`` ("complex", "flake" or "molecule").
    """
    complex_ = _place(spec, flake, molecules[spec["molecule"]])
    _rattle(complex_, spec["rattle"], np.random.default_rng(spec["rattle_seed"]))
    return _split(complex_, len(flake), {"set": "graphene", **spec})  # old specs lack "set"


def _split(complex_: Atoms, n_flake: int, info: dict) -> list[Atoms]:
    parts = [complex_, complex_[:n_flake], complex_[n_flake:]]
    for atoms, part in zip(parts, ("complex", "flake", "molecule"), strict=True):
        atoms.info = {**info, "part": part}
    return parts


def scan_specs(
    *,
    seed: int = 1,
    molecules: Sequence[str] = MOLECULES,
    orientations: int = 2,
    heights: Sequence[float] = SCAN_HEIGHTS,
    rattle: float = 0.02,
) -> list[dict]:
    """Profile scans: per molecule and orientation, one displaced geometry moved along z."""
    rng = np.random.default_rng(seed)
    specs = []
    for name in molecules:
        for _ in range(orientations):
            radius, phi = 1.5 * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
            specs.append(
                {
                    "scan": len(specs),
                    "molecule": name,
                    "offset_x": float(radius * np.cos(phi)),
                    "offset_y": float(radius * np.sin(phi)),
                    "rotation": float(rng.uniform(0, 360)),
                    "tilt": float(rng.uniform(0, 10)),
                    "rattle": float(rattle),
                    "rattle_seed": int(rng.integers(2**31)),
                    "heights": [float(h) for h in heights],
                }
            )
    return specs


def build_scan(spec: dict, flake: Atoms, molecules: dict[str, Atoms]) -> list[Atoms]:
    """One scan: the flake and the molecule alone, then the complex at every height.

    The displaced geometry is drawn once at the largest height and the molecule is moved
    rigidly, so the complexes differ only in the height.
    """
    heights = spec["heights"]
    ref = dict(spec, height=max(heights))
    complex_ = _place(ref, flake, molecules[spec["molecule"]])
    _rattle(complex_, spec["rattle"], np.random.default_rng(spec["rattle_seed"]))
    n_flake = len(flake)
    info = {k: v for k, v in spec.items() if k != "heights"}
    info["set"] = "graphene-scan"
    _, flake_alone, mol_alone = _split(complex_, n_flake, {**info, "height": -1.0})
    out = [flake_alone, mol_alone]
    for h in heights:
        c = complex_.copy()
        c.positions[n_flake:, 2] += h - max(heights)
        c.info = {**info, "height": float(h), "part": "complex"}
        out.append(c)
    return out


#: Height bands of the thermal sets, Å: as :data:`HEIGHT_BANDS`, out to 25 Å.
THERMAL_BANDS = ((2.5, 4.5, 0.40), (4.5, 10.0, 0.30), (10.0, 25.0, 0.30))
#: Temperature range of the thermal normal-mode sampling, K.
THERMAL_TEMPERATURES = (300.0, 600.0)


def thermal_specs(
    n: int,
    minima: Callable[[str], Minimum],
    *,
    seed: int = 0,
    molecules: Sequence[str] = MOLECULES,
    flake: str = "circumcoronene",
    temperatures: tuple[float, float] = THERMAL_TEMPERATURES,
    bands: Sequence[tuple[float, float, float]] = THERMAL_BANDS,
    max_offset: float = 3.0,
    max_tilt: float = 30.0,
    rattle: float = 0.0,
    set_name: str = "graphene-thermal",
) -> list[dict]:
    """Draw ``n`` thermally distorted configurations (build them with :func:`build_thermal_triple`).

    The flake and the molecule start from their GFN2-xTB minima and are displaced by
    classical normal-mode sampling (:meth:`Minimum.sample`) at one temperature per
    configuration, drawn uniformly in ``temperatures``; an optional Gaussian ``rattle`` (Å)
    is added on top. Heights, offsets, rotations and tilts are drawn as in
    :func:`sample_specs`; a draw whose closest molecule–flake distance is under
    :data:`MIN_CONTACT` is redrawn.

    Args:
        n: number of configurations.
        minima: name -> :class:`~muse_explore.reference.minima.Minimum` (e.g.
            ``functools.partial(minimum, folder=...)``).
        seed: random seed.
        molecules: names from :data:`MOLECULES`.
        flake: ``"coronene"`` (C24H12), ``"circumcoronene"`` (C54H18), ``"C96H24"`` or the
            elongated ``"C68H24"`` (:func:`~muse_explore.reference.structures.graphene_ribbon`).
        temperatures: (low, high) temperature range, K.
        bands: (low, high, probability) height bands, Å.
        max_offset: largest lateral offset of the molecule's centroid, Å.
        max_tilt: largest tilt out of the plane, degrees.
        rattle: extra Gaussian displacement of every atom, Å.
        set_name: ``info["set"]`` of the structures (and the split group prefix).
    """
    rng = np.random.default_rng(seed)
    low, high, prob = (np.array(v, dtype=float) for v in zip(*bands, strict=True))
    if (low < MIN_CONTACT).any() or (high < low).any() or (prob < 0).any() or prob.sum() <= 0:
        raise ValueError(f"invalid height bands {bands!r}")
    t_low, t_high = (float(t) for t in temperatures)
    if not 0 <= t_low <= t_high:
        raise ValueError(f"invalid temperature range {temperatures!r}")
    specs: list[dict] = []
    while len(specs) < n:
        band = rng.choice(len(prob), p=prob / prob.sum())
        radius, phi = max_offset * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
        spec = {
            "set": set_name,
            "config": len(specs),
            "molecule": str(molecules[rng.integers(len(molecules))]),
            "flake": flake,
            **_pose(rng, (low[band], high[band]), radius, phi, max_tilt),
            "temperature": float(rng.uniform(t_low, t_high)),
            "rattle": float(rattle),
            "sample_seed": int(rng.integers(2**31)),
        }
        complex_ = build_thermal_triple(spec, minima)[0]
        if _contact(complex_, len(minima(flake).atoms)) >= MIN_CONTACT:
            specs.append(spec)
    return specs


def build_thermal_triple(spec: dict, minima: Callable[[str], Minimum]) -> list[Atoms]:
    """The complex, flake and molecule of one :func:`thermal_specs` configuration (unlabelled)."""
    rng = np.random.default_rng(spec["sample_seed"])
    flake_min, mol_min = minima(spec["flake"]), minima(spec["molecule"])
    flake = flake_min.atoms.copy()
    flake.positions += flake_min.sample(spec["temperature"], rng)
    mol = mol_min.atoms.copy()
    mol.positions += mol_min.sample(spec["temperature"], rng)
    complex_ = _place(spec, flake, mol)
    _rattle(complex_, spec["rattle"], rng)
    return _split(complex_, len(flake), dict(spec))


#: Adsorbates of the curvature set: the Hessian benchmark's, on circumcoronene.
CURVATURE_ADSORBATES = ("benzene", "pyridine", "water")
#: Temperature range of the curvature set, K: small displacements around the minima.
CURVATURE_TEMPERATURES = (50.0, 400.0)


def curvature_specs(
    n: int,
    *,
    seed: int = 0,
    adsorbates: Sequence[str] = CURVATURE_ADSORBATES,
    temperatures: tuple[float, float] = CURVATURE_TEMPERATURES,
    set_name: str = "graphene-curvature",
) -> list[dict]:
    """Normal-mode displacements around adsorbate minima, so that curvature is learned.

    Each configuration starts from the GFN2-xTB minimum of an adsorbate on circumcoronene
    (``"benzene/circumcoronene"``: the molecule relaxed on the relaxed, fixed flake) and
    adds a thermal sample of the adsorbate's partial Hessian (its internal and its six
    intermolecular modes) and one of the flake's own Hessian, at a temperature drawn in
    ``temperatures``. Build with :func:`build_curvature_triple`.
    """
    rng = np.random.default_rng(seed)
    t_low, t_high = (float(t) for t in temperatures)
    if not 0 <= t_low <= t_high:
        raise ValueError(f"invalid temperature range {temperatures!r}")
    return [
        {
            "set": set_name,
            "config": k,
            "molecule": str(adsorbates[rng.integers(len(adsorbates))]),
            "flake": "circumcoronene",
            "temperature": float(rng.uniform(t_low, t_high)),
            "sample_seed": int(rng.integers(2**31)),
        }
        for k in range(n)
    ]


def build_curvature_triple(spec: dict, minima: Callable[[str], Minimum]) -> list[Atoms]:
    """The complex, flake and molecule of one :func:`curvature_specs` configuration."""
    rng = np.random.default_rng(spec["sample_seed"])
    ads = minima(f"{spec['molecule']}/{spec['flake']}")
    flake_min = minima(spec["flake"])
    complex_ = ads.atoms.copy()
    complex_.positions += ads.sample(spec["temperature"], rng)
    n_flake = len(flake_min.atoms)
    complex_.positions[:n_flake] += flake_min.sample(spec["temperature"], rng)
    height = complex_.positions[n_flake:, 2].mean() - complex_.positions[:n_flake, 2].mean()
    return _split(complex_, n_flake, {**spec, "height": float(height)})
