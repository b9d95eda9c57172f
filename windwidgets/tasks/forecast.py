"""task="forecast": a table (one series or a panel of them) or grids for the convlstm."""
from __future__ import annotations

import numpy as np
import torch

from .. import zoo
from ..config import RunConfig
from ..data import Layout, Scaler, prepare
from ..data.grids import prepare_grids
from ..data.series import SeriesState, season_of
from ..errors import ConfigError, warn
from ..forecast.bounds import check_bounds
from ..forecast.metrics import naive_scale
from ..forecast.backtest import forecast_error
from ..forecast.rollout import carries
from ..panel import PanelRun
from ..run import Run, frame_from_state
from ..train import Events, Trainer
from ..train.trainer import LOSSES
from ..zoo.ensemble import Mean
from ..zoo.residual import wrapped
from .grid import GridRun


def prepare_forecaster(data, config: RunConfig, device: torch.device) -> Run:
    """An unfitted Run: the data read (grids for the convlstm, a table for every other
    model), the model built, the mode settled, the trainer ready."""
    prepared = prepare_grids(data, config.data, device) if config.model.model == "convlstm" else (
        prepare(data, config.data, device))
    check_bounds(config.data.bounds, prepared.layout.targets)
    model = build_model(config, prepared.layout).to(device)
    why = (" with bidirectional=True (a backward pass would read the future)" if config.model.bidirectional else
           f" with ensemble={config.model.ensemble} (each member would carry its own state)"
           if config.model.ensemble > 1 else "")
    config = config.settled(model.modes, why)
    if prepared.panel is not None and config.train.mode == "stateful":
        raise ConfigError(
            f"mode 'stateful' carries the state through one series from start to end; a panel "
            f"(series={config.data.series!r}) trains on its series together: use mode='sequence' or "
            "mode='window'"
        )
    trainer = forecast_trainer(model, prepared, config, device)
    if prepared.panel is not None:
        members = {key: (_series(frame, n_train, prepared.layout, config), scaler)
                   for key, (frame, n_train, scaler) in prepared.panel.items()}
        return PanelRun(config, model, device, members, prepared.layout, trainer=trainer)
    series = _series(prepared.frame, prepared.n_train, prepared.layout, config)
    return run_class(prepared.layout)(config, model, device, series, prepared.layout, prepared.scaler,
                                      trainer=trainer)


def forecast_trainer(model: torch.nn.Module, prepared, config: RunConfig, device: torch.device,
                     **options) -> Trainer:
    """The :class:`Trainer` of a forecast fit, wherever it runs (here, in a sweep's trial, on
    a data-parallel Ray worker): the best epoch, and early stopping, go by the rolled
    validation forecasts of :func:`_forecast_score` (``val_forecast`` in the history) where
    they are longer than a block. ``config`` is the settled one; ``options`` go to the Trainer.
    """
    if config.model.ensemble > 1:  # each member learns from its own windows and keeps its own epoch
        options["members"] = list(model.members)
    return Trainer(model, prepared, config.train, device, Events(), score=_forecast_score(prepared, config),
                   **options)


def _forecast_score(prepared, config: RunConfig):
    """Pick the best epoch by rolled validation forecasts of ``forecast_steps`` rows (settled
    here: a day of sub-daily data, else the horizon); None where the validation loss already
    measures them (no longer than a block) or for panels and grids."""
    d, t = config.data, config.train
    given = t.forecast_steps is not None
    if not given:
        season = d.season or (season_of(prepared.frame.index) if prepared.panel is None else 1)
        t.forecast_steps = season if season > 1 else d.horizon
    if t.forecast_steps <= d.horizon or prepared.panel is not None or prepared.layout.grid:
        return None
    layout = prepared.layout
    score = forecast_error(prepared.inputs, prepared.n_train, t.forecast_steps, d.window, d.horizon,
                           len(layout.outputs), len(layout.targets), carries(t.mode), error=LOSSES[t.loss]())
    if score is None and given:
        warn(f"`forecast_steps` ({t.forecast_steps}) is longer than the validation part "
             f"({len(prepared.inputs) - prepared.n_train} rows), so the validation loss picks the "
             "best epoch; ask for fewer steps or raise val_fraction")
    return score


def run_class(layout: Layout) -> type:
    """The Run class for a forecast's layout: grids get :class:`GridRun`."""
    return GridRun if layout.grid else Run


def _series(frame, n_train: int, layout: Layout, config: RunConfig) -> SeriesState:
    """A series as the data split it, with its MASE scale (the seasonal naive on its training part)."""
    season = config.data.season or season_of(frame.index)
    targets = frame.iloc[:n_train][list(layout.targets)].to_numpy(np.float64)
    return SeriesState(frame, n_train, naive_scale(targets, season), season=config.data.season)


def _series_from_state(state: dict, config: RunConfig) -> SeriesState:
    """A series as a file keeps it (see ``Run._data_state``); ``offset`` is None in files that
    did not record it."""
    return SeriesState(frame_from_state(state["frame"]), state["n_train"], state["mase_scale"],
                       state.get("offset"), config.data.season)


def build_model(config: RunConfig, layout: Layout) -> torch.nn.Module:
    """The model of ``config`` for the data's ``layout``; with ``ensemble=k``, k copies whose
    weights are drawn one after another from ``seed`` (see :mod:`windwidgets.zoo.ensemble`)."""
    spec = zoo.ModelSpec(input_size=len(layout.inputs), output_size=len(layout.outputs),
                         horizon=config.data.horizon, window=config.data.window,
                         extra={"grid": layout.grid} if layout.grid else {})
    if config.model.ensemble == 1:
        return wrapped(zoo.build(config.model.model, spec, config.model), spec, config)
    with torch.random.fork_rng(devices=[]):  # loading a file leaves the caller's random state alone
        torch.manual_seed(config.train.seed)
        return Mean([wrapped(zoo.build(config.model.model, spec, config.model), spec, config)
                     for _ in range(config.model.ensemble)])


def load_forecaster(payload: dict, device: torch.device) -> Run:
    config = RunConfig.from_dict(payload["config"])
    if config.train.mode == "auto":  # a file from before training modes: it learned on windows
        config.train.mode = "stateful" if config.train.stateful else "window"
    layout = Layout(**{k: tuple(v) for k, v in payload["layout"].items()})
    model = build_model(config, layout)
    model.load_state_dict(payload["state_dict"])
    model.to(device).eval()
    if "panel" in payload:  # each entry holds its series' scaler (the top-level one repeats the first's)
        members = {entry["id"]: (_series_from_state(entry, config), Scaler.from_state(entry["scaler"]))
                   for entry in payload["panel"]}
        return PanelRun(config, model, device, members, layout, history=payload["history"])
    return run_class(layout)(config, model, device, _series_from_state(payload, config), layout,
                             Scaler.from_state(payload["scaler"]), history=payload["history"])
