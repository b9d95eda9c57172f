"""Calendar features: the time of day and the day of the week as known-future covariates.

With ``calendar=True`` they are made from the DatetimeIndex, for the training rows and again
for every forecast row, so a model can learn a daily or weekly cycle without being handed
a schedule. Each is a phase on a circle (sin, cos): 23:00 lies next to 00:00.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError

HOUR = ("hour_sin", "hour_cos")  # the time of day
WEEKDAY = ("weekday_sin", "weekday_cos")  # the day of the week
COLUMNS = HOUR + WEEKDAY


def calendar_names(index: pd.Index) -> tuple:
    """The features that vary at the data's step: both for sub-daily data, the weekday for
    daily data. Refuses an index without timestamps, or steps of a week or more."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        raise DataError(
            f"`calendar=True` reads the time of each row, but the data's index holds "
            f"{type(index).__name__} labels; give the rows timestamps (df.index = pd.to_datetime(...)) "
            "or leave calendar out"
        )
    step = pd.Series(index).diff().median()
    if step < pd.Timedelta(days=1):
        return COLUMNS
    if step < pd.Timedelta(days=7):
        return WEEKDAY
    raise DataError(f"`calendar=True` adds the time of day and the weekday, which do not change at "
                    f"the data's step ({step}); leave calendar out")


def calendar_frame(index: pd.DatetimeIndex, names) -> pd.DataFrame:
    """The features ``names`` for the rows ``index``, one column each."""
    hours = index.hour + index.minute / 60 + index.second / 3600  # (rows,)
    phases = {"hour": hours / 24, "weekday": (index.day_of_week + hours / 24) / 7}  # in [0, 1)
    columns = {}
    for name in names:
        kind, wave = name.rsplit("_", 1)
        columns[name] = (np.sin if wave == "sin" else np.cos)(2 * np.pi * np.asarray(phases[kind]))
    return pd.DataFrame(columns, index=index)


def with_calendar(frame: pd.DataFrame, names) -> pd.DataFrame:
    """``frame`` with the calendar features ``names`` added from its index (replacing any
    given, which are made the same way)."""
    names = [n for n in names if n in COLUMNS]
    if not names:
        return frame
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError(f"this model reads calendar features ({', '.join(names)}), made from "
                        f"timestamps; the rows given have {type(frame.index).__name__} labels")
    return pd.concat([frame.drop(columns=names, errors="ignore"), calendar_frame(frame.index, names)], axis=1)
