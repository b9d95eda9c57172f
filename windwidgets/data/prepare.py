"""From a checked DataFrame to scaled tensors and windows on the training device."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..config import DataConfig
from ..errors import DataError, listing
from .calendar import calendar_names, with_calendar
from .frames import Layout, check_values, columns_of, layout_of, read_frame
from .scaling import Scaler
from .timeline import regular, with_time
from .windows import Windows


@dataclass
class Prepared:
    frame: pd.DataFrame  # the columns in use, original units
    layout: Layout
    scaler: Scaler  # fitted on the training rows, one entry per input column
    inputs: torch.Tensor  # (rows, inputs) scaled; future covariates lead by `horizon` rows
    n_train: int  # rows of the training part; the rest validates
    windows: Windows
    segments: tuple = ()  # a panel's series stacked in `inputs`: ((start, rows, n_train), ...)
    panel: dict | None = None  # a panel's series by id: (frame in original units, n_train, scaler)

    @property
    def train_rows(self) -> list:
        """(first, end) of each series' training part in ``inputs``."""
        return [(start, start + n) for start, _, n in self._segments()]

    @property
    def val_rows(self) -> list:
        """(first, end) of each series' validation part with the window before it."""
        window = self.windows.shape[0]
        return [(start + n - window, start + rows) for start, rows, n in self._segments()]

    def _segments(self) -> tuple:
        return self.segments or ((0, len(self.inputs), self.n_train),)

    @property
    def outputs(self) -> torch.Tensor:
        return self.inputs[:, : len(self.layout.outputs)]  # (rows, outputs), a view


def prepare(data, config: DataConfig, device: torch.device) -> Prepared:
    """Validate, split chronologically, scale on the train part, and window."""
    if config.series is not None:
        if config.calendar:
            raise DataError("`calendar=True` is not available with `series=` yet; add the calendar "
                            "columns to the table yourself and name them in future_covariates")
        from .panel import prepare_panel

        return prepare_panel(data, config, device)
    frame = with_time(read_frame(data), config.time)
    layout = layout_of(frame, config.target, config.covariates, config.future_covariates)
    frame = regular(frame, layout.inputs, config.freq, config.fill)
    if config.calendar:  # made after regularising: each row's own time, never averaged
        names = calendar_names(frame.index)
        frame = with_calendar(frame, names)
        layout = Layout(layout.targets, layout.covariates, layout.future_covariates + names)
    frame = columns_of(frame, layout.inputs)
    check_values(frame, layout.inputs, fix=FILL_HINT)
    n_train = split_point(len(frame), config)
    values = torch.tensor(frame.to_numpy(dtype=np.float32))  # (rows, inputs)
    scaler = Scaler(config.scaler).fit(values[:n_train])
    inputs = encode(values, scaler, layout, config.horizon)
    _check_scaled(inputs, frame)
    inputs = to_device(inputs, device)
    windows = Windows(inputs, inputs[:, : len(layout.outputs)], config.window, config.horizon, n_train)
    return Prepared(frame, layout, scaler, inputs, n_train, windows)


FILL_HINT = ("pass fill='interpolate' or fill='ffill' to fill them (dropping the rows leaves gaps in "
             "time, which are refused too)")


def split_point(rows: int, config: DataConfig) -> int:
    """Rows in the training part, after checking both parts are long enough."""
    n_train = int(round(rows * (1.0 - config.val_fraction)))
    need = config.window + config.horizon
    if n_train - config.horizon < 1:  # not even a window of one row fits: more data is the fix
        raise DataError(
            f"the data has {rows} row{'' if rows == 1 else 's'}; `window` {config.window}, `horizon` "
            f"{config.horizon} and val_fraction={config.val_fraction} need at least {least_rows(config)} "
            "(window + horizon rows to train on, then horizon rows to validate); pass more data"
        )
    if n_train < need:
        raise DataError(
            f"`window` + `horizon` ({config.window} + {config.horizon}) is longer than the "
            f"training part of the series ({n_train} of {rows} rows at val_fraction="
            f"{config.val_fraction}); use a window of at most {n_train - config.horizon} "
            f"or pass at least {least_rows(config)} rows"
        )
    if rows - n_train < config.horizon:
        raise DataError(
            f"the validation part ({rows - n_train} rows) is shorter than `horizon` "
            f"({config.horizon}); raise val_fraction or lower the horizon"
        )
    return n_train


def least_rows(config: DataConfig) -> int:
    """The fewest rows that give both parts enough rows for ``config``."""
    window, horizon, validation = config.window, config.horizon, config.val_fraction
    rows = max(window + 2 * horizon, int((window + horizon) / (1.0 - validation)),
               int(horizon / validation)) - 2
    while True:
        n_train = int(round(rows * (1.0 - validation)))
        if n_train >= window + horizon and rows - n_train >= horizon:
            return rows
        rows += 1


def _check_scaled(inputs: torch.Tensor, frame: pd.DataFrame) -> None:
    """Values within float32 can still spread too far to scale in it."""
    bad = [c for c, finite in zip(frame.columns, torch.isfinite(inputs).all(dim=0).tolist()) if not finite]
    if bad:
        column = frame[bad[0]]
        raise DataError(
            f"column(s) {listing(bad)} span too wide a range to scale in float32 (from "
            f"{column.min():.3g} to {column.max():.3g}); rescale them, e.g. df[{bad[0]!r}] / 1e30"
        )


def encode(values: torch.Tensor, scaler: Scaler, layout: Layout, horizon: int) -> torch.Tensor:
    """Scale (rows, inputs) raw values and lead the future covariates by ``horizon`` rows.

    Row ``t`` then holds the future covariates of row ``t + horizon``: the last rows of a
    window carry exactly the known-ahead values of the block the model predicts. The last
    ``horizon`` rows have no such values yet and hold zeros; no training window reads them.
    """
    scaled = scaler.transform(values)  # (rows, inputs)
    known = len(layout.outputs)
    if len(layout.future_covariates):
        future = torch.zeros_like(scaled[:, known:])  # (rows, future)
        future[:-horizon] = scaled[horizon:, known:]
        scaled = torch.cat([scaled[:, :known], future], dim=1)  # (rows, inputs)
    return scaled.contiguous()


def to_device(values: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move the whole series to the device once when it fits comfortably; else pin it."""
    if device.type == "cpu":
        return values
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if values.numel() * values.element_size() > free // 4:
            return values.pin_memory()
    return values.to(device)
