"""PanelRun: one global model trained across the series of a panel, used series by series."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .data.statics import completed, static_table
from .errors import WindwidgetsError, listing, warn
from .forecast.forecaster import _check_steps as check_steps
from .forecast.intervals import check_level
from .forecast.panel import PanelBacktest, PanelEvaluation, backtests, calibrate, forecasts
from .run import Run
from .train.depth import DepthWarning, outside, outside_message, training_range


class PanelRun(Run):
    """A model trained on many series at once (``ww.train(..., series="turbine")``).

    Every method of :class:`~windwidgets.Run` works per series: ``forecast``, ``backtest``
    and ``evaluate`` take ``series=`` (one id or a list; all by default) and return long
    tables with the id in a column (or index level) named after the id column. Each series
    is used exactly as a one-series Run with the same model would use it (``member(id)``,
    which also follows a live series with ``keep_state=True``); backtests, evaluations and
    forecasts from the panel's own rows roll all the chosen series in one batch
    (:mod:`windwidgets.forecast.panel`), to the same numbers.
    ``frame``, ``n_train`` and ``scaler`` are those of the first series (the live preview shows it).

    ``members`` maps each id to its :class:`~windwidgets.data.series.SeriesState` and its
    scaler (its own, or the one the series share); a member's Run works on that same
    SeriesState, so rows ``update`` adds reach the panel without being copied back.
    """

    def __init__(self, config, model, device, members: dict, layout, history=None, trainer=None):
        series, scaler = next(iter(members.values()))
        super().__init__(config, model, device, series, layout, scaler, history=history, trainer=trainer)
        self.members = members  # id -> (SeriesState, Scaler)
        self._views: dict = {}  # id -> its Run, kept so that interval calibrations are reused

    def _states(self) -> list:
        return [state for state, _ in self.members.values()]

    @property
    def series(self) -> list:
        """The ids of the series, sorted (the order every per-series result follows)."""
        return list(self.members)

    def member(self, key) -> Run:
        """The series ``key`` as a one-series Run sharing this model, scaler and settings."""
        try:
            known = key in self.members
        except TypeError:  # a list or an array: unhashable
            raise WindwidgetsError(f"`series` ({key!r}) must be one id here, such as {self.series[0]!r}") from None
        if not known:
            raise WindwidgetsError(f"`series` ({key!r}) is not one of the panel's series: "
                                   f"{listing(map(repr, self.members))}")
        if key not in self._views:
            self._views[key] = self._run_on(*self.members[key])
        return self._views[key]

    def _run_on(self, series, scaler) -> Run:
        """A one-series Run over ``series`` that shares this panel's model and fit."""
        run = Run(self.config, self.model, self.device, series, self.layout, scaler, history=self._history)
        run._job = self._job  # the panel's fit: waiting for it, stopping it, its history
        return run

    def _chosen(self, series) -> list:
        keys = self.series if series is None else series if isinstance(series, list) else [series]
        if not keys:
            raise WindwidgetsError(f"`series` ([]) names no series; pass one id, a list of ids, or None for all: "
                                   f"{listing(map(repr, self.members))}")
        for key in keys:
            self.member(key)  # an unknown id is refused before any work
        return keys

    def _part(self, data, key, name: str, shared: bool = True):
        """The rows of ``data`` (a long DataFrame) for series ``key``, without the id column.
        A table without the id column is every series' own (known-future covariates shared
        by all, such as a weather forecast) where ``shared``; else it is refused, unless it
        speaks of one series."""
        column = self.config.data.series
        if data is None:
            return None
        if isinstance(data, pd.DataFrame) and column in data.columns:
            rows = data[(data[column] == key).to_numpy()].drop(columns=column)
            if not len(rows):
                raise WindwidgetsError(f"`{name}` has no rows for series {key!r} (its {column!r} column holds "
                                       f"{listing(map(repr, pd.unique(data[column])))}); add them, or pick the "
                                       "series with series=[...]")
            return rows
        if not shared:
            raise WindwidgetsError(f"`{name}` has no {column!r} column, so it cannot say which series its rows "
                                   f"belong to; add the column, or name one series with series=...")
        return data

    def forecast(self, steps: int, future=None, start=None, context=None, interval=None,
                 keep_state: bool = False, series=None) -> pd.DataFrame:
        """:meth:`Run.forecast` for each of ``series``: a long DataFrame, the id in the first
        column, indexed by the forecast times.

        ``future`` is a long table with the id column, or a table without it that every series
        shares (a weather forecast, a schedule). ``context`` is a long table with the id
        column, or one series' rows when ``series`` names one. With ``context``, ``series``
        may name a series the model never saw (a new turbine): it is forecast from its own
        rows, scaled as the panel's series were."""
        self._fitted()
        if keep_state:
            raise WindwidgetsError("`keep_state=True` follows one live series; for a panel use "
                                   "run.member(id).forecast(steps, keep_state=True) per series")
        keys = self._forecast_keys(series, context, interval)
        futures = self._parts(future, keys, "future")
        if context is None:
            frames = self._forecasts(keys, steps, futures, start, interval)
        else:
            contexts = self._parts(context, keys, "context", shared=len(keys) == 1)
            contexts = {key: self._with_statics(key, rows, "context") for key, rows in contexts.items()}
            frames = {key: self._for(key, lambda run: run.forecast(steps, futures[key], start, contexts[key], interval),
                                     self.member(key) if key in self.members else self._newcomer())
                      for key in keys}
        for key, frame in frames.items():
            frame.insert(0, self.config.data.series, key)
        return pd.concat(frames.values())

    def _forecasts(self, keys: list, steps: int, futures: dict, start, interval) -> dict:
        """id -> the forecast :meth:`Run.forecast` gives of that series, every series rolled
        in one batch (see :func:`windwidgets.forecast.panel.forecasts`)."""
        check_steps(steps)
        level = check_level(interval)
        forecasters = {key: self.member(key).forecaster for key in keys}
        plans = {key: self._for(key, lambda run: run.forecaster._planned(steps, futures[key], start, None))
                 for key in keys}
        levels: dict = {}  # a quantile model's first block of each series, every level
        predicted = forecasts(forecasters, plans, steps, levels=levels)
        if level is not None:
            calibrate(forecasters, steps)
        return {key: self._for(key, lambda run: run.forecaster._frame_of(predicted[key], plans[key][0], level,
                                                                          levels.get(key)))
                for key in keys}

    def _forecast_keys(self, series, context, interval=None) -> list:
        """The series to forecast; ids outside the panel only with a ``context`` of their own."""
        if context is None or series is None:
            return self._chosen(series)
        keys = series if isinstance(series, list) else [series]
        if not keys:
            return self._chosen(keys)
        for key in keys:
            if key not in self.members and interval is not None:
                raise WindwidgetsError(
                    f"series {key!r} is new to the model: `interval` is calibrated on a series' own validation "
                    f"forecasts, and it has none; leave interval out for it")
            if key not in self.members and self.config.data.series_scaling == "series":
                raise WindwidgetsError(
                    f"series {key!r} is new to the model, which scaled each series on its own "
                    f"(series_scaling='series'), so there is no scale for it; train with series_scaling='global' "
                    "to forecast new series")
        return keys

    def _parts(self, data, keys: list, name: str, shared: bool = True) -> dict:
        """:meth:`_part` of every series in ``keys``, the table split once by its id column."""
        column = self.config.data.series
        if not (isinstance(data, pd.DataFrame) and column in data.columns):
            return {key: self._part(data, key, name, shared) for key in keys}
        groups = data.groupby(column, sort=False).indices  # id -> its rows' positions
        for key in keys:
            if key not in groups:
                try:
                    self._part(data, key, name)  # says which ids the table holds
                except WindwidgetsError as error:
                    raise type(error)(f"series {key!r}: {error}") from None
        rest = data.drop(columns=column)
        return {key: rest.iloc[groups[key]] for key in keys}

    def _with_statics(self, key, rows, name: str):
        """``rows`` of series ``key`` with its static covariates (see :func:`completed`): a
        series of the panel has its own; a new one brings them in its rows or finds them in
        the table the model was trained with, and is warned of when they lie far outside the
        panel's."""
        names = self.layout.statics
        if not names or rows is None:
            return rows
        table = static_table(self.config.data.static_covariates)
        if key in self.members:
            known = self.members[key][0].frame.iloc[-1][list(names)]
        else:
            known = table.loc[key] if table is not None and key in table.index else None
        where = "" if table is None else ", or train with a static_covariates table that has a row for it"
        rows = completed(rows, names, known, key, name, where)
        if key not in self.members and isinstance(rows, pd.DataFrame) and len(rows):
            ours = np.array([state.frame.iloc[-1][list(names)].to_numpy(np.float64)
                             for state, _ in self.members.values()])  # (series, statics)
            message = outside_message(outside(training_range(ours), rows[list(names)].to_numpy(np.float64)[-1:],
                                              names), f"the static covariates of new series {key!r}")
            if message:
                warn(message, DepthWarning)
        return rows

    def _newcomer(self) -> Run:
        """A Run for a series the model never saw: the panel's model and shared scaler (it
        forecasts from a ``context`` of its own, never from the first series' rows)."""
        return self._run_on(*next(iter(self.members.values())))

    def update(self, new_rows) -> "PanelRun":
        """Append new rows (a long table with the id column) to their series: every series'
        rows are checked first, then all are added, or none."""
        self._fitted()
        name = self.config.data.series
        if not isinstance(new_rows, pd.DataFrame) or name not in new_rows.columns:
            raise WindwidgetsError(f"`new_rows` of a panel must be a DataFrame with the id column {name!r}")
        checked = {}
        keys = self._chosen(list(pd.unique(new_rows[name])))
        parts = self._parts(new_rows, keys, "new_rows")
        for key in keys:
            try:
                checked[key] = self.member(key).forecaster.checked(self._with_statics(key, parts[key], "new_rows"))
            except WindwidgetsError as error:
                raise type(error)(f"series {key!r}: {error}; no series was updated") from None
        for key, rows in checked.items():
            self.member(key).forecaster.append(rows)
        return self

    def backtest(self, steps: int | None = None, stride: int | None = None, interval=None,
                 series=None) -> PanelBacktest:
        """:meth:`Run.backtest` for each of ``series``: a :class:`PanelBacktest`."""
        self._fitted()
        keys = self._chosen(series)
        steps, stride, level = self.forecaster._backtest_settings(steps, stride, interval)
        forecasters = {key: self.member(key).forecaster for key in keys}
        origins = {key: self._for(key, lambda run: run.forecaster._origins(steps, stride)) for key in keys}
        return PanelBacktest({key: forecasters[key]._with_interval(result, level)
                              for key, result in backtests(forecasters, origins, steps).items()},
                             self.config.data.series)

    def _for(self, key, call, run=None):
        """``call(run)``, by default the member run of ``key``; an error names the series it came from."""
        try:
            return call(self.member(key) if run is None else run)
        except WindwidgetsError as error:
            raise type(error)(f"series {key!r}: {error}") from None

    def evaluate(self, steps: int | None = None, stride: int = 1, series=None) -> PanelEvaluation:
        """:meth:`Run.evaluate` over ``series``: the pooled errors as a dict, ``table`` per series."""
        return PanelEvaluation(self.backtest(steps, stride if stride is not None else 1, series=series))

    def plot_forecast(self, forecast=None, steps=None, start=None, last=None, future=None, context=None,
                      interval=None, series=None):
        """:meth:`Run.plot_forecast` of one series (the first by default), named in the title."""
        key = self.series[0] if series is None else series
        if forecast is not None and self.config.data.series in forecast.columns:
            forecast = self._part(forecast, key, "forecast")
        context = self._with_statics(key, self._part(context, key, "context"), "context")
        figure = self.member(key).plot_forecast(forecast, steps, start, last, self._part(future, key, "future"),
                                                context, interval)
        figure.axes[0].set_title(f"{key}: {figure.axes[0].get_title()}")  # which series it is
        return figure

    def _data_state(self) -> dict:
        state = super()._data_state()
        state["panel"] = []
        for key in self.series:
            member = self.member(key)
            given, key = key, key.item() if isinstance(key, np.generic) else key
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise WindwidgetsError(
                    f"series id {str(given)!r} ({type(given).__name__}) cannot be kept in a run file, which holds ids as text "
                    f"or whole numbers; train on ids made text, e.g. df[{self.config.data.series!r}] = "
                    f"df[{self.config.data.series!r}].astype(str)")
            state["panel"].append({"id": key, **member._data_state(),
                                   "scaler": member.scaler.state_dict()})
        return state

    def _description(self) -> list[tuple[str, str]]:
        return super()._description() + [("series", f"{len(self.members)} ({self.config.data.series})")]
