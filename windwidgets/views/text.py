"""The terminal view: one line per epoch, and a carriage-return bar on a tty."""
from __future__ import annotations

import math
import sys
import time

from ..train.events import Event, Progress

STOPS = {
    "stopped": "stopped at epoch {epoch} on request",
    "early_stopping": "early stopping at epoch {epoch}: no better {score} for {wait} epochs",
    "flattened": "stopped at epoch {epoch}: the validation loss had flattened (min_delta)",
    "nan": "stopped: the loss turned NaN",
    "interrupted": "interrupted at epoch {epoch}",
    "error": "failed with an error at epoch {epoch}",
}


def stop_line(p: Progress) -> str:
    """One sentence on how the fit ended, shared by every view."""
    if p.stop_reason is None:
        text = f"finished {p.epoch} epochs"
    else:
        score = "rolled validation forecast" if "val_forecast" in p.metrics else "val loss"
        text = STOPS[p.stop_reason].format(epoch=p.epoch, wait=p.epoch - p.improved_epoch, score=score)
    if p.member_epochs:
        text += f"; each member kept its own best epoch ({', '.join(map(str, p.member_epochs))})"
        if not math.isnan(p.kept_score):  # scored together
            text += f", val forecast {p.kept_score:.4g} together"
        if p.refit:
            text += ", then each learned again on every row for as many epochs (refit)"
    elif p.best_epoch:
        best = next((row for row in p.history if row["epoch"] == p.best_epoch), {})
        figure = f"val forecast {best['val_forecast']:.4g}, " if "val_forecast" in best else ""
        text += f"; kept the weights of epoch {p.best_epoch} ({figure}val loss {p.best_val_loss:.4g})"
        if p.refit:
            text += f", then learned again on every row for {p.refit} epochs (refit)"
    return f"{text} in {p.seconds:.1f}s on {p.device}"


def score_text(run) -> str:
    """What ``val_forecast`` scores, e.g. "val_forecast: MSE of 24-step forecasts from 200
    validation origins (scaled units)"; "" when the epochs are not scored by forecasts."""
    score = getattr(getattr(run, "trainer", None), "score", None)
    steps, origins = getattr(score, "steps", None), getattr(score, "origins", None)
    if steps is None or origins is None:
        return ""
    loss = run.config.train.loss
    error = "MAE of the median" if loss == "quantile" else loss.upper()  # see train.losses.LOSSES
    return (f"val_forecast: {error} of {steps}-step forecasts from {origins} "
            "validation origins (scaled units)")


class TextView:
    """Prints the fit's progress to ``stream`` (stdout by default); ``scored`` (what
    ``val_forecast`` scores, see :func:`score_text`) is the first line when given."""

    def __init__(self, stream=None, min_interval: float = 0.2, scored: str = ""):
        self.scored = scored
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval = min_interval
        self._last_draw = -float("inf")
        self._bar_width = 0  # characters of the bar on screen now, 0 when none

    def __call__(self, event: Event, p: Progress) -> None:
        if event is Event.BATCH_END and self.tty:
            now = time.monotonic()
            if now - self._last_draw >= self.min_interval:
                self._last_draw = now
                done = int(20 * p.batch / max(p.batches, 1))
                self._bar(f"epoch {p.epoch}/{p.epochs} [{'#' * done:<20}] {p.batch}/{p.batches} "
                          f"loss {p.train_loss:.4g}  {p.seconds_left:.0f}s left")
        elif event is Event.EPOCH_END:
            row = p.history[-1]
            best = " *" if p.best_epoch == p.epoch else ""
            self._line(f"epoch {p.epoch:>3}/{p.epochs}  "
                       f"train {row['train_loss']:<9.4g} val {row['val_loss']:<9.4g} "
                       + "".join(f"{name} {value:<7.4g} " for name, value in p.metrics.items())
                       + f"{row['seconds']:5.1f}s{best}")
        elif event is Event.WARNING:
            self._line(f"warning: {p.warning}")
        elif event is Event.FIT_START and self.scored:
            self._line(self.scored)
        elif event is Event.FIT_END:
            if p.stop_reason == "error":
                self._line(f"error: {p.warning}")
            self._line(stop_line(p))

    def _bar(self, text: str) -> None:
        """Redraw the bar in place: back to the line's start, blanks over a longer old bar."""
        self._write("\r" + text.ljust(self._bar_width))
        self._bar_width = len(text)

    def _line(self, text: str) -> None:
        """A finished line; on a tty it overwrites the bar first."""
        if self.tty and self._bar_width:
            text, self._bar_width = "\r" + text.ljust(self._bar_width), 0
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
