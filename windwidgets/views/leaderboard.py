"""The views of a sweep: a leaderboard widget in a notebook, a line per report in a terminal.

Both are told by the sweep (from a Ray Tune callback, which runs in the kernel's process)
each time a trial reports an epoch or ends, and once when the sweep ends.
"""
from __future__ import annotations

import html
import math
import sys
import threading
import time
from typing import Callable, Optional

from . import in_notebook


def make_sweep_view(live, stop: Optional[Callable] = None, names: tuple = (), metric: str = "val_loss"):
    """The sweep's view for ``live`` ("auto", "widgets", "text", or False for none);
    ``metric`` ranks the trials."""
    if live is False or live is None:
        return None
    if live == "text":
        return SweepText()
    if live == "widgets" or in_notebook():
        board = Leaderboard(stop=stop, names=names, metric=metric)
        board.display()
        return board
    return SweepText()


def _settings(record: dict) -> str:
    return " ".join(f"{k}={_short(v)}" for k, v in record["settings"].items())


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


class SweepText:
    """One line per trial report, one when a trial ends early, and a closing line."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self._ended: dict = {}  # trial -> whether its line gave the reason

    def update(self, sweep, record: dict) -> None:
        if record["status"] == "running" and record["history"]:
            row = record["history"][-1]
            forecast = f"  val_forecast {row['val_forecast']:.4g}" if "val_forecast" in row else ""
            self._line(f"trial {record['trial']:>2}  {_settings(record)}  epoch {row['epoch']}  "
                       f"train {row['train_loss']:.4g}  val {row['val_loss']:.4g}{forecast}  {record['seconds']:.1f}s")
        elif record["status"] != "running" and record["trial"] not in self._ended:
            self._ended[record["trial"]] = bool(record.get("message"))
            if record["status"] != "finished":
                why = f": {record['message']}" if record.get("message") else ""
                self._line(f"trial {record['trial']:>2}  {record['status']} after {len(record['history'])} epochs{why}")

    def finish(self, sweep) -> None:
        for record in sweep.records.values():  # a failed trial's error is known only once the sweep ends
            if record.get("message") and not self._ended.get(record["trial"], False):
                self._ended[record["trial"]] = True
                self._line(f"trial {record['trial']:>2}  {record['status']}: {record['message']}")
        key = sweep.leader()
        text = f"sweep: {len(sweep.records)} trials in {sweep.seconds:.1f}s"
        if key is not None:
            best = sweep.records[key]
            text += f"; best trial {best['trial']} ({_settings(best)}), {sweep.metric} {best['best'][sweep.metric]:.4g}"
        if sweep.stopped:
            text += "; stopped on request"
        self._line(text)

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


class Leaderboard:
    """A live table of the trials, sortable by any column, with a Stop button.

    Attributes
    ----------
    panel : the ``VBox`` shown; ``sort`` (a Dropdown of the columns) and ``descending``
        (a Checkbox) order the rows; ``table`` (an HTML widget) holds them; ``stop_button``
        ends the sweep and keeps what finished; ``status`` says how far it is.
    """

    def __init__(self, stop: Optional[Callable] = None, names: tuple = (), min_interval: float = 0.25,
                 metric: str = "val_loss"):
        import ipywidgets as widgets

        scores = ["val_forecast"] if metric == "val_forecast" else []
        self.columns = ["trial", *names, "epochs", *scores, "val_loss", "train_loss", "seconds", "status"]
        self.min_interval = min_interval
        self.rows: list = []
        self._stop = stop
        self._lock = threading.Lock()
        self._last_draw = -math.inf
        self.title = widgets.HTML("<b>sweep</b>")
        self.sort = widgets.Dropdown(options=self.columns, value=metric, description="sort by")
        self.descending = widgets.Checkbox(value=False, description="descending", indent=False)
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop")
        self.status = widgets.HTML("starting Ray")
        self.table = widgets.HTML("")
        self.error = widgets.Output()
        self.sort.observe(lambda change: self._draw(), names="value")
        self.descending.observe(lambda change: self._draw(), names="value")
        self.stop_button.on_click(self._on_stop)
        controls = widgets.HBox([self.sort, self.descending, self.stop_button])
        self.panel = widgets.VBox([self.title, controls, self.status, self.table, self.error])

    def display(self) -> None:
        from IPython.display import display

        display(self.panel)

    def update(self, sweep, record: dict) -> None:
        with self._lock:
            self.rows = sweep.live_table().to_dict("records")
            running = sum(r["status"] == "running" for r in self.rows)
            self.status.value = f"{len(self.rows)} trials, {running} running"
            now = time.monotonic()
            if now - self._last_draw >= self.min_interval or record["status"] != "running":
                self._last_draw = now
                self._draw()

    def finish(self, sweep) -> None:
        with self._lock:
            self.rows = sweep.live_table().to_dict("records")
            self.status.value = html.escape(_summary(sweep))
            self.stop_button.disabled = True
            self._draw()

    def _on_stop(self, button) -> None:
        try:
            button.disabled = True
            self.status.value = "stopping: running trials end, what finished is kept"
            if self._stop is not None:
                self._stop()
        except Exception:  # shown in the panel, never swallowed
            import traceback

            with self.error:
                print(traceback.format_exc())

    def sorted_rows(self) -> list:
        key = self.sort.value

        def order(row):
            value = row.get(key)
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            return (missing, value if not missing else 0)

        rows = sorted(self.rows, key=order, reverse=self.descending.value)
        if self.descending.value:  # keep the trials without a value at the bottom either way
            rows = [r for r in rows if not order(r)[0]] + [r for r in rows if order(r)[0]]
        return rows

    def _draw(self) -> None:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(_td(row, c) for c in self.columns) + "</tr>" for row in self.sorted_rows())
        self.table.value = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(row: dict, column: str) -> str:
    """A cell; a trial's status carries its message (why it did not finish) as a tooltip."""
    why = row.get("message") if column == "status" else None
    title = f" title='{html.escape(why, quote=True)}'" if why else ""
    return f"<td{title}>{html.escape(_cell(row.get(column)))}</td>"


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _summary(sweep) -> str:
    lines = []
    view = SweepText(stream=_Lines(lines))
    view.finish(sweep)
    return lines[0] if lines else ""


class _Lines:
    def __init__(self, lines: list):
        self.lines = lines

    def write(self, text: str) -> None:
        if text.strip():
            self.lines.append(text.strip())

    def flush(self) -> None:
        pass
