"""muse_explore: MuSE, the Multiscale Structural Ensemble, explorable in JupyterLab.

Public API::

    import muse_explore as mx
    model = mx.build_model(backbone="painn", elements=["H", "C", "N", "O"], levels=2, seed=0)
    calc = mx.MuSECalculator(model, dtype="float64")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from muse_explore.errors import (
    MuSEConfigError,
    MuSEError,
    MuSEExtrapolationWarning,
    MuSEFileError,
    MuSEInputError,
    MuSELegacyModelWarning,
)
from muse_explore.version import __version__

if TYPE_CHECKING:
    from muse_explore.models import MuSE

# The public names are imported on first use (PEP 562), so that ``import muse_explore`` and
# ``muse-explore --help`` cost little more than Python itself: torch_geometric alone takes
# about a second to import, torch another.
_LAZY = {
    "MuSECalculator": "muse_explore.calc",
    "hessian": "muse_explore.calc",
    "MuSE": "muse_explore.models",
    "MuSEConfig": "muse_explore.models",
    "load_model": "muse_explore.models",
    "from_mace": "muse_explore.models.from_mace",
    "register_backbone": "muse_explore.backbones",
    "list_pretrained": "muse_explore.pretrained",
    "load_pretrained": "muse_explore.pretrained",
}


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    try:  # a subpackage used as an attribute: mx.calc, mx.testing, mx.reference, ...
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{name}":  # the subpackage exists but lacks a dependency
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def build_model(
    *,
    backbone: str = "painn",
    elements=("H", "C", "N", "O"),
    levels: int = 2,
    seed: int | None = 0,
    **kwargs,
) -> MuSE:
    """Build a MuSE model with random weights (``levels=0``: the backbone alone).

    Keyword arguments are the fields of :class:`MuSEConfig` (``levels`` a number or a list of
    level settings, ``hidden``, ...), or, with ``levels`` a number, the per-level lists
    ``cutoffs``, ``num_interactions``, ``hops``, ``assign_radius``, ``sigma`` and one
    ``temperature``.
    """
    from muse_explore.models import MuSE, MuSEConfig

    fields = {"elements": elements, "backbone": backbone, "levels": levels, "seed": seed}
    return MuSE(MuSEConfig.from_dict(fields | kwargs))


__all__ = [
    "MuSE",
    "MuSECalculator",
    "MuSEConfig",
    "MuSEConfigError",
    "MuSEError",
    "MuSEExtrapolationWarning",
    "MuSEFileError",
    "MuSEInputError",
    "MuSELegacyModelWarning",
    "__version__",
    "build_model",
    "from_mace",
    "hessian",
    "list_pretrained",
    "load_model",
    "load_pretrained",
    "register_backbone",
]
