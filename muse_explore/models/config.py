"""MuSE model configuration: the constructor arguments, validated, as a dataclass."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from numbers import Integral, Real

from ase.data import atomic_numbers

from muse_explore.errors import MuSEConfigError
from muse_explore.models.levels import (
    FLAT_KEYS,
    LevelConfig,
    complete_levels,
    default_levels,
    levels_from_lists,
)
from muse_explore.pooling.seeding import SEEDINGS

#: Constraints on LES's latent charges (``MuSEConfig.long_range_neutral``).
LES_NEUTRAL = ("none", "structure", "fragment")
#: How the down pass hands a coarse node's features to its members (``MuSEConfig.unpool``).
UNPOOL = ("member", "share")


@dataclass
class MuSEConfig:
    """Everything needed to rebuild a MuSE model (weights aside).

    Args:
        elements: chemical symbols the model knows, e.g. ``["H", "C", "N", "O"]``.
        backbone: registered backbone name (``"painn"``).
        levels: the L+1 levels, atoms first, as :class:`LevelConfig` (or mappings of their
            fields): each level's cutoff and interaction blocks and, for coarse levels, the
            seeding hops, assignment radius, σ and temperature. A number L stands for the
            default hierarchy with L coarse levels (cutoffs 5, 10, 20 Å, ...;
            :func:`muse_explore.models.levels.default_levels`); 0 gives the plain backbone.
            :meth:`from_dict` also takes the flat per-level lists (``cutoffs``, ``sigma``, ...).
        hidden: feature channels of every level (the backbone's scalar width).
        hard: one-hot (argmax) assignments instead of soft ones (ablation).
        seeding: ``"symmetric"`` (seeds from the bond graph alone; the default) or
            ``"legacy"`` (the geometry-dependent seeds of model files saved before 2026-12,
            set only when such a file is loaded; see :mod:`muse_explore.pooling.seeding`).
        zbl: add ZBL short-range repulsion.
        long_range: ``None``, or ``"les"`` to add latent-charge electrostatics (LES, the
            long-range baseline; :mod:`muse_explore.models.latent_ewald`).
        long_range_sigma: Gaussian smearing width (Å) of the latent charges.
        long_range_neutral: constraint on the latent charges: ``"none"`` (LES as published:
            the charges are unconstrained), ``"structure"`` (they sum to zero per structure)
            or ``"fragment"`` (per covalent fragment, so that two neutral molecules far
            apart feel no spurious 1/r monopole coupling).
        freeze_atoms: keep the atom level's weights fixed (train only the coarse levels).
        assignment_norm: normalise the scalar features (LayerNorm without weights) before
            the soft assignment's query and key projections, so that its learned logits are
            bounded by the weights whatever the feature scale
            (:class:`~muse_explore.pooling.assignment.SoftAssignment`). ``False`` only for
            model files saved before model format 4, which are loaded that way.
        pool_norm: pool each level's features softly normalised per node
            (:func:`~muse_explore.pooling.reduce.soft_normalise`), so that every coarse level
            starts from features of bounded size and one level's feature growth is not
            compounded by the next. ``False`` only for model files saved before model
            format 5, which are loaded that way.
        unpool: how the down pass hands a coarse node's features to its members:
            ``"member"`` (each member gets the whole message, weighted by S_ik) or
            ``"share"`` (weighted by S_ik / M_k, so that a node's message adds up to one
            node's worth however many members it has: the atoms' share of a long-range
            interaction then does not grow with a flake's atom count; docs/method.md,
            Section 4).
        mass_weighted: scale each coarse node's messages and its energy by the number of
            atoms it stands for (A_k = Σ_i S_ik A_i, 1 for an atom), so that a
            region cut into more, smaller nodes sends and holds the same amount: every
            coarse message is multiplied by its sender's A_j
            (``GeometricGraph.edge_weight``) and every coarse node energy by its own
            A_k (docs/method.md, Section 4). ``False`` (the default): one node, one
            message and one energy, whatever its size.
        energy_shifts: per-element energy added to each atom, in eV.
        backbone_kwargs: extra hyperparameters passed to every level's backbone.
        seed: seed of the weight initialisation, or ``None``.
    """

    elements: list[str]
    backbone: str = "painn"
    levels: tuple[LevelConfig, ...] | int = 2
    hidden: int = 64
    hard: bool = False
    seeding: str = "symmetric"
    zbl: bool = False
    long_range: str | None = None
    long_range_sigma: float = 1.0
    long_range_neutral: str = "none"
    freeze_atoms: bool = False
    assignment_norm: bool = True
    pool_norm: bool = True
    unpool: str = "member"
    mass_weighted: bool = False
    energy_shifts: dict[str, float] = field(default_factory=dict)
    backbone_kwargs: dict = field(default_factory=dict)
    seed: int | None = None

    def __post_init__(self) -> None:
        self._check_types()
        if isinstance(self.levels, Integral):
            if self.levels < 0:
                raise MuSEConfigError(f"levels must be a non-negative integer, got {self.levels!r}")
            self.levels = default_levels(int(self.levels))
        self.levels = complete_levels(self.levels)
        if not self.elements:
            raise MuSEConfigError("elements must list at least one chemical symbol")
        self.elements = list(self.elements)
        bad = [e for e in self.elements if e not in atomic_numbers or e == "X"]
        if bad:
            raise MuSEConfigError(f"elements: unknown chemical symbol(s) {bad}")
        if len(set(self.elements)) != len(self.elements):
            raise MuSEConfigError(f"elements: duplicates in {self.elements}")
        if self.seeding not in SEEDINGS:
            raise MuSEConfigError(f"seeding must be one of {SEEDINGS}, got {self.seeding!r}")
        if self.long_range not in (None, "les"):
            raise MuSEConfigError(
                f"long_range must be None or 'les' (latent Ewald), got {self.long_range!r}"
            )
        if not (self.long_range_sigma > 0 and math.isfinite(self.long_range_sigma)):
            raise MuSEConfigError(
                f"long_range_sigma must be positive and finite, got {self.long_range_sigma}"
            )
        if self.long_range_neutral not in LES_NEUTRAL:
            raise MuSEConfigError(
                f"long_range_neutral must be one of {LES_NEUTRAL}, got {self.long_range_neutral!r}"
            )
        if self.unpool not in UNPOOL:
            raise MuSEConfigError(f"unpool must be one of {UNPOOL}, got {self.unpool!r}")
        if self.hidden < 2:
            raise MuSEConfigError(f"hidden must be at least 2, got {self.hidden}")
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise MuSEConfigError(f"seed must be in 0 .. 2**63 - 1 (or None), got {self.seed}")
        unknown = set(self.energy_shifts) - set(self.elements)
        if unknown:
            raise MuSEConfigError(f"energy_shifts for elements not in the model: {sorted(unknown)}")
        try:
            self.energy_shifts = {k: float(v) for k, v in self.energy_shifts.items()}
        except (TypeError, ValueError):
            raise MuSEConfigError(
                f"energy_shifts must map elements to numbers (eV), got {self.energy_shifts!r}"
            ) from None
        bad = {k: v for k, v in self.energy_shifts.items() if not math.isfinite(v)}
        if bad:
            raise MuSEConfigError(f"energy_shifts must be finite (eV), got {bad}")

    #: Scalar fields and the types they accept (checked by name before anything else).
    _SCALARS = {
        "backbone": (str,),
        "hidden": (Integral,),
        "hard": (bool,),
        "seeding": (str,),
        "zbl": (bool,),
        "long_range": (str, type(None)),
        "long_range_sigma": (Real,),
        "long_range_neutral": (str,),
        "freeze_atoms": (bool,),
        "assignment_norm": (bool,),
        "pool_norm": (bool,),
        "unpool": (str,),
        "mass_weighted": (bool,),
        "seed": (Integral, type(None)),
        "energy_shifts": (dict,),
        "backbone_kwargs": (dict,),
    }

    def _check_types(self) -> None:
        if not isinstance(self.elements, (list, tuple)) or not all(
            isinstance(e, str) for e in self.elements
        ):
            raise MuSEConfigError(
                f"elements must be a list of chemical symbols such as ['H', 'C', 'N', 'O'], got "
                f"{self.elements!r}"
            )
        for name, kinds in self._SCALARS.items():
            value = getattr(self, name)
            # bool is an int in Python: a number field must not take True/False, and vice versa
            wrong = not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)
            if wrong:
                names = {Integral: "an integer", Real: "a number", type(None): "None"}
                expected = " or ".join(names.get(k, k.__name__) for k in kinds)
                raise MuSEConfigError(f"{name} must be {expected}, got {value!r}")
        if isinstance(self.levels, bool) or not isinstance(self.levels, (Integral, list, tuple)):
            raise MuSEConfigError(
                "levels must be a number of coarse levels or a list of level settings, atoms "
                f"first, got {self.levels!r}"
            )

    @property
    def coarse_levels(self) -> int:
        """Number of coarse levels L (``len(levels) - 1``)."""
        return len(self.levels) - 1

    @property
    def cutoffs(self) -> tuple[float, ...]:
        """Every level's cutoff in Å, atoms first (read from :attr:`levels`)."""
        return tuple(lev.cutoff for lev in self.levels)

    def with_pooling(
        self,
        *,
        sigma: float | None = None,
        temperature: float | None = None,
        hard: bool | None = None,
        level: int | None = None,
    ) -> MuSEConfig:
        """A new config with σ (Å), the temperature or soft/hard assignment changed.

        ``level`` (1..L) restricts ``sigma`` and ``temperature`` to one coarse level
        (``None``: every coarse level); ``hard`` applies to all of them.
        """
        L = self.coarse_levels
        if level is not None and not 1 <= level <= L:
            raise MuSEConfigError(f"level must be in 1..{L}, got {level}")
        changes = {}
        for name, v in (("sigma", sigma), ("temperature", temperature)):
            if v is not None:
                if not (v > 0 and math.isfinite(v)):
                    raise MuSEConfigError(f"{name} must be positive and finite, got {v}")
                changes[name] = float(v)
        levels = tuple(
            replace(lev, **changes) if k and level in (None, k) else lev
            for k, lev in enumerate(self.levels)
        )
        return replace(self, levels=levels, hard=self.hard if hard is None else bool(hard))

    def backbone_only(self) -> MuSEConfig:
        """The same config with the coarse levels dropped (``levels[:1]``).

        The down pass (``unpool``) and the mass weighting belong to the coarse levels, so they
        go back to their defaults: a backbone-only config is the same whichever of them its
        MuSE model had.
        """
        return replace(
            self,
            levels=self.levels[:1],
            unpool=MuSEConfig.unpool,
            mass_weighted=MuSEConfig.mass_weighted,
        )

    def to_dict(self) -> dict:
        """Plain-Python dictionary (lists, numbers, strings), suitable for saving."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["levels"] = [lev.to_dict() for lev in self.levels]
        d["elements"] = list(self.elements)
        d["energy_shifts"] = dict(self.energy_shifts)
        d["backbone_kwargs"] = dict(self.backbone_kwargs)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> MuSEConfig:
        """Rebuild from :meth:`to_dict` output, rejecting unknown fields by name.

        Also takes the flat per-level form (``levels`` a number, with ``cutoffs``,
        ``num_interactions``, ``hops``, ``assign_radius``, ``sigma`` lists and one
        ``temperature``): the form of files saved before levels were listed one by one, and
        the ``build_model(cutoffs=...)`` shorthand.
        """
        if not isinstance(d, dict):
            raise MuSEConfigError(f"a model configuration must be a mapping, got {d!r}")
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names - set(FLAT_KEYS)
        if unknown:
            raise MuSEConfigError(f"unknown configuration field(s): {sorted(unknown)}")
        d = dict(d)
        flat = {k: d.pop(k) for k in FLAT_KEYS if k in d}
        if flat:
            coarse = d.get("levels", 2)
            if not isinstance(coarse, Integral) or isinstance(coarse, bool) or coarse < 0:
                raise MuSEConfigError(
                    f"{', '.join(sorted(flat))}: per-level lists go with levels given as a "
                    f"number of coarse levels; in a list of levels, set them in each level "
                    f"(got levels={coarse!r})"
                )
            d["levels"] = levels_from_lists(int(coarse), **flat)
        return cls(**d)
