"""PanelRun: one global model trained across the series of a panel, used series by series."""
from __future__ import annotations

import pandas as pd

from .errors import WindwidgetsError, listing
from .forecast.panel import PanelBacktest, PanelEvaluation
from .run import Run


class PanelRun(Run):
    """A model trained on many series at once (``ww.train(..., series="turbine")``).

    Every method of :class:`~windwidgets.Run` works per series: ``forecast``, ``backtest``
    and ``evaluate`` take ``series=`` (one id or a list; all by default) and return long
    tables with the id in a column (or index level) named after the id column. Each series
    is used exactly as a one-series Run with the same model would use it (``member(id)``,
    which also follows a live series with ``keep_state=True``).
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

    @property
    def series(self) -> list:
        """The ids of the series, in the order of the data."""
        return list(self.members)

    def member(self, key) -> Run:
        """The series ``key`` as a one-series Run sharing this model, scaler and settings."""
        if key not in self.members:
            raise WindwidgetsError(f"`series` ({key!r}) is not one of the panel's series: "
                                   f"{listing(map(repr, self.members))}")
        if key not in self._views:
            series, scaler = self.members[key]
            run = Run(self.config, self.model, self.device, series, self.layout, scaler, history=self._history)
            run._job = self._job  # the panel's fit: waiting for it, stopping it, its history
            self._views[key] = run
        return self._views[key]

    def _chosen(self, series) -> list:
        keys = self.series if series is None else series if isinstance(series, list) else [series]
        for key in keys:
            self.member(key)  # an unknown id is refused before any work
        return keys

    def _part(self, data, key):
        """The rows of ``data`` (a long DataFrame) for series ``key``, without the id column."""
        name = self.config.data.series
        if isinstance(data, pd.DataFrame) and name in data.columns:
            return data[data[name] == key].drop(columns=name)
        return data

    def forecast(self, steps: int, future=None, start=None, context=None, interval=None,
                 keep_state: bool = False, series=None) -> pd.DataFrame:
        """:meth:`Run.forecast` for each of ``series``: a long DataFrame, the id in the first
        column, indexed by the forecast times. ``future`` and ``context`` are long tables
        with the id column (or, for a single series, that series' rows)."""
        self.wait()
        if keep_state:
            raise WindwidgetsError("`keep_state=True` follows one live series; for a panel use "
                                   "run.member(id).forecast(steps, keep_state=True) per series")
        frames = []
        for key in self._chosen(series):
            frame = self.member(key).forecast(steps, self._part(future, key), start, self._part(context, key),
                                              interval)
            frame.insert(0, self.config.data.series, key)
            frames.append(frame)
        return pd.concat(frames)

    def update(self, new_rows) -> "PanelRun":
        """Append new rows (a long table with the id column) to their series."""
        self.wait()
        name = self.config.data.series
        if not isinstance(new_rows, pd.DataFrame) or name not in new_rows.columns:
            raise WindwidgetsError(f"`new_rows` of a panel must be a DataFrame with the id column {name!r}")
        for key in self._chosen(list(pd.unique(new_rows[name]))):
            self.member(key).update(self._part(new_rows, key))
        return self

    def backtest(self, steps: int | None = None, stride: int | None = None, interval=None,
                 series=None) -> PanelBacktest:
        """:meth:`Run.backtest` for each of ``series``: a :class:`PanelBacktest`."""
        self.wait()
        return PanelBacktest({key: self.member(key).backtest(steps, stride, interval)
                              for key in self._chosen(series)}, self.config.data.series)

    def evaluate(self, steps: int | None = None, stride: int = 1, series=None) -> PanelEvaluation:
        """:meth:`Run.evaluate` over ``series``: the pooled errors as a dict, ``table`` per series."""
        return PanelEvaluation(self.backtest(steps, stride if stride is not None else 1, series=series))

    def plot_forecast(self, forecast=None, steps=None, start=None, last=None, future=None, context=None,
                      interval=None, series=None):
        """:meth:`Run.plot_forecast` of one series (the first by default), named in the title."""
        key = self.series[0] if series is None else series
        if forecast is not None and self.config.data.series in forecast.columns:
            forecast = self._part(forecast, key)
        figure = self.member(key).plot_forecast(forecast, steps, start, last, self._part(future, key),
                                                self._part(context, key), interval)
        figure.axes[0].set_title(f"{key}: {figure.axes[0].get_title()}")  # which series it is
        return figure

    def _data_state(self) -> dict:
        state = super()._data_state()
        state["panel"] = []
        for key in self.series:
            member = self.member(key)
            state["panel"].append({"id": key.item() if hasattr(key, "item") else key, **member._data_state(),
                                   "scaler": member.scaler.state_dict()})
        return state

    def _description(self) -> list[tuple[str, str]]:
        return super()._description() + [("series", f"{len(self.members)} ({self.config.data.series})")]
