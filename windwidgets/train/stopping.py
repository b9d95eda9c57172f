"""Early stopping (``patience``), and what comes with it: a fit ends once its validation loss
has flattened (``min_delta``), and slows down where it stops improving (``lr_factor``).

``patience`` alone waits that many epochs after the best one, however clearly the fit has
stopped learning; on the wind benchmark (``benchmarks/wait.py``) that was most of the wait.
``min_delta`` (off by default) ends it sooner: as soon as an epoch lowers the best one-step
validation loss by less than that share of it. On ``benchmarks/real_wind.py`` the shorter fits
it made forecast the real series a day ahead 12% worse, so it is a choice, not a default. It reads the validation loss, not the rolled forecasts that
pick the epoch kept: that score jumps from epoch to epoch by more than any tolerance worth
having, while the one-step loss falls smoothly until the model has learnt what it can at
this learning rate. An epoch that is worse stops nothing: ``patience`` counts it, and the
learning rate is multiplied by ``lr_factor`` (as torch's ``ReduceLROnPlateau`` with no
patience of its own): at a constant rate the loss of a fit that has learnt what it can keeps
jumping by a few percent from epoch to epoch, which no tolerance tells from learning.
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


def patience_stop(progress, earlier: list, config) -> str | None:
    """Why a fit with ``patience`` stops after this epoch: "early_stopping" (``patience``
    epochs without a better score), "flattened" (see :func:`flattened`), or None."""
    if progress.epoch - progress.improved_epoch >= config.patience:
        return "early_stopping"
    if flattened(progress.val_loss, earlier, config.min_delta):
        return "flattened"
    return None


def on_plateau(optimizer, val_loss: float, earlier: list, factor: float) -> None:
    """Multiply the learning rate by ``factor`` after an epoch whose ``val_loss`` is no lower
    than the best of the ``earlier`` epochs' (a NaN one included)."""
    finite = [value for value in earlier if math.isfinite(value)]
    if factor == 1 or not finite or val_loss < min(finite):
        return
    for group in optimizer.param_groups:
        group["lr"] *= factor
