"""Run: a trained (or training) model with its data, history, forecasts, plots and file."""
from __future__ import annotations

import html
import os
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .config import RunConfig
from .data import Layout, Scaler, encode
from .data.windows import Windows
from .errors import DataError, WindwidgetsError
from .forecast import future_index, point_metrics, rollout
from .forecast.rollout import as_array

FORMAT = "windwidgets.run/1"


class Run:
    """The result of :func:`windwidgets.train`: model, data, history, and what to do with them.

    A fit that runs in the background (the notebook's live view) returns its Run at once;
    ``wait()`` blocks until it ends, ``stop()`` asks it to end after the current batch, and
    the methods that need the final weights (forecast, evaluate, save) wait by themselves.
    """

    def __init__(self, config: RunConfig, model: torch.nn.Module, device: torch.device,
                 frame: pd.DataFrame, layout: Layout, scaler: Scaler, n_train: int,
                 mase_scale: float, history: list | None = None, trainer=None):
        self.config, self.model, self.device = config, model, device
        self.frame, self.layout, self.scaler, self.n_train = frame, layout, scaler, n_train
        self.mase_scale = mase_scale
        self.trainer = trainer
        self._history = history if history is not None else trainer.progress.history
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # -- the fit ---------------------------------------------------------------------------
    def _fit(self, background: bool = False) -> "Run":
        if not background:
            self.trainer.fit()
            return self
        self._thread = threading.Thread(target=self._fit_in_thread, name="windwidgets-fit", daemon=True)
        self._thread.start()
        return self

    def _fit_in_thread(self) -> None:
        try:
            self.trainer.fit()
        except BaseException as error:  # re-raised by wait() in the caller's thread
            self._error = error

    @property
    def training(self) -> bool:
        """True while a background fit is still running."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> "Run":
        """Block until a background fit ends (Ctrl-C asks it to stop, then waits)."""
        if self._thread is not None:
            try:
                self._thread.join(timeout)
            except KeyboardInterrupt:
                self.stop()
                self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self

    def stop(self) -> "Run":
        """Ask a running fit to end after the current batch; the best weights are kept."""
        if self.trainer is not None:
            self.trainer.stop()
        return self

    # -- results ---------------------------------------------------------------------------
    @property
    def history(self) -> pd.DataFrame:
        """One row per finished epoch: epoch, train_loss, val_loss, lr, seconds, grad_norm."""
        columns = ["epoch", "train_loss", "val_loss", "lr", "seconds", "grad_norm"]
        return pd.DataFrame(list(self._history), columns=columns)

    @property
    def stop_reason(self) -> str | None:
        return self.trainer.progress.stop_reason if self.trainer is not None else None

    def forecast(self, steps: int, future=None, start=None, context=None, interval=None,
                 keep_state: bool = False) -> pd.DataFrame:
        """Roll the model forward ``steps`` steps; a DataFrame in original units.

        Parameters
        ----------
        steps : how many steps to predict; any number, whatever the model's horizon.
        future : DataFrame of the known-future covariates for the forecast rows.
        start : a label or position of the data to forecast from (the row there is the first
            predicted), to compare with what happened; default: after the last row.
        """
        self.wait()
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise WindwidgetsError(f"`steps` ({steps!r}) must be a whole number of at least 1")
        for name, value in (("context", context), ("interval", interval)):
            if value is not None:
                raise WindwidgetsError(f"`{name}` is not supported yet by forecast(); leave it out")
        if keep_state:
            raise WindwidgetsError("`keep_state` is not supported yet by forecast(); leave it out")
        origin = self._position(start)
        window = self.config.data.window
        if origin < window:
            raise DataError(
                f"`start` ({start!r}) leaves {origin} rows before it; the model needs a window "
                f"of {window} rows, so start at position {window} or later"
            )
        known = self.frame.iloc[:origin]
        raw = self._with_future(known, future, steps)  # (origin + steps, inputs)
        encoded = encode(torch.as_tensor(raw, dtype=torch.float32), self.scaler, self.layout,
                         self.config.data.horizon).to(self.device)
        outputs = len(self.layout.outputs)
        predicted = rollout(self.model, encoded, origin, steps, window, self.config.data.horizon, outputs)
        values = as_array(self.scaler.inverse(predicted, slice(0, outputs)))  # (steps, outputs)
        index = future_index(known.index, steps)
        return pd.DataFrame(values, index=index, columns=list(self.layout.outputs))[list(self.layout.targets)]

    def _position(self, start) -> int:
        if start is None:
            return len(self.frame)
        if isinstance(start, (int, np.integer)) and not isinstance(start, bool) and not (
            pd.api.types.is_integer_dtype(self.frame.index) and start in self.frame.index
        ):
            position = int(start) if start >= 0 else len(self.frame) + int(start)
        else:
            try:
                position = self.frame.index.get_loc(start)
            except KeyError:
                raise DataError(
                    f"`start` ({start!r}) is not a label of the data, which runs from "
                    f"{self.frame.index[0]} to {self.frame.index[-1]}"
                ) from None
        if not 0 <= position <= len(self.frame):
            raise DataError(f"`start` ({start!r}) is outside the data's {len(self.frame)} rows")
        return int(position)

    def _with_future(self, known: pd.DataFrame, future, steps: int) -> np.ndarray:
        """The raw inputs of the known rows, then ``steps`` rows whose only known values are
        the future covariates (the rest is overwritten by the rollout)."""
        rows = np.full((steps, len(self.layout.inputs)), np.nan)
        names = list(self.layout.future_covariates)
        if names:
            if future is None:
                raise DataError(
                    f"this model takes future covariates ({', '.join(names)}); pass "
                    f"future=<DataFrame with those columns for the {steps} forecast steps>"
                )
            missing = [c for c in names if c not in future]
            if missing or len(future) < steps:
                raise DataError(
                    f"`future` must hold columns {', '.join(names)} for {steps} rows from "
                    f"{future_index(known.index, 1)[0]}; it has {len(future)} rows"
                    + (f" and lacks {', '.join(missing)}" if missing else "")
                )
            rows[:, len(self.layout.outputs):] = future[names].to_numpy(dtype=np.float64)[:steps]
        values = np.concatenate([known.to_numpy(dtype=np.float64), rows])
        return np.nan_to_num(values)  # the unknown predicted columns are overwritten anyway

    def evaluate(self) -> dict:
        """Errors on the validation part, in original units: each window's next ``horizon``
        steps predicted from the true window before it.

        MAE, RMSE, MAPE and sMAPE (percent), and MASE: MAE over the in-sample MAE of the
        seasonal-naive forecast (below 1 beats it).
        """
        self.wait()
        truth, prediction = self._validation_predictions()
        return point_metrics(truth, prediction, self.mase_scale)

    @torch.no_grad()
    def _validation_predictions(self):
        d = self.config.data
        raw = torch.tensor(self.frame.to_numpy(dtype=np.float32))
        encoded = encode(raw, self.scaler, self.layout, d.horizon).to(self.device)
        outputs, targets = len(self.layout.outputs), len(self.layout.targets)
        windows = Windows(encoded, encoded[:, :outputs], d.window, d.horizon, self.n_train)
        self.model.eval()
        truth, prediction = [], []
        for x, y in windows.batches(windows.val_index, 1024):
            prediction.append(self.model(x)[0])  # (batch, horizon, outputs)
            truth.append(y)
        columns = slice(0, outputs)
        truth = as_array(self.scaler.inverse(torch.cat(truth), columns))[..., :targets]
        prediction = as_array(self.scaler.inverse(torch.cat(prediction), columns))[..., :targets]
        return truth, prediction  # (windows, horizon, targets) each

    # -- pictures --------------------------------------------------------------------------
    def plot(self, log: bool = True):
        """The loss curves as a matplotlib Figure."""
        from .views.plots import loss_figure

        return loss_figure(self.history, log=log)

    def plot_forecast(self, forecast: pd.DataFrame | None = None, steps: int | None = None,
                      start=None, last: int | None = None):
        """History, the truth where it is known, and a forecast, as a matplotlib Figure.

        Pass a ``forecast`` DataFrame, or ``steps`` (and ``start``) to make one; ``last``
        rows of history are drawn (default: three times the forecast's length).
        """
        from .views.plots import forecast_figure

        if forecast is None:
            forecast = self.forecast(steps or 4 * self.config.data.window, start=start)
        origin = self._position(forecast.index[0]) if forecast.index[0] in self.frame.index else len(self.frame)
        last = last or 3 * len(forecast)
        history = self.frame.iloc[max(0, origin - last) : origin]
        truth = self.frame.iloc[origin : origin + len(forecast)]
        return forecast_figure(history, forecast, truth if len(truth) else None,
                               title=f"{self.config.model.model} forecast, {len(forecast)} steps")

    # -- files -----------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write one file (weights, config, scaler, the data the forecasts start from,
        history, versions) atomically: a crash mid-save leaves an older file intact."""
        self.wait()
        path = Path(path)
        keep_from = max(0, self.n_train - self.config.data.window)
        tail = self.frame.iloc[keep_from:]
        payload = {
            "format": FORMAT,
            "config": self.config.to_dict(),
            "state_dict": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "scaler": self.scaler.state_dict(),
            "layout": {k: list(v) for k, v in vars(self.layout).items()},
            "frame": _frame_state(tail),
            "n_train": self.n_train - keep_from,
            "mase_scale": float(self.mase_scale),
            "history": [dict(row) for row in self._history],
            "versions": _versions(),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                torch.save(payload, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    # -- display ---------------------------------------------------------------------------
    def _summary(self) -> list[tuple[str, str]]:
        c = self.config
        rows = [
            ("model", f"{c.model.model} (hidden {c.model.hidden_size} x {c.model.num_layers} layers)"),
            ("targets", ", ".join(self.layout.targets)),
            ("window / horizon", f"{c.data.window} / {c.data.horizon}"),
            ("device", str(self.device)),
        ]
        history = self.history
        if self.training:
            rows.append(("status", f"training, {len(history)} of {c.train.epochs} epochs done"))
        elif len(history):
            best = history.loc[history["val_loss"].idxmin()]
            rows.append(("epochs", f"{len(history)}, best {int(best['epoch'])} "
                                   f"(val loss {best['val_loss']:.4g})"))
        if self.stop_reason:
            rows.append(("ended", self.stop_reason.replace("_", " ")))
        return rows

    def __repr__(self) -> str:
        return "Run(" + ", ".join(f"{k}={v}" for k, v in self._summary()) + ")"

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
            f"{html.escape(v)}</td></tr>" for k, v in self._summary()
        )
        return f"<table><caption style='text-align:left'><b>windwidgets Run</b></caption>{cells}</table>"


def _frame_state(frame: pd.DataFrame) -> dict:
    index = frame.index
    state = {"values": torch.tensor(frame.to_numpy(dtype=np.float64)), "columns": list(map(str, frame.columns)),
             "name": index.name if isinstance(index.name, str) else None}
    if isinstance(index, pd.DatetimeIndex):
        freq = index.freqstr if index.freq is not None else pd.infer_freq(index) if len(index) > 2 else None
        state.update(kind="datetime", index=torch.tensor(index.asi8), unit=index.unit,
                     freq=freq, tz=str(index.tz) if index.tz else None)
    else:
        state.update(kind="positions", index=torch.tensor(np.asarray(index, dtype=np.int64)))
    return state


def frame_from_state(state: dict) -> pd.DataFrame:
    if state["kind"] == "datetime":
        index = pd.DatetimeIndex(state["index"].numpy().astype(f"datetime64[{state['unit']}]"),
                                 name=state["name"])
        if state["tz"]:
            index = index.tz_localize("UTC").tz_convert(state["tz"])
        if state["freq"]:
            index.freq = state["freq"]
    else:
        index = pd.Index(state["index"].numpy(), name=state["name"])
    return pd.DataFrame(state["values"].numpy(), index=index, columns=state["columns"])


def _versions() -> dict:
    from . import __version__

    return {"windwidgets": __version__, "torch": str(torch.__version__), "pandas": pd.__version__,
            "python": sys.version.split()[0]}
