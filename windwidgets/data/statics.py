"""Static covariates: one value per series of a panel (a turbine's rated power, a site's
height), read by the model as constant extra input columns on every row of its series.

They are given as columns of the long table that hold one value within each series, or as a
table by series id (``config.static_covariates`` keeps it as {column: {id: value}}). Either
way they become a (series, statics) table, are scaled over the series (each series counts
once, however long it is) and are appended, constant, to each series' rows: every model of
the zoo reads them, and a rollout carries them on from its last known row. A new series at
forecast time brings them in its context rows, or finds them in the table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..config_rules import check_static_values
from ..errors import ConfigError, DataError, closest, listing, warn
from .frames import Layout, as_list
from .scaling import Scaler


def static_names(setting) -> tuple:
    """The static covariates' names, from the names or the table of ``static_covariates``."""
    return tuple(setting) if isinstance(setting, dict) else tuple(as_list(setting))


def static_table(setting) -> pd.DataFrame | None:
    """The table form of ``static_covariates`` as a DataFrame indexed by series id, or None."""
    return pd.DataFrame({column: pd.Series(dict(ids)) for column, ids in setting.items()}) \
        if isinstance(setting, dict) else None


def static_values(frame: pd.DataFrame, keys, setting, series: str) -> pd.DataFrame:
    """The statics of the series ``keys`` of the long table ``frame`` (id column ``series``):
    a float (series, statics) table indexed by id. Columns of the table must be constant
    within each series; a table by id must have a row for each of them."""
    names, table = static_names(setting), static_table(setting)
    if table is not None:
        missing = [key for key in keys if key not in table.index]
        if missing:
            raise DataError(f"the `static_covariates` table has no row for {len(missing)} series of the data "
                            f"({listing(map(repr, missing[:5]))}{', ...' if len(missing) > 5 else ''}); add a row "
                            "for each series (extra rows, for series to come, are fine)")
        taken = [name for name in names if name in frame.columns]
        if taken:
            raise DataError(f"the data has column(s) {listing(map(repr, taken))}, which the `static_covariates` "
                            "table gives too; give each static covariate in one place: drop those columns, or pass "
                            f"static_covariates={list(names)!r} to read them from the data")
        return table.loc[list(keys), list(names)].astype(np.float64)
    for name in names:
        if name not in frame.columns:
            raise DataError(f"`static_covariates` names column {name!r}, which is not in the data"
                            f"{closest(str(name), map(str, frame.columns))}; columns: {listing(frame.columns)}")
        _as_data_error(check_static_values, frame[name], name, "data")
    groups = frame.groupby(series, sort=False)[list(names)]
    counts = groups.nunique(dropna=False)  # (series, statics): distinct values within each series
    varying = counts.gt(1).to_numpy()
    if varying.any():
        row, column = (int(i[0]) for i in np.nonzero(varying))
        key, name = counts.index[row], names[column]
        shown = pd.unique(frame.loc[(frame[series] == key).to_numpy(), name])[:2].tolist()
        raise DataError(
            f"`static_covariates` column {name!r} varies within series {key!r} ({series}): it holds {shown[0]!r} "
            f"and {shown[1]!r}; a static covariate holds one value per series. Pass a column that changes in time "
            "as covariates=[...] or future_covariates=[...], or give the series one value")
    return groups.first().loc[list(keys)].astype(np.float64)


def _as_data_error(check, *args) -> None:
    try:
        check(*args)
    except ConfigError as error:
        raise DataError(str(error)) from None


def with_statics(frames: dict, values: pd.DataFrame) -> dict:
    """Each series' rows with its statics appended as constant columns, in ``values``' order."""
    names = list(values.columns)
    done = {}
    for key, part in frames.items():
        constant = np.broadcast_to(values.loc[key].to_numpy(np.float64), (len(part), len(names)))  # (rows, statics)
        done[key] = pd.concat([part, pd.DataFrame(constant, index=part.index, columns=names)], axis=1)
    return done


def scaled_over_series(scalers: dict, values: pd.DataFrame, kind) -> dict:
    """``scalers`` with their last (static) columns scaled over the series: one value per
    series, each series counted once (a scaler fitted on a series' own rows would see a
    constant and make every series' static zero). Warns of a static the same in every series."""
    statics = Scaler(kind).fit(torch.tensor(values.to_numpy(np.float64)))  # over (series, statics)
    same = [name for name, count in values.nunique().items() if count < 2]
    if same and len(values) > 1:
        warn(f"`static_covariates` column(s) {listing(map(repr, same))} hold one value in every series, so they "
             "tell the series apart not at all (they are scaled to zero); leave them out")
    count, done = values.shape[1], {}
    for key, scaler in scalers.items():
        if id(scaler) not in done:  # a shared scaler is changed once
            scaler.shift = torch.cat([scaler.shift[:-count], statics.shift.to(scaler.shift)])
            scaler.scale = torch.cat([scaler.scale[:-count], statics.scale.to(scaler.scale)])
            done[id(scaler)] = scaler
    return scalers


def ahead_rows(layout: Layout, count: int, future: np.ndarray | None, last: np.ndarray) -> np.ndarray:
    """(count, inputs) raw rows after the known ones: the future covariates given, the statics
    of ``last`` (the last known row, (inputs,)), zeros in the predicted columns (never read)."""
    rows = np.zeros((count, len(layout.inputs)))  # (rows, inputs)
    outputs, statics = len(layout.outputs), len(layout.statics)
    if future is not None:
        rows[:, outputs : outputs + future.shape[1]] = future
    if statics:
        rows[:, -statics:] = last[-statics:]
    return rows


def completed(rows, names: tuple, known: pd.Series | None, key, name: str, where: str = "") -> pd.DataFrame:
    """``rows`` (a context, new rows) of series ``key`` with its static columns: given in the
    rows (one value, and the one the model knows, if it knows one), or filled in from
    ``known`` (its values; None where the model knows none). ``where`` says where ``known``
    would come from, for the message."""
    if not names or not isinstance(rows, pd.DataFrame):
        return rows  # no statics; or rows the checks that follow refuse
    rows = rows.copy()
    for column in names:
        if column in rows.columns:
            given = pd.unique(rows[column].dropna()).tolist()
            if len(given) > 1 or (known is not None and len(given) and given[0] != known[column]):
                had = f"; the model knows it as {float(known[column])!r}" if known is not None else ""
                raise DataError(f"`{name}` of series {key!r} gives the static covariate {column!r} the value(s) "
                                f"{listing(map(repr, given[:3]))}{had}: a static covariate holds one value per series; "
                                f"give that one, or leave the column out")
            if len(given) and rows[column].isna().any():
                rows[column] = given[0]
            if len(given):
                continue
        if known is None:
            missing = [c for c in names if c not in rows.columns or rows[c].isna().all()]
            raise DataError(f"series {key!r} is new to the model, which reads the static covariate(s) "
                            f"{listing(map(repr, missing))}: add them to its `{name}` rows (one value per "
                            f"series){where}")
        rows[column] = known[column]
    return rows
