"""The learned quantiles of a quantile model (``loss="quantile"``) as forecasts show them.

A forecast's frame gets a column ``<target>_q<level>`` per target and level (``power_q0.1``)
beside the point column, which is the median (``power_q0.5`` equals it). They hold the levels
of the first block only (``horizon`` rows): later rows are NaN, since the model reads its own
fed-back medians there as if they were known, and the spread it gives would leave out their
uncertainty (see :class:`~windwidgets.forecast.rollout.Levels`). ``interval=`` stays the
conformal band (:mod:`windwidgets.forecast.intervals`), calibrated at every lead.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .rollout import Levels, as_array


def levels_for(config) -> Levels | None:
    """An empty :class:`Levels` for a quantile run's rollouts, or None for a point loss."""
    levels = config.train.quantiles if config.train.loss == "quantile" else None
    return None if levels is None else Levels(tuple(levels).index(0.5))


def unscaled(kept: Levels, scaler, outputs: int, targets: int, steps: int, clip) -> np.ndarray:
    """The first blocks of ``kept`` in original units, clipped by ``clip`` (a function of
    (..., targets) arrays), as (batch, steps, targets, levels): NaN past the first block."""
    blocks = torch.cat(list(kept))  # (batch, horizon, outputs, levels)
    # (batch, levels, horizon, targets)
    values = as_array(scaler.inverse(blocks.movedim(-1, 1), slice(0, outputs)))[..., :targets]
    values = clip(values)
    out = np.full((values.shape[0], values.shape[1], steps, targets), np.nan)  # (batch, levels, steps, targets)
    rows = min(steps, values.shape[2])
    out[:, :, :rows] = values[:, :, :rows]
    return out.transpose(0, 2, 3, 1)  # (batch, steps, targets, levels)


def column(name, level: float) -> str:
    """The column of ``name``'s quantile at ``level``: power_q0.1."""
    return f"{name}_q{level:g}"


def with_quantiles(frame: pd.DataFrame, values: np.ndarray, targets, levels) -> pd.DataFrame:
    """``frame`` with a column per target and level after its own, target by target;
    ``values`` (steps, targets, levels). ``attrs["quantiles"]`` keeps the levels."""
    for j, name in enumerate(targets):
        for k, level in enumerate(levels):
            frame[column(name, level)] = values[:, j, k]
    frame.attrs["quantiles"] = tuple(levels)
    return frame
