"""A fit's life (its thread, Stop, waiting, its error, its history) and what every kind of
Run shares on top of it: the model, waiting, the file header and the display."""
from __future__ import annotations

import atexit
import contextlib
import html
import math
import sys
import threading
import time
import warnings
import weakref
from pathlib import Path

import pandas as pd
import torch

from .config import RunConfig
from .errors import WindwidgetsError
from .files import write_atomically
from .train.events import Event, Progress, best_by
from .version import __version__

_BACKGROUND: "weakref.WeakSet[Fit]" = weakref.WeakSet()
_HELD: dict = {}  # thread -> the warnings it gave, held for another thread to give or show


@contextlib.contextmanager
def held_warnings():
    """Hold the warnings this thread gives (a list, filled as they come) instead of printing
    them: a background thread's warnings would land on stderr, in whatever cell is running.
    Other threads' warnings go on as usual."""
    _watch_warnings()
    held = _HELD[threading.current_thread()] = []
    try:
        yield held
    finally:
        _HELD.pop(threading.current_thread(), None)


def _watch_warnings() -> None:
    """Route warnings through a ``showwarning`` that holds those of the threads that asked, once."""
    if getattr(warnings.showwarning, "__wrapped_by__", None) != "windwidgets":
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            held = _HELD.get(threading.current_thread())
            if held is None:
                return shown(message, category, filename, lineno, file, line)
            held.append(warnings.WarningMessage(message, category, filename, lineno, file, line))

        show.__wrapped_by__ = "windwidgets"
        warnings.showwarning = show


@atexit.register
def _stop_background_fits() -> None:
    """At exit (a kernel shutdown or restart), stop background fits and let their threads
    end: a thread killed inside a torch call aborts the process on its way out."""
    for fit in list(_BACKGROUND):
        fit.stop()
        for thread in [fit.thread, *fit.followers]:
            thread.join(timeout=10)


