"""The live views' forecast preview: the model's free-running forecast over the start of the
validation part of the first series, beside the truth there, in original units. It reads the
Run's series state, never the trainer's tensors."""
from __future__ import annotations

import numpy as np

from .rollout import as_array, rollout


def live_preview(run, steps: int | None = None):
    """A callable returning a dict of ``name``, ``context``, ``truth`` and ``forecast`` arrays
    for the first target of the first series; None where there is nothing to roll forward."""
    forecaster = getattr(run, "forecaster", None)
    if forecaster is None:
        return None
    series, d, layout = forecaster.series, forecaster.config.data, forecaster.layout
    n_train, rows = series.n_train, len(series.frame)
    steps = min(rows - n_train, steps or max(2 * d.window, 48))
    if steps < 1 or n_train < d.window:
        return None
    first, last = n_train - d.window, min(rows, n_train + steps + d.horizon - 1)
    encoded = forecaster._encoded(series.frame.iloc[first:last].to_numpy(dtype=np.float64))  # (rows read, inputs)
    target = series.frame[layout.targets[0]].to_numpy(np.float64)
    context, truth = target[first:n_train], target[n_train : n_train + steps]

    def preview() -> dict:
        model = forecaster.model
        training = model.training
        model.eval()
        try:
            scaled = rollout(model, encoded, d.window, steps, d.window, d.horizon, len(layout.outputs),
                             forecaster._carry())  # (steps, outputs)
        finally:
            model.train(training)
        forecast = as_array(forecaster.scaler.inverse(scaled, slice(0, len(layout.outputs))))[:, 0]  # (steps,)
        return {"name": layout.targets[0], "context": context, "truth": truth, "forecast": forecast}

    return preview
