"""What regularising and filling did to the rows, said in words, and the limits on it.

A fill makes up values. Over a short hole that is a fair guess; across the validation part
after a sensor died it is invented truth that ``evaluate()`` would score against. So values
are made up only between a column's first and last real value, holes longer than
``fill_limit`` are refused, a grid that would be mostly made up is refused, and what was
made up is reported, per column, with its longest hole.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from ..errors import DataError, warn


@dataclass(frozen=True)
class Hole:
    """A run of missing values in one column, between two real values."""

    column: str
    start: object  # the label of its first missing row
    rows: int
    step: Optional[pd.Timedelta] = None  # the grid's step, where the rows are times

    def __str__(self) -> str:
        span = f", {_duration(self.step * self.rows)}," if self.step is not None else ""
        return f"{self.rows} row{'s' if self.rows != 1 else ''}{span} from {self.start}"


@dataclass
class Regularised:
    """What :func:`~windwidgets.data.timeline.regularised` did: rows merged by ``freq``,
    rows dropped before and after the columns' real values, values made up by ``fill``."""

    rows_in: int  # rows given
    rows: int = 0  # rows out
    freq: Optional[str] = None
    fill: Optional[str] = None
    merged: int = 0  # rows given that were averaged with others into one row
    merged_into: int = 0  # the rows they became
    most_merged: int = 0  # the most rows averaged into one
    repeats: int = 0  # rows given at a time an earlier row has
    dropped_first: int = 0  # rows before every column has begun
    dropped_last: int = 0  # rows after a column's last real value
    begins_late: tuple = ()  # (column, label of its first value) for the columns that begin after the data
    ends_early: tuple = ()  # (column, label of its last value) for the columns that end before the data
    inferred: Optional[str] = None  # the step fill= put the rows on when no freq was given
    inferred_missing: int = 0  # the rows missing from that grid
    made_up: dict = field(default_factory=dict)  # column -> rows filled
    longest: dict = field(default_factory=dict)  # column -> its longest Hole

    def messages(self) -> list:
        """One sentence per thing done, empty when the rows came out as they went in."""
        said = []
        if self.inferred:
            said.append(f"fill={self.fill!r} without freq: the rows keep one step with {self.inferred_missing:,} "
                        f"rows missing, so they were put on its grid (freq={self.inferred!r}; pass it to say so)")
        if self.merged:
            repeats = f", {self.repeats:,} of them at a time given before" if self.repeats else ""
            said.append(f"freq={self.freq!r} averaged {self.merged:,} rows into {self.merged_into:,} (up to "
                        f"{self.most_merged} in one row{repeats})")
        if self.dropped_first:
            begins = ", ".join(f"{column!r} at {label}" for column, label in self.begins_late)
            said.append(f"the first {self.dropped_first:,} rows are dropped: column(s) begin after the data "
                        f"({begins}), and only later values could fill them")
        if self.dropped_last:
            ends = ", ".join(f"{column!r} at {label}" for column, label in self.ends_early)
            said.append(f"the last {self.dropped_last:,} rows are dropped: column(s) end before the data "
                        f"({ends}), and fill={self.fill!r} would make up their values there")
        if self.made_up:
            per = "; ".join(f"{column!r} {rows:,} of {self.rows:,} rows (longest hole {self.longest[column]})"
                            for column, rows in self.made_up.items())
            said.append(f"fill={self.fill!r} made up values: {per}")
        return said

    def shrunk(self) -> str:
        """' (freq='MS' averaged 8,760 rows into 12)' where ``freq`` left under half the rows,
        else '': the cause to add to an error about too few rows."""
        if self.freq is None or not self.rows_in or self.rows >= self.rows_in / 2:
            return ""
        return f" (freq={self.freq!r} averaged the {self.rows_in:,} rows given into {self.rows:,})"

    def warn(self, prefix: str = "") -> None:
        """The messages as one warning, each after ``prefix`` (a panel's "series 'a': ")."""
        said = self.messages()
        if said:
            warn("; ".join(prefix + line for line in said))


def merged(frame: pd.DataFrame, columns: list, freq: str, done: Regularised) -> pd.DataFrame:
    """``frame``'s ``columns`` averaged into one row per ``freq``, refused when most of the
    grid's rows would hold no row of the data."""
    resampler = frame[columns].resample(freq)
    sizes = resampler.size()
    empty = int((sizes == 0).sum())
    if len(sizes) > 2 and empty > len(sizes) / 2:
        step = pd.Series(frame.index.unique()).diff().mode()
        native = f" (its rows come every {_duration(step.iloc[0])})" if len(step) else ""
        raise DataError(
            f"`freq` ({freq!r}) is finer than the data{native}: {empty:,} of {len(sizes):,} rows would be made "
            f"up; pass the data's own step or a coarser one as freq"
        )
    if len(sizes) < 2 <= len(frame):
        raise DataError(f"`freq` ({freq!r}) averages the data's {len(frame):,} rows (from {frame.index.min()} to "
                        f"{frame.index.max()}) into {len(sizes)} row; pass a finer freq, such as the data's own step")
    many = sizes[sizes > 1]
    done.merged, done.merged_into = int(many.sum()), len(many)
    done.repeats = int(frame.index.duplicated().sum())
    done.most_merged = int(many.max()) if len(many) else 0
    return resampler.mean()


