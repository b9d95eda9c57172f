"""The live panel's charts as small SVG drawings: drawn in milliseconds, shown by any front
end (an ``HTML`` widget's value, or an ``image/svg+xml`` output), no matplotlib figure to
close. Long traces are kept bounded (:class:`Trace`) and drawn as their min/max envelope."""
from __future__ import annotations

import html
import math
import textwrap
from typing import Optional

import numpy as np

from ..train.events import Progress
from .text import stop_line

TRAIN, VALIDATION, GRADIENT = "#1f77b4", "#ff7f0e", "#7f7f7f"
HISTORY, TRUTH, FORECAST = "#8c8c8c", "#2ca02c", "#ff7f0e"


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


# -- SVG charts ----------------------------------------------------------------------------
LOSS_SIZE, GRADIENT_SIZE, FORECAST_SIZE = (400, 220), (400, 110), (400, 330)
MARGIN = (58, 10, 20, 30)  # left, right, top, bottom: room for the tick labels and axis labels
FONT = 11  # px, for every text of a chart
CHAR = 6.2  # the mean width of a character at FONT px, to lay the legend out


def loss_svg(history: list, batch_loss: Trace, best_epoch: int, log: bool,
             ink: str = "currentColor") -> str:
    """Batch losses (thin), epoch train and validation losses (dots), the best epoch (the
    weights kept)."""
    epochs = [row["epoch"] for row in history]
    series = [
        Series(*envelope(batch_loss.x, batch_loss.y), TRAIN, "per batch", width=0.8, opacity=0.45),
        Series(epochs, [row["train_loss"] for row in history], TRAIN, "train", dots=True),
        Series(epochs, [row["val_loss"] for row in history], VALIDATION, "validation", dots=True),
    ]
    marks = [best_epoch] if best_epoch else []
    return svg_chart(series, LOSS_SIZE, log=log, title="loss by epoch", x_marks=marks,
                     mark_label=f"best epoch {best_epoch}", x_min=0.0, x_label="epoch",
                     y_label="loss", whole_x=True, ink=ink)


def gradient_svg(gradients: Trace, epochs: float = 0.0, ink: str = "currentColor") -> str:
    """Gradient norms by batch, on the same epoch axis as the loss chart (to ``epochs``)."""
    return svg_chart([Series(*envelope(gradients.x, gradients.y), GRADIENT, "gradient norm", width=0.8)],
                     GRADIENT_SIZE, log=True, title="gradient norm before clipping", x_min=0.0,
                     x_max=epochs, x_label="epoch", y_label="norm", whole_x=True, ink=ink)


def forecast_title(forecast: dict, epoch: int, fit_epoch: int = 0, kept: str = "") -> str:
    """"T1: speed, free-running forecast, epoch 5 (fit at epoch 9)": the series (a panel's),
    the target, the epoch of the weights drawn and the fit's epoch when it has moved on; at
    the end ``kept`` says which weights were kept ("kept weights of epoch 5")."""
    name = str(forecast["name"])
    if forecast.get("series") is not None:
        name = f"{forecast['series']}: {name}"
    if kept:
        return f"{name}, free-running forecast, {kept}"
    moved = f" (fit at epoch {fit_epoch})" if fit_epoch > epoch else ""
    return f"{name}, free-running forecast, epoch {epoch}{moved}"


