"""A Run's settings as the code that trains it again: a ``%%windtrain`` cell and a
``ww.train(...)`` call.

Both hold the settings of ``run.config`` that differ from the defaults of
:mod:`windwidgets.config`, as the Run recorded them (the training mode, batch size and chunk
it settled on included), so the code gives the same config and, with the same seed, the same
history. ``live`` is left out: how a fit is shown is not part of what it learns.
"""
from __future__ import annotations

import json
import math

from ..config import RunConfig, field_docs

LEFT_OUT = ("live",)


def changed_settings(config: RunConfig) -> dict:
    """The ``ww.train`` keywords of ``config`` whose values are not the defaults."""
    docs = field_docs()
    flat = {name: value for section in config.to_dict().values() for name, value in section.items()}
    return {name: value for name, value in flat.items()
            if name not in LEFT_OUT and value != docs[name][0]}


def as_trained(run) -> tuple[RunConfig, str]:
    """The config that trains ``run`` again, and a note: a Run stopped by hand (Stop,
    Ctrl-C) gets ``epochs`` set to the epochs it trained, since the stop is not a setting."""
    history = run.history
    if run.stop_reason not in ("stopped", "interrupted") or not len(history):
        return run.config, ""
    config = run.config.replace(epochs=len(history))
    return config, (f"stopped at epoch {len(history)} of {run.config.train.epochs}: epochs = "
                    f"{len(history)} trains as far (a stop within an epoch ends that epoch early)")


def train_call(config: RunConfig, data: str = "df", out: str = "run", note: str = "") -> str:
    """``out = ww.train(data, setting=value, ...)``, one setting a line when they are many;
    ``note`` becomes a comment above it."""
    settings = [f"{name}={value!r}" for name, value in changed_settings(config).items()]
    comment = f"# {note}\n" if note else ""
    one_line = f"{out} = ww.train({', '.join([data] + settings)})"
    if len(one_line) <= 100:
        return comment + one_line
    inner = "".join(f"    {item},\n" for item in settings)
    return f"{comment}{out} = ww.train(\n    {data},\n{inner})"


def windtrain_cell(config: RunConfig, data: str = "df", out: str = "run", note: str = "") -> str:
    """A ``%%windtrain`` cell: ``--data`` and ``--out`` on the line, the settings as TOML in
    the body; a setting that is None (which TOML cannot write) goes on the line as ``none``.
    ``note`` becomes a TOML comment at the end."""
    line = [f"%%windtrain --data {data} --out {out}"]
    body = []
    for name, value in changed_settings(config).items():
        if value is None:
            line.append(f"--{name.replace('_', '-')} none")
        elif name == "bounds":  # TOML has no None: no limit on a side is an infinite one
            pairs = {k: [-math.inf if low is None else low, math.inf if high is None else high]
                     for k, (low, high) in value.items()}
            body.append(f"{name} = {_toml(pairs)}")
        else:
            body.append(f"{name} = {_toml(value)}")
    return " ".join(line) + "\n" + "\n".join(body + ([f"# {note}"] if note else []))


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")
