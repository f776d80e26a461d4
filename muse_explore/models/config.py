"""MuSE model configuration: the constructor arguments, validated, as a dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from numbers import Integral, Real

from ase.data import atomic_numbers

from muse_explore.errors import MuSEConfigError
from muse_explore.pooling.seeding import SEEDINGS

#: Constraints on LES's latent charges (``MuSEConfig.long_range_neutral``).
LES_NEUTRAL = ("none", "structure", "fragment")

# Per-level defaults, atoms first; deeper levels continue the last value times the factor.
_DEFAULT_CUTOFFS = (5.0, 10.0, 20.0)
_DEFAULT_INTERACTIONS = (3, 1, 1)
_DEFAULT_HOPS = (2, 4)
_DEFAULT_SIGMA = (1.5, 3.0)


def _extend(values: tuple, n: int, factor: float) -> tuple:
    out = list(values[:n])
    while len(out) < n:
        out.append(type(values[-1])(out[-1] * factor))
    return tuple(out)


@dataclass
class MuSEConfig:
    """Everything needed to rebuild a MuSE model (weights aside).

    Args:
        elements: chemical symbols the model knows, e.g. ``["H", "C", "N", "O"]``.
        backbone: registered backbone name (``"painn"``).
        levels: number of coarse levels L; 0 gives the plain backbone.
        cutoffs: L+1 interaction cutoffs in Å, atoms first (default 5, 10, 20).
        num_interactions: L+1 numbers of interaction blocks per level.
        hidden: feature channels of every level.
        hops: L seeding hop radii (bonds) per coarse level.
        assign_radius: L assignment radii r_a in Å; level l's must not exceed cutoff l-1.
            Defaults to the fine level's cutoff.
        sigma: L Gaussian widths σ in Å.
        temperature: softmax temperature T of all assignments.
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
        energy_shifts: per-element energy added to each atom, in eV.
        backbone_kwargs: extra hyperparameters passed to every level's backbone.
        seed: seed of the weight initialisation, or ``None``.
    """

    elements: list[str]
    backbone: str = "painn"
    levels: int = 2
    cutoffs: tuple[float, ...] | None = None
    num_interactions: tuple[int, ...] | None = None
    hidden: int = 64
    hops: tuple[int, ...] | None = None
    assign_radius: tuple[float, ...] | None = None
    sigma: tuple[float, ...] | None = None
    temperature: float = 1.0
    hard: bool = False
    seeding: str = "symmetric"
    zbl: bool = False
    long_range: str | None = None
    long_range_sigma: float = 1.0
    long_range_neutral: str = "none"
    freeze_atoms: bool = False
    energy_shifts: dict[str, float] = field(default_factory=dict)
    backbone_kwargs: dict = field(default_factory=dict)
    seed: int | None = None

    def __post_init__(self) -> None:
        self._check_types()
        L = self.levels
        if not isinstance(L, int) or L < 0:
            raise MuSEConfigError(f"levels must be a non-negative integer, got {L!r}")
        if not self.elements:
            raise MuSEConfigError("elements must list at least one chemical symbol")
        self.elements = list(self.elements)
        bad = [e for e in self.elements if e not in atomic_numbers or e == "X"]
        if bad:
            raise MuSEConfigError(f"elements: unknown chemical symbol(s) {bad}")
        if len(set(self.elements)) != len(self.elements):
            raise MuSEConfigError(f"elements: duplicates in {self.elements}")
        self.cutoffs = self._per_level("cutoffs", self.cutoffs, _DEFAULT_CUTOFFS, L + 1, 2.0, float)
        self.num_interactions = self._per_level(
            "num_interactions", self.num_interactions, _DEFAULT_INTERACTIONS, L + 1, 1, int
        )
        self.hops = self._per_level("hops", self.hops, _DEFAULT_HOPS, L, 2, int)
        self.sigma = self._per_level("sigma", self.sigma, _DEFAULT_SIGMA, L, 2.0, float)
        if self.assign_radius is None:
            self.assign_radius = tuple(self.cutoffs[:L])
        self.assign_radius = self._per_level(
            "assign_radius", self.assign_radius, (1.0,), L, 1, float
        )
        for k in range(L):
            if self.assign_radius[k] > self.cutoffs[k] + 1e-12:
                raise MuSEConfigError(
                    f"assign_radius[{k}] = {self.assign_radius[k]} Å exceeds cutoffs[{k}] = "
                    f"{self.cutoffs[k]} Å: level {k + 1} assigns through level {k}'s graph"
                )
        for name in ("cutoffs", "sigma", "assign_radius", "hops", "num_interactions"):
            if any(v <= 0 for v in getattr(self, name)):
                raise MuSEConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.seeding not in SEEDINGS:
            raise MuSEConfigError(f"seeding must be one of {SEEDINGS}, got {self.seeding!r}")
        if self.long_range not in (None, "les"):
            raise MuSEConfigError(
                f"long_range must be None or 'les' (latent Ewald), got {self.long_range!r}"
            )
        if self.long_range_sigma <= 0:
            raise MuSEConfigError(f"long_range_sigma must be positive, got {self.long_range_sigma}")
        if self.long_range_neutral not in LES_NEUTRAL:
            raise MuSEConfigError(
                f"long_range_neutral must be one of {LES_NEUTRAL}, got {self.long_range_neutral!r}"
            )
        if self.temperature <= 0:
            raise MuSEConfigError(f"temperature must be positive, got {self.temperature}")
        if self.hidden < 2:
            raise MuSEConfigError(f"hidden must be at least 2, got {self.hidden}")
        unknown = set(self.energy_shifts) - set(self.elements)
        if unknown:
            raise MuSEConfigError(f"energy_shifts for elements not in the model: {sorted(unknown)}")
        self.energy_shifts = {k: float(v) for k, v in self.energy_shifts.items()}

    #: Scalar fields and the types they accept (checked by name before anything else).
    _SCALARS = {
        "backbone": (str,),
        "levels": (Integral,),
        "hidden": (Integral,),
        "temperature": (Real,),
        "hard": (bool,),
        "seeding": (str,),
        "zbl": (bool,),
        "long_range": (str, type(None)),
        "long_range_sigma": (Real,),
        "long_range_neutral": (str,),
        "freeze_atoms": (bool,),
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
            wrong = not isinstance(value, kinds) or (
                isinstance(value, bool) and bool not in kinds
            )
            if wrong:
                names = {Integral: "an integer", Real: "a number", type(None): "None"}
                expected = " or ".join(names.get(k, k.__name__) for k in kinds)
                raise MuSEConfigError(f"{name} must be {expected}, got {value!r}")
        for name in ("cutoffs", "num_interactions", "hops", "assign_radius", "sigma"):
            value = getattr(self, name)
            items = value if isinstance(value, (list, tuple)) else [value]
            if value is not None and not all(
                isinstance(v, Real) and not isinstance(v, bool) for v in items
            ):
                raise MuSEConfigError(
                    f"{name} must be a number or a list of numbers (one per level), got {value!r}"
                )

    @staticmethod
    def _per_level(name, value, default, n, factor, kind) -> tuple:
        if value is None:
            return _extend(tuple(kind(v) for v in default), n, factor)
        if isinstance(value, (int, float)):
            value = (value,)
        value = tuple(kind(v) for v in value)
        if len(value) != n:
            raise MuSEConfigError(
                f"{name} needs {n} value(s) for this number of levels, got {len(value)}"
            )
        return value

    def to_dict(self) -> dict:
        """Plain-Python dictionary (lists, numbers, strings), suitable for saving."""
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> MuSEConfig:
        """Rebuild from :meth:`to_dict` output, rejecting unknown fields by name."""
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise MuSEConfigError(f"unknown configuration field(s): {sorted(unknown)}")
        return cls(**d)
