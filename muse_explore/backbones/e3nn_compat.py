"""Importing e3nn's ``o3`` under torch >= 2.6.

e3nn 0.4.4 (the version mace-torch pins) loads its Wigner constants with ``torch.load``'s
default, which since torch 2.6 accepts only allow-listed globals; the constants contain
``slice`` objects, plain data that is safe to allow. Every backbone imports e3nn through here.
"""

from __future__ import annotations

import torch


def import_o3():
    """Return ``e3nn.o3``, allow-listing ``slice`` for torch's weights-only loader first."""
    torch.serialization.add_safe_globals([slice])
    from e3nn import o3

    return o3