def forecast_svg(forecast: dict, title: str, ink: str = "currentColor") -> str:
    """The window before the validation part, the truth after it, the free-running forecast."""
    context, truth, predicted = (np.asarray(forecast[k], dtype=float)
                                 for k in ("context", "truth", "forecast"))
    before = np.arange(-len(context), 0)
    after = np.arange(len(truth))
    series = [Series(before, context, HISTORY, "history"), Series(after, truth, TRUTH, "truth"),
              Series(np.arange(len(predicted)), predicted, FORECAST, "forecast", width=1.8)]
    return svg_chart(series, FORECAST_SIZE, title=title, x_marks=[0],
                     x_label="steps from the start of validation", y_label=str(forecast["name"]),
                     whole_x=True, ticks=5, ink=ink)


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
              mark_label: str = "", x_min: float | None = None, x_max: float | None = None,
              x_label: str = "", y_label: str = "", whole_x: bool = False, ticks: int = 4,
              ink: str = "currentColor") -> str:
    """A line chart as an SVG string. Text and axes are drawn in ``ink``: by default the
    page's text colour, so a chart inlined in a dark theme stays readable.

    ``x_marks`` are dashed vertical lines, named ``mark_label`` in the legend when one is
    given; ``whole_x`` puts the x ticks on whole numbers (epochs, steps) and ends the axis
    on one; about ``ticks`` ticks are drawn on each linear axis."""
    width, height = size
    left, right, top, bottom = MARGIN
    legend = [(s.label, s.color, s.opacity, "") for s in series if s.label]
    if x_marks and mark_label:
        legend.append((mark_label, ink, 0.6, "2,3"))
    legend_width = sum(CHAR * len(label) + 18 for label, *_ in legend)
    legend_y = 13  # beside the title, or on a row of its own when they would overlap
    if left + (CHAR + 0.6) * len(title) + 12 > width - right - legend_width:
        legend_y, top = 28, top + 14
    plot_w, plot_h = width - left - right, height - top - bottom
    ys = [s.y[np.isfinite(s.y) & ((s.y > 0) if log else True)] for s in series]
    ys = np.concatenate(ys) if ys else np.array([])
    xs = np.concatenate([s.x for s in series]) if series else np.array([])
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' style='font:{FONT}px sans-serif;max-width:100%'>",
             f"<text x='{left}' y='13' fill='{ink}' font-weight='bold'>{html.escape(title)}</text>"]
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
    if whole_x:  # an epoch under way is drawn on the axis of the whole epoch
        x_lo, x_hi = math.floor(x_lo + 1e-9), math.ceil(x_hi - 1e-9)
    if x_hi - x_lo < 1e-12:
        x_hi = x_lo + 1.0

    def px(v):
        return left + (np.asarray(v, dtype=float) - x_lo) / (x_hi - x_lo) * plot_w

    def py(v):
        return top + (y_hi - transform(np.asarray(v, dtype=float))) / (y_hi - y_lo) * plot_h

    parts.append(f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='none' "
                 f"stroke='{ink}' stroke-opacity='0.35'/>")
    y_ticks = _ticks(y_lo, y_hi, log, ticks)
    for value, label in y_ticks:
        y = top + (y_hi - value) / (y_hi - y_lo) * plot_h
        parts.append(f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' "
                     f"stroke='{ink}' stroke-opacity='0.12'/>"
                     f"<text x='{left - 4}' y='{y + 4:.1f}' fill='{ink}' "
                     f"text-anchor='end'>{label}</text>")
    for value, label in _ticks(x_lo, x_hi, False, ticks, whole=whole_x):
        x = left + (value - x_lo) / (x_hi - x_lo) * plot_w
        parts.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top + plot_h}' y2='{top + plot_h + 3}' "
                     f"stroke='{ink}' stroke-opacity='0.5'/>"
                     f"<text x='{x:.1f}' y='{top + plot_h + 14}' fill='{ink}' "
                     f"text-anchor='middle'>{label}</text>")
    if x_label:
        parts.append(f"<text x='{left + plot_w / 2}' y='{height - 3}' fill='{ink}' "
                     f"opacity='0.75' text-anchor='middle'>{html.escape(x_label)}</text>")
    if y_label:  # beside the widest tick label, not at the edge of the chart
        x, middle = max(13.0, left - 12 - CHAR * max(len(label) for _, label in y_ticks)), top + plot_h / 2
        parts.append(f"<text x='{x:.1f}' y='{middle:.1f}' transform='rotate(-90 {x:.1f} {middle:.1f})' "
                     f"fill='{ink}' opacity='0.75' text-anchor='middle'>{html.escape(y_label)}</text>")
    for mark in x_marks:
        x = float(px(mark))
        parts.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top}' y2='{top + plot_h}' "
                     f"stroke='{ink}' stroke-opacity='0.6' stroke-dasharray='2,3'/>")
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
    parts += _legend(legend, left + plot_w, legend_y, ink)
    parts.append("</svg>")
    return "".join(parts)


