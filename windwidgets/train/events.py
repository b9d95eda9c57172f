"""The closed list of things a fit announces, and the state that views read."""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..errors import WindwidgetsError, listing


class Event(enum.Enum):
    FIT_START = "fit_start"
    EPOCH_START = "epoch_start"
    BATCH_END = "batch_end"
    EPOCH_END = "epoch_end"
    WARNING = "warning"  # a guard saw trouble (exploding gradients, a NaN loss): progress.warning says what
    FIT_END = "fit_end"  # always the last event, however the fit ended
    INTERRUPTED = "interrupted"  # Ctrl-C / kernel interrupt; FIT_END follows


@dataclass
class Progress:
    """What a fit has done so far; handed to every subscriber with each event."""

    epochs: int  # epochs asked for
    batches: int  # batches per epoch
    device: str
    epoch: int = 0  # current epoch, from 1
    batch: int = 0  # batches done in the current epoch
    samples: int = 0  # windows seen since the fit started
    batch_loss: float = float("nan")
    train_loss: float = float("nan")  # mean over the current epoch so far
    val_loss: float = float("nan")  # of the last finished epoch
    grad_norm: float = float("nan")  # before clipping, of the last batch
    metrics: dict = field(default_factory=dict)  # extra validation scores of the last epoch, e.g. val_accuracy
    best_epoch: int = 0
    best_val_loss: float = float("inf")  # the validation loss of the best epoch (see Trainer.score)
    member_epochs: list = field(default_factory=list)  # an ensemble's: the epoch each member keeps
    kept_score: float = float("nan")  # an ensemble's: the rolled validation score of the members kept, together
    refit: int = 0  # epochs learned again on every row (``refit=True``), once the fit had ended
    seconds: float = 0.0  # since the fit started
    stop_reason: Optional[str] = None  # "stopped", "early_stopping", "nan", "interrupted", "error"
    warning: Optional[str] = None  # what went wrong and what to try, for views to show
    history: list = field(default_factory=list)  # one dict per finished epoch

    @property
    def improved_epoch(self) -> int:
        """The last epoch that improved the weights kept: the best epoch, or for an ensemble
        the latest epoch any member keeps; ``patience`` counts from it."""
        return max(self.member_epochs) if self.member_epochs else self.best_epoch

    @property
    def batches_done(self) -> int:
        """Batches finished since the fit started."""
        return (self.epoch - 1) * self.batches + self.batch

    @property
    def seconds_left(self) -> float:
        """The rest of the fit at the pace so far; NaN before the first batch."""
        done = self.batches_done
        return (self.epochs * self.batches - done) * self.seconds / done if done > 0 else math.nan


Subscriber = Callable[[Event, Progress], None]


class Events:
    """A list of subscribers called in order with each event."""

    def __init__(self):
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber(event, progress)`` on every event; returns an unsubscribe function."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def emit(self, event, progress: Progress) -> None:
        if not isinstance(event, Event):
            try:
                event = Event(event)
            except ValueError:
                raise WindwidgetsError(
                    f"unknown event {event!r}; events are {listing(e.value for e in Event)}"
                ) from None
        for subscriber in list(self._subscribers):
            subscriber(event, progress)


def best_by(history) -> str:
    """The column of a history (a DataFrame or a row) that picked the best epoch."""
    return "val_forecast" if "val_forecast" in history else "val_loss"
