"""Rolling-origin backtests: many forecasts, each from its own origin, batched into one rollout."""
from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ..data.windows import sliding
from ..errors import WindwidgetsError
from .metrics import coverage, point_metrics, warn_skipped
from .rollout import roll

METHODS = ("model", "naive", "seasonal_naive")


@torch.no_grad()
def rolled_forecasts(model, encoded: torch.Tensor, origins: np.ndarray, steps: int, window: int,
                     horizon: int, outputs: int, carry: bool,
                     chunk: int = 1024, levels=None) -> torch.Tensor:
    """Forecasts of ``steps`` rows from every origin at once: one forward pass per block for
    a whole chunk of origins instead of one per origin and block.

    Parameters
    ----------
    encoded : (rows, inputs) the scaled, encoded series (see :func:`windwidgets.data.encode`).
    origins : (origins,) first predicted row of each forecast; ``window <= origin`` and
        ``origin + steps <= rows``.

    Each origin gets its own copy of rows ``origin - window .. origin + steps - 1``; the
    predicted columns from the origin on are cleared before the rollout, so nothing after
    an origin reaches its forecast but the known-future covariates. Those are read as
    :meth:`windwidgets.Run.forecast` with ``start`` reads them, up to the ``horizon - 1``
    rows past the last forecast row that a last, partial block reads (each encoded row holds
    the covariates ``horizon`` rows ahead; past the data's end they are zeros, where such a
    forecast repeats the last row). A quantile model's first blocks, every level, join
    ``levels`` (:class:`~windwidgets.forecast.rollout.Levels`), chunk after chunk.

    Returns (origins, steps, outputs) scaled predictions.
    """
    windows = sliding(encoded, window + steps)  # (rows - window - steps + 1, window + steps, inputs)
    starts = torch.as_tensor(origins - window, device=encoded.device)
    out = []
    for first in range(0, len(origins), chunk):
        sequences = windows[starts[first : first + chunk]].clone()  # (chunk, window + steps, inputs)
        out.append(roll(model, sequences, window, window, horizon, outputs, carry, levels=levels).clone())
    return torch.cat(out)  # (origins, steps, outputs)


def validation_origins(n_train: int, rows: int, steps: int, stride: int) -> np.ndarray:
    """First predicted rows of forecasts that start in the validation part and end in the data."""
    return np.arange(n_train, rows - steps + 1, stride)


