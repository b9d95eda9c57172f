"""The zoo: a registry from model name to builder.

A builder takes the data's shapes (:class:`ModelSpec`) and the model settings
(:class:`~windwidgets.config.ModelConfig`) and returns an ``nn.Module`` that follows the
forecaster contract::

    y, state = model(x, state=None)
    # x: (batch, time, input_size); y: (batch, horizon, output_size)

A model declares ``modes``, the ways it can learn (see :data:`windwidgets.config.MODES`),
its preferred one first. ``"window"`` is the contract above. ``"sequence"`` and
``"stateful"`` also need ``every_step=True`` (y: (batch, time, horizon, output_size)) and a
``state`` that a later call continues from, so that a rollout can feed one new step at a
time. A module without ``modes`` learns on windows only; one that returns just a tensor is
wrapped to fit. A model with ``uses_targets = True`` (a decoder taught with teacher forcing)
is also handed the targets in training. The registry says which tasks a model can learn.
:func:`build` checks all of this once; nothing downstream guesses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from ..config import MODES
from ..errors import ModelError, closest, warn


@dataclass(frozen=True)
class ModelSpec:
    """The shapes a model is built from; never typed by hand."""

    input_size: int  # features per time step
    output_size: int  # values predicted per step
    horizon: int  # steps predicted per forward pass
    window: int  # input length during training
    extra: dict = field(default_factory=dict)  # task-specific shapes (classes, grid size)
    reads: str | None = None  # the kind of data made for it: "table" or "grids"; None: not said (checked by the model)


STACK = ("hidden_size", "num_layers", "dropout", "bidirectional", "bias")  # what a recurrent stack reads
TASKS = ("forecast", "classify")
READS = ("table", "grids")  # the kinds of data the pipeline makes (see windwidgets.data.prepare)


def settings(config, knobs: tuple = STACK) -> dict:
    """The keywords a built-in builder passes on: its ``knobs`` from the model settings, then
    the model's own ``options``."""
    return {**{name: getattr(config, name) for name in knobs}, **config.options}


@dataclass(frozen=True)
class Entry:
    builder: Callable[[ModelSpec, object], nn.Module]
    summary: str
    knobs: tuple  # the ModelConfig fields this model reads
    options: tuple | None = None  # the keywords ``options`` may hold; None: not declared
    tasks: tuple = TASKS  # what it can be trained for
    reads: tuple = ("table",)  # the kinds of data it reads, the one the pipeline makes for it first


_REGISTRY: dict[str, Entry] = {}
BUILT_IN: set = set()  # filled by windwidgets.zoo once its models are registered


