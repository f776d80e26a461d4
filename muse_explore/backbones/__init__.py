"""Backbones (one scale of an MLFF each) and the contract they honour."""

from __future__ import annotations

from muse_explore.backbones.contract import Backbone, GeometricGraph, NodeState
from muse_explore.backbones.mace import MACE
from muse_explore.backbones.painn import PaiNN
from muse_explore.backbones.so3krates import SO3krates
from muse_explore.errors import MuSEConfigError

#: Name -> backbone class; each takes ``(atomic_numbers | None, cutoff, *, hidden,
#: num_interactions, **specific)``: the atom level gets the atomic numbers of its species (in
#: species order), coarse levels None.
BACKBONES: dict[str, type[Backbone]] = {"painn": PaiNN, "mace": MACE, "so3krates": SO3krates}


def build_backbone(
    name: str, atomic_numbers: list[int] | None, cutoff: float, **kwargs
) -> Backbone:
    """Instantiate a registered backbone for one level."""
    try:
        cls = BACKBONES[name]
    except KeyError:
        raise MuSEConfigError(
            f"unknown backbone {name!r}; available: {', '.join(sorted(BACKBONES))}"
        ) from None
    missing = [k for k in Backbone.HYPERPARAMETERS if k not in _keywords(cls)]
    if missing:
        raise MuSEConfigError(
            f"backbone {name!r} breaks the contract: its constructor takes no "
            f"{', '.join(missing)} (every backbone takes {', '.join(Backbone.HYPERPARAMETERS)})"
        )
    try:
        return cls(atomic_numbers, cutoff, **kwargs)
    except TypeError as err:
        raise MuSEConfigError(f"bad hyperparameters for backbone {name!r}: {err}") from None


def _keywords(cls) -> set[str]:
    import inspect

    return set(inspect.signature(cls.__init__).parameters)


__all__ = [
    "BACKBONES",
    "Backbone",
    "GeometricGraph",
    "MACE",
    "NodeState",
    "PaiNN",
    "SO3krates",
    "build_backbone",
]
