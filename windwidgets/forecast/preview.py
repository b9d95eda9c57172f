"""The live views' forecast preview: the model's free-running forecast over the start of the
validation part of one series, beside the truth there, in original units.

It reads a Run's series state (``run.forecaster.series``: the rows in original units and the
training part) and encodes those rows itself, as :class:`~windwidgets.forecast.forecaster.Forecaster`
does for ``run.forecast(steps, start=n_train)``, whose numbers it repeats. It never reads the
trainer's tensors, so it works the same for a Run trained here, on Ray workers or loaded.
"""
from __future__ import annotations

import numpy as np

from .rollout import as_array, rollout


class Preview:
    """A callable: ``preview(key=None)`` returns a dict of ``name`` (the first target),
    ``series`` (the panel's id, None for one series), ``context`` (the ``window`` rows
    before the validation part), ``truth`` and ``forecast`` (``steps`` rows from its start).

    Parameters
    ----------
    forecaster_of : ``function(key) -> Forecaster``, the forecaster of series ``key``
        (``key`` is None for a Run of one series).
    keys : the ids of a panel's series (the first is the default), or None for one series.
    steps : rows to forecast; default: two windows, at least 48, at most the validation part.

    Call it between batches: it switches the model to eval mode and back.
    """

    def __init__(self, forecaster_of, keys: list | None = None, steps: int | None = None):
        self._forecaster_of, self.keys, self._steps = forecaster_of, keys, steps
        self._rows: dict = {}  # key -> (encoded rows, context, truth, steps): encoded once

    @property
    def default(self):
        """The series shown unless another is asked for: the first of a panel."""
        return self.keys[0] if self.keys else None

    def __call__(self, key=None) -> dict:
        key = self.default if key is None else key
        forecaster = self._forecaster_of(key)
        if key not in self._rows:
            self._rows[key] = self._prepare(forecaster)
        encoded, context, truth, steps = self._rows[key]
        d, layout, model = forecaster.config.data, forecaster.layout, forecaster.model
        training = model.training
        model.eval()
        try:
            scaled = rollout(model, encoded, d.window, steps, d.window, d.horizon, len(layout.outputs),
                             forecaster._carry())  # (steps, outputs)
        finally:
            model.train(training)
        values = as_array(forecaster.scaler.inverse(scaled, slice(0, len(layout.outputs))))  # (steps, outputs)
        forecast = forecaster._clipped(values[:, : len(layout.targets)])[:, 0]  # (steps,)
        return {"name": layout.targets[0], "series": key, "context": context, "truth": truth,
                "forecast": forecast}

    def _prepare(self, forecaster) -> tuple:
        """The rows the rollout reads, encoded: ``window`` rows before the validation part,
        then the forecast's rows with their realised known-future covariates (a block model
        reads those of its whole last block; past the data the last row is repeated, as
        ``Forecaster.forecast`` does)."""
        series, d = forecaster.series, forecaster.config.data
        n_train, rows = series.n_train, len(series.frame)
        steps = min(rows - n_train, self._steps or max(2 * d.window, 48))
        first, last = n_train - d.window, n_train + steps + d.horizon - 1
        raw = series.frame.iloc[first : min(last, rows)].to_numpy(dtype=np.float64)  # (rows read, inputs)
        if last > rows:
            raw = np.concatenate([raw, np.repeat(raw[-1:], last - rows, axis=0)])  # (window + steps + horizon - 1, inputs)
        target = series.frame[forecaster.layout.targets[0]].to_numpy(np.float64)
        return (forecaster._encoded(raw), target[first:n_train], target[n_train : n_train + steps], steps)


def live_preview(run, steps: int | None = None) -> Preview | None:
    """The preview of ``run`` (a Run or a PanelRun), or None where there is nothing to roll
    forward: a classifier, or a validation part shorter than a row or a training part
    shorter than a window."""
    forecaster = getattr(run, "forecaster", None)
    if forecaster is None:
        return None
    members = getattr(run, "members", None)
    if members:  # a panel: each series through its own one-series Run
        keys = list(members)
        preview = Preview(lambda key: run.member(key).forecaster, keys, steps)
        usable = [run.member(key).forecaster.series for key in keys]
    else:
        preview = Preview(lambda key: forecaster, None, steps)
        usable = [forecaster.series]
    window = forecaster.config.data.window
    if any(len(s.frame) <= s.n_train or s.n_train < window for s in usable):
        return None
    return preview
