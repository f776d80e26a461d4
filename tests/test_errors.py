"""One base class catches every muse_explore error; each keeps its built-in kind."""

import numpy as np
import pytest
from ase import Atoms

import muse_explore as mx
from muse_explore import errors

from .conftest import small_model


def test_every_error_class_is_a_muse_error_and_keeps_its_builtin_kind():
    kinds = {
        errors.MuSEInputError: ValueError,
        errors.MuSEFileError: OSError,
        errors.MuSEConfigError: ValueError,
        errors.MuSEUnknownBackboneError: errors.MuSEConfigError,
        errors.MuSENumericalError: FloatingPointError,
        errors.MuSETrainingError: RuntimeError,
    }
    defined = {
        v
        for v in vars(errors).values()
        if isinstance(v, type) and issubclass(v, Exception) and not issubclass(v, Warning)
    }
    assert defined - {errors.MuSEError} == set(kinds), "a new error class needs its kind here"
    for cls, kind in kinds.items():
        assert issubclass(cls, errors.MuSEError) and issubclass(cls, kind)
    assert mx.MuSEError is errors.MuSEError


def test_one_except_clause_catches_input_file_and_config_errors(tmp_path):
    bad_file = tmp_path / "m.pt"
    bad_file.write_text("not a model")
    far_apart = Atoms("CU", positions=[[0, 0, 0], [3, 0, 0]])  # U: not a model element
    calc = mx.MuSECalculator(small_model())
    failures = [
        lambda: mx.load_model(bad_file),
        lambda: mx.load_pretrained("no-such-model"),
        lambda: mx.MuSECalculator(small_model(), dtype="float16"),
        lambda: calc.get_potential_energy(far_apart),
        lambda: calc.get_potential_energy(Atoms("CC", positions=[[0, 0, 0], [np.nan, 0, 0]])),
    ]
    for call in failures:
        with pytest.raises(mx.MuSEError):
            call()
