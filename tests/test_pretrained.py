import pytest

import muse_explore as mx
from muse_explore.pretrained import list_pretrained

from .conftest import small_model


def test_load_pretrained_takes_a_name_or_a_path(tmp_path):
    assert "muse-painn-graphene" in list_pretrained()
    path = tmp_path / "mine.pt"
    model = small_model()
    model.save(path)
    for given in (path, str(path)):
        calc = mx.load_pretrained(given, dtype="float64")
        assert calc.model.config == model.config
    with pytest.raises(mx.MuSEFileError, match="no model file"):
        mx.load_pretrained(tmp_path / "absent.pt")
    with pytest.raises(mx.MuSEFileError, match="available: .*muse-painn-graphene"):
        mx.load_pretrained("no-such-model")
