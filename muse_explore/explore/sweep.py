"""A σ or temperature sweep: the values a ▶ play control steps through, there and back.

Widening σ lets an atom's share spread over more nodes, narrowing it hardens the partition;
a high temperature flattens the softmax, a low one sharpens it. Stepping through a geometric
range and back (ping-pong, so a looping player never jumps) shows atoms flowing between nodes.
"""

from __future__ import annotations

import numpy as np

#: Default ranges: σ in Å, and the softmax temperature.
SWEEP_RANGES = {"sigma": (0.5, 6.0), "temperature": (0.1, 10.0)}


def sweep_values(kind: str, steps: int = 12, *, low: float | None = None,
                 high: float | None = None) -> np.ndarray:  # fmt: skip
    """``steps`` values from ``low`` to ``high`` (geometric), then back without repeats.

    Args:
        kind: ``"sigma"`` or ``"temperature"`` (sets the default range, :data:`SWEEP_RANGES`).
        steps: values on the way up (at least 2).
        low: the lower end of the range (positive; default from :data:`SWEEP_RANGES`).
        high: the upper end (``> low``).

    Returns:
        ``2 * steps - 2`` values: up, then down, ending one step above ``low`` so that the
        next loop starts at ``low`` again.
    """
    if kind not in SWEEP_RANGES:
        raise ValueError(f"kind must be one of {sorted(SWEEP_RANGES)}, got {kind!r}")
    lo, hi = SWEEP_RANGES[kind]
    lo, hi = low if low is not None else lo, high if high is not None else hi
    if steps < 2 or not 0 < lo < hi:
        raise ValueError(f"need steps >= 2 and 0 < low < high, got {steps}, {lo}, {hi}")
    up = np.geomspace(lo, hi, steps)
    return np.concatenate([up, up[-2:0:-1]])
