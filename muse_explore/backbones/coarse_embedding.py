"""Initial features of coarse nodes, shared by every backbone's ``embed_coarse``."""

from __future__ import annotations

import torch
from torch import nn


class CoarseEmbedding(nn.Module):
    r"""Scalars of a coarse node from its pooled scalars and its total weight.

    .. math::
        \mathbf{h}_k = \mathrm{MLP}\big([\,\mathbf{h}^{pool}_k,\ \log M_k\,]\big)

    ``log M_k`` tells the node how many fine nodes it holds (M_k > 0 always).

    Shapes:
        pooled (K, F), weight (K,) -> (K, F).
    """

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(hidden + 1, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
        )

    def forward(self, pooled: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([pooled, torch.log(weight).unsqueeze(-1)], dim=-1))
