"""The MuSE model, its configuration, physics terms and file format."""

from muse_explore.models.config import MuSEConfig
from muse_explore.models.muse import MuSE, MuSEOutput
from muse_explore.models.serialization import load_model, save_model

__all__ = ["MuSE", "MuSEConfig", "MuSEOutput", "load_model", "save_model"]
