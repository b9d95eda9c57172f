"""The task registry: what each ``task`` reads, the Run it makes and the file it writes.

:func:`prepare` looks a fit's task up by ``config.data.task``; ``ww.load`` by the format a
file names. Everything specific to a task lives in its module here; a new task is
one more entry.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..config import RunConfig
from ..device import resolve_device
from ..errors import ModelError
from ..run import FORMAT as FORECAST_FORMAT
from .classify import FORMAT as CLASSIFY_FORMAT
from .classify import ClassifyRun, load_classifier, prepare_classifier
from .forecast import build_model, load_forecaster, prepare_forecaster
from .grid import GridForecast, GridRun

__all__ = ["TASKS", "ClassifyRun", "GridForecast", "GridRun", "Task", "build_model", "by_format", "prepare"]


@dataclass(frozen=True)
class Task:
    prepare: Callable  # (data, config, device) -> an unfitted Run with its trainer
    load: Callable  # (payload, device) -> the Run a file holds
    format: str  # the "format" its files carry


TASKS = {
    "forecast": Task(prepare_forecaster, load_forecaster, FORECAST_FORMAT),
    "classify": Task(prepare_classifier, load_classifier, CLASSIFY_FORMAT),
}


def by_format(format: str, path) -> Task:
    """The task whose files carry ``format``; a file of another version is refused."""
    for task in TASKS.values():
        if task.format == format:
            return task
    raise ModelError(f"{str(path)!r} was written by another version of windwidgets (format {format!r}; "
                     f"this version reads {', '.join(task.format for task in TASKS.values())})")


def prepare(data, config: RunConfig):
    """Everything before the first batch, for any task: the device, the data, the model (its
    weights drawn from ``seed``), the settled config and the trainer: an unfitted Run."""
    device = resolve_device(config.train.device)
    torch.manual_seed(config.train.seed)
    return TASKS[config.data.task].prepare(data, config, device)