@dataclass
class Backtest:
    """Rolling-origin forecasts, their truths and the baselines from the same origins.

    Attributes
    ----------
    truth, predictions : (origins, steps, targets) arrays in original units; ``predictions``
        maps "model", "naive" and "seasonal_naive" to one array each.
    origins : (origins,) positions of each forecast's first row in the data.
    index : the data's row labels.
    targets : the target names.
    scale : (targets,) the MASE denominators (in-sample seasonal-naive MAE of the training
        part), one per target.
    level, lower, upper : the interval level and bounds (origins, steps, targets), or None.
        Bounds of origins with too few earlier forecasts to calibrate on are NaN.
    same_units : True when the targets share one unit (a grid's cells): scored together.
    warnings : what may make these figures mislead (inputs far outside the training range),
        also given as warnings when the backtest ran.
    quantiles : a quantile model's (``loss="quantile"``) learned quantiles, {level: (origins,
        steps, targets)} in original units, NaN past each forecast's first block (see
        :mod:`windwidgets.forecast.quantiles`); None for a point model.
    """

    truth: np.ndarray
    predictions: dict
    origins: np.ndarray
    index: pd.Index
    targets: tuple
    scale: np.ndarray
    level: float | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    same_units: bool = False
    warnings: list = field(default_factory=list)  # why these figures may mislead (see train.depth)
    quantiles: dict | None = None  # level -> (origins, steps, targets), a quantile model's
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def steps(self) -> int:
        return self.truth.shape[1]

    @property
    def frame(self) -> pd.DataFrame:
        """The tidy table: one row per origin, lead and target.

        Columns: ``origin`` (label of the last row the forecast saw), ``time`` (label of the
        forecast row), ``lead`` (1 = the first forecast row), ``target``, ``truth``, ``model``,
        ``naive``, ``seasonal_naive``, ``lower``/``upper`` with an interval, and ``q0.1``... with
        a quantile model's levels.
        ``run.forecast(steps, start=time at lead 1)`` reproduces the model's row.
        """
        if self._frame is None:
            count, steps, targets = self.truth.shape
            rows = self.origins[:, None] + np.arange(steps)[None, :]  # (origins, steps)
            columns = {
                "origin": np.repeat(np.asarray(self.index[self.origins - 1]), steps * targets),
                "time": np.repeat(np.asarray(self.index[rows.ravel()]), targets),
                "lead": np.tile(np.repeat(np.arange(1, steps + 1), targets), count),
                "target": pd.Categorical(np.tile(np.asarray(self.targets, dtype=object), count * steps),
                                         categories=list(self.targets)),
                "truth": self.truth.ravel(),
            }
            columns.update({name: self.predictions[name].ravel() for name in METHODS})
            if self.level is not None:
                columns.update(lower=self.lower.ravel(), upper=self.upper.ravel())
            columns.update({f"q{level:g}": values.ravel() for level, values in (self.quantiles or {}).items()})
            self._frame = pd.DataFrame(columns)
        return self._frame

    def metrics(self) -> pd.DataFrame:
        """MAE, RMSE, MAPE, sMAPE and MASE of the model and of each baseline, over every
        origin and lead; with an interval, the model's empirical coverage and mean width.

        One target (or a grid, whose cells share their units): one row per method. Several
        targets: one row per target and method (index levels ``target`` and ``method``),
        since their units differ (m/s and kW in one MAE mean nothing); see :meth:`pooled`
        for the errors pooled in scaled units. MAPE is NaN for a target whose truth comes
        near zero, MASE for one whose training part repeats itself each season (a constant):
        one warning per call names them.
        """
        skipped: list = []
        table = self._metrics(skipped)
        warn_skipped(skipped)
        return table

    def _metrics(self, skipped: list) -> pd.DataFrame:
        """:meth:`metrics`, the reasons for its NaNs added to ``skipped`` instead of warned."""
        if self.pooled_units:
            name = self.targets[0] if len(self.targets) == 1 else None
            return self._table(self.truth, self.predictions, self.lower, self.upper,
                               float(np.mean(self.scales)), name, skipped)
        tables = {name: self._table(self.truth[..., j], {m: p[..., j] for m, p in self.predictions.items()},
                                    None if self.lower is None else self.lower[..., j],
                                    None if self.upper is None else self.upper[..., j], self.scales[j], name,
                                    skipped)
                  for j, name in enumerate(self.targets)}
        if len(self.targets) == 1:
            return next(iter(tables.values()))
        return pd.concat(tables, names=["target", "method"])

    def pooled(self) -> pd.DataFrame:
        """Errors pooled over the targets in scaled units only: MASE (each target's MAE over
        its own seasonal-naive scale) and sMAPE (percent), averaged over the targets with
        equal weight; one row per method. MAE and RMSE are left out: they would add up
        different units."""
        return self._pooled(self.metrics())

    @staticmethod
    def _pooled(table: pd.DataFrame) -> pd.DataFrame:
        if table.index.nlevels == 1:
            return table[["smape", "mase"]]
        return table[["smape", "mase"]].groupby(level="method", sort=False).mean()

    def _table(self, truth, predictions, lower, upper, scale, name, skipped: list) -> pd.DataFrame:
        table = pd.DataFrame({method: point_metrics(truth, predictions[method], scale, name, skipped)
                              for method in METHODS}).T
        if self.level is not None:
            table["coverage"] = [coverage(truth, lower, upper), np.nan, np.nan]
            table["width"] = [float(np.nanmean(upper - lower)), np.nan, np.nan]
        table.index.name = "method"
        return table

    @property
    def scales(self) -> np.ndarray:
        """The MASE denominators, one per target."""
        return np.broadcast_to(np.asarray(self.scale, dtype=float), (len(self.targets),))

    @property
    def pooled_units(self) -> bool:
        """True when every target is scored together: one target, or a grid's cells."""
        return len(self.targets) == 1 or self.same_units

    def by_lead(self, metric: str = "mae", target=None) -> pd.DataFrame:
        """``metric`` by lead time (rows 1 .. steps) for the model and each baseline; with an
        interval, the model's empirical coverage by lead too.

        With several targets pass ``target`` (one name) for a metric in original units; the
        scaled ones ("mase", "smape") are averaged over the targets when ``target`` is None.
        """
        self._check_lead(metric, target)
        skipped: list = []
        table = self._lead_table(metric, target, skipped)
        warn_skipped([s for s in skipped if s.metric == metric])  # once, for the metric asked for
        return table

    def _check_lead(self, metric: str, target) -> None:
        if metric not in ("mae", "rmse", "mape", "smape", "mase"):
            raise WindwidgetsError(
                f"`metric` ({metric!r}) is not one of 'mae', 'rmse', 'mape', 'smape', 'mase'"
            )
        if target is not None and target not in self.targets:
            raise WindwidgetsError(f"`target` ({target!r}) is not one of the targets: "
                                   f"{', '.join(map(repr, self.targets))}")
        if target is None and not self.pooled_units and metric not in ("mase", "smape"):
            raise WindwidgetsError(
                f"`metric` {metric!r} is in each target's own units, and this backtest has "
                f"{len(self.targets)} targets ({', '.join(map(repr, self.targets))}); pass "
                f"target={self.targets[0]!r}, or a scaled metric ('mase', 'smape') to pool them"
            )

    def _lead_table(self, metric: str, target, skipped: list) -> pd.DataFrame:
        if target is not None or self.pooled_units:
            columns = [self.targets.index(target)] if target is not None else slice(None)
            return self._by_lead(metric, columns, skipped)
        return sum(self._by_lead(metric, [j], skipped) for j in range(len(self.targets))) / len(self.targets)

    def _by_lead(self, metric: str, columns, skipped: list) -> pd.DataFrame:
        scale = float(np.mean(self.scales[columns]))
        single = self.targets[0] if len(self.targets) == 1 else None
        name = self.targets[columns[0]] if isinstance(columns, list) else single
        table = pd.DataFrame(
            {method: [point_metrics(self.truth[:, k, columns], self.predictions[method][:, k, columns],
                                    scale, name, skipped)[metric]
                      for k in range(self.steps)] for method in METHODS},
            index=pd.RangeIndex(1, self.steps + 1, name="lead"),
        )
        if self.level is not None:
            table["coverage"] = [coverage(self.truth[:, k, columns], self.lower[:, k, columns],
                                          self.upper[:, k, columns]) for k in range(self.steps)]
        return table

    @property
    def coverage(self) -> float | None:
        """The share of truths inside the interval, over the origins that have one."""
        return None if self.level is None else coverage(self.truth, self.lower, self.upper)

    def quantile_coverage(self, low: float, high: float) -> float:
        """The share of truths between a quantile model's learned levels ``low`` and ``high``
        (0.1 and 0.9 make an 80% band), over the rows that have them (each forecast's first
        block): what ``coverage`` says of the conformal interval."""
        if not self.quantiles or low not in self.quantiles or high not in self.quantiles:
            raise WindwidgetsError(f"`low` ({low!r}) and `high` ({high!r}) must be levels the model learned; it "
                                   f"learned {tuple(self.quantiles) if self.quantiles else 'none (a point loss)'}")
        return coverage(self.truth, self.quantiles[low], self.quantiles[high])

    def _summary(self) -> str:
        """One line; a skipped metric is said where the metrics are asked for, not here."""
        table = self._metrics([])
        if not self.pooled_units:
            table = self._pooled(table)
        name = "MAE" if self.pooled_units else "MASE (pooled, scaled)"
        error = table[name.split()[0].lower()]
        text = (f"Backtest({len(self.origins)} origins x {self.steps} steps, {name} model {error['model']:.4g}, "
                f"naive {error['naive']:.4g}, seasonal naive {error['seasonal_naive']:.4g}")
        if self.level is not None:
            text += f", coverage {self.coverage:.3f} of {self.level}"
        return text + ")" + "".join(f"\nwarning: {w}" for w in self.warnings)

    def __repr__(self) -> str:
        return self._summary()

    def _repr_html_(self) -> str:
        return metrics_html(self._summary(), self.metrics)