def _legend(items: list, right: float, y: float, ink: str) -> list[str]:
    """(label, colour, opacity, dashes) entries on one row, in order, ending at ``right``."""
    parts, x = [], right - sum(CHAR * len(label) + 18 for label, *_ in items)
    for label, color, opacity, dashes in items:
        dash = f" stroke-dasharray='{dashes}'" if dashes else ""
        parts.append(f"<line x1='{x:.1f}' x2='{x + 12:.1f}' y1='{y - 4}' y2='{y - 4}' stroke='{color}' "
                     f"stroke-width='{1.5 if dashes else 2.5}' stroke-opacity='{opacity}'{dash}/>"
                     f"<text x='{x + 15:.1f}' y='{y}' fill='{ink}'>{html.escape(label)}</text>")
        x += CHAR * len(label) + 18
    return parts


def _ticks(lo: float, hi: float, log: bool, count: int = 4, whole: bool = False) -> list[tuple[float, str]]:
    """About ``count`` round tick positions in [lo, hi]; on a log axis lo and hi are log10
    values; ``whole``: on whole numbers only."""
    if log and hi - lo >= 1:
        step = max(1, math.ceil((hi - lo) / count))
        return [(float(e), f"1e{e}" if abs(e) > 2 else f"{10.0 ** e:g}")
                for e in range(math.ceil(lo), math.floor(hi) + 1, step)]
    if log:
        return [(math.log10(v), f"{v:.3g}") for v in _round_steps(10 ** lo, 10 ** hi, count)]
    return [(v, f"{v:.0f}" if whole else f"{v:.3g}") for v in _round_steps(lo, hi, count, whole)]


def _round_steps(lo: float, hi: float, count: int, whole: bool = False) -> list[float]:
    """Multiples of a round step (1, 2, 5 or 2.5 times a power of ten) in [lo, hi], their
    number as near ``count`` as a step allows; 2.5 only where no other step comes as near."""
    magnitude = 10.0 ** math.floor(math.log10((hi - lo) / count))
    steps = [(m, m * magnitude * scale) for scale in (0.1, 1, 10) for m in (1, 2, 2.5, 5)]
    if whole:
        steps = [(m, step) for m, step in steps if step >= 1 and float(step).is_integer()] or [(1, 1.0)]

    def ticks(step):
        first = math.ceil(lo / step - 1e-9) * step
        return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]

    _, step = min(steps, key=lambda ms: (abs(len(ticks(ms[1])) - count), ms[0] == 2.5, ms[1]))
    return [round(v, 12) for v in ticks(step)]


def empty_svg(size: tuple, text: str) -> str:
    return svg_chart([], size, title=text)


# -- the final image -----------------------------------------------------------------------
def summary_svg(p: Progress, batch_loss: Trace, gradients: Trace, forecast: Optional[dict],
                forecast_title: str, log: bool, title: str) -> str:
    """The frozen panel as one SVG image: the outcome on top, then the loss chart and the
    gradient norms beside the last forecast preview; dark ink on white, for any page."""
    warning = textwrap.wrap(p.warning or "", 130)
    ink, header = "#333", 36 + 14 * len(warning)
    charts = [(0, loss_svg(p.history, batch_loss, p.best_epoch, log, ink)),
              (LOSS_SIZE[1], gradient_svg(gradients, p.history[-1]["epoch"] if p.history else 0, ink))]
    width = LOSS_SIZE[0]
    if forecast:
        charts.append((0, forecast_svg(forecast, forecast_title, ink).replace("<svg ", f"<svg x='{width + 10}' ", 1)))
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
