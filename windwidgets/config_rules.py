"""The rules of :meth:`~windwidgets.config.RunConfig.validate` that a field's description
cannot say: a frequency pandas reads but cannot step by, settings that need another, limits
on sizes, physical bounds."""
from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from .errors import ConfigError, check_whole, closest


def frequency_rule(value) -> None:
    """`freq`: a pandas frequency of positive length ("0h" divides by zero, "-1h" runs backwards)."""
    if value is None:
        return
    try:
        if not isinstance(value, str):
            raise TypeError
        step = pd.tseries.frequencies.to_offset(value)
    except (ValueError, TypeError):
        raise ConfigError(f"`freq` ({value!r}) is not a pandas frequency; pass one such as '1h', '10min' "
                          "or '1D', or None to keep the rows as they are") from None
    if step.n <= 0:
        raise ConfigError(f"`freq` ({value!r}) is a step of {'zero' if step.n == 0 else 'negative'} length; "
                          "pass a positive one, such as '1h' or '10min'")


def time_rule(d) -> None:
    """``time_unit`` reads a ``time`` column; ``fill_limit`` limits a ``fill``."""
    if d.time_unit is not None and d.time is None:
        raise ConfigError(f"`time_unit` ({d.time_unit!r}) says what the numbers of a time column count, but "
                          "`time` names none; pass time='<the column of numbers>' too")
    limit = d.fill_limit
    if limit is None:
        return
    if isinstance(limit, str):
        try:
            whole = pd.Timedelta(limit) > pd.Timedelta(0)
        except ValueError:
            whole = False
        if not whole:
            raise ConfigError(f"`fill_limit` ({limit!r}) is not a positive duration; pass one such as '3h' or "
                              "'30min', a number of rows such as 3, or None")
    else:
        check_whole("fill_limit", limit, 1, hint=" (rows), a duration such as '3h', or None")
    if d.fill is None:
        raise ConfigError(f"`fill_limit` ({limit!r}) limits the holes `fill` fills, but fill is None; pass "
                          "fill='interpolate' or fill='ffill' too, or leave fill_limit out")


MAX_ENSEMBLE = 64  # members; more is a typo, or a sweep's job
THREADS_PER_CORE = 4  # a cap on threads: more only spins, and far more crashes inside torch


def sizes_rule(ensemble: int, threads) -> None:
    """Upper bounds on sizes that would otherwise build models until killed or crash torch."""
    if ensemble > MAX_ENSEMBLE:
        raise ConfigError(f"`ensemble` ({ensemble}) is above {MAX_ENSEMBLE} members, each a whole model trained "
                          f"side by side; pass at most {MAX_ENSEMBLE} (5 to 10 is usual)")
    if threads == "auto":
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"`threads` ({threads!r}) must be 'auto' or a whole number of at least 1")
    most = (os.cpu_count() or 1) * THREADS_PER_CORE
    if threads > most:
        raise ConfigError(f"`threads` ({threads}) is more than {THREADS_PER_CORE} per CPU core of this machine "
                          f"({os.cpu_count()} cores); pass at most {most}, or 'auto'")


def bounds_rule(value) -> None:
    """``{"power": (0, None)}``: per column, a lower and an upper limit, None (or inf) for none."""
    if value is None:
        return
    example = "bounds={'power': (0, None)}"
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"`bounds` ({value!r}) must be a dict from target name to (lower, upper), "
                          f"such as {example}, or None")
    for name, pair in value.items():
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(
                v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v))
                for v in pair):
            raise ConfigError(f"`bounds` gives {name!r} the limits {pair!r}; give a pair (lower, upper) of "
                              f"numbers, None for no limit on that side, such as {example}")
        low, high = (-math.inf if pair[0] is None else pair[0]), (math.inf if pair[1] is None else pair[1])
        if not low < high:
            raise ConfigError(f"`bounds` gives {name!r} a lower limit ({pair[0]}) that is not below its "
                              f"upper limit ({pair[1]}); swap them or widen the range")


def columns_rule(name: str, value) -> None:
    if isinstance(value, dict) and name == "static_covariates":  # a table by id (see statics_rule)
        return
    names = value if isinstance(value, list) else [value]
    if value is not None and not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in names):
        raise ConfigError(f"`{name}` ({value!r}) must be a column name or a list of names, "
                          f"such as {name}=['temperature']")


INTERVAL_WORDS = {"(0, inf)": "positive and finite", "(0, inf]": "positive"}  # as messages say them


def inside(value, interval: str) -> bool:
    """Whether ``value`` lies in ``interval``, such as "[0, 1)": brackets take the end, parentheses do not."""
    low, high = (float(end) for end in interval[1:-1].split(","))
    above = value >= low if interval[0] == "[" else value > low
    below = value <= high if interval[-1] == "]" else value < high
    return above and below


def choice_rule(name: str, value, valid: tuple) -> None:
    if value not in valid:
        raise ConfigError(
            f"`{name}` ({value!r}) is not one of {', '.join(repr(v) for v in valid)}"
            f"{closest(str(value), [str(v) for v in valid if v is not None])}"
        )


DEFAULT_QUANTILES = (0.1, 0.5, 0.9)  # what loss="quantile" learns when `quantiles` is None


def sorted_levels(value):
    """``quantiles`` given as numbers, as a sorted tuple of floats (the order the model's outputs
    take); anything else as it is, for :func:`quantile_rule` to refuse with its value."""
    if isinstance(value, (list, tuple)) and all(_real(q) for q in value):
        return tuple(sorted(float(q) for q in value))
    return value


def levels_of(train) -> tuple | None:
    """The quantile levels a fit with these training settings learns, or None for a point loss."""
    if train.loss != "quantile":
        return None
    return DEFAULT_QUANTILES if train.quantiles is None else tuple(train.quantiles)


