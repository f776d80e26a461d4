"""Accept a model in any form the explorer's users have at hand."""

from __future__ import annotations

from muse_explore.errors import MuSEInputError


def resolve_model(model):
    """A :class:`muse_explore.MuSE` from a model, a calculator, a pretrained name or a file.

    A file is a model file (``best_model.pt``, an exported model) or a training checkpoint
    (``checkpoints/last.pt``, whose EMA weights are taken), as ``muse-explore evaluate`` reads.

    Raises:
        MuSEInputError: for anything else, naming what was given.
    """
    from pathlib import Path

    from muse_explore.calc import MuSECalculator
    from muse_explore.models import MuSE, load_model
    from muse_explore.pretrained import list_pretrained, load_shipped
    from muse_explore.pretrained.registry import with_registered_reach
    from muse_explore.training.evaluation import load_for_evaluation

    if isinstance(model, MuSE):
        return model
    if isinstance(model, MuSECalculator):
        return model.model
    if isinstance(model, (str, Path)):
        if str(model) in list_pretrained():
            return load_shipped(str(model))
        if Path(model).is_dir():
            return load_model(model)  # its error names the folder and the file inside
        if Path(model).is_file():  # a shipped or exported file: its registry's record too
            return with_registered_reach(load_for_evaluation(model), Path(model))
        raise MuSEInputError(
            f"{str(model)!r} is neither a pretrained model ({', '.join(list_pretrained())}) "
            "nor an existing file"
        )
    raise MuSEInputError(
        f"expected a MuSE model, a MuSECalculator, a pretrained name or a file, got "
        f"{type(model).__name__}"
    )
