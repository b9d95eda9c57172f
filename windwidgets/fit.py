"""A fit's life (its thread, Stop, waiting, its error, its history) and what every kind of
Run shares on top of it: the model, waiting, the file header and the display."""
from __future__ import annotations

import atexit
import html
import math
import sys
import threading
import weakref
from pathlib import Path

import pandas as pd
import torch

from .config import RunConfig
from .files import write_atomically

_BACKGROUND: "weakref.WeakSet[Fit]" = weakref.WeakSet()


@atexit.register
def _stop_background_fits() -> None:
    """At exit (a kernel shutdown or restart), stop background fits and let their threads
    end: a thread killed inside a torch call aborts the process on its way out."""
    for fit in list(_BACKGROUND):
        fit.stop()
        fit.thread.join(timeout=10)


class Fit:
    """A trainer's run: in the caller's thread, or in a background thread that ``wait``
    joins and whose error ``wait`` raises where the caller waits.

    ``trainer`` is None for a Run loaded from a file: its ``history`` is then the saved one.
    """

    def __init__(self, trainer=None, history: list | None = None):
        self.trainer = trainer
        self.history = history if history is not None else trainer.progress.history  # one dict per epoch
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self, background: bool = False) -> None:
        if not background:
            self.trainer.fit()
            return
        self.thread = threading.Thread(target=self._in_thread, name="windwidgets-fit", daemon=True)
        self.thread.start()
        _BACKGROUND.add(self)

    def _in_thread(self) -> None:
        try:
            self.trainer.fit()
        except BaseException as error:  # re-raised by wait() in the caller's thread
            self.error = error

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Block until a background fit ends (Ctrl-C asks it to stop, then waits)."""
        if self.thread is not None:
            try:
                self.thread.join(timeout)
            except KeyboardInterrupt:
                self.stop()
                self.thread.join()
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def stop(self) -> None:
        if self.trainer is not None:
            self.trainer.stop()

    @property
    def stop_reason(self) -> str | None:
        return self.trainer.progress.stop_reason if self.trainer is not None else None


class BaseRun:
    """What every Run shares: config, model, device, scaler and its :class:`Fit`.

    A fit that runs in the background (the notebook's live view) returns its Run at once;
    ``wait()`` blocks until it ends, ``stop()`` asks it to end after the current batch, and
    the methods that need the final weights wait by themselves. Subclasses name their
    ``FORMAT``, their history's columns and describe themselves in ``_description``.
    """

    FORMAT = ""  # the file format a subclass writes and reads back
    HISTORY = ("epoch", "train_loss", "val_loss", "lr", "seconds", "grad_norm")
    LOSS = "loss (MSE, scaled units)"  # what the loss curves show

    def __init__(self, config: RunConfig, model: torch.nn.Module, device: torch.device, scaler,
                 history: list | None = None, trainer=None):
        self.config, self.model, self.device, self.scaler = config, model, device, scaler
        self._job = Fit(trainer, history)

    # -- the fit ---------------------------------------------------------------------------
    def _fit(self, background: bool = False):
        self._job.start(background)
        return self

    @property
    def trainer(self):
        return self._job.trainer

    @trainer.setter
    def trainer(self, trainer) -> None:  # data-parallel fits drive their workers through a stand-in
        self._job.trainer = trainer

    @property
    def training(self) -> bool:
        """True while a background fit is still running."""
        return self._job.running

    def wait(self, timeout: float | None = None):
        """Block until a background fit ends (Ctrl-C asks it to stop, then waits)."""
        self._job.wait(timeout)
        return self

    def stop(self):
        """Ask a running fit to end after the current batch; the best weights are kept."""
        self._job.stop()
        return self

    @property
    def stop_reason(self) -> str | None:
        return self._job.stop_reason

    @property
    def _history(self) -> list:
        return self._job.history

    @property
    def history(self) -> pd.DataFrame:
        """One row per finished epoch: ``train_loss`` and ``val_loss`` (the training loss, in
        scaled units, on the training and validation parts), ``lr``, ``seconds``,
        ``grad_norm``; ``val_forecast`` when ``forecast_steps`` scores the epochs: the error by the
        training loss (``loss``), in scaled units, of rolled validation forecasts that long,
        the figure the best epoch is chosen by."""
        rows = list(self._history)
        extra = [name for name in (rows[0] if rows else {}) if name not in self.HISTORY]  # e.g. val_forecast
        return pd.DataFrame(rows, columns=list(self.HISTORY) + extra)

    def plot(self, log: bool = True):
        """The loss curves as a matplotlib Figure."""
        from .views.plots import loss_figure

        return loss_figure(self.history, log=log, ylabel=self.LOSS)

    # -- files -----------------------------------------------------------------------------
    def _write(self, path, **parts) -> Path:
        """One file, written atomically: the parts every Run keeps, then a subclass's."""
        self.wait()
        payload = {
            "format": self.FORMAT,
            "config": self.config.to_dict(),
            "state_dict": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "scaler": self.scaler.state_dict(),
            **parts,
            "history": [dict(row) for row in self._history],
            "versions": versions(),
        }
        return write_atomically(payload, Path(path))

    # -- display ---------------------------------------------------------------------------
    def _description(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _summary(self) -> list[tuple[str, str]]:
        return self._description() + self._status()

    def _status(self) -> list[tuple[str, str]]:
        """How far the fit got: epochs, the best one with its validation figures, how it ended."""
        history, rows = self.history, []
        if self.training:
            rows.append(("status", f"training, {len(history)} of {self.config.train.epochs} epochs done"))
        elif len(history):
            best = history.loc[history[best_by(history)].idxmin()]
            figures = ", ".join(f"{name.replace('_', ' ')} {best[name]:.4g}"
                                for name in history.columns if name.startswith("val_"))
            rows.append(("epochs", f"{len(history)}, best {int(best['epoch'])} ({figures})"))
        p = self.trainer.progress if self.trainer is not None else None
        if p is not None and p.member_epochs and not self.training:
            score = f" (val forecast {p.kept_score:.4g} together)" if not math.isnan(p.kept_score) else ""
            rows.append(("members keep epochs", ", ".join(map(str, p.member_epochs)) + score))
        if self.stop_reason:
            rows.append(("ended", self.stop_reason.replace("_", " ")))
        if p is not None and p.warning and not self.training:  # e.g. out of its depth (train.depth)
            rows.append(("warning", p.warning))
        return rows

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{k}={v}" for k, v in self._summary()) + ")"

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
            f"{html.escape(v)}</td></tr>" for k, v in self._summary()
        )
        return (f"<table><caption style='text-align:left'><b>windwidgets {type(self).__name__}</b>"
                f"</caption>{cells}</table>")


def best_by(history: pd.DataFrame) -> str:
    """The history column that picked the best epoch."""
    return "val_forecast" if "val_forecast" in history else "val_loss"


def versions() -> dict:
    from . import __version__

    return {"windwidgets": __version__, "torch": str(torch.__version__), "pandas": pd.__version__,
            "python": sys.version.split()[0]}
