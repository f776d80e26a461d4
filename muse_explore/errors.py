"""Exceptions raised by muse_explore for bad input, files and configurations.

Every error is a :class:`MuSEError` (``except mx.MuSEError`` catches them all) and also the
built-in type its kind suggests (``ValueError`` for bad input and configurations,
``OSError`` for files), so code that catches those keeps working.
"""


class MuSEError(Exception):
    """Base of every muse_explore error."""


class MuSEInputError(MuSEError, ValueError):
    """A structure cannot be evaluated: the message names the problem and the atoms involved."""


class MuSEFileError(MuSEError, OSError):
    """A saved model or data file is missing, corrupt or not a muse_explore file."""


class MuSEConfigError(MuSEError, ValueError):
    """A model configuration is invalid: the message names the field."""


class MuSEUnknownBackboneError(MuSEConfigError):
    """A configuration names a backbone that nothing has registered in this process."""


class MuSENumericalError(MuSEError, FloatingPointError):
    """The model's own numbers overflowed on a valid input (non-finite features or positions)."""


class MuSETrainingError(MuSEError, RuntimeError):
    """Training cannot go on (its weights give non-finite losses or gradients on every batch)."""


class MuSESkippedStepWarning(UserWarning):
    """A training step was skipped: its loss or gradients were not finite."""


class MuSEExtrapolationWarning(UserWarning):
    """A structure takes a model's coarse levels far beyond anything in its training data."""


class MuSELegacyModelWarning(UserWarning):
    """A model file from an older format was loaded in legacy mode; it should be retrained."""
