"""The notebook view: one ipywidgets panel per fit, redrawn in place while the model trains.

The panel holds a progress bar (epochs and batches, time left, samples/s), the losses, the
best epoch and the device; a loss chart and a gradient-norm trace; a preview of the model's
free-running forecast over the start of the validation part; a warning badge; and a Stop
button. The charts are small SVG drawings in ``HTML`` widgets whose value is replaced, so any
front end with the standard widgets draws them (JupyterLab 4, Notebook 7, VS Code) and no
output is ever cleared. Redraws are throttled by time: at most a few a second whatever the
batch rate, and each of charts and previews takes at most about 0.5% of the training time.

When the fit ends the panel freezes: controls off, the final numbers and charts kept (the
forecast preview redone with the weights that were kept). A panel shown in a cell is then
replaced there by one SVG image of the same charts with the outcome on top, so a saved
notebook shows it without a kernel (SVG rather than a matplotlib PNG: a few milliseconds to
build instead of about 150 ms, which is several percent of a short fit; no figure to close).
The view then drops its references to the Run, the model and the data; it starts no thread.

The view is called in whatever thread runs the fit; in a notebook that is a background
thread (see :func:`windwidgets.views.make_view`), so the Stop button answers while it runs.
"""
from __future__ import annotations

import html
import math
import threading
import time
import traceback
from typing import Callable, Optional

import ipywidgets as widgets

from ..train.events import Event, Progress
from .svg import (FORECAST_SIZE, GRADIENT_SIZE, LOSS_SIZE, Trace, empty_svg, forecast_svg,
                  gradient_svg, loss_svg, summary_svg)
from .text import stop_line



