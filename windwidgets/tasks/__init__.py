"""The fits that are not a plain table forecast: sequence classification and grids.

``api.prepare_run`` asks :func:`route` first (a classifier has its own Run), reads the data
with :func:`prepare_data` and builds its Run with :func:`run_class`; ``api.load`` asks
:func:`load` first. Everything specific to these tasks lives in this package.
"""
from __future__ import annotations

import torch

from ..config import RunConfig
from ..data import Prepared, prepare
from ..data.grids import prepare_grids
from .classify import FORMAT as CLASSIFY_FORMAT
from .classify import ClassifyRun, load_classifier, prepare_classifier
from .grid import GridForecast, GridRun

__all__ = ["CLASSIFY_FORMAT", "ClassifyRun", "GridForecast", "GridRun", "load", "prepare_data", "route", "run_class"]


def route(data, config: RunConfig, device: torch.device):
    """An unfitted :class:`ClassifyRun` for task="classify"; None for a forecast."""
    if config.data.task == "classify":
        return prepare_classifier(data, config, device)
    return None


def prepare_data(data, config: RunConfig, device: torch.device) -> Prepared:
    """A forecast's data: grids for the convlstm, a table for every other model."""
    if config.model.model == "convlstm":
        return prepare_grids(data, config.data, device)
    return prepare(data, config.data, device)


def load(payload: dict, device: torch.device):
    """The Run of a classifier's file; None for a forecaster's."""
    if payload.get("format") == CLASSIFY_FORMAT:
        return load_classifier(payload, device)
    return None


def run_class(layout):
    """The Run class for a forecast's layout: grids get :class:`GridRun`."""
    from ..run import Run

    return GridRun if getattr(layout, "grid", ()) else Run
