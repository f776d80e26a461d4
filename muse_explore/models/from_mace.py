"""Start from a MACE model trained with mace-torch and add MuSE's coarse levels to it.

``from_mace(path, levels=2, freeze_atoms=True)`` reads a mace-torch model file (a pickled
``ScaleShiftMACE``, as ``mace_run_train`` writes), rebuilds its hyperparameters with
mace-torch's own ``extract_config_mace_model``, makes a MuSE model whose atom level is that
MACE (same weights, E0s as energy shifts) and, with ``freeze_atoms=True``, freezes it so that
training fits only the coarse levels: the way to add long range to a foundation model.
"""

from __future__ import annotations

import os


def from_mace(
    path: str | os.PathLike,
    *,
    levels=2,
    freeze_atoms: bool = True,
    seed: int | None = 0,
    **config,
):
    """A MuSE model whose atom level is the MACE model in ``path`` (mace-torch's format).

    Args:
        path: a model file written by mace-torch (``torch.save`` of a ``ScaleShiftMACE``).
        levels: coarse levels to add (their defaults above MACE's r_max and blocks), or the
            whole list of levels, atoms first, as in :class:`MuSEConfig`.
        freeze_atoms: keep the MACE weights fixed (only coarse levels train).
        seed: initialisation of the coarse levels.
        config: further :class:`MuSEConfig` fields (or per-level lists such as ``cutoffs``,
            atoms first); the atom cutoff is MACE's r_max.
    """
    from muse_explore.backbones.mace import mace_backbone_kwargs, read_mace_torch_file
    from muse_explore.models.config import MuSEConfig
    from muse_explore.models.levels import default_levels
    from muse_explore.models.muse import MuSE

    mace_model = read_mace_torch_file(path)
    kwargs, elements, shifts, r_max, n_inter = mace_backbone_kwargs(mace_model)
    hidden = int(mace_model.products[-1].linear.irreps_out.count((0, 1)))
    if not isinstance(levels, (list, tuple)):  # the default coarse levels above MACE's own
        coarse = default_levels(levels)[1:]
        config.setdefault("cutoffs", [r_max] + [lev["cutoff"] for lev in coarse])
        config.setdefault(
            "num_interactions", [n_inter] + [lev["num_interactions"] for lev in coarse]
        )
    fields = {
        "elements": elements,
        "backbone": "mace",
        "levels": levels,
        "hidden": hidden,
        "energy_shifts": shifts,
        "backbone_kwargs": kwargs,
        "freeze_atoms": freeze_atoms,
        "seed": seed,
    }
    cfg = MuSEConfig.from_dict(fields | config)
    model = MuSE(cfg)
    model.backbones[0].load_mace_weights(mace_model)
    return model
