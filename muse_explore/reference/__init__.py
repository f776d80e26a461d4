"""Reference structures (and, later, GFN2-xTB reference data)."""

from muse_explore.reference.structures import (
    benzene_on_graphene,
    graphene_flake,
    graphene_sheet,
    place_molecule,
)

__all__ = ["benzene_on_graphene", "graphene_flake", "graphene_sheet", "place_molecule"]
