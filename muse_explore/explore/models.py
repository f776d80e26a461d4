"""Accept a model in any form the explorer's users have at hand."""

from __future__ import annotations

from muse_explore.errors import MuSEInputError


def resolve_model(model):
    """A :class:`muse_explore.MuSE` from a model, a calculator, a pretrained name or a file.

    Raises:
        MuSEInputError: for anything else, naming what was given.
    """
    from pathlib import Path

    from muse_explore.calc import MuSECalculator
    from muse_explore.models import MuSE, load_model
    from muse_explore.pretrained import list_pretrained, pretrained_path

    if isinstance(model, MuSE):
        return model
    if isinstance(model, MuSECalculator):
        return model.model
    if isinstance(model, (str, Path)):
        if str(model) in list_pretrained():
            return load_model(pretrained_path(str(model)))
        if Path(model).is_file():
            return load_model(model)
        raise MuSEInputError(
            f"{model!r} is neither a pretrained model ({', '.join(list_pretrained())}) "
            "nor a model file"
        )
    raise MuSEInputError(
        f"expected a MuSE model, a MuSECalculator, a pretrained name or a file, got "
        f"{type(model).__name__}"
    )
