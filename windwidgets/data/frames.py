"""Turn what a person passes as ``data`` into a checked DataFrame and its column groups."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, closest, listing
from .times import parsed_times

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Layout:
    """Which columns play which part; the model's inputs and outputs follow from it."""

    targets: tuple  # forecast and scored
    covariates: tuple = ()  # past-only: fed in, and forecast alongside the targets
    future_covariates: tuple = ()  # known ahead: fed in, never forecast
    grid: tuple = ()  # (channels, rows, columns) when each row is a flattened grid (convlstm)
    statics: tuple = ()  # one value per series, on every row of it (panels): fed in, never forecast

    @property
    def outputs(self) -> tuple:
        """Columns the model predicts: past-only covariates are forecast too, so a long
        rollout never needs values nobody can know yet."""
        return self.targets + self.covariates

    @property
    def inputs(self) -> tuple:
        return self.outputs + self.future_covariates + self.statics


def read_frame(data, name: str = "data") -> pd.DataFrame:
    """A DataFrame from a DataFrame, Series, ndarray or a CSV/Parquet path; ``name`` is the
    argument that brought it, for the messages."""
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
            f"`{name}` is an array of shape {data.shape}; a forecaster takes a 1-D series or a "
            "2-D (time, columns) array (grids of shape (time, rows, columns) go to model='convlstm')"
        )
    if isinstance(data, (str, Path)):
        return _read_file(Path(data), name)
    raise DataError(
        f"`{name}` is a {type(data).__name__}; pass a pandas DataFrame or Series, a numpy array, "
        "or the path of a CSV or Parquet file"
    )


def _read_file(path: Path, name: str) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"`{name}` names the file {str(path)!r}, which does not exist")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _time_index(pd.read_parquet(path))
    if suffix not in (".csv", ".txt"):
        raise DataError(f"`{name}` file {str(path)!r} is neither .csv nor .parquet")
    frame = pd.read_csv(path)
    first = frame.columns[0]
    if str(first).startswith("Unnamed: 0"):  # the index df.to_csv(path) writes by default
        frame = frame.set_index(first).rename_axis(None)
        return _time_index(frame)
    if not pd.api.types.is_numeric_dtype(frame[first]):
        try:  # a leading timestamp column becomes the index (offsets of a clock change read in UTC)
            frame.index = parsed_times(frame[first], f"`{name}` file's column {first!r}")
            frame = frame.drop(columns=first)
        except DataError:
            pass
    return frame


def _time_index(frame: pd.DataFrame) -> pd.DataFrame:
    """Periods become timestamps and text labels are parsed as times; positions and
    timestamps stay as they are. Anything else cannot say where a row lies in time. A
    (series, time) MultiIndex becomes a series column and a time index."""
    index = frame.index
    if isinstance(index, pd.MultiIndex):
        return _series_and_time(frame)
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp()
    elif not (isinstance(index, pd.DatetimeIndex) or pd.api.types.is_numeric_dtype(index)):
        index = _parsed_times(index)
    if index.hasnans:
        where = np.flatnonzero(index.isna())
        raise DataError(
            f"the index has {len(where)} missing label(s) (NaT or NaN, first at position {where[0]}); "
            "a row without a time cannot be placed in the series: drop those rows with "
            "df = df[df.index.notna()]"
        )
    return frame if index is frame.index else frame.set_axis(index)


def _parsed_times(index: pd.Index) -> pd.DatetimeIndex:
    return parsed_times(index, "the index", source="df.index")


def _series_and_time(frame: pd.DataFrame) -> pd.DataFrame:
    """A (series, time) MultiIndex as a series column (the id level, which `series=` names) and
    a time index, as a long table with a time column and an id column has them."""
    index = frame.index
    timed = [i for i, level in enumerate(index.levels) if isinstance(level, (pd.DatetimeIndex, pd.PeriodIndex))]
    if index.nlevels != 2 or len(timed) != 1:
        raise DataError(
            f"the index has {index.nlevels} levels ({listing(index.names)}) of which {len(timed)} hold(s) times; "
            "a long table's index may be (series, time): one level naming the series, one of timestamps. "
            "Move the others to columns with df.reset_index(level=[...])"
        )
    series = index.names[1 - timed[0]]
    if series is None or series in frame.columns:
        raise DataError(
            f"the index's series level is {'unnamed' if series is None else f'named {series!r}, as a column is'}; "
            "name it so series= can name it: df.index = df.index.set_names(['turbine', 'time'])"
        )
    frame = frame.reset_index(level=series)
    return _time_index(frame)


