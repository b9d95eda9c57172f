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
import textwrap
import threading
import time
import traceback
from typing import Callable, Optional

import ipywidgets as widgets
import numpy as np

from ..train.events import Event, Progress
from .text import stop_line

TRAIN, VALIDATION, GRADIENT = "#1f77b4", "#ff7f0e", "#7f7f7f"
HISTORY, TRUTH, FORECAST = "#8c8c8c", "#2ca02c", "#ff7f0e"


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
        self.loss_chart = widgets.HTML(_empty_svg(LOSS_SIZE, "loss: waiting for the first batch"))
        self.gradient_chart = widgets.HTML(_empty_svg(GRADIENT_SIZE, "gradient norm"))
        self.forecast_chart = widgets.HTML(_empty_svg(
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


class Trace:
    """Values by position (fractional epoch), averaged over ``stride`` batches per point so
    that a long fit keeps at most ``limit`` points (memory and drawing stay bounded)."""

    def __init__(self, limit: int = 2000):
        self.limit, self.stride = limit, 1
        self.x: list[float] = []
        self.y: list[float] = []
        self._sum, self._count = 0.0, 0

    def add(self, x: float, y: float) -> None:
        if not math.isfinite(y):
            return
        self._sum += y
        self._count += 1
        if self._count < self.stride:
            return
        self.x.append(x)
        self.y.append(self._sum / self._count)
        self._sum, self._count = 0.0, 0
        if len(self.x) > self.limit:
            self.x = self.x[1::2]
            self.y = [(a + b) / 2 for a, b in zip(self.y[0::2], self.y[1::2])]
            self.stride *= 2

    def __len__(self) -> int:
        return len(self.x)


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


# -- SVG charts ----------------------------------------------------------------------------
LOSS_SIZE, GRADIENT_SIZE, FORECAST_SIZE = (400, 210), (400, 90), (400, 300)
MARGIN = (52, 10, 20, 24)  # left, right, top, bottom


def loss_svg(history: list, batch_loss: Trace, best_epoch: int, log: bool,
             ink: str = "currentColor") -> str:
    """Batch losses (thin), epoch train and validation losses (dots), the best epoch."""
    epochs = [row["epoch"] for row in history]
    series = [
        Series(*envelope(batch_loss.x, batch_loss.y), TRAIN, width=0.8, opacity=0.45),
        Series(epochs, [row["train_loss"] for row in history], TRAIN, "train", dots=True),
        Series(epochs, [row["val_loss"] for row in history], VALIDATION, "validation", dots=True),
    ]
    marks = [best_epoch] if best_epoch else []
    return svg_chart(series, LOSS_SIZE, log=log, title="loss by epoch", x_marks=marks,
                     x_min=0.0, ink=ink)


def gradient_svg(gradients: Trace, epochs: float = 0.0, ink: str = "currentColor") -> str:
    """Gradient norms by batch, on the same epoch axis as the loss chart (to ``epochs``)."""
    return svg_chart([Series(*envelope(gradients.x, gradients.y), GRADIENT, "gradient norm", width=0.8)],
                     GRADIENT_SIZE, log=True, title="gradient norm before clipping", x_min=0.0,
                     x_max=epochs, ink=ink)


def forecast_svg(forecast: dict, epoch: int, ink: str = "currentColor") -> str:
    """The window before the validation part, the truth after it, the free-running forecast."""
    context, truth, predicted = (np.asarray(forecast[k], dtype=float)
                                 for k in ("context", "truth", "forecast"))
    before = np.arange(-len(context), 0)
    after = np.arange(len(truth))
    series = [Series(before, context, HISTORY, "history"), Series(after, truth, TRUTH, "truth"),
              Series(np.arange(len(predicted)), predicted, FORECAST, "forecast", width=1.8)]
    return svg_chart(series, FORECAST_SIZE, title=f"{forecast['name']}: free-running forecast, "
                     f"epoch {epoch}", x_marks=[0], x_label="steps from the start of validation",
                     ink=ink)


def envelope(x: list, y: list, buckets: int = 300) -> tuple:
    """At most ``2 * buckets`` points that look like all of them at chart size: the lowest
    and the highest of each bucket of neighbours, in their order (spikes survive)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) <= 2 * buckets:
        return x, y
    size = math.ceil(len(x) / buckets)
    full = len(x) // size * size  # the rest, fewer than `size` points, is kept as it is
    bx, by = x[:full].reshape(-1, size), y[:full].reshape(-1, size)  # (buckets, size) each
    low, high = by.argmin(axis=1), by.argmax(axis=1)  # (buckets,) each
    first, second = np.minimum(low, high), np.maximum(low, high)
    rows = np.arange(len(bx))
    xs = np.stack([bx[rows, first], bx[rows, second]], axis=1).ravel()  # (2 * buckets,)
    ys = np.stack([by[rows, first], by[rows, second]], axis=1).ravel()  # (2 * buckets,)
    return np.concatenate([xs, x[full:]]), np.concatenate([ys, y[full:]])


class Series:
    def __init__(self, x, y, color: str, label: str = "", width: float = 1.4,
                 opacity: float = 1.0, dots: bool = False):
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.color, self.label, self.width, self.opacity, self.dots = color, label, width, opacity, dots


def svg_chart(series: list, size: tuple, log: bool = False, title: str = "", x_marks=(),
              x_min: float | None = None, x_max: float | None = None, x_label: str = "",
              ink: str = "currentColor") -> str:
    """A line chart as an SVG string. Text and axes are drawn in ``ink``: by default the
    page's text colour, so a chart inlined in a dark theme stays readable."""
    width, height = size
    left, right, top, bottom = MARGIN
    legend_width = sum(6 * len(s.label) + 16 for s in series if s.label)
    legend_y = 12  # beside the title, or on a row of its own when they would overlap
    if left + 6.5 * len(title) + 12 > width - right - legend_width:
        legend_y, top = 26, top + 12
    plot_w, plot_h = width - left - right, height - top - bottom
    ys = [s.y[np.isfinite(s.y) & ((s.y > 0) if log else True)] for s in series]
    ys = np.concatenate(ys) if ys else np.array([])
    xs = np.concatenate([s.x for s in series]) if series else np.array([])
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' style='font:10px sans-serif;max-width:100%'>",
             f"<text x='{left}' y='12' fill='{ink}' font-weight='bold'>{html.escape(title)}</text>"]
    if not len(ys) or not len(xs):
        parts.append(f"<text x='{left + plot_w / 2}' y='{top + plot_h / 2}' fill='{ink}' "
                     "opacity='0.6' text-anchor='middle'>waiting for data</text></svg>")
        return "".join(parts)
    transform = np.log10 if log else (lambda v: v)
    y_lo, y_hi = float(transform(ys.min())), float(transform(ys.max()))
    if y_hi - y_lo < 1e-12:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    pad = 0.05 * (y_hi - y_lo)
    y_lo, y_hi = y_lo - pad, y_hi + pad
    x_lo = float(xs.min()) if x_min is None else min(x_min, float(xs.min()))
    x_hi = float(xs.max()) if x_max is None else max(x_max, float(xs.max()))
    if x_hi - x_lo < 1e-12:
        x_hi = x_lo + 1.0

    def px(v):
        return left + (np.asarray(v, dtype=float) - x_lo) / (x_hi - x_lo) * plot_w

    def py(v):
        return top + (y_hi - transform(np.asarray(v, dtype=float))) / (y_hi - y_lo) * plot_h

    parts.append(f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='none' "
                 f"stroke='{ink}' stroke-opacity='0.35'/>")
    for value, label in _ticks(y_lo, y_hi, log):
        y = top + (y_hi - value) / (y_hi - y_lo) * plot_h
        parts.append(f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' "
                     f"stroke='{ink}' stroke-opacity='0.12'/>"
                     f"<text x='{left - 4}' y='{y + 3:.1f}' fill='{ink}' "
                     f"text-anchor='end'>{label}</text>")
    for value, label in _ticks(x_lo, x_hi, False):
        x = left + (value - x_lo) / (x_hi - x_lo) * plot_w
        parts.append(f"<text x='{x:.1f}' y='{top + plot_h + 12}' fill='{ink}' "
                     f"text-anchor='middle'>{label}</text>")
    if x_label:
        parts.append(f"<text x='{left + plot_w}' y='{height - 1}' fill='{ink}' "
                     f"opacity='0.7' text-anchor='end'>{html.escape(x_label)}</text>")
    for mark in x_marks:
        x = float(px(mark))
        parts.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top}' y2='{top + plot_h}' "
                     f"stroke='{ink}' stroke-opacity='0.45' stroke-dasharray='2,3'/>")
    legend_x = left + plot_w
    for s in reversed(series):
        keep = np.isfinite(s.y) & ((s.y > 0) if log else True)
        x, y = px(s.x[keep]), py(s.y[keep])
        if len(x) > 1:
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y))
            parts.append(f"<polyline points='{points}' fill='none' stroke='{s.color}' "
                         f"stroke-width='{s.width}' stroke-opacity='{s.opacity}'/>")
        if s.dots or len(x) == 1:
            parts += [f"<circle cx='{a:.1f}' cy='{b:.1f}' r='2.2' fill='{s.color}'/>"
                      for a, b in zip(x[-200:], y[-200:])]
        if s.label:
            text_width = 6 * len(s.label) + 16
            legend_x -= text_width
            parts.append(f"<line x1='{legend_x}' x2='{legend_x + 10}' y1='{legend_y - 3}' "
                         f"y2='{legend_y - 3}' stroke='{s.color}' stroke-width='2'/>"
                         f"<text x='{legend_x + 13}' y='{legend_y}' "
                         f"fill='{ink}'>{html.escape(s.label)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _ticks(lo: float, hi: float, log: bool, count: int = 4) -> list[tuple[float, str]]:
    """A few round tick positions in [lo, hi]; on a log axis lo and hi are log10 values."""
    if log and hi - lo >= 1:
        step = max(1, math.ceil((hi - lo) / count))
        return [(float(e), f"1e{e}" if abs(e) > 2 else f"{10.0 ** e:g}")
                for e in range(math.ceil(lo), math.floor(hi) + 1, step)]
    if log:
        return [(math.log10(v), f"{v:.3g}") for v in _round_steps(10 ** lo, 10 ** hi, count)]
    return [(v, f"{v:.3g}") for v in _round_steps(lo, hi, count)]


def _round_steps(lo: float, hi: float, count: int) -> list[float]:
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1) if first + i * step <= hi]