def filled(frame: pd.DataFrame, columns: list, fill: str, fill_limit, done: Regularised) -> pd.DataFrame:
    """``frame`` with the holes of ``columns`` filled, cut to the rows where every column has
    begun and none has ended, holes past ``fill_limit`` and grids mostly made up refused."""
    if not len(frame):
        return frame  # no rows at all: the caller names that
    missing = frame[columns].isna().to_numpy()  # (rows, columns)
    empty = [c for c, none in zip(columns, (~missing).sum(axis=0) == 0) if none]
    if empty:
        raise DataError(f"column(s) {', '.join(map(repr, empty))} hold no value at all (every one of "
                        f"{len(frame):,} rows is NaN); leave them out of target and covariates")
    firsts = np.argmax(~missing, axis=0)  # (columns,)
    lasts = len(frame) - 1 - np.argmax(~missing[::-1], axis=0)  # (columns,)
    first, last = int(firsts.max()), int(lasts.min())
    if first > last:
        raise DataError(f"the columns never hold values together: {columns[int(np.argmin(lasts))]!r} ends at "
                        f"{frame.index[last]}, before {columns[int(np.argmax(firsts))]!r} begins at "
                        f"{frame.index[first]}; train on them apart")
    done.dropped_first, done.dropped_last = first, len(frame) - 1 - last
    done.begins_late = tuple((c, frame.index[i]) for c, i in zip(columns, firsts) if i > 0)
    done.ends_early = tuple((c, frame.index[i]) for c, i in zip(columns, lasts) if i < len(frame) - 1)
    frame = frame.iloc[first: last + 1]
    limit = _limit_rows(fill_limit, frame.index)
    for column, gaps in zip(columns, frame[columns].isna().to_numpy().T):
        holes = _holes(column, gaps, frame.index)
        if not holes:
            continue
        longest = max(holes, key=lambda hole: hole.rows)
        if limit is not None and longest.rows > limit:
            raise DataError(f"column {column!r} has a hole of {longest}, longer than fill_limit={fill_limit!r}"
                            f"{f' ({limit} rows)' if isinstance(fill_limit, str) else ''}, so fill={fill!r} "
                            f"would make up too much; raise fill_limit, or split the data at the hole")
        done.made_up[column], done.longest[column] = int(gaps.sum()), longest
    made_up = int(frame[columns].isna().any(axis=1).sum())
    if made_up > len(frame) / 2:
        raise DataError(f"{made_up:,} of {len(frame):,} rows would be made up by fill={fill!r} (columns "
                        f"{', '.join(map(repr, done.made_up))}); pass data with fewer holes or a coarser freq")
    values = frame[columns]
    frame = frame.copy()
    frame[columns] = values.interpolate() if fill == "interpolate" else values.ffill()
    return frame


def _holes(column: str, gaps: np.ndarray, index: pd.Index) -> list:
    """The runs of True in ``gaps`` as Holes (the first and last rows are never missing)."""
    edges = np.diff(gaps.astype(np.int8))  # (rows - 1,): +1 where a hole opens, -1 where it closes
    starts, ends = np.flatnonzero(edges == 1) + 1, np.flatnonzero(edges == -1) + 1
    times = isinstance(index, pd.DatetimeIndex)
    return [Hole(column, index[s], int(e - s), index[s] - index[s - 1] if times else None)
            for s, e in zip(starts, ends)]


def _limit_rows(fill_limit, index: pd.Index) -> Optional[int]:
    """``fill_limit`` in rows: a whole number as it is, a duration in the grid's steps."""
    if fill_limit is None or not isinstance(fill_limit, str):
        return fill_limit
    if not isinstance(index, pd.DatetimeIndex):
        raise DataError(f"`fill_limit` ({fill_limit!r}) is a duration, but the data's rows are positions, not "
                        f"times; give it in rows, such as fill_limit=3")
    if len(index) < 2:
        return None
    step = pd.Series(index).diff().mode().iloc[0]
    return int(pd.Timedelta(fill_limit) // step)


def _duration(span: pd.Timedelta) -> str:
    """'3h', '1 day 2h', '10min': a span as a person writes it."""
    text = str(pd.Timedelta(span))
    days, _, clock = text.partition(" days ")
    if not clock:
        days, clock = "0", text
    hours, minutes, seconds = (float(part) for part in clock.split(":"))
    parts = [f"{int(days)} day{'s' if int(days) != 1 else ''}"] if int(days) else []
    parts += [f"{int(hours)}h"] if hours else []
    parts += [f"{int(minutes)}min"] if minutes else []
    parts += [f"{seconds:g}s"] if seconds else []
    return " ".join(parts) or "0s"