def metrics_html(summary: str, metrics) -> str:
    """A backtest's summary line over its ``metrics()`` table (its warnings were given when
    the metrics were first asked for; a display repeats none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = metrics()
    return f"<p>{html.escape(summary)}</p>" + table.to_html(float_format="{:.4g}".format)


def model_rows(table: pd.DataFrame, targets) -> pd.DataFrame:
    """The model's rows of a metrics ``table``, one per target."""
    if table.index.nlevels == 1:
        return table.loc[["model"]].set_axis(pd.Index(list(targets), name="target"))
    return table.xs("model", level="method")


class Evaluation(dict):
    """The model's errors (a dict: mae, rmse, mape, smape, mase), with the baselines beside.

    ``table`` holds the same metrics for the model and for the naive and seasonal-naive
    forecasts from the same origins (rows); ``backtest`` is the :class:`Backtest` behind them.
    With several targets the dict holds only the errors pooled in scaled units (smape, mase:
    see :meth:`Backtest.pooled`), ``table`` has a row per target and method, and
    ``by_target`` the model's errors per target in each one's own units.
    """

    @property
    def by_target(self) -> pd.DataFrame:
        """The model's errors, one row per target (original units)."""
        return model_rows(self.table, self.backtest.targets)

    def __init__(self, values: dict, table: pd.DataFrame, backtest: Backtest):
        super().__init__(values)
        self.table, self.backtest = table, backtest

    def __repr__(self) -> str:
        values = ", ".join(f"{name} {value:.4g}" for name, value in self.items())
        return (f"Evaluation of the model's {self.backtest.steps}-step forecasts: {values}\n"
                f"{self.table.to_string(float_format='{:.4g}'.format)}"
                + "".join(f"\nwarning: {w}" for w in self.warnings))

    @property
    def warnings(self) -> list:
        """What may make these figures mislead (see :class:`Backtest`)."""
        return self.backtest.warnings

    def _repr_html_(self) -> str:
        return self.table.to_html(float_format="{:.4g}".format)


