"""One scale of the MuSE hierarchy: :class:`LevelConfig`, the single owner of per-level settings.

A model has L+1 levels, atoms first. Level 0 has only a cutoff and its interaction blocks;
each coarse level l >= 1 adds how its seeds are chosen (``hops``) and how the level below is
assigned to them (``assign_radius``, ``sigma``, ``temperature``). Every default of the
hierarchy lives here (:func:`default_levels`), and the flat per-level lists of older files and
of the ``build_model(cutoffs=..., sigma=...)`` shorthand are folded into levels in one place
(:func:`levels_from_lists`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from numbers import Integral, Real

from muse_explore.errors import MuSEConfigError

#: Default atom level: 5 Å, three interaction blocks.
ATOM_LEVEL = {"cutoff": 5.0, "num_interactions": 3}
#: Defaults of coarse levels 1 and 2; deeper levels double the cutoff, hops and σ of the last.
COARSE_LEVELS = (
    {"cutoff": 10.0, "num_interactions": 1, "hops": 2, "sigma": 1.5},
    {"cutoff": 20.0, "num_interactions": 1, "hops": 4, "sigma": 3.0},
)
#: Default softmax temperature of every assignment.
TEMPERATURE = 1.0

#: The flat per-level keys that :func:`levels_from_lists` folds into levels.
FLAT_KEYS = ("cutoffs", "num_interactions", "hops", "assign_radius", "sigma", "temperature")


@dataclass(frozen=True)
class LevelConfig:
    """Settings of one level of the hierarchy (coarse-only fields are ``None`` at level 0).

    Args:
        cutoff: interaction cutoff r_c of this level's graph, in Å.
        num_interactions: interaction blocks of this level's backbone.
        hops: seeding hop radius in bonds (coarse levels).
        assign_radius: assignment radius r_a in Å (coarse levels); at most the cutoff of the
            level below, whose graph the assignment walks. ``None``: that cutoff.
        sigma: Gaussian width σ of the assignment, in Å (coarse levels).
        temperature: softmax temperature T of the assignment (coarse levels; ``None``: 1).
    """

    cutoff: float
    num_interactions: int = 1
    hops: int | None = None
    assign_radius: float | None = None
    sigma: float | None = None
    temperature: float | None = None

    @property
    def coarse(self) -> bool:
        """Whether this is a coarse level (it has seeds)."""
        return self.hops is not None

    def to_dict(self) -> dict:
        """Plain dictionary; level 0 leaves out the coarse-only fields."""
        d = asdict(self)
        return d if self.coarse else {k: d[k] for k in ATOM_LEVEL}

    @classmethod
    def from_dict(cls, d: dict, *, where: str = "level") -> LevelConfig:
        """Build from a mapping, rejecting unknown keys by name."""
        if isinstance(d, LevelConfig):
            return d
        if not isinstance(d, dict):
            raise MuSEConfigError(f"{where} must be a mapping of level settings, got {d!r}")
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise MuSEConfigError(
                f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(names)}"
            )
        if "cutoff" not in d:
            raise MuSEConfigError(f"{where}: missing 'cutoff'")
        return cls(**d)


def default_levels(coarse: int) -> list[dict]:
    """Default settings of the atom level and ``coarse`` coarse levels, as mappings."""
    out = [dict(ATOM_LEVEL)]
    for k in range(coarse):
        if k < len(COARSE_LEVELS):
            out.append(dict(COARSE_LEVELS[k]))
        else:
            last = out[-1]
            out.append(
                {
                    "cutoff": 2 * last["cutoff"],
                    "num_interactions": last["num_interactions"],
                    "hops": 2 * last["hops"],
                    "sigma": 2 * last["sigma"],
                }
            )
    return out


def levels_from_lists(coarse: int, **flat) -> list[dict]:
    """Level mappings from per-level lists (the older, flat form of the settings).

    ``cutoffs`` and ``num_interactions`` have L+1 entries (atoms first); ``hops``,
    ``assign_radius`` and ``sigma`` have L; ``temperature`` is one number for every level.
    A single number stands for a one-entry list. Missing lists take the defaults.
    """
    unknown = set(flat) - set(FLAT_KEYS)
    if unknown:
        raise MuSEConfigError(f"unknown per-level key(s) {sorted(unknown)}")
    levels = default_levels(coarse)
    for name, value in flat.items():
        if value is None:
            continue
        if name == "temperature":
            if not isinstance(value, Real) or isinstance(value, bool):
                raise MuSEConfigError(f"temperature must be a number, got {value!r}")
            for lev in levels[1:]:
                lev["temperature"] = value
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(v, Real) and not isinstance(v, bool) for v in items):
            raise MuSEConfigError(
                f"{name} must be a number or a list of numbers (one per level), got {value!r}"
            )
        first = 0 if name in ("cutoffs", "num_interactions") else 1
        if len(items) != len(levels) - first:
            raise MuSEConfigError(
                f"{name} needs {len(levels) - first} value(s) for {coarse} coarse level(s), "
                f"got {len(items)}"
            )
        key = "cutoff" if name == "cutoffs" else name
        for lev, v in zip(levels[first:], items, strict=True):
            lev[key] = v
    return levels


_TYPES = {
    "cutoff": Real,
    "num_interactions": Integral,
    "hops": Integral,
    "assign_radius": Real,
    "sigma": Real,
    "temperature": Real,
}


def complete_levels(levels: list) -> tuple[LevelConfig, ...]:
    """Validate level settings and fill what follows from the level below.

    Level 0 must not set coarse-only fields and every coarse level must set ``hops`` and
    ``sigma``; ``assign_radius`` defaults to the cutoff of the level below and must not
    exceed it, ``temperature`` defaults to 1.
    """
    if not isinstance(levels, (list, tuple)) or not levels:
        raise MuSEConfigError(
            "levels must be a number of coarse levels or a list of level settings, atoms first"
        )
    out = []
    for k, raw in enumerate(levels):
        where = f"levels[{k}]"
        lev = LevelConfig.from_dict(raw, where=where)
        for name, kind in _TYPES.items():
            v = getattr(lev, name)
            if v is None:
                continue
            if not isinstance(v, kind) or isinstance(v, bool):
                what = "an integer" if kind is Integral else "a number"
                raise MuSEConfigError(f"{where}.{name} must be {what}, got {v!r}")
            if not (v > 0 and math.isfinite(v)):  # NaN fails every comparison
                raise MuSEConfigError(f"{where}.{name} must be positive and finite, got {v!r}")
        if k == 0:
            extra = [
                n
                for n in ("hops", "assign_radius", "sigma", "temperature")
                if getattr(lev, n) is not None
            ]
            if extra:
                raise MuSEConfigError(f"levels[0] is the atom level and has no {', '.join(extra)}")
            out.append(LevelConfig(float(lev.cutoff), int(lev.num_interactions)))
            continue
        missing = [n for n in ("hops", "sigma") if getattr(lev, n) is None]
        if missing:
            raise MuSEConfigError(f"{where} is a coarse level and needs {' and '.join(missing)}")
        below = out[-1].cutoff
        radius = below if lev.assign_radius is None else float(lev.assign_radius)
        if radius > below + 1e-12:
            raise MuSEConfigError(
                f"{where}.assign_radius = {radius} Å exceeds the cutoff of level {k - 1} "
                f"({below} Å): level {k} assigns through level {k - 1}'s graph"
            )
        out.append(
            LevelConfig(
                cutoff=float(lev.cutoff),
                num_interactions=int(lev.num_interactions),
                hops=int(lev.hops),
                assign_radius=radius,
                sigma=float(lev.sigma),
                temperature=TEMPERATURE if lev.temperature is None else float(lev.temperature),
            )
        )
    return tuple(out)
