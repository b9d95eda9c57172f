"""Panels: many series in one long table (a turbine id column), one global model across them.

Each series is checked, regularised and split by time on its own. By default one scaler is
fitted on the training parts of all of them together (``series_scaling="global"``: the
model sees every series in the same units, and a level tells one series from another);
``series_scaling="series"`` fits one per series on its own training part (series of very
different sizes then weigh alike in the loss). The series are stacked in one tensor and
windows and chunks are taken within a series only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..config import DataConfig
from ..errors import DataError, closest, listing
from .frames import check_values, columns_of, layout_of, read_frame
from .scaling import Scaler
from .timeline import regular, with_time
from .windows import Windows


def prepare_panel(data, config: DataConfig, device: torch.device):
    """Like :func:`~windwidgets.data.prepare`, for a long table of series named by ``config.series``."""
    from .prepare import FILL_HINT, Prepared, encode, split_point, to_device

    frame = with_time(read_frame(data), config.time)
    name = config.series
    if name not in frame.columns:
        raise DataError(
            f"`series` names column {name!r}, which is not in the data"
            f"{closest(str(name), map(str, frame.columns))}; columns: {listing(frame.columns)}"
        )
    ids = frame[name]
    if ids.isna().any():
        raise DataError(f"`series` column {name!r} has {int(ids.isna().sum())} missing id(s) (first at "
                        f"{frame.index[int(np.argmax(ids.isna().to_numpy()))]}); drop those rows or give them an id")
    frame = frame.drop(columns=name)
    layout = layout_of(frame, config.target, config.covariates, config.future_covariates)
    parts, splits = {}, {}
    for key in pd.unique(ids):
        try:
            part = frame[(ids == key).to_numpy()]
            part = columns_of(regular(part, layout.inputs, config.freq, config.fill), layout.inputs)
            check_values(part, layout.inputs, fix=FILL_HINT)
            splits[key] = split_point(len(part), config)
        except DataError as error:
            raise DataError(f"series {key!r} ({name}): {error}") from None
        parts[key] = part
    values = {key: torch.tensor(part.to_numpy(dtype=np.float32)) for key, part in parts.items()}  # (rows, inputs)
    scaler = Scaler(config.scaler).fit(torch.cat([values[key][: splits[key]] for key in parts]))
    scalers = ({key: Scaler(config.scaler).fit(values[key][: splits[key]]) for key in parts}
               if config.series_scaling == "series" else dict.fromkeys(parts, scaler))
    encoded = [encode(values[key], scalers[key], layout, config.horizon) for key in parts]  # each (rows, inputs)
    inputs = to_device(torch.cat(encoded).contiguous(), device)  # (all rows, inputs)
    starts = np.cumsum([0] + [len(part) for part in parts.values()])[:-1]
    segments = tuple((int(start), len(part), splits[key]) for start, (key, part) in zip(starts, parts.items()))
    windows = Windows(inputs, inputs[:, : len(layout.outputs)], config.window, config.horizon, 0, segments)
    panel = {key: (part, splits[key], scalers[key]) for key, part in parts.items()}
    stacked = pd.concat(list(parts.values()))
    return Prepared(stacked, layout, scaler, inputs, sum(splits.values()), windows, segments, panel)
