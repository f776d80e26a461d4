"""Exceptions raised by muse_explore for bad input, files and configurations."""


class MuSEInputError(ValueError):
    """A structure cannot be evaluated: the message names the problem and the atoms involved."""


class MuSEFileError(OSError):
    """A saved model or data file is missing, corrupt or not a muse_explore file."""


class MuSEConfigError(ValueError):
    """A model configuration is invalid: the message names the field."""


class MuSELegacyModelWarning(UserWarning):
    """A model file from an older format was loaded in legacy mode; it should be retrained."""