def quantile_rule(loss: str, quantiles) -> None:
    """``quantiles``: the levels of ``loss="quantile"``, each strictly inside (0, 1) and given
    once, the median among them (it is the point forecast)."""
    if quantiles is None:
        return
    example = "quantiles=(0.1, 0.5, 0.9)"
    if loss != "quantile":
        raise ConfigError(f"`quantiles` ({quantiles!r}) are the levels loss='quantile' learns, but loss is {loss!r}; "
                          "pass loss='quantile' too, or leave quantiles out")
    if not isinstance(quantiles, (list, tuple)) or not quantiles or not all(_real(q) for q in quantiles):
        raise ConfigError(f"`quantiles` ({quantiles!r}) must be a list of levels between 0 and 1, such as {example}")
    shown = list(quantiles)
    outside = [q for q in shown if not 0 < q < 1]
    if outside:
        raise ConfigError(f"`quantiles` ({shown}) holds {', '.join(map(str, outside))}, not strictly between 0 and "
                          f"1 (a level is the share of outcomes below it); pass levels such as {example}")
    twice = sorted({q for q in shown if shown.count(q) > 1})
    if twice:
        raise ConfigError(f"`quantiles` ({shown}) holds {', '.join(map(str, twice))} more than once; pass each "
                          "level once")
    if 0.5 not in shown:
        raise ConfigError(f"`quantiles` ({shown}) leaves out 0.5: the median is the point forecast (the target's "
                          f"column, backtests, evaluate); add 0.5, such as {example}")


def refit_rule(refit: bool, task: str) -> None:
    """``refit``: a classifier's accuracy is read on the validation rows a refit would learn from."""
    if refit and task != "forecast":
        raise ConfigError(f"`refit=True` is for forecasters: a classifier ({task=!r}) is scored on its validation "
                          "rows, which a refit would learn from; leave `refit` out")


def _real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def static_setting(value, series):
    """``static_covariates`` as a config keeps it: column names as given; a table by series id
    (a DataFrame indexed by the id, or with the ``series`` column) as {column: {id: value}},
    which a file saves and Ray ships as plain numbers. A table is checked here, where it is
    read: one row per series, numbers only."""
    if not isinstance(value, pd.DataFrame):
        return value
    table = value.set_index(series) if series is not None and series in value.columns else value
    if table.index.has_duplicates:
        twice = table.index[table.index.duplicated()][0]
        raise ConfigError(f"the `static_covariates` table has more than one row for series {twice!r}; it takes "
                          "one row per series: keep one, e.g. table = table[~table.index.duplicated()]")
    if not len(table.columns):
        raise ConfigError("the `static_covariates` table has no columns; give it one column per static covariate")
    for column in table.columns:
        check_static_values(table[column], column, "table")
    ids = [key.item() if hasattr(key, "item") else key for key in table.index]
    odd = [key for key in ids if isinstance(key, bool) or not isinstance(key, (str, int))]
    if odd:
        raise ConfigError(f"the `static_covariates` table's index holds {odd[0]!r} ({type(odd[0]).__name__}), "
                          "not a series id; index it by the id column (table.set_index('turbine')), or give it "
                          f"a column named as `series` ({series!r})")
    return {column.item() if hasattr(column, "item") else column: dict(zip(ids, table[column].astype(float)))
            for column in table.columns}


def check_static_values(values: pd.Series, column, where: str) -> None:
    """A static covariate's values must be real numbers: text is refused with the one-hot
    encoding that makes numbers of it (made by the person, who sees the new columns, rather
    than here, where a category the fit never saw would silently read as none)."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_complex_dtype(values):
        shown = values.dropna().iloc[0] if values.notna().any() else None
        raise ConfigError(
            f"`static_covariates` {where} column {column!r} is not numeric (dtype {values.dtype}, e.g. {shown!r}); "
            f"the models read numbers: one-hot it first, e.g. df = pd.get_dummies(df, columns=[{column!r}], "
            "dtype=float), and name the new columns, or map its values to numbers")
    if not np.isfinite(values.to_numpy(dtype=np.float64)).all():
        where_bad = values.index[~np.isfinite(values.to_numpy(dtype=np.float64))][0]
        raise ConfigError(f"`static_covariates` {where} column {column!r} holds NaN or inf (at {where_bad!r}); "
                          "give every series a value")


def statics_rule(d, m) -> None:
    """``static_covariates`` speak of the series of a panel, and reach the model as columns a
    per-window normalisation would zero."""
    value = d.static_covariates
    if value is None or value == [] or value == ():
        return
    if isinstance(value, dict) and not all(isinstance(ids, dict) for ids in value.values()):
        raise ConfigError(f"`static_covariates` ({value!r}) must be column names, or a table by series id "
                          "(a DataFrame, or {column: {id: value}}), such as static_covariates=['rated_kw']")
    if d.series is None:
        raise ConfigError(f"`static_covariates` ({_shown(value)}) hold one value per series of a panel, but "
                          "`series` is None: the data is one series, and a value constant over it carries "
                          "nothing a model can learn from; pass series='<id column>' for a panel, or leave "
                          "static_covariates out")
    if m.normalize == "window":
        raise ConfigError(f"`normalize='window'` takes each window's own mean off every input column, so the "
                          f"static covariates ({_shown(value)}), the same on every row, would reach the model "
                          "as zeros; leave normalize out, or the static covariates")


def _shown(value) -> str:
    """Static covariates as a message shows them: their names, for a table too."""
    return f"a table of {', '.join(map(repr, value))}" if isinstance(value, dict) else repr(value)