def _empty_svg(size: tuple, text: str) -> str:
    return svg_chart([], size, title=text)


# -- the final image -----------------------------------------------------------------------
def summary_svg(p: Progress, batch_loss: Trace, gradients: Trace, forecast: Optional[dict],
                forecast_epoch: int, log: bool, title: str) -> str:
    """The frozen panel as one SVG image: the outcome on top, then the loss chart and the
    gradient norms beside the last forecast preview; dark ink on white, for any page."""
    warning = textwrap.wrap(p.warning or "", 130)
    ink, header = "#333", 36 + 14 * len(warning)
    charts = [(0, loss_svg(p.history, batch_loss, p.best_epoch, log, ink)),
              (LOSS_SIZE[1], gradient_svg(gradients, p.history[-1]["epoch"] if p.history else 0, ink))]
    width = LOSS_SIZE[0]
    if forecast:
        charts.append((0, forecast_svg(forecast, forecast_epoch, ink).replace("<svg ", f"<svg x='{width + 10}' ", 1)))
        width += 10 + FORECAST_SIZE[0]
    height = header + max(LOSS_SIZE[1] + GRADIENT_SIZE[1], FORECAST_SIZE[1] if forecast else 0) + 6
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' style='font:11px sans-serif'>",
             f"<rect width='{width}' height='{height}' fill='white'/>",
             f"<text x='8' y='14' fill='{ink}' font-weight='bold'>{html.escape(title)}</text>",
             f"<text x='8' y='28' fill='{ink}'>{html.escape(stop_line(p))}</text>"]
    for row, line in enumerate(warning):
        parts.append(f"<text x='8' y='{44 + 14 * row}' fill='#b71c1c'>"
                     f"{'&#9888; ' if row == 0 else ''}{html.escape(line)}</text>")
    for y, chart in charts:
        parts.append(chart.replace("<svg ", f"<svg y='{header + y}' ", 1))
    parts.append("</svg>")
    return "".join(parts)