class Fit:
    """A trainer's run: in the caller's thread, or in a background thread that ``wait``
    joins and whose error ``wait`` raises where the caller waits.

    ``followers`` are threads that finish a background fit's work after it (the dashboard
    scores the Run and lists it): ``wait`` joins them too, so that once it returns no
    thread of the fit still runs torch code and the process may exit at once.

    ``trainer`` is None for a Run fitted elsewhere (read from a file, a sweep's trial): its
    ``history`` is then the one given, and its ``progress`` says how that fit ended.
    """

    def __init__(self, trainer=None, history: list | None = None):
        self.trainer = trainer
        self.history = history if history is not None else trainer.progress.history  # one dict per epoch
        self._progress = None if trainer is not None else _finished(self.history)
        self.thread: threading.Thread | None = None
        self.followers: list[threading.Thread] = []
        self.warnings: list = []  # what a background fit warned of, given where its caller waits
        self.error: BaseException | None = None

    def start(self, background: bool = False) -> None:
        if not background:
            self.trainer.fit()
            return
        self.thread = threading.Thread(target=self._in_thread, name="windwidgets-fit", daemon=True)
        self.thread.start()
        _BACKGROUND.add(self)

    def _in_thread(self) -> None:
        with held_warnings() as self.warnings:  # given again by wait() in the caller's thread
            try:
                self.trainer.fit()
            except BaseException as error:  # re-raised by wait() in the caller's thread
                self.error = error

    @property
    def progress(self) -> Progress:
        return self.trainer.progress if self.trainer is not None else self._progress

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def follow(self, thread: threading.Thread) -> None:
        """Start ``thread``, which finishes this fit's work; ``wait`` joins it as well."""
        self.followers.append(thread)
        thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until a background fit and its followers end (Ctrl-C asks the fit to stop,
        then waits). A follower that waits for the fit waits for the fit alone."""
        current = threading.current_thread()
        threads = [] if self.thread is None or self.thread is current else [self.thread]
        if current is not self.thread and current not in self.followers:
            threads += self.followers
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads:
            try:
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            except KeyboardInterrupt:
                self.stop()
                thread.join()
        if not self.running:
            warnings_given, self.warnings = self.warnings, []
            for given in warnings_given:
                warnings.warn(given.message, given.category, stacklevel=3)
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def stop(self) -> None:
        if self.trainer is not None:
            self.trainer.stop()

    @property
    def stop_reason(self) -> str | None:
        return self.progress.stop_reason


def _finished(history: list) -> Progress:
    """The progress of a fit that ended elsewhere, as far as its history tells."""
    progress = Progress(epochs=len(history), batches=0, device="", epoch=len(history), history=history)
    if history:
        column = best_by(history[0])
        best = min(history, key=lambda row: (not math.isfinite(row[column]), row[column]))
        progress.best_epoch, progress.best_val_loss = int(best["epoch"]), best["val_loss"]
    return progress


class BaseRun:
    """What every Run shares: config, model, device, scaler and its :class:`Fit`.

    A fit that runs in the background (the notebook's live view) returns its Run at once;
    ``wait()`` blocks until it ends, ``stop()`` asks it to end after the current batch, and
    the methods that need the final weights wait by themselves. Subclasses name their
    ``FORMAT``, their history's columns and describe themselves in ``_description``.
    """

    FORMAT = ""  # the file format a subclass writes and reads back
    HISTORY = ("epoch", "train_loss", "val_loss", "lr", "seconds", "grad_norm")
    LOSS = "loss ({loss}, scaled units)"  # what the loss curves show, the training loss named

    def __init__(self, config: RunConfig, model: torch.nn.Module, device: torch.device, scaler,
                 history: list | None = None, trainer=None):
        self.config, self.model, self.device, self.scaler = config, model, device, scaler
        self._job = Fit(trainer, history)

    # -- the fit ---------------------------------------------------------------------------
    def fit(self, view=None, background: bool | None = None, trainer=None, show=None):
        """Train the model (``ww.prepare(...).fit()`` is ``ww.train(...)``); returns the Run.

        Parameters
        ----------
        view : None: the view the ``live`` setting asks for (the live panel in a notebook, a
            line per epoch elsewhere); False: none; or any subscriber,
            ``view(event, progress)``, that hears every :class:`~windwidgets.Event`.
        background : train in a background thread and return at once (``wait()`` blocks
            until the fit ends; ``forecast``, ``evaluate`` and ``save`` wait by themselves).
            None: only under the notebook's live panel, whose Stop button is heard only
            while the kernel is free. A kernel interrupt reaches the fit only while a cell
            waits on it; the Stop button works at any time.
        trainer : what trains the model in place of the Run's own trainer, with its
            ``fit()``, ``stop()``, ``progress`` and ``events`` (a data-parallel fit passes
            one that drives Ray workers and replays their events here).
        show : places the live panel somewhere else than the cell's output (the dashboard).
        """
        if self.trainer is None or self.history.shape[0] or self.training:
            raise WindwidgetsError("this Run is fitted already (or fitting); prepare a new one with "
                                   "ww.prepare(data, **settings) or train one with ww.train")
        if trainer is not None:
            self._job.trainer = trainer
        self.trainer.events.subscribe(self._heard)  # before the view, which draws the end of the fit
        if view is None:
            view = self._view(show, getattr(trainer, "where", ""))
        if view is not False and view is not None:
            self.trainer.events.subscribe(view)
        if background is None:
            background = _in_background(view)
        self._job.start(background)
        return self

    def _heard(self, event: Event, progress: Progress) -> None:
        """At the end of a fit that learned again on every row (``refit=True``), every row of
        each series is a training row: backtests, evaluations and intervals then read only rows
        the model has not learned (those ``update`` adds)."""
        if event is Event.FIT_END and progress.refit:
            for state in self._states():
                state.n_train = len(state.frame)

    def _states(self) -> list:
        """The series states of this Run (:class:`~windwidgets.data.series.SeriesState`)."""
        return []

    def _view(self, show, where: str = ""):
        """The view the ``live`` setting asks for, titled with the model (and ``where`` it trains)."""
        from .views import make_view, score_text

        m = self.config.model
        title = f"{m.model}, {m.size}" + (f", {where}" if where else "")
        return make_view(self.config.train.live, stop=self.stop, preview=self._preview(), show=show,
                         title=title, scored=score_text(self)) or False

    def _preview(self):
        """The forecast the live panel draws as the fit goes (None: nothing to roll forward)."""
        return None

    @property
    def trainer(self):
        """What fits the model: its ``progress`` and ``events``; None for a Run fitted elsewhere."""
        return self._job.trainer

    @property
    def progress(self):
        """How far the fit got (:class:`~windwidgets.train.Progress`): epoch, best epoch, the
        epochs an ensemble's members keep, how it ended; for a Run read from a file, what its
        history tells."""
        return self._job.progress

    @property
    def training(self) -> bool:
        """True while a background fit is still running."""
        return self._job.running

    def wait(self, timeout: float | None = None):
        """Block until a background fit ends (Ctrl-C asks it to stop, then waits)."""
        self._job.wait(timeout)
        return self

    def _fitted(self) -> None:
        """Wait for a fit running in the background; refuse a Run that was never fitted, whose
        weights are the untrained ones (a fit stopped before its first epoch has ended counts
        as fitted: it says how it ended)."""
        self.wait()
        if self.trainer is not None and not self._history and self.stop_reason is None:
            raise WindwidgetsError("this Run is prepared but not fitted, so its weights are the untrained ones; "
                                   "call run.fit() first")

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

        names = {"mse": "MSE", "mae": "MAE", "huber": "Huber", "quantile": "pinball, mean over the levels"}
        return loss_figure(self.history, log=log, ylabel=self.LOSS.format(loss=names.get(self.config.train.loss)))

    # -- files -----------------------------------------------------------------------------
    def _write(self, path, **parts) -> Path:
        """One file, written atomically: the parts every Run keeps, then a subclass's."""
        self._fitted()
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
        p = self.progress
        if p.member_epochs and not self.training:
            score = f" (val forecast {p.kept_score:.4g} together)" if not math.isnan(p.kept_score) else ""
            rows.append(("members keep epochs", ", ".join(map(str, p.member_epochs)) + score))
        if p is not None and p.refit and not self.training:  # the figures above are the validated weights'
            rows.append(("refit", f"learned again on every row for {p.refit} epochs"))
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


def versions() -> dict:
    return {"windwidgets": __version__, "torch": str(torch.__version__), "pandas": pd.__version__,
            "python": sys.version.split()[0]}


def _in_background(view) -> bool:
    """The live panel in a notebook kernel trains in the background, so its Stop is heard."""
    live = sys.modules.get("windwidgets.views.live")  # imported where a panel was made
    if live is None or not isinstance(view, live.LiveView):
        return False
    from .views import in_notebook

    return in_notebook()