def as_list(columns) -> list:
    """Column names from None, one name, a comma-separated string or a list."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [c.strip() for c in columns.split(",") if c.strip()]
    if isinstance(columns, (list, tuple, pd.Index, np.ndarray)):
        return list(columns)
    return [columns]


def layout_of(frame: pd.DataFrame, target, covariates, future_covariates, statics: tuple = ()) -> Layout:
    """Check the named columns exist, are named once, hold real numbers and play one part;
    ``statics`` (checked by :mod:`~windwidgets.data.statics`) play theirs too."""
    targets, past, future = as_list(target), as_list(covariates), as_list(future_covariates)
    if not targets:
        numeric = [c for c, dtype in frame.dtypes.items() if pd.api.types.is_numeric_dtype(dtype)]
        targets = list(dict.fromkeys(c for c in numeric if c not in past + future + list(statics)))
        if not targets:
            raise DataError(
                f"`target` is None, which forecasts every numeric column, but the data has none "
                f"besides the covariates (columns: {listing(f'{c} ({t})' for c, t in frame.dtypes.items())}); "
                "convert the values with pd.to_numeric, or name the target column"
            )
    for role, names in (("target", targets), ("covariates", past), ("future_covariates", future)):
        for name in names:
            if name not in frame.columns:
                raise DataError(
                    f"`{role}` names column {name!r}, which is not in the data"
                    f"{closest(name, map(str, frame.columns))}; columns: {listing(frame.columns)}"
                )
    seen = targets + past + future
    repeated = set(frame.columns[frame.columns.duplicated()])
    named_twice = sorted({str(c) for c in seen if c in repeated})
    if named_twice:
        raise DataError(
            f"the data has more than one column named {listing(named_twice)}; give each column its "
            "own name (df.columns = [...]) or drop the copies (df = df.loc[:, ~df.columns.duplicated()])"
        )
    roles = seen + list(statics)
    twice = sorted({c for c in roles if roles.count(c) > 1})
    if twice:
        raise DataError(
            f"column(s) {listing(twice)} appear in more than one of target, covariates, "
            "future_covariates and static_covariates; give each column one part"
        )
    bad = [c for c in seen if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataError(
            f"column(s) {listing(bad)} are not numeric (dtype {frame[bad[0]].dtype}); "
            "convert them with pd.to_numeric or leave them out"
        )
    complex_ = [c for c in seen if pd.api.types.is_complex_dtype(frame[c])]
    if complex_:
        raise DataError(
            f"column(s) {listing(complex_)} hold complex numbers (dtype {frame[complex_[0]].dtype}); "
            f"the models read real values: pass the real part (df[{complex_[0]!r}].real), the "
            "magnitude (np.abs(...)), or both as two columns"
        )
    return Layout(tuple(targets), tuple(past), tuple(future), statics=tuple(statics))


def columns_of(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """The ``columns`` of ``frame`` in that order, as a copy: a selection in another order
    than the data's can be a view with negative strides, which torch cannot read."""
    return frame[list(columns)].copy()


def check_values(frame: pd.DataFrame, columns, fix: str = "fill them (df.interpolate() or df.ffill()) "
                                                           "or drop those rows") -> None:
    """NaN/inf and index order, named by column and first bad rows; ``fix`` ends the message
    about missing values."""
    selected = frame if list(frame.columns) == list(columns) else frame[list(columns)]  # a selection costs 0.2 ms
    values = selected.to_numpy(dtype=np.float64)
    huge = np.abs(np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)) > FLOAT32_MAX
    if huge.any():
        column = int(np.flatnonzero(huge.any(axis=0))[0])
        row = int(np.flatnonzero(huge[:, column])[0])
        raise DataError(
            f"column {columns[column]!r} holds {values[row, column]:.3g} (at {frame.index[row]}), beyond "
            f"the float32 numbers the models compute in (at most {FLOAT32_MAX:.3g} in size); rescale "
            f"it, e.g. df[{columns[column]!r}] / 1e30"
        )
    bad_rows = ~np.isfinite(values)
    if bad_rows.any():
        cols = [c for c, b in zip(columns, bad_rows.any(axis=0)) if b]
        rows = np.flatnonzero(bad_rows.any(axis=1))
        labels = [str(frame.index[r]) for r in rows[:3]]
        raise DataError(
            f"column(s) {listing(cols)} hold NaN or inf values ({len(rows)} rows, first at "
            f"{', '.join(labels)}); {fix}"
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
