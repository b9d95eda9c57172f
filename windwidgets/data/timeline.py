"""Where the rows lie in time: a time column as the index, gaps and repeated timestamps found,
regularised to a frequency and filled, or refused with the setting that fixes them.

Real logs are rarely a clean grid: a SCADA export has its timestamps in a column, rows lost
in outages, an hour twice at the autumn clock change. A window that spans a hole teaches
the model a jump that never happened, so holes are refused unless ``freq=`` puts the rows
on a regular grid and ``fill=`` says what the missing rows hold.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from ..errors import DataError, closest, listing, warn
from .fills import Regularised, filled, merged
from .times import parsed_times

FILLS = ("interpolate", "ffill", None)
DATE = re.compile(r"\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")  # 2024-10-27, 27.10.2024, 10/27/2024


def with_time(frame: pd.DataFrame, time=None, name: str = "data", unit=None) -> pd.DataFrame:
    """``frame`` indexed by its ``time`` column (or its index of that name), parsed as times.

    With ``time=None`` and an index that holds no times, a single datetime column becomes
    the index by itself, with a warning that says so; several are left alone. Text times left
    in a column are refused where they repeat (a long table) and warned of otherwise. ``unit``
    (the ``time_unit`` setting) says what numbers in the column count; see
    :func:`~windwidgets.data.times.parsed_times`.
    """
    if time is None:
        if isinstance(frame.index, pd.DatetimeIndex):
            return frame
        found = [c for c, dtype in frame.dtypes.items() if pd.api.types.is_datetime64_any_dtype(dtype)]
        if len(found) != 1:
            _check_text_times(frame, name)
            return frame
        time = found[0]
        warn(f"`{name}` column {time!r} holds timestamps and becomes the index, so forecasts come "
             f"out at real times; pass time={time!r} to say so and silence this warning")
    if time not in frame.columns and time is not None and frame.index.name == time:
        if isinstance(frame.index, pd.DatetimeIndex):
            return frame  # already read (a CSV's leading time column, or rows regularised before)
        frame = frame.reset_index()
    if time not in frame.columns:
        raise DataError(
            f"`time` names column {time!r}, which is not in the {name}"
            f"{closest(str(time), map(str, frame.columns))}; columns: {listing(frame.columns)}"
        )
    where = f"`time` column {time!r}" + (f" of `{name}`" if name != "data" else "")
    stamps = parsed_times(frame[time], where, unit).rename(time)
    if stamps.hasnans:
        missing = np.flatnonzero(stamps.isna())
        raise DataError(
            f"{where} has {len(missing)} missing timestamp(s) (first at row {missing[0]}); "
            f"drop those rows with df = df[df[{time!r}].notna()]"
        )
    return frame.drop(columns=time).set_axis(stamps)


def regular(frame: pd.DataFrame, columns, freq=None, fill=None, fill_limit=None) -> pd.DataFrame:
    """``frame`` on a regular time grid with its missing values filled, or a DataError; what
    was merged, dropped and made up is said in one warning (see :func:`regularised`)."""
    frame, done = regularised(frame, columns, freq, fill, fill_limit)
    done.warn()
    return frame


def regularised(frame: pd.DataFrame, columns, freq=None, fill=None, fill_limit=None) -> tuple:
    """``frame`` on a regular time grid with its missing values filled, and a
    :class:`~windwidgets.data.fills.Regularised` report of what that did (it warns nothing:
    the caller warns with :meth:`Regularised.warn`, a panel naming the series).

    Parameters
    ----------
    frame : the data, its index already checked (times or positions).
    columns : the columns the model reads; only their missing values matter.
    freq : None keeps the rows and refuses gaps and repeated timestamps; a frequency
        ("1h") averages the rows into one per step, which leaves steps without rows empty.
        Repeats that look like several series are refused either way, naming ``series=``.
    fill : None refuses missing values; "interpolate" draws a straight line across them,
        "ffill" holds the last value. Only holes between a column's first and last real
        value are filled: rows before every column has begun and after any column has ended
        are dropped, since only unknown values could fill them.
    fill_limit : the longest hole filled, in rows (3) or as a duration ("3h"); a longer
        one is refused. None fills any hole, but a grid mostly made up is refused.
    """
    columns = list(columns)
    done = Regularised(len(frame), freq=freq, fill=fill)
    times = isinstance(frame.index, pd.DatetimeIndex)
    if freq is not None and not times:
        raise DataError(
            f"`freq` ({freq!r}) regularises timestamps, but the data's index holds positions "
            f"({type(frame.index).__name__}); name the time column with time='...' or leave `freq` out"
        )
    if times:
        _check_repeated(frame.index, frame, freq)
        if freq is None and fill is not None:
            _check_order(frame.index)  # a fill across rows out of order draws lines between the wrong ones
    if freq is not None:
        frame = merged(frame, columns, freq, done)
    elif times and fill is not None and (grid := _plain_grid(frame.index)) is not None:
        done.inferred = _freq_text(grid[1] - grid[0])
        done.inferred_missing = len(grid) - len(frame)
        frame = frame.reindex(grid)  # the holes become rows to fill, on the rows' own step
    elif times:
        _check_gaps(frame.index)
    if fill is not None:
        frame = filled(frame, columns, fill, fill_limit, done)
    done.rows = len(frame)
    return frame, done


def _check_repeated(index: pd.DatetimeIndex, frame: pd.DataFrame | None = None, freq=None) -> None:
    """Refuse repeated timestamps: as several series where they look like them (a column
    with one value per repeat, or most timestamps repeated), else, without ``freq``, as the
    hour a clock change to winter time repeats."""
    repeated = index[index.duplicated(keep="first")]
    if not len(repeated):
        return
    shown = listing(map(str, repeated.unique()[:3]))
    times, at = index.nunique(), repeated.nunique()
    # a clock change repeats an hour or so a year, in which a text column may differ by chance
    ids = _id_columns(index, frame) if frame is not None and at >= max(3, times / 20) else []
    if ids or len(repeated) > max(2, times / 2):
        why = (f"column {ids[0]!r} holds a different value at each repeat" if ids else
               f"{len(repeated):,} of {len(index):,} rows repeat a time, up to {index.value_counts().max()} "
               f"times")
        named = f"series={ids[0]!r}" if ids else "series='<the column naming each series>'"
        raise DataError(
            f"the index repeats timestamps as a long table of several series does: {len(repeated):,} "
            f"repeated timestamp(s) (first: {shown}), and {why}; pass {named} to train one model "
            f"across the series, each on its own time line"
            + ("" if freq is None else f" (freq={freq!r} would average the series together)")
            + "; if the rows are one series measured twice, average them first: df.groupby(level=0).mean()"
        )
    if freq is None:
        raise DataError(
            f"the index has duplicated labels: {len(repeated)} repeated timestamp(s) (first: {shown}), "
            "as a clock change to winter time does; pass freq='...' (the data's step, e.g. '1h') to "
            "average them into one row per step, or convert the times to UTC before training"
        )


def _id_columns(index: pd.DatetimeIndex, frame: pd.DataFrame) -> list:
    """Columns that look like a series id: text or whole numbers, a different value at each
    repeat of every repeated time, and each value on many rows."""
    twice = index.duplicated(keep=False)
    found = []
    for column, values in frame.items():
        if not (pd.api.types.is_integer_dtype(values) or pd.api.types.is_object_dtype(values)
                or pd.api.types.is_string_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype)):
            continue
        if pd.api.types.is_bool_dtype(values) or values.nunique() > len(values) / 2:
            continue
        groups = pd.Series(values.to_numpy()[twice], index=index[twice]).groupby(level=0)
        if (groups.nunique(dropna=False) == groups.size()).all():
            found.append(column)
    return found


def _check_text_times(frame: pd.DataFrame, name: str) -> None:
    """Text times left in a column while the rows are read by position: a long table's
    turbines would train as one interleaved series, so repeats are refused; else a warning."""
    if isinstance(frame.index, pd.DatetimeIndex):
        return
    for column, values in frame.items():
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        head = values.dropna().head(5)
        if not len(head) or not head.map(lambda v: isinstance(v, str) and DATE.match(v) is not None).all():
            continue  # only text that starts as a date does: pandas reads "T1" and "May" as times too
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if pd.to_datetime(head, errors="coerce", utc=True, format="mixed").isna().any():
                continue
        if values.duplicated().any():
            ids = _id_columns(pd.DatetimeIndex(pd.to_datetime(values, errors="coerce", utc=True, format="mixed")),
                              frame.drop(columns=column))
            series = f" and series={ids[0]!r} (the column that tells the series apart)" if ids else ""
            raise DataError(
                f"`{name}` column {column!r} holds times as text, and repeats them ({int(values.duplicated().sum()):,} "
                f"rows), as a long table of several series does; without time= its rows would be read as one "
                f"series in their order. Pass time={column!r}{series}"
            )
        warn(f"`{name}` column {column!r} holds times as text, but without time={column!r} the rows are "
             f"read as positions in their order; pass time={column!r} to forecast at real times")
        return


def _check_order(index: pd.DatetimeIndex) -> None:
    if not index.is_monotonic_increasing:
        where = int(np.flatnonzero(index[1:] < index[:-1])[0]) + 1
        raise DataError(f"the index is not sorted in time (out of order near position {where}, label "
                        f"{index[where]!s}); sort it with df.sort_index()")


def _check_gaps(index: pd.DatetimeIndex) -> None:
    """Refuse an index whose steps are not all its most common step."""
    if len(index) < 3 or not index.is_monotonic_increasing:
        return  # too short to have a step; the order is refused by check_values
    if index.freq is not None or _inferred(index) is not None:
        return  # regular, calendar steps (months, years) of uneven length included
    steps = pd.Series(index[1:] - index[:-1])
    step = steps.mode().iloc[0]
    odd = np.flatnonzero((steps != step).to_numpy())
    if not len(odd):
        return
    longer = steps.iloc[odd][steps.iloc[odd] > step]
    missing = int(sum(round(s / step) - 1 for s in longer))
    first = odd[0]
    freq = _freq_text(step)
    raise DataError(
        f"the index is irregular: {len(odd)} gap(s) or uneven step(s) in time steps of {step} (the "
        f"first after {index[first]}, next row {index[first + 1]}; about {missing} row(s) missing in "
        f"all); windows would span the holes. Pass freq={freq!r} to put the rows on a regular "
        f"grid, with fill='interpolate' or fill='ffill' for the rows that were missing"
    )


def _plain_grid(index: pd.DatetimeIndex) -> pd.DatetimeIndex | None:
    """The regular grid the rows lie on when some are missing: every step a whole multiple of
    the most common one, every row on the grid from the first (else None: nothing plain to
    infer, and the gaps are refused as they are without ``fill``)."""
    if len(index) < 3 or not index.is_monotonic_increasing or index.has_duplicates:
        return None
    steps = pd.Series(index[1:] - index[:-1])
    step = steps.mode().iloc[0]
    if step <= pd.Timedelta(0) or (steps == step).all():
        return None
    offsets = (index - index[0]) / step
    if not np.allclose(offsets, np.round(offsets)):
        return None
    return pd.date_range(index[0], index[-1], freq=step, name=index.name)


def _inferred(index: pd.DatetimeIndex):
    with warnings.catch_warnings():  # pandas 3 warns that the return type will change
        warnings.simplefilter("ignore", DeprecationWarning)
        return pd.infer_freq(index)


def _freq_text(step: pd.Timedelta) -> str:
    try:
        return pd.tseries.frequencies.to_offset(step).freqstr
    except ValueError:
        return f"{int(step.total_seconds())}s"
