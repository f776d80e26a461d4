"""Exceptions raised by muse_explore for bad input, files and configurations."""


class MuSEInputError(ValueError):
    """A structure cannot be evaluated: the message names the problem and the atoms involved."""


class MuSEFileError(OSError):
    """A saved model or data file is missing, corrupt or not a muse_explore file."""


class MuSEConfigError(ValueError):
    """A model configuration is invalid: the message names the field."""


class MuSEUnknownBackboneError(MuSEConfigError):
    """A configuration names a backbone that nothing has registered in this process."""


class MuSENumericalError(FloatingPointError):
    """The model's own numbers overflowed on a valid input (non-finite features or positions)."""


class MuSETrainingError(RuntimeError):
    """Training cannot go on (its weights give non-finite losses or gradients on every batch)."""


class MuSESkippedStepWarning(UserWarning):
    """A training step was skipped: its loss or gradients were not finite."""


class MuSELegacyModelWarning(UserWarning):
    """A model file from an older format was loaded in legacy mode; it should be retrained."""