def register(name: str, builder: Callable, summary: str = "", knobs=("hidden_size",),
             options=None, tasks: tuple = TASKS, reads: tuple = ("table",)) -> None:
    """Add a model under ``name``: ``builder(spec, config) -> nn.Module``.

    ``knobs`` are the settings it reads; ``options`` the names ``config.options`` may hold
    (other names are refused with that list before the builder runs); ``tasks`` what it
    can be trained for (``spec.extra["task"]``, "forecast" when absent); ``reads`` the kinds of
    data it reads ("table": windows of rows of columns; "grids": rows of flattened grids,
    ``spec.extra["grid"]`` their shape), the one the data is made into first.

    Example
    -------
    >>> class Tiny(torch.nn.Module):
    ...     def __init__(self, spec):
    ...         super().__init__()
    ...         self.spec = spec
    ...         self.linear = torch.nn.Linear(spec.input_size * spec.window,
    ...                                       spec.horizon * spec.output_size)
    ...     def forward(self, x):                      # (batch, window, inputs)
    ...         return self.linear(x.flatten(1))       # (batch, horizon * outputs)
    >>> ww.zoo.register("tiny", lambda spec, config: Tiny(spec))
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ModelError(f"model name {name!r} must be a simple identifier such as 'my_lstm'")
    if not callable(builder):
        raise ModelError(
            f"the builder for {name!r} is a {type(builder).__name__}; pass a function "
            "builder(spec, config) that returns an nn.Module"
        )
    if isinstance(reads, str) or not reads or not set(reads) <= set(READS):
        raise ModelError(f"model {name!r} reads {reads!r}; pass a tuple of {', '.join(map(repr, READS))}")
    _REGISTRY[name] = Entry(builder, summary or (builder.__doc__ or "").strip().split("\n")[0], tuple(knobs),
                            None if options is None else tuple(options), tuple(tasks), tuple(reads))


def unregister(name: str) -> None:
    """Remove a model added with :func:`register` (the built-in ones stay)."""
    if name in BUILT_IN:
        raise ModelError(f"{name!r} is a built-in model and stays in the zoo")
    entry(name)  # an unknown name is refused with the list
    del _REGISTRY[name]


def names() -> list[str]:
    """The names of every model, built-in and registered."""
    return list(_REGISTRY)


def entry(name: str) -> Entry:
    if name not in _REGISTRY:
        raise ModelError(
            f"unknown model {name!r}{closest(name, _REGISTRY)}; available: {', '.join(_REGISTRY)}"
        )
    return _REGISTRY[name]


def build(name: str, spec: ModelSpec, config) -> nn.Module:
    task = spec.extra.get("task", "forecast")
    if task not in entry(name).tasks:
        able = [n for n in names() if task in entry(n).tasks]
        raise ModelError(f"model {name!r} cannot be trained for task={task!r}; models that can: {', '.join(able)}")
    if spec.reads is not None and spec.reads not in entry(name).reads:
        able = [n for n in names() if spec.reads in entry(n).reads]
        raise ModelError(f"model {name!r} reads {' or '.join(entry(name).reads)}, not {spec.reads}; models that "
                         f"read {spec.reads}: {', '.join(able)}")
    known = entry(name).options
    unknown = [k for k in config.options if known is not None and k not in known]
    if unknown:
        valid = f"its options are {', '.join(known)}" if known else "it takes no options"
        raise ModelError(
            f"model {name!r} has no option {unknown[0]!r}{closest(unknown[0], known or ())}; {valid}"
            + (f" (`{unknown[0]}` is a setting of its own: pass {unknown[0]}=... to train)"
               if unknown[0] in getattr(config, "__dataclass_fields__", {}) else "")
        )
    _warn_unread(name, config)
    try:
        module = entry(name).builder(spec, config)
    except TypeError as error:
        if not config.options or "unexpected keyword argument" not in str(error):
            raise
        raise ModelError(f"model {name!r} does not take one of `options` ({config.options!r}): "
                         f"{error}; leave that option out") from None
    if not isinstance(module, nn.Module):
        raise ModelError(
            f"the builder of model {name!r} returned a {type(module).__name__}, not a torch nn.Module"
        )
    if not hasattr(module, "carries_state") and not hasattr(module, "modes"):
        module = Stateless(module, spec)
    # a module of the earlier contract that carries its state (carries_state = True) keeps
    # stateful training; one that says nothing learns on windows
    modes = getattr(module, "modes", ("window", "stateful") if getattr(module, "carries_state", False) else ("window",))
    if not isinstance(modes, tuple) or not modes or not set(modes) <= set(MODES):
        raise ModelError(f"model {name!r} declares modes={modes!r}; use a tuple of {', '.join(MODES)}, "
                         "its preferred one first")
    module.modes = modes
    module.uses_targets = bool(getattr(module, "uses_targets", False))  # wants the targets in training
    return module


KNOBS = STACK + ("nonlinearity",)  # the model settings a builder may read or not


def _warn_unread(name: str, config) -> None:
    """A model setting changed from its default that this model does not read would have no
    effect: say so rather than train as if it had."""
    fields = getattr(config, "__dataclass_fields__", {})
    unread = [knob for knob in KNOBS if knob in fields and knob not in entry(name).knobs
              and getattr(config, knob) != fields[knob].default]
    if unread:
        shown = ", ".join(f"{knob}={getattr(config, knob)!r}" for knob in unread)
        warn(f"model {name!r} does not read {shown} (it reads {', '.join(entry(name).knobs)}), so "
             f"{'it has' if len(unread) == 1 else 'they have'} no effect; leave {'it' if len(unread) == 1 else 'them'} "
             "out, or pick a model that reads it")


class Stateless(nn.Module):
    """Fits a user's module that maps a window to a tensor into the forecaster contract."""

    carries_state, uses_targets = False, False
    modes = ("window",)

    def __init__(self, module: nn.Module, spec: ModelSpec):
        super().__init__()
        self.module = module
        self.shape = (spec.horizon, spec.output_size)

    def forward(self, x: torch.Tensor, state=None):
        y = self.module(x)
        if isinstance(y, tuple):
            y = y[0]
        return y.reshape(x.shape[0], *self.shape), None  # (batch, horizon, outputs)
