"""Values read as times: text in any one format, UTC offsets that change at daylight saving,
several zones, periods, and numbers given with their unit.

A column of text whose offset changes from +02:00 to +01:00 on an October night holds
instants, not wall-clock times: it is parsed in UTC, and forecasts come out in UTC, with a
warning that says so and how to convert to the local zone (Timestamps that name their zone
stay in it). Numbers are never guessed to be nanoseconds since 1970: ``time_unit=`` says
what they count.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from ..errors import DataError, listing, warn

UNITS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
OFFSET = re.compile(r"([+-]\d{2}:?\d{2}|Z)$")  # the UTC offset that ends an ISO 8601 time
PLAUSIBLE = (pd.Timestamp("1971-01-01"), pd.Timestamp("2200-01-01"))  # epochs outside are a wrong unit


def parsed_times(values, what: str, unit=None, setting: str = "time", source: str = "") -> pd.DatetimeIndex:
    """``values`` (a Series or an Index) as a DatetimeIndex of the same name, or a DataError
    that begins with ``what`` ("`time` column 'stamp'", "the index") and names the bad value.

    Numbers need ``unit`` ("s", "ms", "us" or "ns" since 1970-01-01 UTC; the times are naive,
    in UTC). Text with one UTC offset keeps it; with several (a daylight saving change, two
    stations' zones) the instants are kept, with a warning, in UTC; Timestamps of one named
    zone stay in it. Times with a zone mixed with times without one are refused.
    ``setting`` is the keyword that names the column and ``source`` the code that holds the
    values (df['stamp'], df.index), for the fixes.
    """
    values = pd.Series(values, index=None, copy=False) if isinstance(values, pd.Index) else values
    name = values.name
    source = source or f"df[{name!r}]"
    if isinstance(values.dtype, pd.PeriodDtype):
        return pd.DatetimeIndex(values.dt.to_timestamp(), name=name)
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if unit is not None and not numeric:
        raise DataError(f"`time_unit` ({unit!r}) reads numbers as times, but {what} holds "
                        f"{values.dtype} values (first: {values.iloc[0]!r}); leave time_unit out")
    if numeric:
        return _from_numbers(values, what, unit, setting)
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.DatetimeIndex(values, name=name)
    try:
        with warnings.catch_warnings():  # pandas warns before failing on text like "r0"
            warnings.simplefilter("ignore", UserWarning)
            stamps = pd.DatetimeIndex(pd.to_datetime(values), name=name)
    except (ValueError, TypeError):
        stamps = _instants(values, what, source)
    _check_no_year(values, stamps, what)
    return stamps


def _check_no_year(values: pd.Series, stamps: pd.DatetimeIndex, what: str) -> None:
    """Text without a year that pandas still reads as a time ("T1", "May": the year 1) is
    an id or a name, not a date."""
    early = np.flatnonzero(np.asarray(stamps.year < 1000) & np.asarray(stamps.notna()))
    if len(early):
        row = int(early[0])
        raise DataError(f"{what} holds values that are not timestamps: {values.iloc[row]!r} at row {row} reads as "
                        f"{stamps[row]}, a time without a year; give the times with their date")


def _from_numbers(values: pd.Series, what: str, unit, setting: str) -> pd.DatetimeIndex:
    if unit is None:
        raise DataError(
            f"{what} holds numbers (first: {values.iloc[:1].tolist()[0]!r}), not timestamps, and what they count "
            f"is unknown; pass time_unit='s' (or 'ms', 'us', 'ns') to read them as {listing(UNITS.values())} "
            f"since 1970-01-01 UTC, or leave `{setting}` out to keep the rows in order as positions"
        )
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(values, unit=unit), name=values.name)
    except (ValueError, OverflowError):
        raise DataError(f"{what} holds numbers (first: {values.iloc[:1].tolist()[0]!r}) too large for time_unit={unit!r} "
                        f"({UNITS[unit]} since 1970); pass the unit they count, such as time_unit='ms'") from None
    known = stamps[stamps.notna()]
    if len(known) and (known.min() < PLAUSIBLE[0] or known.max() > PLAUSIBLE[1]):
        warn(f"{what} read as {UNITS[unit]} since 1970 (time_unit={unit!r}) runs from {known.min()} to "
             f"{known.max()}; if the numbers count another unit, pass it, such as time_unit='ms'")
    return stamps


def _instants(values: pd.Series, what: str, source: str) -> pd.DatetimeIndex:
    """Times in several UTC offsets or zones, as instants in UTC (times of one named zone
    across its offsets pandas keeps in that zone before this is reached)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            stamps = pd.DatetimeIndex(pd.to_datetime(values, utc=True), name=values.name)
    except (ValueError, TypeError):
        raise _not_times(values, what, source) from None
    zones = [str(v.tzinfo) for v in values if getattr(v, "tzinfo", None) is not None]
    offsets = [m.group(0) for v in values if isinstance(v, str) and (m := OFFSET.search(v.strip()))]
    if 0 < len(zones) + len(offsets) < int(values.notna().sum()):
        raise DataError(
            f"{what} mixes times with a time zone or UTC offset and times without one (first: "
            f"{values.iloc[0]!s}, last: {values.iloc[-1]!s}), so they cannot be put in one order; give "
            f"them all a zone, e.g. {source} = pd.to_datetime({source}, utc=True) if the bare ones are UTC"
        )
    given = listing(sorted(set(zones) | set(offsets)), limit=4)
    accessor = ".dt" if source.startswith("df[") else ""
    warn(f"{what} holds times at several UTC offsets or zones ({given}): a change to or from daylight "
         f"saving time does this, as do stations in two zones. They are read as instants in UTC, and "
         f"forecasts come out in UTC; to work in local time, convert them first, e.g. "
         f"{source} = pd.to_datetime({source}, utc=True){accessor}.tz_convert('Europe/Berlin')")
    return stamps


def _not_times(values: pd.Series, what: str, source: str) -> DataError:
    """The error for text that is not times, naming the first value that fails and its row."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        coerced = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    bad = np.flatnonzero((coerced.isna() & values.notna()).to_numpy())
    row = int(bad[0]) if len(bad) else 0
    count = f" ({len(bad)} such values)" if len(bad) > 1 else ""
    positions = ", or keep the rows as positions with df.reset_index(drop=True)" if source == "df.index" else ""
    return DataError(
        f"{what} holds values that are not timestamps: {values.iloc[row]!r} at row {row}{count}; "
        f"fix or drop those rows, or convert them with {source} = pd.to_datetime({source}, format=...)"
        f"{positions}"
    )
