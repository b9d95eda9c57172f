"""One pipeline for every kind of data, from what a person passes to windows on the device.

    read (a table, or grids) -> layout (which columns play which part)
      -> series (one, or a panel's many: each regularised, filled, given its calendar,
         checked and split by time on its own)
      -> scale (on the training parts) -> encode and stack -> windows within each series

A single series is a panel of one, and grids (the convlstm's) are one more way of reading
the rows, so every setting means the same on all of them or is refused by one rule
(:func:`check_kind`) that names the setting and the kind of data.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from ..config import DataConfig
from ..errors import DataError, closest, listing, warn
from .calendar import calendar_names, with_calendar
from .frames import Layout, check_values, columns_of, layout_of, read_frame
from .grids import channel_scaler, grid_frame
from .scaling import Scaler
from .series import season_of
from .statics import scaled_over_series, static_names, static_values, with_statics
from .timeline import regularised, with_time
from .windows import Windows

READS = ("table", "grids")  # the kinds of data a model can read (the zoo's ``reads=``)
NOT_FOR_GRIDS = ("target", "covariates", "future_covariates", "static_covariates", "series", "time", "calendar")
FILL_HINT = ("pass fill='interpolate' or fill='ffill' to fill them (dropping the rows leaves gaps in "
             "time, which are refused too)")


@dataclass(frozen=True)
class Part:
    """One series as the pipeline left it."""

    frame: pd.DataFrame  # its rows: the model's input columns, original units
    n_train: int  # its first rows that train; the rest validates
    scaler: Scaler  # its own, or the one the series share
    start: int  # its first row in ``Prepared.inputs``


@dataclass
class Prepared:
    """The data of a fit: its series, stacked and scaled, and the windows over them."""

    layout: Layout
    parts: dict  # series id -> Part, in the order of the ids; one entry (id None) without ``series=``
    inputs: torch.Tensor  # (rows of all series, inputs) scaled; future covariates lead by `horizon` rows
    windows: Windows
    season: int  # the seasonal period the series share (a day of sub-daily rows, a week of days)

    @property
    def segments(self) -> tuple:
        """((first row in ``inputs``, rows, training rows), ...), a series each."""
        return tuple((p.start, len(p.frame), p.n_train) for p in self.parts.values())

    @property
    def first(self) -> Part:
        return next(iter(self.parts.values()))

    @property
    def scaler(self) -> Scaler:
        """The first series' scaler (the one every series shares, unless each has its own)."""
        return self.first.scaler

    @property
    def n_train(self) -> int:
        """Training rows over all series (a single series': its own)."""
        return sum(p.n_train for p in self.parts.values())

    @property
    def train_rows(self) -> list:
        """(first, end) of each series' training part in ``inputs``."""
        return [(start, start + n) for start, _, n in self.segments]

    @property
    def val_rows(self) -> list:
        """(first, end) of each series' validation part with the window before it."""
        window = self.windows.shape[0]
        return [(start + n - window, start + rows) for start, rows, n in self.segments]

    def every_row(self) -> "Prepared":
        """The same data with every row of each series in its training part (a refit's)."""
        parts = {key: replace(part, n_train=len(part.frame)) for key, part in self.parts.items()}
        segments = tuple((p.start, len(p.frame), len(p.frame)) for p in parts.values())
        windows = Windows(self.inputs, self.outputs, *self.windows.shape, 0, segments)
        return Prepared(self.layout, parts, self.inputs, windows, self.season)

    @property
    def outputs(self) -> torch.Tensor:
        return self.inputs[:, : len(self.layout.outputs)]  # (rows, outputs), a view


def prepare(data, config: DataConfig, device: torch.device, reads: str = "table") -> Prepared:
    """Read, lay out, regularise, split, scale and window ``data`` for a model that reads
    ``reads`` ("table" or "grids")."""
    check_kind(config, reads)
    frame, layout = _read(data, config, reads)
    series = _series(frame, config.series)
    names = static_names(config.static_covariates)
    if layout is None:
        layout = layout_of(frame, config.target, config.covariates, config.future_covariates, names)
    statics = static_values(frame, list(series), config.static_covariates, config.series) if names else None
    frames, layout, reports = _shaped(series, layout, config, statics)
    splits = {key: _named(key, config.series, _split, part, config, reports[key]) for key, part in frames.items()}
    values = {key: torch.tensor(part.to_numpy(dtype=np.float32)) for key, part in frames.items()}  # (rows, inputs)
    scalers = _scalers(values, splits, layout, config)
    if statics is not None:
        scalers = scaled_over_series(scalers, statics, config.scaler)
    encoded = {key: encode(values[key], scalers[key], layout, config.horizon) for key in frames}  # (rows, inputs)
    for key in frames:
        _named(key, config.series, _check_scaled, encoded[key], frames[key])
    starts = np.cumsum([0] + [len(part) for part in frames.values()])[:-1]
    parts = {key: Part(frames[key], splits[key], scalers[key], int(start)) for key, start in zip(frames, starts)}
    inputs = to_device(torch.cat(list(encoded.values())).contiguous(), device)  # (all rows, inputs)
    segments = tuple((p.start, len(p.frame), p.n_train) for p in parts.values())
    windows = Windows(inputs, inputs[:, : len(layout.outputs)], config.window, config.horizon, 0, segments)
    season = config.season or season_of(next(iter(frames.values())).index)
    return Prepared(layout, parts, inputs, windows, season)


