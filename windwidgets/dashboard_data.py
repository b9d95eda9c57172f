"""What the dashboard reads of its table: which columns can be a target, a covariate, the
time or the series id; the checks of the data against the settings, made as they change,
before Train; the rows of one series for the data preview; and how a control's text
becomes a setting's value.
"""
from __future__ import annotations

import ast
import warnings

import pandas as pd

from .config import DataConfig
from .data.prepare import split_point
from .errors import WindwidgetsError, listing

SAMPLE = 50  # rows a text column's times are tried on


def numeric_columns(data: pd.DataFrame) -> list[str]:
    return [str(c) for c in data.select_dtypes("number").columns]


def time_columns(data: pd.DataFrame) -> list[str]:
    """Columns that can hold the timestamps: datetimes, or text whose values parse as times."""
    return [str(c) for c in data.columns if _is_time(data[c])]


def series_columns(data: pd.DataFrame) -> list[str]:
    """Columns that can name the series of a long table: ids (text, categories, whole
    numbers, not times) that repeat, each at several times, where the table has a time
    column; with none, ids that repeat."""
    times = [data[c] for c in data.columns if _is_time(data[c])]
    found = []
    for column in data.columns:
        values = data[column]
        if (_is_time(values) or pd.api.types.is_float_dtype(values) or pd.api.types.is_bool_dtype(values)
                or not 1 < values.nunique() <= len(values) // 2):
            continue
        if times and not any(_ids_per_time(values, time) for time in times):
            continue
        found.append(str(column))
    return found


def _ids_per_time(ids: pd.Series, times: pd.Series) -> bool:
    """Several ids at a time, and never the same id twice at one time."""
    pairs = pd.DataFrame({"id": ids.to_numpy(), "time": times.to_numpy()})
    return bool(pairs["time"].duplicated().any()) and not pairs.duplicated().any()


def _is_time(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return False
    sample = values.dropna().astype(str).head(SAMPLE)
    if sample.empty or sample.str.fullmatch(r"[+-]?\d+(\.\d*)?").all():  # numbers are not times
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' word on guessing the format
            pd.to_datetime(sample, format="mixed")
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def check_columns(name: str, value, numeric: list[str]) -> list[str]:
    """The columns a target or covariate setting names, checked against the numeric ones."""
    chosen = [value] if isinstance(value, str) else list(value or [])
    unknown = [c for c in chosen if c not in numeric]
    if unknown:
        raise WindwidgetsError(
            f"`{name}` ({value!r}) names {listing(map(repr, unknown))}, not a numeric column of the "
            f"data; numeric columns: {listing(map(repr, numeric)) or 'none'}"
        )
    return chosen


def check_data(data: pd.DataFrame, config: DataConfig) -> str:
    """What stops these settings from training on ``data``, found before Train ("" when
    nothing does): the time column, the series column (needed where times repeat), and the
    length of each series
    against ``window`` and ``horizon``. The library checks again, and more, at Train."""
    if config.time is not None and config.time in data.columns and not _is_time(data[config.time]):
        return (f"`time` ({config.time!r}) holds no dates or times; choose a column of timestamps, "
                "or none to use the index")
    if config.series is None and config.time in data.columns and data[config.time].duplicated().any():
        ids = series_columns(data)
        return (f"`time` ({config.time!r}) repeats its values: the table holds several series; choose "
                f"the column that names them as `series`" + (f" ({listing(map(repr, ids))})" if ids else ""))
    if config.series is None:
        parts = {None: len(data)}
    elif config.series not in data.columns:
        return f"`series` ({config.series!r}) is not a column of the data"
    else:
        parts = data.groupby(config.series, sort=False).size().to_dict()
    key = min(parts, key=parts.get)  # the shortest series decides
    try:
        split_point(parts[key], config)
    except WindwidgetsError as error:
        return str(error) if key is None else f"series {key!r}: {error}"
    return ""


def series_rows(data: pd.DataFrame, series: str | None, key, time: str | None) -> pd.DataFrame:
    """The rows of series ``key`` (all rows without a series column), indexed by their time
    when a time column is chosen: what the data preview draws."""
    rows = data if series is None or series not in data.columns else data[data[series] == key]
    if time is not None and time in rows.columns and _is_time(rows[time]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = rows.set_index(pd.DatetimeIndex(pd.to_datetime(rows[time], format="mixed")))
    return rows


def label(value) -> str:
    """A choice as its dropdown label ("none" for None); :func:`parse` reads it back. Labels,
    not values: ipywidgets takes a Dropdown value of None for "nothing chosen"."""
    return "none" if value is None else str(value)


def parse(text: str):
    """'' -> None, '12' -> 12, '0.5' -> 0.5; a dict as Python writes it ("{'power': (0,
    None)}", the README's bounds) or as a TOML table ('{power = [0, inf]}') -> a dict; a list
    ('[0.1, 0.5, 0.9]', the quantiles) -> a list; anything else stays text, for the library to
    refuse with its value."""
    text = text.strip()
    if text == "" or text.lower() == "none":
        return None
    if text.startswith(("{", "[", "(")):
        return _dict(text)
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _dict(text: str):
    try:
        return ast.literal_eval(text)  # literals only: no code runs
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        pass
    try:
        import tomllib
    except ImportError:  # Python 3.10: the text goes on and is refused with its value
        return text
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text