class LiveView:
    """A live training panel; subscribe it to a trainer's events.

    Parameters
    ----------
    stop : callable that asks the fit to end after the current batch (the Stop button).
    preview : callable returning a dict with ``name``, ``context``, ``truth`` and
        ``forecast`` arrays (original units): the model's free-running forecast over the start
        of the validation part. Called in the training thread on epoch ends, at most every
        2 seconds, and once more at the end with the weights that were kept.
    title : the first line of the panel, e.g. the model's name and size.
    min_interval : seconds between two redraws at least.

    Attributes
    ----------
    panel : the ``VBox`` to display; ``display()`` shows it in the cell.
    """

    # Each redraw and each preview may cost at most this share of the time since the last
    # one: with the bookkeeping of each batch the view stays near 1% of the training time.
    DRAW_BUDGET = PREVIEW_BUDGET = 0.005
    PREVIEW_INTERVAL = 2.0  # seconds between two forecast previews at least

    def __init__(self, stop: Optional[Callable[[], object]] = None,
                 preview: Optional[Callable[[], dict]] = None, title: str = "training",
                 min_interval: float = 0.3):
        self.min_interval = min_interval
        self.draws = 0  # how many times the charts were redrawn (for tests and curiosity)
        self.seconds = 0.0  # time the fit spent in this view: its whole cost to training
        self._stop, self._preview = stop, preview
        self._lock = threading.Lock()  # the training thread and the kernel thread both draw
        self._handle = None
        self._last_draw = self._last_preview = -math.inf
        self._draw_cost = self._preview_cost = 0.0
        self._progress: Optional[Progress] = None
        self._forecast: Optional[dict] = None
        self._forecast_epoch = 0
        self._frozen = False
        self.summary = ""  # the frozen panel as an SVG image, once the fit has ended
        self.batch_loss = Trace()
        self.gradients = Trace()
        self._build(title)

    # -- the widgets -----------------------------------------------------------------------
    def _build(self, title: str) -> None:
        self._title = title
        self.title = widgets.HTML(f"<b>{html.escape(title)}</b>")
        self.stop_button = widgets.Button(
            description="Stop", icon="stop", button_style="danger",
            tooltip="end training after the current batch; the best weights are kept",
            disabled=self._stop is None, layout=widgets.Layout(width="90px"))
        self.stop_button.on_click(self._on_stop)
        self.log_scale = widgets.Checkbox(value=True, description="log scale", indent=False,
                                          layout=widgets.Layout(width="100px"))
        self.log_scale.observe(self._on_log_scale, names="value")
        self.bar = widgets.IntProgress(value=0, min=0, max=1, bar_style="info",
                                       layout=widgets.Layout(width="260px"))
        self.progress_text = widgets.HTML("starting")
        self.stats = widgets.HTML("")
        self.status = widgets.HTML("")
        self.badge = widgets.HTML("", layout=widgets.Layout(display="none"))
        self.loss_chart = widgets.HTML(empty_svg(LOSS_SIZE, "loss: waiting for the first batch"))
        self.gradient_chart = widgets.HTML(empty_svg(GRADIENT_SIZE, "gradient norm"))
        self.forecast_chart = widgets.HTML(empty_svg(
            FORECAST_SIZE, "forecast preview: after a few seconds of training" if self._preview else
            "no forecast preview for this model"))
        self.errors = widgets.Output()
        self.charts = widgets.HBox(
            [widgets.VBox([self.loss_chart, self.gradient_chart]), self.forecast_chart],
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        self.panel = widgets.VBox([
            widgets.HBox([self.title, self.stop_button, self.log_scale],
                         layout=widgets.Layout(justify_content="space-between", align_items="center")),
            widgets.HBox([self.bar, self.progress_text], layout=widgets.Layout(align_items="center")),
            self.stats, self.status, self.badge, self.charts, self.errors,
        ], layout=widgets.Layout(border="1px solid var(--jp-border-color2, #ddd)", padding="6px",
                                 max_width="900px"))
        self.panel.add_class("windwidgets-live")  # classes for styling and browser tests
        for name in ("stop_button", "status", "badge", "loss_chart", "gradient_chart", "forecast_chart"):
            getattr(self, name).add_class("windwidgets-" + name.replace("_", "-"))

    def display(self) -> None:
        """Show the panel in the current cell; at the end it is replaced there by the final image."""
        from IPython.display import display

        self._handle = display(self.panel, display_id=True)

    # -- events ----------------------------------------------------------------------------
    def __call__(self, event: Event, p: Progress) -> None:
        start = time.perf_counter()
        try:
            self._on_event(event, p)
        finally:
            self.seconds += time.perf_counter() - start

    def _on_event(self, event: Event, p: Progress) -> None:
        self._progress = p
        if event is Event.BATCH_END:
            self.batch_loss.add(p.epoch - 1 + p.batch / max(p.batches, 1), p.batch_loss)
            self.gradients.add(p.epoch - 1 + p.batch / max(p.batches, 1), p.grad_norm)
            if time.monotonic() - self._last_draw >= self._interval():
                self._guarded(self._draw, p)
        elif event is Event.EPOCH_END:
            if self._preview is not None and time.monotonic() - self._last_preview >= max(
                    self.PREVIEW_INTERVAL, self._preview_cost / self.PREVIEW_BUDGET):
                self._guarded(self._run_preview, p)
            if time.monotonic() - self._last_draw >= self._interval():
                self._guarded(self._draw, p)
        elif event is Event.FIT_START:
            self._last_preview = time.monotonic()  # the first preview after a few seconds
            self.bar.max = max(p.epochs * p.batches, 1)
            self.status.value = f"training on {html.escape(p.device)}"
        elif event is Event.WARNING:
            self._warn(p.warning)
        elif event is Event.INTERRUPTED:
            self.status.value = "interrupted; keeping the best weights"
        elif event is Event.FIT_END:
            self._guarded(self._freeze, p)

    def _interval(self) -> float:
        return max(self.min_interval, self._draw_cost / self.DRAW_BUDGET)

    def _guarded(self, step, p: Progress) -> None:
        """A drawing error is shown in the panel and does not end the fit."""
        try:
            step(p)
        except Exception:
            self.errors.append_stderr(traceback.format_exc())

    def _warn(self, text: str) -> None:
        self.badge.value = (
            "<div style='background:#fdecea;color:#611a15;border-left:4px solid #d32f2f;"
            f"padding:4px 8px'>&#9888; {html.escape(text)}</div>"
        )
        self.badge.layout.display = None

    # -- drawing ---------------------------------------------------------------------------
    def _draw(self, p: Progress) -> None:
        with self._lock:
            start = time.perf_counter()
            self.bar.value = min(p.batches_done, self.bar.max)
            self.progress_text.value = _progress_text(p)
            self.stats.value = _stats_text(p)
            self._draw_charts()
            self.draws += 1
            self._last_draw = time.monotonic()
            self._draw_cost = time.perf_counter() - start

    def _draw_charts(self) -> None:
        p, log = self._progress, self.log_scale.value
        history = p.history if p is not None else []
        self.loss_chart.value = loss_svg(history, self.batch_loss, p.best_epoch if p else 0, log)
        self.gradient_chart.value = gradient_svg(self.gradients, history[-1]["epoch"] if history else 0)
        if self._forecast is not None:
            self.forecast_chart.value = forecast_svg(self._forecast, self._forecast_epoch)

    def _run_preview(self, p: Progress) -> None:
        start = time.perf_counter()
        try:
            forecast = self._preview()
        except Exception:
            self._preview = None  # a model the rollout cannot drive: say so once, train on
            self.errors.append_stderr("the forecast preview failed and is off for this fit:\n"
                                      + traceback.format_exc())
            return
        self._forecast, self._forecast_epoch = forecast, p.epoch
        self._last_preview = time.monotonic()
        self._preview_cost = time.perf_counter() - start

    def _on_log_scale(self, change) -> None:
        if self._frozen or self._progress is None:
            return
        try:
            with self._lock:
                self._draw_charts()
        except Exception:
            self.errors.append_stderr(traceback.format_exc())

    def _on_stop(self, _button) -> None:
        try:
            if self._stop is not None:
                self._stop()
            self.stop_button.disabled = True
            self.stop_button.description = "stopping"
            self.status.value = "stopping after the current batch; the best weights will be kept"
        except Exception:
            self.errors.append_stderr(traceback.format_exc())

    # -- the end ---------------------------------------------------------------------------
    def _freeze(self, p: Progress) -> None:
        """The static summary: final numbers and charts, and one SVG image of them."""
        if self._preview is not None and p.best_epoch and p.best_epoch != self._forecast_epoch:
            self._guarded(self._run_preview, p)  # with the weights that were kept
            self._forecast_epoch = p.best_epoch
        self._draw(p)
        with self._lock:
            self._frozen = True
            summary = stop_line(p)
            self.status.value = (f"<span style='color:#b71c1c'>{html.escape(summary)}</span>"
                                 if p.stop_reason == "error" else html.escape(summary))
            if p.warning:
                self._warn(p.warning)
            self.bar.bar_style = {None: "success", "nan": "danger", "error": "danger"}.get(p.stop_reason, "warning")
            self.stop_button.disabled = self.log_scale.disabled = True
            self.stop_button.description = "stopped" if p.stop_reason else "done"
            self.summary = summary_svg(p, self.batch_loss, self.gradients, self._forecast,
                                       self._forecast_epoch, self.log_scale.value, self._title)
        self._stop = self._preview = None  # the Run, its model and data are no longer held
        if self._handle is not None:
            self._handle.update({"image/svg+xml": self.summary,
                                 "text/plain": f"windwidgets: {summary}"}, raw=True)


# -- text ----------------------------------------------------------------------------------
def _progress_text(p: Progress) -> str:
    rate = p.samples / p.seconds if p.seconds > 0 else 0.0
    return (f"epoch {p.epoch}/{p.epochs} &middot; batch {p.batch}/{p.batches} &middot; "
            f"{_clock(p.seconds)} elapsed, {_clock(p.seconds_left)} left &middot; {rate:,.0f} samples/s")


def _stats_text(p: Progress) -> str:
    parts = [f"train loss <b>{_number(p.train_loss)}</b>"]
    if p.history:
        parts.append(f"val loss <b>{_number(p.history[-1]['val_loss'])}</b>")
    parts += [f"{html.escape(name)} <b>{_number(value)}</b>" for name, value in p.metrics.items()]
    if p.best_epoch:
        parts.append(f"best epoch {p.best_epoch} (val {_number(p.best_val_loss)})")
    parts.append(f"device {html.escape(p.device)}")
    return " &middot; ".join(parts)


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)
