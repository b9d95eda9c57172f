"""The notebook view: one ipywidgets panel per fit, redrawn in place while the model trains.

The panel holds a progress bar (epochs and batches, time left, samples/s), the losses, the
best epoch and the device; a loss chart and a gradient-norm trace; a preview of the model's
free-running forecast over the start of the validation part; a warning badge; and a Stop
button. The charts are small SVG drawings in ``HTML`` widgets whose value is replaced, so any
front end with the standard widgets draws them (JupyterLab 4, Notebook 7, VS Code) and no
output is ever cleared. Redraws are throttled by time (:class:`~windwidgets.views.pace.Pace`):
at most a few a second whatever the batch rate, and at most ``DRAW_BUDGET`` of the fit's time.
A forecast preview comes at each new best epoch and otherwise every ``PREVIEW_INTERVAL``
seconds, within ``PREVIEW_BUDGET``; each job's cost is the median of its recent runs, so one
slow run does not hold the next ones back. A panel's preview shows one series, chosen with a
picker (the first by default).

When the fit ends the panel freezes: controls off, the final numbers and charts kept (the
forecast preview shows the weights that were kept, and says so). A panel shown in a cell is then
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
from .pace import Pace
from .svg import (FORECAST_SIZE, GRADIENT_SIZE, LOSS_SIZE, Trace, empty_svg, forecast_svg, forecast_title,
                  gradient_svg, loss_svg, summary_svg)
from .text import stop_line



class LiveView:
    """A live training panel; subscribe it to a trainer's events.

    Parameters
    ----------
    stop : callable that asks the fit to end after the current batch (the Stop button).
    preview : callable returning a dict with ``name``, ``series``, ``context``, ``truth`` and
        ``forecast`` arrays (original units): the model's free-running forecast over the start
        of the validation part (see :class:`windwidgets.forecast.preview.Preview`). Its
        ``keys`` (a panel's series ids), when it has several, give the panel a series picker,
        and it is then called with the chosen id. Called in the training thread on epoch
        ends, and once more at the end with the weights that were kept.
    title : the first line of the panel, e.g. the model's name and size.
    min_interval : seconds between two redraws at least.
    scored : what ``val_forecast`` scores, shown under the numbers ("" when nothing).
    clock : seconds, monotonic, for the schedule of redraws and previews; tests pass their own.

    Attributes
    ----------
    panel : the ``VBox`` to display; ``display()`` shows it in the cell.
    draw_pace, preview_pace : the schedules (:class:`~windwidgets.views.pace.Pace`).
    """

    # The shares of the fit that previews and redraws may take: with the bookkeeping of each
    # batch the view stays under 3% (benchmarks/live_overhead.py measures it). A preview of
    # the quickstart's LSTM (65 ms) then comes every 4.3 s at most; a small model's every 2 s.
    PREVIEW_BUDGET, DRAW_BUDGET = 0.015, 0.005
    PREVIEW_INTERVAL = 2.0  # seconds between two previews at most, unless the budget asks for more

    def __init__(self, stop: Optional[Callable[[], object]] = None,
                 preview: Optional[Callable[..., dict]] = None, title: str = "training",
                 min_interval: float = 0.3, scored: str = "", clock: Callable[[], float] = time.perf_counter):
        self.seconds = 0.0  # time the fit spent in this view: its whole cost to training
        self._stop, self._preview = stop, preview
        self._lock = threading.Lock()  # the training thread and the kernel thread both draw
        self._handle = None
        self.draw_pace = Pace(min_interval, self.DRAW_BUDGET, clock)
        self.preview_pace = Pace(self.PREVIEW_INTERVAL, self.PREVIEW_BUDGET, clock)
        self._progress: Optional[Progress] = None
        self._forecast: Optional[dict] = None
        self._forecast_epoch = 0  # the epoch of the weights the preview shows
        self._forecast_title = ""
        keys = list(getattr(preview, "keys", None) or [])
        self._series = keys[0] if keys else None  # the series the preview shows next
        self._frozen = False
        self.summary = ""  # the frozen panel as an SVG image, once the fit has ended
        self.batch_loss = Trace()
        self.gradients = Trace()
        self._build(title, keys, scored)

    @property
    def draws(self) -> int:
        """How many times the charts were redrawn during the fit (for tests and curiosity)."""
        return self.draw_pace.runs

    # -- the widgets -----------------------------------------------------------------------
    def _build(self, title: str, keys: list, scored: str) -> None:
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
        self.scored = widgets.HTML(f"<small>{html.escape(scored)}</small>",
                                   layout=widgets.Layout(display=None if scored else "none"))
        self.series_picker = widgets.Dropdown(
            options=[(str(key), key) for key in keys], value=self._series, description="series",
            tooltip="the series the forecast preview shows, from the next epoch",
            layout=widgets.Layout(width="220px", display=None if len(keys) > 1 else "none"))
        self.series_picker.observe(self._on_series, names="value")
        self.status = widgets.HTML("")
        self.badge = widgets.HTML("", layout=widgets.Layout(display="none"))
        self.loss_chart = widgets.HTML(empty_svg(LOSS_SIZE, "loss: waiting for the first batch"))
        self.gradient_chart = widgets.HTML(empty_svg(GRADIENT_SIZE, "gradient norm"))
        self.forecast_chart = widgets.HTML(empty_svg(
            FORECAST_SIZE, "forecast preview: after the first epoch" if self._preview else
            "no forecast preview for this model"))
        self.errors = widgets.Output()
        self.charts = widgets.HBox(
            [widgets.VBox([self.loss_chart, self.gradient_chart]), self.forecast_chart],
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        self.panel = widgets.VBox([
            widgets.HBox([self.title, self.series_picker, self.stop_button, self.log_scale],
                         layout=widgets.Layout(justify_content="space-between", align_items="center")),
            widgets.HBox([self.bar, self.progress_text], layout=widgets.Layout(align_items="center")),
            self.stats, self.scored, self.status, self.badge, self.charts, self.errors,
        ], layout=widgets.Layout(border="1px solid var(--jp-border-color2, #ddd)", padding="6px",
                                 max_width="900px"))
        self.panel.add_class("windwidgets-live")  # classes for styling and browser tests
        for name in ("stop_button", "status", "badge", "loss_chart", "gradient_chart", "forecast_chart",
                     "series_picker", "scored"):
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
            if self.draw_pace.due():
                self._guarded(self.draw_pace.timed, self._draw, p)
        elif event is Event.EPOCH_END:
            shown = self._forecast.get("series", self._series) if self._forecast else self._series
            if self._preview is not None and (self.preview_pace.due(urgent=p.best_epoch == p.epoch)
                                              or shown != self._series):
                self._guarded(self.preview_pace.timed, self._run_preview, p)
            if self.draw_pace.due():
                self._guarded(self.draw_pace.timed, self._draw, p)
        elif event is Event.FIT_START:
            self.bar.max = max(p.epochs * p.batches, 1)
            self.status.value = f"training on {html.escape(p.device)}"
        elif event is Event.WARNING:
            self._warn(p.warning)
        elif event is Event.INTERRUPTED:
            self.status.value = "interrupted; keeping the best weights"
        elif event is Event.FIT_END:
            self._guarded(self._freeze, p)

    def _guarded(self, step, *args) -> None:
        """A drawing error is shown in the panel and does not end the fit."""
        try:
            step(*args)
        except Exception:
            self.errors.append_stderr(traceback.format_exc())

    def _warn(self, text: str) -> None:
        self.badge.value = (
            "<div style='background:#fdecea;color:#611a15;border-left:4px solid #d32f2f;"
            f"padding:4px 8px'>&#9888; {html.escape(text)}</div>"
        )
        self.badge.layout.display = None

    # -- drawing ---------------------------------------------------------------------------
    def _draw(self, p: Progress, kept: str = "") -> None:
        with self._lock:
            self.bar.value = min(p.batches_done, self.bar.max)
            self.progress_text.value = _progress_text(p)
            self.stats.value = _stats_text(p)
            self._draw_charts(kept)

    def _draw_charts(self, kept: str = "") -> None:
        p, log = self._progress, self.log_scale.value
        history = p.history if p is not None else []
        self.loss_chart.value = loss_svg(history, self.batch_loss, p.best_epoch if p else 0, log)
        self.gradient_chart.value = gradient_svg(self.gradients, history[-1]["epoch"] if history else 0)
        if self._forecast is not None:
            title = forecast_title(self._forecast, self._forecast_epoch, len(history), kept)
            if title != self._forecast_title:  # the fit moved on, or a new preview came
                self._forecast_title = title
                self.forecast_chart.value = forecast_svg(self._forecast, title)

    def _run_preview(self, p: Progress) -> None:
        try:
            forecast = self._preview(self._series) if self._series is not None else self._preview()
        except Exception:
            self._preview = None  # a model the rollout cannot drive: say so once, train on
            self.errors.append_stderr("the forecast preview failed and is off for this fit:\n"
                                      + traceback.format_exc())
            return
        with self._lock:
            self._forecast, self._forecast_epoch = forecast, p.epoch
            self._forecast_title = forecast_title(forecast, p.epoch)  # drawn now, not at the next redraw
            self.forecast_chart.value = forecast_svg(forecast, self._forecast_title)

    def _on_series(self, change) -> None:
        self._series = change["new"]  # the next epoch end previews it

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
        kept = "" if p.refit else _kept(p)  # a refit's weights learned the preview's rows: keep the last one drawn
        if self._preview is not None and kept and (
                p.member_epochs or p.best_epoch != self._forecast_epoch
                or (self._forecast or {}).get("series", self._series) != self._series):
            self._guarded(self.preview_pace.timed, self._run_preview, p)  # with the weights that were kept
        if self._forecast is not None and kept:
            self._forecast_epoch = p.best_epoch
        self.draw_pace.timed(self._draw, p, kept)
        with self._lock:
            self._frozen = True
            summary = stop_line(p)
            self.status.value = (f"<span style='color:#b71c1c'>{html.escape(summary)}</span>"
                                 if p.stop_reason == "error" else html.escape(summary))
            if p.warning:
                self._warn(p.warning)
            self.bar.bar_style = {None: "success", "nan": "danger", "error": "danger"}.get(p.stop_reason, "warning")
            self.stop_button.disabled = self.log_scale.disabled = self.series_picker.disabled = True
            self.stop_button.description = "stopped" if p.stop_reason else "done"
            self.summary = summary_svg(p, self.batch_loss, self.gradients, self._forecast,
                                       self._forecast_title, self.log_scale.value, self._title)
        self._stop = self._preview = None  # the Run, its model and data are no longer held
        if self._handle is not None:
            self._handle.update({"image/svg+xml": self.summary,
                                 "text/plain": f"windwidgets: {summary}"}, raw=True)


# -- text ----------------------------------------------------------------------------------
def _kept(p: Progress) -> str:
    """Which weights the fit kept, for the preview's title; "" when no epoch finished."""
    if p.member_epochs:
        return "kept weights (each member's best epoch)"
    return f"kept weights of epoch {p.best_epoch}" if p.best_epoch else ""


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
