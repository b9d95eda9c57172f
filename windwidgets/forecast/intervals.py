"""Prediction intervals from the model's own rolled-forecast errors (split conformal, by lead).

Why this method: it works for every model in the zoo and every registered one (no dropout
layers or quantile heads needed, no retraining), and it is calibrated on what a forecast
really does: the absolute errors of rolled forecasts from many origins of the validation
part, kept apart for each lead time and each target, so the band widens with the lead as
the errors do. The half-width at lead ``k`` is the conformal quantile of those errors,
``ceil((n + 1) level) / n``, so that with ``n`` exchangeable errors the interval covers at
least ``level`` of new outcomes. Monte-Carlo dropout was set aside: it needs dropout in the
model and its bands are known to be too narrow without a calibration step anyway.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import WindwidgetsError


def check_level(level) -> float | None:
    """``level`` as a float in (0, 1), or None."""
    if level is None:
        return None
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise WindwidgetsError(
            f"`interval` ({level!r}) must be a coverage level strictly between 0 and 1, such as 0.9 "
            "for a 90% prediction interval"
        )
    return float(level)


def needed(level: float) -> int:
    """The fewest calibration errors for which the conformal quantile at ``level`` is finite."""
    return max(1, math.ceil(level / (1 - level) - 1e-6))


def half_widths(errors: np.ndarray, level: float) -> np.ndarray:
    """The conformal half-width by lead and column.

    Parameters
    ----------
    errors : (origins, steps, columns) absolute errors of validation forecasts.

    Returns (steps, columns). Raises when there are too few origins for ``level``.
    """
    count = errors.shape[0]
    if count < needed(level):
        raise WindwidgetsError(
            f"`interval` ({level}) needs at least {needed(level)} validation forecasts to "
            f"calibrate on; the validation part gives {count} for this many steps. Ask for a "
            "lower level or fewer steps, or train with a larger val_fraction"
        )
    rank = min(1.0, math.ceil((count + 1) * level) / count)
    return np.quantile(errors, rank, axis=0, method="inverted_cdf")  # (steps, columns)


def rolling_half_widths(errors: np.ndarray, origins: np.ndarray, steps: int, level: float) -> np.ndarray:
    """Half-widths for backtest origins, each calibrated only on forecasts finished before it.

    Origin ``i`` may use the errors of origin ``j`` when ``origins[j] + steps <= origins[i]``:
    every truth of that forecast was known at origin ``i``. Origins with fewer such forecasts
    than the level needs get NaN. The quantile is the empirical one at ``level``, rounded up
    to an observed error (the conformal correction is left out for speed; it matters only for
    the first few dozen origins).

    Parameters
    ----------
    errors : (origins, steps, columns) absolute errors, origins in increasing order.
    origins : (origins,) their first predicted rows.

    Returns (origins, steps, columns).
    """
    count, _, columns = errors.shape
    finished = np.searchsorted(origins + steps, origins, side="right")  # (origins,): usable errors
    flat = pd.DataFrame(errors.reshape(count, steps * columns))  # (origins, steps * columns)
    expanding = flat.expanding(min_periods=needed(level)).quantile(level, interpolation="higher")
    widths = np.full((count, steps * columns), np.nan)
    usable = finished > 0
    widths[usable] = expanding.to_numpy()[finished[usable] - 1]
    return widths.reshape(count, steps, columns)  # (origins, steps, columns)
