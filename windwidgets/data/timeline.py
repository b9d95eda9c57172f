"""Where the rows lie in time: a time column as the index, gaps and repeated timestamps found,
regularised to a frequency and filled, or refused with the setting that fixes them.

Real logs are rarely a clean grid: a SCADA export has its timestamps in a column, rows lost
in outages, an hour twice at the autumn clock change. A window that spans a hole teaches
the model a jump that never happened, so holes are refused unless ``freq=`` puts the rows
on a regular grid and ``fill=`` says what the missing rows hold.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import DataError, closest, listing, warn

FILLS = ("interpolate", "ffill", None)


def with_time(frame: pd.DataFrame, time=None, name: str = "data") -> pd.DataFrame:
    """``frame`` indexed by its ``time`` column (parsed as timestamps).

    With ``time=None`` and an index that holds no times, a single datetime column becomes
    the index by itself, with a warning that says so; several are left alone.
    """
    if time is None:
        if isinstance(frame.index, pd.DatetimeIndex):
            return frame
        found = [c for c, dtype in frame.dtypes.items() if pd.api.types.is_datetime64_any_dtype(dtype)]
        if len(found) != 1:
            return frame
        time = found[0]
        warn(f"`{name}` column {time!r} holds timestamps and becomes the index, so forecasts come "
             f"out at real times; pass time={time!r} to say so and silence this warning")
    if time not in frame.columns:
        raise DataError(
            f"`time` names column {time!r}, which is not in the {name}"
            f"{closest(str(time), map(str, frame.columns))}; columns: {listing(frame.columns)}"
        )
    try:
        with warnings.catch_warnings():  # pandas warns before failing on text like "r0"
            warnings.simplefilter("ignore", UserWarning)
            stamps = pd.DatetimeIndex(pd.to_datetime(frame[time]), name=time)
    except (ValueError, TypeError):
        raise DataError(
            f"`time` column {time!r} holds values that are not timestamps (first: {frame[time].iloc[0]!r}); "
            f"convert it with df[{time!r}] = pd.to_datetime(df[{time!r}], format=...)"
        ) from None
    if stamps.hasnans:
        where = np.flatnonzero(stamps.isna())
        raise DataError(
            f"`time` column {time!r} has {len(where)} missing timestamp(s) (first at row {where[0]}); "
            f"drop those rows with df = df[df[{time!r}].notna()]"
        )
    return frame.drop(columns=time).set_axis(stamps)


def regular(frame: pd.DataFrame, columns, freq=None, fill=None) -> pd.DataFrame:
    """``frame`` on a regular time grid with its missing values filled, or a DataError.

    Parameters
    ----------
    frame : the data, its index already checked (times or positions).
    columns : the columns the model reads; only their missing values matter.
    freq : None keeps the rows and refuses gaps and repeated timestamps; a frequency
        ("1h") averages the rows into one per step, which leaves steps without rows empty.
    fill : None refuses missing values; "interpolate" draws a straight line across them,
        "ffill" holds the last value (as interpolation does after the last one). Rows before
        the first value of a column are dropped: only the future could fill them.
    """
    times = isinstance(frame.index, pd.DatetimeIndex)
    if freq is not None:
        if not times:
            raise DataError(
                f"`freq` ({freq!r}) regularises timestamps, but the data's index holds positions "
                f"({type(frame.index).__name__}); name the time column with time='...' or leave `freq` out"
            )
        frame = frame[list(columns)].resample(freq).mean()
    elif times:
        _check_repeated(frame.index)
        _check_gaps(frame.index)
    if fill is None:
        return frame
    used = frame[list(columns)]
    filled = frame.copy()
    filled[list(columns)] = used.interpolate() if fill == "interpolate" else used.ffill()
    known = filled[list(columns)].notna().all(axis=1).to_numpy()
    first = int(np.argmax(known)) if known.any() else len(filled)
    return filled.iloc[first:]


def _check_repeated(index: pd.DatetimeIndex) -> None:
    repeated = index[index.duplicated(keep="first")]
    if len(repeated):
        raise DataError(
            f"the index has duplicated labels: {len(repeated)} repeated timestamp(s) (first: "
            f"{listing(map(str, repeated[:3]))}), "
            "as a clock change to winter time does; pass freq='...' (the data's step, e.g. '1h') to "
            "average them into one row per step, or convert the times to UTC before training"
        )


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


def _inferred(index: pd.DatetimeIndex):
    with warnings.catch_warnings():  # pandas 3 warns that the return type will change
        warnings.simplefilter("ignore", DeprecationWarning)
        return pd.infer_freq(index)


def _freq_text(step: pd.Timedelta) -> str:
    try:
        return pd.tseries.frequencies.to_offset(step).freqstr
    except ValueError:
        return f"{int(step.total_seconds())}s"
