"""Start from a MACE model trained with mace-torch and add MuSE's coarse levels to it.

``from_mace(path, levels=2, freeze_atoms=True)`` reads a mace-torch model file (a pickled
``ScaleShiftMACE``, as ``mace_run_train`` writes), rebuilds its hyperparameters with
mace-torch's own ``extract_config_mace_model``, makes a MuSE model whose atom level is that
MACE (same weights, E0s as energy shifts) and, with ``freeze_atoms=True``, freezes it so that
training fits only the coarse levels: the way to add long range to a foundation model.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from ase.data import chemical_symbols

from muse_explore.errors import MuSEConfigError, MuSEFileError


def _gate_name(gate) -> str | None:
    if gate is None:
        return None
    name = getattr(gate, "__name__", str(gate))
    if name not in ("silu", "tanh"):
        raise MuSEConfigError(f"MACE readout gate {name!r} is not supported (silu or tanh)")
    return name


def mace_backbone_kwargs(mace_model) -> tuple[dict, list[str], dict[str, float], float, int]:
    """Hyperparameters of a mace-torch ``ScaleShiftMACE`` in MuSE's terms.

    Returns ``(backbone_kwargs, elements, energy_shifts, r_max, num_interactions)``.
    """
    from mace.tools.scripts_utils import extract_config_mace_model

    cfg = extract_config_mace_model(mace_model)
    if "error" in cfg:
        raise MuSEConfigError(f"cannot use this MACE model: {cfg['error']}")
    if len(cfg["heads"]) != 1:
        raise MuSEConfigError(f"multi-head MACE models are not supported (heads {cfg['heads']})")
    if cfg.get("pair_repulsion"):
        raise MuSEConfigError("MACE models with pair repulsion are not supported; use zbl=True")
    for flag in (
        "use_so3",
        "use_agnostic_product",
        "use_last_readout_only",
        "use_embedding_readout",
    ):
        if cfg.get(flag):
            raise MuSEConfigError(f"MACE option {flag} is not supported")
    if cfg.get("distance_transform") not in (None, "None"):
        raise MuSEConfigError(
            f"MACE distance transform {cfg['distance_transform']} is not supported"
        )
    zs = [int(z) for z in cfg["atomic_numbers"]]
    elements = [chemical_symbols[z] for z in zs]
    e0 = torch.as_tensor(cfg["atomic_energies"]).reshape(-1, len(zs))[0]
    corr = cfg["correlation"]
    kwargs = {
        "hidden_irreps": str(cfg["hidden_irreps"]),
        "max_ell": int(cfg["max_ell"]),
        "correlation": [int(c) for c in corr] if isinstance(corr, (list, tuple)) else int(corr),
        "num_bessel": int(cfg["num_bessel"]),
        "num_polynomial_cutoff": int(cfg["num_polynomial_cutoff"]),
        "mlp_irreps": str(cfg["MLP_irreps"]),
        "radial_mlp": [int(x) for x in cfg["radial_MLP"]],
        "avg_num_neighbors": float(cfg["avg_num_neighbors"]),
        "interaction": cfg["interaction_cls"].__name__,
        "interaction_first": cfg["interaction_cls_first"].__name__,
        "gate": _gate_name(cfg["gate"]),
        "scale": float(torch.as_tensor(cfg["atomic_inter_scale"]).reshape(-1)[0]),
        "shift": float(torch.as_tensor(cfg["atomic_inter_shift"]).reshape(-1)[0]),
        "radial_type": cfg["radial_type"],
    }
    shifts = {e: float(v) for e, v in zip(elements, e0.tolist(), strict=True)}
    return kwargs, elements, shifts, float(cfg["r_max"]), int(cfg["num_interactions"])


def from_mace(
    path: str | os.PathLike,
    *,
    levels: int = 2,
    freeze_atoms: bool = True,
    seed: int | None = 0,
    **config,
):
    """A MuSE model whose atom level is the MACE model in ``path`` (mace-torch's format).

    Args:
        path: a model file written by mace-torch (``torch.save`` of a ``ScaleShiftMACE``).
        levels: coarse levels to add.
        freeze_atoms: keep the MACE weights fixed (only coarse levels train).
        seed: initialisation of the coarse levels.
        config: further :class:`MuSEConfig` fields (coarse ``cutoffs`` etc.); the atom cutoff
            is MACE's r_max.
    """
    from muse_explore.models.config import MuSEConfig
    from muse_explore.models.muse import MuSE

    path = Path(path)
    if not path.is_file():
        raise MuSEFileError(f"no MACE model file at {path}")
    from muse_explore.backbones.mace import _mace_modules

    _mace_modules()  # make e3nn importable under torch's weights-only default
    try:
        # mace-torch stores whole pickled modules: only load files you trust
        mace_model = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise MuSEFileError(f"{path} is not a readable mace-torch model: {err}") from None
    if not isinstance(mace_model, torch.nn.Module):
        raise MuSEFileError(f"{path} does not hold a mace-torch model")
    kwargs, elements, shifts, r_max, n_inter = mace_backbone_kwargs(mace_model)
    hidden = int(mace_model.products[-1].linear.irreps_out.count((0, 1)))
    cutoffs = config.pop("cutoffs", None)
    if cutoffs is None:
        cutoffs = (r_max, *[max(2 * r_max, 10.0) * 2**k for k in range(levels)])
    interactions = config.pop("num_interactions", (n_inter,) + (1,) * levels)
    cfg = MuSEConfig(
        elements=elements,
        backbone="mace",
        levels=levels,
        cutoffs=cutoffs,
        num_interactions=interactions,
        hidden=hidden,
        energy_shifts=shifts,
        backbone_kwargs=kwargs,
        freeze_atoms=freeze_atoms,
        seed=seed,
        **config,
    )
    model = MuSE(cfg)
    model.backbones[0].mace.load_state_dict(mace_model.state_dict(), strict=True)
    return model