def forecast_error(encoded: torch.Tensor, segments: tuple, steps: int, window: int, horizon: int, outputs: int,
                   targets: int, carry: bool, origins: int = 200, error=torch.nn.MSELoss()):
    """A score for picking the best epoch by the forecasts the model will be asked for.

    Returns ``score(model)``: the ``error`` (``function(prediction, truth) -> mean``: the
    training loss, so an epoch is judged by what the fit minimises; scaled units, the
    targets) of rolled forecasts of ``steps`` rows from about ``origins`` origins spread
    over the validation parts of the series stacked in ``encoded`` (rows, inputs), an equal
    share in each (``segments``: ((first row, rows, training rows), ...)), each read and
    rolled as a backtest does; None when no validation part is ``steps`` rows long. Its
    ``steps`` and ``origins`` attributes say what it scores.
    """
    share = max(1, round(origins / len(segments)))
    first = np.concatenate([start + np.unique(np.linspace(n_train, rows - steps,
                                                          min(share, rows - steps - n_train + 1)).astype(int))
                            for start, rows, n_train in segments if rows - n_train >= steps] or [[]]).astype(int)
    if not len(first):
        return None
    truth = encoded[first[:, None] + np.arange(steps), :targets]  # (origins, steps, targets)

    @torch.no_grad()
    def score(model) -> float:
        training = model.training
        model.eval()
        try:
            predicted = rolled_forecasts(model, encoded, first, steps, window, horizon, outputs, carry)
        finally:
            model.train(training)
        return float(error(predicted[..., :targets], truth))

    score.steps, score.origins = steps, len(first)  # what it scores, for the views to say
    return score
