"""Naive forecasts, made from the same origins as the model's, to say what "good" means."""
from __future__ import annotations

import numpy as np

def naive(values: np.ndarray, origins: np.ndarray, steps: int) -> np.ndarray:
    """The last observed value, held: ``y[o + k] = y[o - 1]``.

    Parameters
    ----------
    values : (rows, columns) observed values, original units.
    origins : (origins,) the first predicted row of each forecast; each origin reads only
        the rows before it.

    Returns (origins, steps, columns).
    """
    last = values[origins - 1]  # (origins, columns)
    return np.repeat(last[:, None, :], steps, axis=1)  # (origins, steps, columns)


def seasonal_naive(values: np.ndarray, origins: np.ndarray, steps: int, season: int) -> np.ndarray:
    """The last observed season, repeated: ``y[o + k] = y[o - season + (k mod season)]``.

    ``season`` is cut to the earliest origin when the data before it is shorter (a season of
    1 is the naive forecast). Returns (origins, steps, columns).
    """
    season = max(1, min(int(season), int(origins.min())))
    lead = np.arange(steps) % season  # (steps,)
    rows = origins[:, None] - season + lead[None, :]  # (origins, steps)
    return values[rows]  # (origins, steps, columns)


def baselines(values: np.ndarray, origins: np.ndarray, steps: int, season: int) -> dict:
    """Both baselines by name, each (origins, steps, columns)."""
    return {"naive": naive(values, origins, steps),
            "seasonal_naive": seasonal_naive(values, origins, steps, season)}
