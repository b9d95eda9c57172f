"""task="forecast": the data the model reads (a table of one series or many, or grids),
the model, the config settled once, the trainer, and the one constructor of its Runs."""
from __future__ import annotations

import numpy as np
import torch

from .. import zoo
from ..config import RunConfig
from ..config_rules import levels_of
from ..settle import settle
from ..data import Layout, Scaler, prepare
from ..data.series import SeriesState, season_of
from ..device import resolve_device
from ..errors import ConfigError, ModelError, warn
from ..forecast.bounds import check_against, check_bounds
from ..forecast.metrics import naive_scale
from ..forecast.backtest import forecast_error
from ..forecast.rollout import carries
from ..panel import PanelRun
from ..run import Run, frame_from_state
from ..train import Events, Trainer
from ..train.losses import LOSSES
from ..zoo.ensemble import Mean
from ..zoo.quantile import quantile_model
from ..zoo.residual import wrapped
from .grid import GridRun


def prepare_forecaster(data, config: RunConfig, device: torch.device) -> Run:
    """An unfitted Run: the data made into what the model reads, the model built, the
    config settled, the trainer ready."""
    config, prepared, model = _made(data, config, device)
    trainer = forecast_trainer(model, prepared, config, device)
    return forecast_run(config, model, device, prepared.layout, members(prepared, config), trainer=trainer)


def trained(data, config: RunConfig, state_dict: dict, history: list, progress: dict) -> Run:
    """The Run of weights trained elsewhere on ``data`` with ``config`` (a sweep's trial):
    the data and the model made as for a fit here, then the weights, the history and how
    the fit ended (``progress``: best_epoch, member_epochs, ...) given to it."""
    device = resolve_device(config.train.device)
    config, prepared, model = _made(data, config, device)
    return _finished(config, model, device, state_dict, prepared.layout, members(prepared, config), history,
                     progress)


def _made(data, config: RunConfig, device: torch.device) -> tuple:
    """(settled config, prepared data, model on ``device``) for ``data`` and ``config``."""
    reads = zoo.entry(config.model.model).reads[0]
    prepared = prepare(data, config.data, device, reads)
    targets = prepared.layout.targets
    check_bounds(config.data.bounds, targets)
    check_against(config.data.bounds, targets, np.concatenate(
        [part.frame[list(targets)].to_numpy()[: part.n_train] for part in prepared.parts.values()]))
    model = build_model(config, prepared.layout).to(device)
    return settled(config, model, prepared), prepared, model


def settled(config: RunConfig, model: torch.nn.Module, prepared) -> RunConfig:
    """The config the Run keeps, from the settings, the model's ways of learning and the data
    (see :func:`windwidgets.settle.settle`)."""
    m, t = config.model, config.train
    why = (" with bidirectional=True (a backward pass would read the future)" if m.bidirectional else
           f" with ensemble={m.ensemble} (each member would carry its own state)" if m.ensemble > 1 else "")
    shortest = min(n for _, _, n in prepared.segments)
    config = settle(config, model.modes, why, season=prepared.season, room=shortest)
    if len(prepared.parts) > 1 and config.train.mode == "stateful":
        raise ConfigError(
            f"mode 'stateful' carries the state through one series from start to end; a panel of "
            f"{len(prepared.parts)} series (series={config.data.series!r}) trains on its series together: use "
            "mode='sequence' or mode='window'"
        )
    clamp = next((c for c in (getattr(module, "clamps", None) for module in model.modules()) if c), None)
    if clamp and config.data.scaler is None:
        raise ConfigError(f"model={m.model!r} clamps its inputs at {clamp:g} scaled units (training deviations); with "
                          f"scaler=None they stay in their own units and every value beyond {clamp:g} would read as "
                          f"{clamp:g}: leave `scaler` at 'standard', or pass 'robust' or 'minmax'")
    validation = max(rows - n for _, rows, n in prepared.segments)
    if t.forecast_steps is not None and t.forecast_steps > config.data.horizon and t.forecast_steps > validation:
        warn(f"`forecast_steps` ({t.forecast_steps}) is longer than the validation part ({validation} rows), so "
             "the validation loss picks the best epoch; ask for fewer steps or raise val_fraction")
    return config


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
    """The error of rolled validation forecasts of ``forecast_steps`` rows from origins in every
    series; None where the validation loss already measures them (no longer than a block)
    or no series' validation part is that long."""
    d, t = config.data, config.train
    if t.forecast_steps <= d.horizon:
        return None
    layout = prepared.layout
    return forecast_error(prepared.inputs, prepared.segments, t.forecast_steps, d.window, d.horizon,
                          len(layout.outputs), len(layout.targets), carries(t.mode), error=LOSSES[t.loss]())


def members(prepared, config: RunConfig) -> dict:
    """Each series as its Run forecasts on it, with its scaler: id -> (SeriesState, Scaler)."""
    return {key: (_series(part.frame, part.n_train, prepared.layout, config), part.scaler)
            for key, part in prepared.parts.items()}


