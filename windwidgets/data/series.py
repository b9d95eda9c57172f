"""The series a trained model forecasts on: its rows, its training part, its season and MASE
scale, where its rows sit in the data the model was trained on, and the rows a live feed adds."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .frames import Layout, read_frame
from .inputs import checked_rows, timed
from .timeline import regular


def season_of(index: pd.Index) -> int:
    """The seasonal period implied by the index: a day of sub-daily steps, a week of days."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return 1
    # In whole nanoseconds: boxing two Timestamps costs more than the rest, once per series of a panel.
    step = int((index.values[1] - index.values[0]).astype("timedelta64[ns]").astype(np.int64))
    day = 86_400 * 10**9
    if 0 < step < day and day % step == 0:
        return day // step
    return 7 if step == day else 1


def regularised(rows, layout: Layout, time=None, freq=None, fill=None, calendar: tuple = (), after=None,
                name: str = "new_rows", time_unit=None, fill_limit=None):
    """``rows`` (new rows, or a context) put on the time grid with ``freq`` and filled with
    ``fill``, as the training data was; returned as given when neither is set. ``after``:
    the series the rows continue, whose last row a fill may start from (a hole between it
    and the new rows, or a missing value in the first of them)."""
    if freq is None and fill is None:
        return rows
    frame = timed(read_frame(rows, name), time, name, time_unit)  # read as the checks that follow read it
    given = [c for c in layout.inputs if c not in calendar]
    missing = [c for c in given if c not in frame.columns]
    if missing or not len(frame):
        return rows  # the checks that follow say what is wrong
    frame = frame[given]
    joined = after is not None and len(after) and (isinstance(after.index, pd.DatetimeIndex)
                                                   == isinstance(frame.index, pd.DatetimeIndex))
    if joined:  # the series' last row, for a fill to start from
        frame = pd.concat([after[given].iloc[-1:], frame])
    try:
        filled = regular(frame, given, freq, fill, fill_limit)
    except DataError as error:
        raise DataError(f"`{name}`: {error}") from None
    if not joined or not len(filled) or filled.index[0] != frame.index[0]:
        return filled
    if freq is not None:  # rows inside the series' last step would be averaged into a row it already has
        inside = int((frame.index[1:] < filled.index[1]).sum()) if len(filled) > 1 else len(frame) - 1
        if inside:
            raise DataError(
                f"`{name}`: {inside} row(s) fall in the last step the run already holds ({frame.index[0]}, "
                f"freq={freq!r}), which averaged the rows it had; pass the rows after that step"
                + (f", from {filled.index[1]}" if len(filled) > 1 else ""))
    return filled.iloc[1:]


class SeriesState:
    """One series as a trained model knows it, in original units.

    Parameters
    ----------
    frame : the rows, one column per model input; forecasts start from them and backtests
        score on them.
    n_train : how many of the first rows are the training part; the rest validates.
    mase_scale : the MASE denominators, one per target (the in-sample error of the
        seasonal-naive forecast on the training part).
    offset : how many rows of the data the model was trained on come before ``frame`` (a
        saved run keeps the last rows only): a position ``start`` of that data is row
        ``start - offset`` here. None for a file that did not record it.
    season : the seasonal period of the seasonal-naive baseline; None infers it from the index.
    """

    def __init__(self, frame: pd.DataFrame, n_train: int, mase_scale, offset: int | None = 0,
                 season: int | None = None):
        self.frame, self.n_train, self.offset = frame, n_train, offset
        self.mase_scale = np.asarray(mase_scale, dtype=float)
        self._season = season
        self._inferred = (None, 1)  # (the index it was inferred from, the season)

    @property
    def season(self) -> int:
        if self._season:
            return self._season
        index = self.frame.index
        if self._inferred[0] is not index:  # an index never changes in place: a new one is a new object
            self._inferred = (index, season_of(index))
        return self._inferred[1]

    def columns(self, names) -> np.ndarray:
        """The values of the columns ``names`` (rows, columns), float64; a panel's backtest
        reads thousands of series, and picking by position skips pandas' per-call cost."""
        have = list(self.frame.columns)
        if not set(names) <= set(have) or len(set(have)) < len(have):
            return self.frame[list(names)].to_numpy(dtype=np.float64)  # pandas names a missing column
        return self.frame.to_numpy(dtype=np.float64)[:, [have.index(name) for name in names]]

    def position(self, start) -> int:
        """The row of ``frame`` a ``start`` (a label, or a position of the data the model was
        trained on) names; after the last row for None."""
        if start is None:
            return len(self.frame)
        if isinstance(start, (int, np.integer)) and not isinstance(start, bool) and not (
            pd.api.types.is_integer_dtype(self.frame.index) and start in self.frame.index
        ):
            position = int(start) - self._kept_from(start) if start >= 0 else len(self.frame) + int(start)
        else:
            try:
                position = self.frame.index.get_loc(start)
            except (KeyError, TypeError, ValueError, pd.errors.InvalidIndexError):
                raise DataError(
                    f"`start` ({start!r}) is not a label of the data, which runs from "
                    f"{self.frame.index[0]} to {self.frame.index[-1]}"
                ) from None
            if not isinstance(position, (int, np.integer)):  # a partial date names many rows
                raise DataError(
                    f"`start` ({start!r}) matches {len(self.frame.loc[start])} rows; give one "
                    f"label, such as {self.frame.loc[start].index[0]!s}"
                )
        if not 0 <= position <= len(self.frame):
            raise DataError(f"`start` ({start!r}) is outside the data's {len(self.frame)} rows")
        return int(position)

    def _kept_from(self, start) -> int:
        """The offset of the rows kept, for a position ``start`` of the original data."""
        if self.offset is None or start < self.offset:
            kept = "an unrecorded number of rows" if self.offset is None else f"its first {self.offset} rows"
            raise DataError(
                f"`start` ({start!r}) is a position in the data this run was trained on, but the run "
                f"was saved without {kept} (a run file keeps the last rows only); pass a label "
                f"(from {self.frame.index[0]} to {self.frame.index[-1]}) or a negative position, "
                "counted from the end"
            )
        return self.offset

    def checked(self, new_rows, layout: Layout, time=None, calendar: tuple = (), freq=None,
                fill=None, time_unit=None, fill_limit=None) -> pd.DataFrame:
        """``new_rows`` checked to continue the series (see
        :func:`~windwidgets.data.inputs.checked_rows`), in the model's input columns, after
        the run's own ``freq`` and ``fill`` put them on its time grid, as its data was."""
        rows = regularised(new_rows, layout, time, freq, fill, calendar, after=self.frame, time_unit=time_unit,
                           fill_limit=fill_limit)
        return checked_rows(rows, layout, self.frame.index, time, calendar, time_unit=time_unit)

    def append(self, rows: pd.DataFrame) -> None:
        """Add rows that :meth:`checked` passed after the last one."""
        self.frame = pd.concat([self.frame, rows])

    def kept(self, window: int) -> "SeriesState":
        """The last rows a file keeps: those the forecasts (a ``window`` before the
        validation part) and the seasonal naive (a season before it) start from."""
        keep_from = max(0, self.n_train - max(window, self.season))
        return SeriesState(self.frame.iloc[keep_from:], self.n_train - keep_from, self.mase_scale,
                           None if self.offset is None else self.offset + keep_from, self._season)