def check_kind(config: DataConfig, reads: str) -> None:
    """The one rule for settings that do not apply to a kind of data: grids have every cell
    as a target, one grid per row, and no id or time columns to name."""
    if reads not in READS:
        raise DataError(f"a model reads {reads!r}, which is none of the kinds of data: {', '.join(READS)}")
    if reads == "grids":
        for name in NOT_FOR_GRIDS:
            value = getattr(config, name)
            if value not in (None, False):
                raise DataError(f"`{name}` ({value!r}) does not apply to grids: a model that reads grids (such as "
                                "the convlstm) forecasts every cell, one grid per row in time order; leave "
                                f"`{name}` out")


def _read(data, config: DataConfig, reads: str) -> tuple:
    """The rows as a DataFrame indexed by time (or position), and the layout grids imply."""
    if reads == "grids":
        frame, shape = grid_frame(data)
        return frame, Layout(tuple(frame.columns), grid=shape)
    return with_time(read_frame(data), config.time, unit=config.time_unit), None


def _series(frame: pd.DataFrame, name) -> dict:
    """``frame`` split by the id column ``name`` (sorted ids, each series in time order), or
    {None: frame}: the same rows in any order give the same series."""
    if name is None:
        return _in_time_order({None: frame})
    if name not in frame.columns:
        raise DataError(
            f"`series` names column {name!r}, which is not in the data"
            f"{closest(str(name), map(str, frame.columns))}; columns: {listing(frame.columns)}"
        )
    ids = frame[name]
    if ids.isna().any():
        raise DataError(f"`series` column {name!r} has {int(ids.isna().sum())} missing id(s) (first at "
                        f"{frame.index[int(np.argmax(ids.isna().to_numpy()))]}); drop those rows or give them an id")
    codes, _ = pd.factorize(ids, sort=False)  # row i belongs to series keys[codes[i]]
    keys = pd.unique(ids)  # the same ids in the same order (first seen first), as the data holds them
    order = list(range(len(keys)))
    try:
        order.sort(key=lambda k: keys[k])
    except TypeError:  # ids of mixed kinds keep the order they come in
        order = list(range(len(keys)))
    counts = np.bincount(codes, minlength=len(keys))[order]  # rows of each series, in key order
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    # One stable gather puts each series' rows together in the order they came, so each series
    # is a slice: splitting costs one pass over the rows, not one per series.
    rest = frame.drop(columns=name).take(np.argsort(rank[codes], kind="stable"))
    ends = np.cumsum(counts)
    series = {keys[k]: rest.iloc[end - count : end] for k, end, count in zip(order, ends, counts)}
    return {key: _own_positions(part) for key, part in _in_time_order(series).items()}


def _in_time_order(series: dict) -> dict:
    """Each series' timestamped rows sorted by time (stable, so repeats keep their order),
    with one word for all: a long table in any order is the same table."""
    late = {key: int((part.index[1:] < part.index[:-1]).sum()) for key, part in series.items()
            if isinstance(part.index, pd.DatetimeIndex) and not part.index.is_monotonic_increasing}
    if late:
        where = "" if list(late) == [None] else f" in {len(late):,} series (first {next(iter(late))!r})"
        warn(f"{sum(late.values()):,} row(s){where} come before a row they follow in time; the rows are taken "
             "in time order")
    return {key: part.sort_index(kind="stable") if key in late else part for key, part in series.items()}


def _own_positions(frame: pd.DataFrame) -> pd.DataFrame:
    """A series of a long table without times is numbered from 0 on its own: the table's row
    numbers would make ``start=10`` a different row in each series."""
    return frame if isinstance(frame.index, pd.DatetimeIndex) else frame.reset_index(drop=True)


