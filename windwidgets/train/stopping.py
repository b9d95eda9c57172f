"""When a fit with ``patience`` has learnt what it will: the validation loss has flattened.

``patience`` alone waits that many epochs after the best one, however clearly the fit has
stopped learning; on the wind benchmark (``benchmarks/wait.py``) that was most of the wait.
The rule here ends it sooner: as soon as an epoch lowers the best one-step validation loss by
less than ``min_delta`` of it. It reads the validation loss, not the rolled forecasts that
pick the epoch kept: that score jumps from epoch to epoch by more than any tolerance worth
having, while the one-step loss falls smoothly until the model has learnt what it can at
this learning rate. An epoch that is worse stops nothing: ``patience`` counts it.
"""
from __future__ import annotations

import math


def flattened(val_loss: float, earlier: list, min_delta: float) -> bool:
    """Whether ``val_loss`` beats the best of the ``earlier`` epochs' validation losses by less
    than ``min_delta`` of it (a share: 0.01 is 1%). False without ``min_delta``, without an
    earlier finite loss, or for a non-finite one."""
    finite = [value for value in earlier if math.isfinite(value)]
    if not min_delta or not finite or not math.isfinite(val_loss):
        return False
    best = min(finite)
    return val_loss <= best and best - val_loss < min_delta * abs(best)