def forecast_run(config: RunConfig, model: torch.nn.Module, device: torch.device, layout: Layout, series: dict,
                 history: list | None = None, trainer=None) -> Run:
    """The Run of a forecaster however it came to be (prepared for a fit, read from a file, a
    sweep's trial): a :class:`PanelRun` for ``series=``, a :class:`GridRun` for grids, else a
    :class:`Run`. ``series`` maps each id to its (SeriesState, Scaler)."""
    if config.data.series is not None:
        return PanelRun(config, model, device, series, layout, history=history, trainer=trainer)
    (state, scaler), = series.values()
    return (GridRun if layout.grid else Run)(config, model, device, state, layout, scaler, history=history,
                                             trainer=trainer)


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
                         extra={"grid": layout.grid} if layout.grid else {},
                         reads="grids" if layout.grid else "table")
    if config.model.ensemble == 1:
        return _one_model(config, spec)
    with torch.random.fork_rng(devices=[]):  # loading a file leaves the caller's random state alone
        torch.manual_seed(config.train.seed)
        return Mean([_one_model(config, spec) for _ in range(config.model.ensemble)])


def _one_model(config: RunConfig, spec) -> torch.nn.Module:
    """One model of ``config`` inside the wrappers its settings ask for; with
    ``loss="quantile"`` one output per target and level (see :mod:`windwidgets.zoo.quantile`)."""
    levels = levels_of(config.train)
    if levels is None:
        return wrapped(zoo.build(config.model.model, spec, config.model), spec, config)
    name = config.model.model
    return quantile_model(name, lambda wide: zoo.build(name, wide, config.model), spec, levels,
                          lambda heads: wrapped(heads, spec, config))


def restored(config: RunConfig, layout: Layout, series: dict, state_dict: dict, device: torch.device,
             history: list, progress: dict | None = None) -> Run:
    """A Run fitted elsewhere, from its parts (a file's); ``progress`` fills in how its fit
    ended where the history cannot tell."""
    return _finished(config, build_model(config, layout).to(device), device, state_dict, layout, series, history,
                     progress)


def _finished(config: RunConfig, model: torch.nn.Module, device: torch.device, state_dict: dict, layout: Layout,
              series: dict, history: list, progress: dict | None) -> Run:
    """``model`` (on ``device``) given the weights a fit ended with, as its Run: the one
    constructor of a Run read from a file and of a sweep's trial."""
    model.load_state_dict(state_dict)
    model.eval()
    run = forecast_run(config, model, device, layout, series, history=history)
    for name, value in (progress or {}).items():
        setattr(run.progress, name, value)
    return run


def load_forecaster(payload: dict, device: torch.device) -> Run:
    """The Run a file holds, every part checked as ``ww.train`` checks what it is given."""
    config = RunConfig.from_file(payload["config"])
    layout = Layout(**{k: tuple(v) for k, v in payload["layout"].items()})
    if config.data.series is None:
        entries = [dict(payload, id=None)]
    else:  # each entry holds its series' scaler (the top-level one repeats the first's)
        entries = payload.get("panel") or []
        if not entries:
            raise ModelError(f"it was trained on a panel (series={config.data.series!r}) but its 'panel' part "
                             "holds no series")
    series = {}
    for entry in entries:
        where = "" if entry["id"] is None else f"series {entry['id']!r}: "
        state, scaler = _series_from_state(entry, config), Scaler.from_state(entry["scaler"])
        _check_part(where, state, scaler, layout, config)
        series[entry["id"]] = (state, scaler)
    if len(series) != len(entries):
        raise ModelError(f"its 'panel' part names a series more than once ({len(entries)} entries, "
                         f"{len(series)} ids)")
    _check_history(payload["history"])
    return restored(config, layout, series, payload["state_dict"], device, payload["history"])


def _check_part(where: str, state: SeriesState, scaler: Scaler, layout: Layout, config: RunConfig) -> None:
    """A series as a file keeps it must be one the model can forecast on."""
    inputs = len(layout.inputs)
    for name in ("shift", "scale"):
        values = getattr(scaler, name)
        if not isinstance(values, torch.Tensor) or values.shape != (inputs,) or not torch.isfinite(values).all():
            raise ModelError(f"{where}its scaler's {name!r} is not {inputs} finite numbers, one per input column")
    if (scaler.scale == 0).any():
        raise ModelError(f"{where}its scaler's 'scale' holds a zero, which no fit writes")
    if list(state.frame.columns) != list(layout.inputs):
        raise ModelError(f"{where}its rows' columns ({list(state.frame.columns)}) are not the model's inputs "
                         f"({list(layout.inputs)})")
    if not 0 < state.n_train <= len(state.frame) or state.n_train < min(config.data.window, len(state.frame)):
        raise ModelError(f"{where}its 'n_train' ({state.n_train}) does not fit its {len(state.frame)} rows")


def _check_history(history) -> None:
    if not isinstance(history, list) or not all(
            isinstance(row, dict) and {"epoch", "train_loss", "val_loss"} <= set(row) for row in history):
        raise ModelError("its 'history' is not a list of epochs (each with epoch, train_loss and val_loss)")
