"""Turn what a person passes as ``data`` into a checked DataFrame and its column groups."""
from __future__ import annotations

from dataclasses import dataclass
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, closest, listing


@dataclass(frozen=True)
class Layout:
    """Which columns play which part; the model's inputs and outputs follow from it."""

    targets: tuple  # forecast and scored
    covariates: tuple = ()  # past-only: fed in, and forecast alongside the targets
    future_covariates: tuple = ()  # known ahead: fed in, never forecast
    grid: tuple = ()  # (channels, rows, columns) when each row is a flattened grid (convlstm)

    @property
    def outputs(self) -> tuple:
        """Columns the model predicts: past-only covariates are forecast too, so a long
        rollout never needs values nobody can know yet."""
        return self.targets + self.covariates

    @property
    def inputs(self) -> tuple:
        return self.outputs + self.future_covariates


def read_frame(data) -> pd.DataFrame:
    """A DataFrame from a DataFrame, Series, ndarray or a CSV/Parquet path."""
    if isinstance(data, pd.DataFrame):
        return _time_index(data)
    if isinstance(data, pd.Series):
        return _time_index(data.to_frame(name=data.name if data.name is not None else "y"))
    if isinstance(data, np.ndarray):
        if data.ndim == 1:
            return pd.DataFrame({"y": data})
        if data.ndim == 2:
            return pd.DataFrame(data, columns=[f"y{i}" for i in range(data.shape[1])])
        raise DataError(
            f"`data` is an array of shape {data.shape}; a forecaster takes a 1-D series or a "
            "2-D (time, columns) array (grids of shape (time, rows, columns) go to model='convlstm')"
        )
    if isinstance(data, (str, Path)):
        return _read_file(Path(data))
    raise DataError(
        f"`data` is a {type(data).__name__}; pass a pandas DataFrame or Series, a numpy array, "
        "or the path of a CSV or Parquet file"
    )


def _read_file(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"`data` names the file {str(path)!r}, which does not exist")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _time_index(pd.read_parquet(path))
    if suffix not in (".csv", ".txt"):
        raise DataError(f"`data` file {str(path)!r} is neither .csv nor .parquet")
    frame = pd.read_csv(path)
    first = frame.columns[0]
    if str(first).startswith("Unnamed: 0"):  # the index df.to_csv(path) writes by default
        frame = frame.set_index(first).rename_axis(None)
        return _time_index(frame)
    if not pd.api.types.is_numeric_dtype(frame[first]):
        try:  # a leading timestamp column becomes the index
            frame.index = pd.DatetimeIndex(pd.to_datetime(frame[first]), name=first)
            frame = frame.drop(columns=first)
        except (ValueError, TypeError):
            pass
    return frame


def _time_index(frame: pd.DataFrame) -> pd.DataFrame:
    """Periods become timestamps and text labels are parsed as times; positions and
    timestamps stay as they are. Anything else cannot say where a row lies in time."""
    index = frame.index
    if isinstance(index, pd.PeriodIndex):
        return frame.set_axis(index.to_timestamp())
    if isinstance(index, pd.DatetimeIndex) or pd.api.types.is_numeric_dtype(index):
        return frame
    try:
        with warnings.catch_warnings():  # pandas warns before failing on labels like "r0"
            warnings.simplefilter("ignore", UserWarning)
            return frame.set_axis(pd.DatetimeIndex(pd.to_datetime(index), name=index.name))
    except (ValueError, TypeError):
        raise DataError(
            f"the index holds labels that are neither times nor numbers (first: {index[0]!r}); "
            "convert it with df.index = pd.to_datetime(df.index), or drop it with "
            "df.reset_index(drop=True)"
        ) from None


def as_list(columns) -> list:
    """Column names from None, one name, a comma-separated string or a list."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [c.strip() for c in columns.split(",") if c.strip()]
    if isinstance(columns, (list, tuple, pd.Index, np.ndarray)):
        return list(columns)
    return [columns]


def layout_of(frame: pd.DataFrame, target, covariates, future_covariates) -> Layout:
    """Check the named columns exist, are numeric and are named once."""
    targets, past, future = as_list(target), as_list(covariates), as_list(future_covariates)
    if not targets:
        targets = [c for c in frame.columns
                   if c not in past + future and pd.api.types.is_numeric_dtype(frame[c])]
    for role, names in (("target", targets), ("covariates", past), ("future_covariates", future)):
        for name in names:
            if name not in frame.columns:
                raise DataError(
                    f"`{role}` names column {name!r}, which is not in the data"
                    f"{closest(name, map(str, frame.columns))}; columns: {listing(frame.columns)}"
                )
    seen = targets + past + future
    twice = sorted({c for c in seen if seen.count(c) > 1})
    if twice:
        raise DataError(
            f"column(s) {listing(twice)} appear in more than one of target, covariates and "
            "future_covariates; give each column one part"
        )
    bad = [c for c in seen if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataError(
            f"column(s) {listing(bad)} are not numeric (dtype {frame[bad[0]].dtype}); "
            "convert them with pd.to_numeric or leave them out"
        )
    return Layout(tuple(targets), tuple(past), tuple(future))


def check_values(frame: pd.DataFrame, columns) -> None:
    """NaN/inf and index order, named by column and first bad rows."""
    values = frame[list(columns)].to_numpy(dtype=np.float64)
    bad_rows = ~np.isfinite(values)
    if bad_rows.any():
        cols = [c for c, b in zip(columns, bad_rows.any(axis=0)) if b]
        rows = np.flatnonzero(bad_rows.any(axis=1))
        labels = [str(frame.index[r]) for r in rows[:3]]
        raise DataError(
            f"column(s) {listing(cols)} hold NaN or inf values ({len(rows)} rows, first at "
            f"{', '.join(labels)}); fill them (df.interpolate() or df.ffill()) or drop those rows"
        )
    index = frame.index
    if index.has_duplicates:
        dup = index[index.duplicated()][:3]
        raise DataError(
            f"the index has duplicated labels (first: {listing(map(str, dup))}); aggregate them "
            "(df.groupby(level=0).mean()) or reset the index"
        )
    if not index.is_monotonic_increasing:
        labels = np.asarray(index)
        where = int(np.flatnonzero(labels[1:] < labels[:-1])[0]) + 1
        raise DataError(
            f"the index is not sorted in time (out of order near position {where}, label "
            f"{index[where]!s}); sort it with df.sort_index()"
        )
