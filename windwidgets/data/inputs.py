"""Checks on the data a trained model is given after its fit: future covariates, contexts,
new rows.

Every check raises a :class:`~windwidgets.errors.DataError` that names the argument, shows
what was given and says what to pass instead; none of them changes the Run.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .calendar import calendar_frame, with_calendar
from .frames import Layout, check_values, columns_of, read_frame
from .timeline import with_time
from ..errors import DataError, listing


def future_values(future, names: tuple, labels: pd.Index, time=None, calendar: tuple = (),
                  time_unit=None) -> np.ndarray:
    """The known-future covariates ``names`` for the forecast rows ``labels``, as a
    (steps, len(names)) array.

    ``future`` is matched to ``labels`` by timestamp when both carry one (it may start
    earlier; its step must be the data's and it may have no gaps); otherwise its first
    ``len(labels)`` rows are taken in order. Its ``time`` column (the data's) becomes its index.
    The ``calendar`` features among ``names`` (of a model trained with ``calendar=True``) are
    made from ``labels``. ``time_unit`` is the data's: what numbers in the time column count.
    """
    if calendar:
        given = tuple(n for n in names if n not in calendar)
        known = calendar_frame(labels, calendar)
        if given:
            known[list(given)] = future_values(future, given, labels, time, time_unit=time_unit)
        return known[list(names)].to_numpy(dtype=np.float64)  # (steps, future covariates)
    steps, first = len(labels), labels[0]
    if future is None:
        raise DataError(
            f"this model takes future covariates ({', '.join(names)}); pass "
            f"future=<DataFrame with those columns for the {steps} forecast steps from {first}>"
        )
    if isinstance(future, pd.Series):
        future = future.to_frame()
    if isinstance(future, pd.DataFrame):
        future = timed(future, time, "future", time_unit)
    else:
        raise DataError(f"`future` is a {type(future).__name__}; pass a DataFrame with columns "
                        f"{', '.join(names)}")
    missing = [c for c in names if c not in future.columns]
    if missing or len(future) < steps:
        raise DataError(
            f"`future` must hold columns {', '.join(names)} for {steps} rows from {first}; it has "
            f"{len(future)} rows" + (f" and lacks {', '.join(missing)}" if missing else "")
        )
    _numeric("future", future, names)
    if isinstance(labels, pd.DatetimeIndex) and isinstance(future.index, pd.DatetimeIndex):
        future = _aligned(future, labels)
    values = future[list(names)].to_numpy(dtype=np.float64)[:steps]  # (steps, future covariates)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        columns = [c for c, b in zip(names, bad.any(axis=0)) if b]
        raise DataError(
            f"`future` holds NaN or inf in column(s) {listing(columns)} (first at "
            f"{future.index[row]}); fill them (future.interpolate()) before forecasting"
        )
    return values


def _aligned(future: pd.DataFrame, labels: pd.DatetimeIndex) -> pd.DataFrame:
    _same_zone("future", future.index, labels)
    if future.index.has_duplicates:
        twice = future.index[future.index.duplicated()]
        raise DataError(
            f"`future` has {len(twice)} repeated timestamp(s) (first: {twice[0]}); keep one row per "
            "time, e.g. future = future[~future.index.duplicated()]"
        )
    step = labels[1] - labels[0] if len(labels) > 1 else None
    if len(future) > 1:
        gaps = future.index[1:] - future.index[:-1]  # (rows - 1,) Timedeltas
        if step is not None and not (gaps == step).all():
            where = int(np.flatnonzero(gaps != step)[0])
            found = future.index[where + 1] - future.index[where]
            if (gaps == gaps[0]).all():
                raise DataError(
                    f"`future` is at steps of {found}, the data at steps of {step}; resample it "
                    f"(future.resample({pd.tseries.frequencies.to_offset(step).freqstr!r}).mean()) "
                    "or pass rows at the data's frequency"
                )
            raise DataError(
                f"`future` has a gap: {future.index[where]} is followed by {future.index[where + 1]} "
                f"(the data moves in steps of {step}); fill the missing rows"
            )
    if labels[0] not in future.index:
        raise DataError(
            f"`future` runs from {future.index[0]} to {future.index[-1]}, but the forecast starts "
            f"at {labels[0]}; pass the covariates of the {len(labels)} rows from {labels[0]} to {labels[-1]}"
        )
    position = future.index.get_loc(labels[0])
    available = len(future) - position
    if available < len(labels):
        raise DataError(
            f"`future` must cover {len(labels)} rows from {labels[0]} to {labels[-1]}; it gives "
            f"{available} rows from {labels[0]} (it ends at {future.index[-1]})"
        )
    return future.iloc[position:]


def checked_context(context, layout: Layout, least: int, window: int, time=None,
                    calendar: tuple = (), time_unit=None) -> pd.DataFrame:
    """``context`` as a DataFrame of the model's input columns, with at least ``least`` rows;
    its ``time`` column (the data's, numbers read in ``time_unit``) becomes its index."""
    frame = with_calendar(timed(read_frame(context, "context"), time, "context", time_unit), calendar)
    missing = [c for c in layout.inputs if c not in frame.columns]
    if missing:
        raise DataError(
            f"`context` lacks column(s) {listing(missing)}; it needs every column the model reads: "
            f"{listing(layout.inputs)}"
        )
    _numeric("context", frame, layout.inputs)
    frame = columns_of(frame, layout.inputs)
    if len(frame) < least:
        raise DataError(
            f"`context` has {len(frame)} rows; this model reads windows of {window} rows, so pass "
            f"at least {least} rows (a model trained with stateful=True can start from one row)"
        )
    _checked("context", frame)
    return frame


def checked_rows(rows, layout: Layout, index: pd.Index, time=None, calendar: tuple = (),
                 time_unit=None) -> pd.DataFrame:
    """New observations that continue the series whose labels are ``index``; their ``time``
    column (the data's, numbers read in ``time_unit``) becomes their index.

    Timestamped rows must start one step after the last label and keep the data's step;
    rows of a series labelled by position are relabelled to continue it.
    """
    frame = timed(read_frame(rows, "new_rows"), time, "new_rows", time_unit)
    if len(frame):
        frame = with_calendar(frame, calendar)
    missing = [c for c in layout.inputs if c not in frame.columns]
    if missing:
        raise DataError(
            f"`new_rows` lack column(s) {listing(missing)}; pass rows with {listing(layout.inputs)}"
        )
    if len(frame) == 0:
        raise DataError("`new_rows` is empty; pass at least one new observation")
    _numeric("new_rows", frame, layout.inputs)
    frame = columns_of(frame, layout.inputs)
    _checked("new_rows", frame)
    if isinstance(index, pd.DatetimeIndex) and len(index) > 1:
        if isinstance(frame.index, pd.DatetimeIndex):
            _same_zone("new_rows", frame.index, index)
        step = index[-1] - index[-2]
        expected = pd.date_range(index[-1] + step, periods=len(frame), freq=step, name=index.name)
        if not isinstance(frame.index, pd.DatetimeIndex) or not frame.index.equals(expected):
            given = frame.index[0] if len(frame.index) else None
            raise DataError(
                f"`new_rows` must continue the data, which ends at {index[-1]} with steps of {step}: "
                f"{len(frame)} rows from {expected[0]} to {expected[-1]}; they start at {given}"
                + (_steps_of(frame.index) if isinstance(frame.index, pd.DatetimeIndex) else " (not timestamps)")
            )
        return frame
    start = int(index[-1]) + 1 if len(index) and pd.api.types.is_integer_dtype(index) else len(index)
    return frame.set_axis(pd.RangeIndex(start, start + len(frame), name=index.name))


def timed(frame: pd.DataFrame, time, name: str, time_unit=None) -> pd.DataFrame:
    """The data's time column as the index, where ``frame`` has that column (or an index of
    that name holding numbers of ``time_unit``)."""
    named_index = time is not None and frame.index.name == time and time_unit is not None
    if time is not None and time not in frame.columns and not named_index:
        return frame
    return with_time(frame, time, name, time_unit)


def _steps_of(index: pd.DatetimeIndex) -> str:
    """' and move in steps of 30min' for rows at one regular step; '' otherwise."""
    steps = index[1:] - index[:-1]
    return f" and move in steps of {steps[0]}" if len(steps) and (steps == steps[0]).all() else ""


def _same_zone(name: str, given: pd.DatetimeIndex, data: pd.DatetimeIndex) -> None:
    if str(given.tz) != str(data.tz):
        fix = (f"{name}.index = {name}.index.tz_localize(None)" if data.tz is None
               else f"{name}.index = {name}.index.tz_localize({str(data.tz)!r})" if given.tz is None
               else f"{name}.index = {name}.index.tz_convert({str(data.tz)!r})")
        raise DataError(
            f"`{name}` has times with {_zone(given.tz)} (first: {given[0]}), the data's times have "
            f"{_zone(data.tz)}; give them the data's zone: {fix}"
        )


def _zone(tz) -> str:
    return "no time zone" if tz is None else f"time zone {tz}"


def _numeric(name: str, frame: pd.DataFrame, columns) -> None:
    """Text or complex numbers in a column the model reads, named with the first bad value."""
    for column in columns:
        if column not in frame.columns:
            continue
        values = frame[column]
        if isinstance(values, pd.DataFrame):
            raise DataError(f"`{name}` has more than one column named {column!r}; keep one")
        if pd.api.types.is_complex_dtype(values):
            raise DataError(f"`{name}` column {column!r} holds complex numbers; pass its real part "
                            f"({name}[{column!r}].real)")
        if not pd.api.types.is_numeric_dtype(values):
            words = np.flatnonzero(pd.to_numeric(values, errors="coerce").isna() & values.notna())
            shown = (f"; first value that is no number: {values.iloc[words[0]]!r} at "
                     f"{values.index[words[0]]}" if len(words) else "")
            raise DataError(
                f"`{name}` column {column!r} is not numeric (dtype {values.dtype}{shown}); convert it "
                f"with pd.to_numeric({name}[{column!r}])"
            )


def _checked(name: str, frame: pd.DataFrame) -> None:
    try:
        check_values(frame, frame.columns)
    except DataError as error:
        raise DataError(f"`{name}`: {error}") from None
