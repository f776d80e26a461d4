"""Backbones (one scale of an MLFF each) and the contract they honour."""

from __future__ import annotations

from muse_explore.backbones.contract import Backbone, GeometricGraph, NodeState
from muse_explore.backbones.mace import MACE
from muse_explore.backbones.painn import PaiNN
from muse_explore.backbones.so3krates import SO3krates
from muse_explore.errors import MuSEConfigError, MuSEUnknownBackboneError

#: Name -> backbone class; each takes ``(atomic_numbers | None, cutoff, *, hidden,
#: num_interactions, **specific)``: the atom level gets the atomic numbers of its species (in
#: species order), coarse levels None.
BACKBONES: dict[str, type[Backbone]] = {"painn": PaiNN, "mace": MACE, "so3krates": SO3krates}
#: The backbones that ship with muse_explore (their names cannot be taken by another class).
BUILT_IN = tuple(BACKBONES)
#: Environment variable: modules (comma-separated) that register backbones of their own,
#: imported when a backbone name is not registered. This is how ``muse-explore`` commands
#: (train, evaluate, hessian, export, torchrun) find a backbone of yours.
MODULES_ENV = "MUSE_EXPLORE_BACKBONES"
#: Name -> the module whose code called :func:`register_backbone` for it (``"__main__"`` for a
#: notebook, a script or code run with ``exec``): model files record it, so that loading one
#: where the name is not registered can say what to import.
REGISTERED_BY: dict[str, str] = {}


def register_backbone(name: str, cls: type[Backbone]) -> None:
    """Make ``cls`` a backbone that MuSE builds by ``name`` at every level.

    After it, ``mx.build_model(backbone=name, ...)`` builds models on it, and model files
    saved with it load (register it again in a new process before ``mx.load_model``).
    Registering a name again replaces its class (a notebook cell run twice), except for the
    built-in backbones. See docs/backbones.md, "Your own backbone".

    Raises:
        MuSEConfigError: a name that is not a word, a built-in name, a class that is not a
            :class:`Backbone` subclass, one with abstract methods left, or a constructor
            without the contract's hyperparameters (``hidden``, ``num_interactions``).
    """
    import inspect
    import sys

    if not isinstance(name, str) or not name.replace("-", "_").isidentifier():
        raise MuSEConfigError(
            "a backbone name is letters, digits, '_' and '-', not starting with a digit, such "
            f"as 'cfconv'; got {name!r}"
        )
    if name.lower() in BUILT_IN and BACKBONES.get(name) is not cls:
        raise MuSEConfigError(
            f"{name!r} is (or differs only in case from) a built-in backbone; give yours "
            "another name"
        )
    if not (isinstance(cls, type) and issubclass(cls, Backbone)):
        raise MuSEConfigError(
            f"register_backbone({name!r}, ...): {cls!r} is not a subclass of "
            "muse_explore.backbones.Backbone"
        )
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise MuSEConfigError(f"backbone {name!r} ({cls.__name__}) does not implement {missing}")
    _check_hyperparameters(name, cls)
    BACKBONES[name] = cls
    REGISTERED_BY[name] = sys._getframe(1).f_globals.get("__name__", "__main__")


def build_backbone(
    name: str, atomic_numbers: list[int] | None, cutoff: float, **kwargs
) -> Backbone:
    """Instantiate a registered backbone for one level."""
    if name not in BACKBONES:
        _import_registering_modules()
    try:
        cls = BACKBONES[name]
    except KeyError:
        raise MuSEUnknownBackboneError(
            f"unknown backbone {name!r}; available: {', '.join(sorted(BACKBONES))} (a backbone "
            "of your own: mx.register_backbone(name, cls) first, also before loading its model "
            f"files; for muse-explore commands, name the module that registers it in {MODULES_ENV})"
        ) from None
    _check_hyperparameters(name, cls)
    try:
        return cls(atomic_numbers, cutoff, **kwargs)
    except TypeError as err:
        raise MuSEConfigError(f"bad hyperparameters for backbone {name!r}: {err}") from None


def _import_registering_modules() -> None:
    """Import the modules that :data:`MODULES_ENV` names (each registers its backbones)."""
    import importlib
    import os

    for module in filter(None, (m.strip() for m in os.environ.get(MODULES_ENV, "").split(","))):
        try:
            importlib.import_module(module)
        except ImportError as err:
            hint = ""
            if getattr(err, "name", None) == module and os.path.isfile(f"{module}.py"):
                hint = (
                    f"; ./{module}.py is there, but the current directory is not on the path "
                    "of a console script: run with PYTHONPATH=."
                )
            raise MuSEConfigError(
                f"{MODULES_ENV}={os.environ[MODULES_ENV]!r}: cannot import {module!r} ({err}){hint}"
            ) from None


def _check_hyperparameters(name: str, cls) -> None:
    import inspect

    parameters = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return  # **kwargs: a wrapper that passes them on (its parent is checked when built)
    missing = [k for k in Backbone.HYPERPARAMETERS if k not in parameters]
    if missing:
        raise MuSEConfigError(
            f"backbone {name!r} breaks the contract: its constructor takes no "
            f"{', '.join(missing)} (every backbone takes {', '.join(Backbone.HYPERPARAMETERS)})"
        )


__all__ = [
    "BACKBONES",
    "Backbone",
    "GeometricGraph",
    "MACE",
    "NodeState",
    "PaiNN",
    "SO3krates",
    "build_backbone",
    "register_backbone",
]