def _shaped(series: dict, layout: Layout, config: DataConfig, statics: pd.DataFrame | None = None) -> tuple:
    """Each series on its time grid, filled, with its calendar features, in the model's
    columns and checked, its ``statics`` (a row per series) appended as constant columns;
    the layout with the calendar features added; and what regularising did to each series
    (said in one warning)."""
    layout, static = replace(layout, statics=()), layout.statics  # statics join after: nothing to fill
    done = {key: _named(key, config.series, regularised, part, layout.inputs, config.freq, config.fill,
                        config.fill_limit) for key, part in series.items()}
    frames, reports = {key: frame for key, (frame, _) in done.items()}, {key: report for key, (_, report) in done.items()}
    _say(reports, config.series)
    _check_steps(frames, config.series)
    if config.calendar:  # made after regularising: each row's own time, never averaged
        names = calendar_names(next(iter(frames.values())).index)
        taken = [name for name in names if name in next(iter(series.values())).columns]
        if taken:
            raise DataError(f"`calendar=True` makes the column(s) {listing(taken)}, which the data already has; "
                            "rename those columns, or leave calendar out")
        frames = {key: with_calendar(part, names) for key, part in frames.items()}
        given = tuple(c for c in layout.future_covariates if c not in names)  # made, not read
        layout = replace(layout, future_covariates=given + names)
    frames = {key: _in_columns(part, layout.inputs) for key, part in frames.items()}
    for key, part in frames.items():
        _named(key, config.series, check_values, part, layout.inputs, fix=FILL_HINT)
    if statics is not None:
        frames = with_statics(frames, statics)
    return frames, replace(layout, statics=static), reports


def _in_columns(part: pd.DataFrame, columns) -> pd.DataFrame:
    """:func:`columns_of`, as a plain copy where the columns are already those, in that order:
    pandas' selection by a list costs about 0.2 ms, paid once per series of a panel."""
    return part.copy() if list(part.columns) == list(columns) else columns_of(part, columns)


def _say(reports: dict, name, most: int = 8) -> None:
    """What regularising did (rows merged, dropped, made up), in one warning for all series."""
    if name is None:
        next(iter(reports.values())).warn()
        return
    said = [(key, lines) for key, report in reports.items() if (lines := report.messages())]
    if said:
        shown = [f"series {key!r}: {line}" for key, lines in said[:most] for line in lines]
        more = f"; and {len(said) - most} more series" if len(said) > most else ""
        warn("; ".join(shown) + more)


def _split(frame: pd.DataFrame, config: DataConfig, report) -> int:
    """:func:`split_point`, its error saying when ``freq`` left too few rows."""
    try:
        return split_point(len(frame), config)
    except DataError as error:
        raise DataError(f"{error}{report.shrunk()}") from None

def _check_steps(frames: dict, name) -> None:
    """Series of one panel share one step: a window of 12 rows must span the same time in each."""
    steps = {key: part.index[1] - part.index[0] for key, part in frames.items()
             if isinstance(part.index, pd.DatetimeIndex) and len(part) > 1}
    if len(set(steps.values())) > 1:
        (a, step_a), (b, step_b) = next(iter(steps.items())), next((k, s) for k, s in steps.items()
                                                                   if s != next(iter(steps.values())))
        raise DataError(
            f"series {a!r} ({name}) moves in steps of {step_a}, series {b!r} in steps of {step_b}, so a window "
            "of rows would span different times in each; pass freq='...' (e.g. the coarser step) to put every "
            "series on one step"
        )


def _named(key, name, function, *args, **kwargs):
    """``function(*args)``; a DataError about one series of a panel names the series."""
    try:
        return function(*args, **kwargs)
    except DataError as error:
        if name is None:
            raise
        raise DataError(f"series {key!r} ({name}): {error}") from None


def _scalers(values: dict, splits: dict, layout: Layout, config: DataConfig) -> dict:
    """Each series' scaler, fitted on training rows only: one over all the series' training
    parts together (``series_scaling="global"``), or one each; grids share one shift and
    scale per channel."""
    def fitted(rows: torch.Tensor) -> Scaler:
        return channel_scaler(config.scaler, rows, layout.grid) if layout.grid else Scaler(config.scaler).fit(rows)

    if config.series_scaling == "series":
        if config.series is None:
            warn("series_scaling='series' scales each series of a panel on its own; without `series=` the data "
                 "is one series, scaled on its own either way")
        return {key: fitted(values[key][: splits[key]]) for key in values}
    shared = fitted(torch.cat([values[key][: splits[key]] for key in values]))
    return dict.fromkeys(values, shared)


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
    The statics, the same on every row, stay where they are.
    """
    scaled = scaler.transform(values)  # (rows, inputs)
    known, ahead = len(layout.outputs), len(layout.outputs) + len(layout.future_covariates)
    if ahead > known:
        future = torch.zeros_like(scaled[:, known:ahead])  # (rows, future)
        future[:-horizon] = scaled[horizon:, known:ahead]
        scaled = torch.cat([scaled[:, :known], future, scaled[:, ahead:]], dim=1)  # (rows, inputs)
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
