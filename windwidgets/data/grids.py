"""Sequences of grids (a weather map, a wind field) for the convlstm.

A grid series is stored like any other series, one row per time step, with one column per
cell named ``"channel:row:column"`` (e.g. ``"0:3:4"``), channels first, then rows, then
columns: the order of ``array.reshape(time, -1)``. Windows, scaling, rollouts and files then
work unchanged; the model unflattens the rows into grids.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..errors import DataError
from .frames import read_frame
from .scaling import Scaler


def grid(n: int = 400, size: int = 16, blobs: int = 1, speed: float = 1.0, width: float = 1.5,
         noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Gaussian blobs that move in straight lines and bounce off the edges of a square grid.

    Each blob starts at a random place with a random heading and moves ``speed`` cells per
    step; a step's frame is the sum of the blobs (peak 1, standard deviation ``width`` cells),
    plus Gaussian noise of standard deviation ``noise``. Where a blob goes next depends on
    where it was a few frames ago, which a single frame cannot tell: the persistence
    forecast (the last frame again) is a fair baseline to beat.

    Returns
    -------
    float32 array (n, 1, size, size): (time, channels, rows, columns)
    """
    rng = np.random.default_rng(seed)
    position = rng.uniform(0.2, 0.8, (blobs, 2)) * (size - 1)  # (blobs, row/column)
    heading = rng.uniform(0, 2 * np.pi, blobs)
    velocity = speed * np.stack([np.sin(heading), np.cos(heading)], axis=1)  # (blobs, 2)
    cells = np.arange(size)
    frames = np.zeros((n, 1, size, size), dtype=np.float64)
    for t in range(n):
        for (row, column) in position:
            frames[t, 0] += np.exp(-((cells[:, None] - row) ** 2 + (cells[None, :] - column) ** 2)
                                   / (2 * width**2))
        position = position + velocity
        for axis in range(2):  # reflect off the walls at 0 and size - 1
            low, high = position[:, axis] < 0, position[:, axis] > size - 1
            position[low, axis] = -position[low, axis]
            position[high, axis] = 2 * (size - 1) - position[high, axis]
            velocity[low | high, axis] *= -1
    if noise:
        frames += rng.normal(0.0, noise, frames.shape)
    return frames.astype(np.float32)


def grid_columns(shape: tuple) -> list:
    """The column names of flattened grids of ``shape`` (channels, rows, columns)."""
    channels, rows, columns = shape
    return [f"{c}:{r}:{x}" for c in range(channels) for r in range(rows) for x in range(columns)]


def flatten_grids(grids, index=None) -> pd.DataFrame:
    """A DataFrame of one flattened grid per row from an array (time, [channels,] rows, columns)."""
    grids = np.asarray(grids)
    if grids.ndim == 3:
        grids = grids[:, None]  # (time, 1, rows, columns)
    if grids.ndim != 4:
        raise DataError(f"grids have shape {grids.shape}; pass (time, channels, rows, columns) or "
                        "(time, rows, columns)")
    flat = grids.reshape(len(grids), -1)  # (time, channels * rows * columns)
    return pd.DataFrame(flat, columns=grid_columns(grids.shape[1:]), index=index)


def grid_frame(data) -> tuple:
    """``data`` as (DataFrame of flattened grids, (channels, rows, columns))."""
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    if isinstance(data, np.ndarray):
        if data.ndim not in (3, 4):
            raise DataError(f"`data` is an array of shape {data.shape}; model='convlstm' reads grids "
                            "shaped (time, channels, rows, columns) or (time, rows, columns)")
        frame = flatten_grids(data)
        return frame, tuple(int(n) for n in (data.shape[1:] if data.ndim == 4 else (1, *data.shape[1:])))
    frame = read_frame(data)
    cells = [_cell(name) for name in frame.columns]
    if any(cell is None for cell in cells):
        bad = [name for name, cell in zip(frame.columns, cells) if cell is None][:3]
        raise DataError(
            f"model='convlstm' reads a DataFrame of flattened grids, one column per cell named "
            f"'channel:row:column' or 'row:column' (or a MultiIndex of those levels); column(s) "
            f"{', '.join(map(repr, bad))} do not fit. ww.data.grids.flatten_grids(array) makes one"
        )
    cells = [cell if len(cell) == 3 else (0, *cell) for cell in cells]
    shape = tuple(max(cell[k] for cell in cells) + 1 for k in range(3))
    if len(set(cells)) != len(cells) or len(cells) != int(np.prod(shape)):
        raise DataError(f"the grid columns do not cover a full {shape[1]} x {shape[2]} grid of "
                        f"{shape[0]} channel(s) exactly once ({len(cells)} columns for "
                        f"{int(np.prod(shape))} cells)")
    order = sorted(range(len(cells)), key=lambda k: cells[k])
    frame = frame.iloc[:, order].copy()
    frame.columns = grid_columns(shape)
    return frame, shape


def _cell(name):
    parts = name if isinstance(name, tuple) else str(name).split(":")
    try:
        cell = tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        return None
    return cell if len(cell) in (2, 3) and min(cell) >= 0 else None


def channel_scaler(kind, values: torch.Tensor, shape: tuple) -> Scaler:
    """A Scaler with one shift and scale per channel, shared by its cells (a per-cell scale
    would distort a pattern as it moves), spread over the flattened columns."""
    channels = shape[0]
    per_channel = values.view(len(values), channels, -1).transpose(1, 2).reshape(-1, channels)  # (rows * cells, channels)
    scaler = Scaler(kind).fit(per_channel)
    cells = int(np.prod(shape[1:]))
    scaler.shift = scaler.shift.repeat_interleave(cells)  # (channels * cells,)
    scaler.scale = scaler.scale.repeat_interleave(cells)
    return scaler
