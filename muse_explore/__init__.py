"""muse_explore: MuSE, the Multiscale Structural Ensemble, explorable in JupyterLab.

Public API::

    import muse_explore as mx
    model = mx.build_model(backbone="painn", elements=["H", "C", "N", "O"], levels=2, seed=0)
    calc = mx.MuSECalculator(model, dtype="float64")
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("muse-explore")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from muse_explore.calc import MuSECalculator, hessian
from muse_explore.errors import (
    MuSEConfigError,
    MuSEFileError,
    MuSEInputError,
    MuSELegacyModelWarning,
)
from muse_explore.models import MuSE, MuSEConfig, load_model
from muse_explore.models.from_mace import from_mace
from muse_explore.pretrained import list_pretrained, load_pretrained


def build_model(
    *,
    backbone: str = "painn",
    elements=("H", "C", "N", "O"),
    levels: int = 2,
    seed: int | None = 0,
    **kwargs,
) -> MuSE:
    """Build a MuSE model with random weights (``levels=0``: the backbone alone).

    Keyword arguments are the fields of :class:`MuSEConfig` (cutoffs, hidden, sigma, hops, ...).
    """
    return MuSE(
        MuSEConfig(elements=elements, backbone=backbone, levels=levels, seed=seed, **kwargs)
    )


__all__ = [
    "MuSE",
    "MuSECalculator",
    "MuSEConfig",
    "MuSEConfigError",
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
]
