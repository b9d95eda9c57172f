"""The settings of a fit, one dataclass per layer.

Each dataclass owns its defaults; ``ww.train``, the ``%%windtrain`` options and the
dashboard's controls are all derived from these fields, so the three cannot drift apart.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import numpy as np

from .errors import ConfigError, closest

Columns = Union[str, list, None]


CHOICES = {  # the settings that take one of a few values; the dashboard offers the same
    "scaler": ("standard", "minmax", None),
    "task": ("forecast", "classify"),
    "nonlinearity": ("tanh", "relu"),
    "live": ("auto", "widgets", "text", False, True),
    "mode": ("auto", "window", "sequence", "stateful"),
    "fill": ("interpolate", "ffill", None),
    "series_scaling": ("global", "series"),
}

MODES = {  # how a model learns, which decides how its forecasts roll forward
    "window": "many-to-one windows from a zero state; a rollout re-reads the last window per block",
    "sequence": "every step of chunks from random offsets after a window's warm-up, then free-running steps "
                "on its own predictions; a rollout carries the state",
    "stateful": "consecutive chunks with the state carried between them (truncated BPTT); a rollout carries the state",
}
WINDOW_BATCH = 64  # windows per step when batch_size is None; also sets a sequence epoch's steps
SEQUENCE_BATCH = 16  # chunks per step in sequence mode when batch_size is None


@dataclass
class DataConfig:
    target: Columns = None  # column(s) to forecast; None takes every numeric column
    covariates: Columns = None  # past-only inputs, observed up to "now", unknown ahead
    future_covariates: Columns = None  # inputs known ahead; needed again at forecast time
    window: int = 48  # input length in time steps
    horizon: int = 1  # steps predicted per forward pass
    val_fraction: float = 0.2  # the last share of rows, chronologically, validates
    scaler: Optional[str] = "standard"  # "standard" | "minmax" | None, fitted on train rows only
    calendar: bool = False  # add the time of day and weekday (sin, cos) as known-future covariates
    season: Optional[int] = None  # seasonal period for MASE; None infers it from the index
    task: str = "forecast"  # "forecast", or "classify" for many-to-one classification
    series: Optional[str] = None  # column naming each series of a long table: one global model across them
    series_scaling: str = "global"  # panels: "global" (one scaler for all series) | "series" (one each)
    time: Optional[str] = None  # column of timestamps that becomes the index; None picks a lone datetime column
    freq: Optional[str] = None  # regularise the times to this step ("1h"), averaging rows; None refuses gaps
    fill: Optional[str] = None  # missing values: "interpolate" | "ffill" | None to refuse them
    bounds: Optional[dict] = None  # physical limits per target, {"power": (0, None)}: clip forecasts and bands


@dataclass
class ModelConfig:
    model: str = "lstm"  # a name from ww.zoo.names()
    hidden_size: int = 64  # features of the hidden state
    num_layers: int = 2  # stacked recurrent layers
    dropout: float = 0.0  # dropout between stacked layers
    bidirectional: bool = False  # read the window both ways (not for forecasters)
    nonlinearity: str = "tanh"  # "tanh" | "relu", for the Elman rnn
    bias: bool = True  # bias terms in the recurrent layers
    options: dict = field(default_factory=dict)  # extra keywords for the model's builder


@dataclass
class TrainConfig:
    epochs: int = 20  # passes over the training windows
    mode: str = "auto"  # "window" | "sequence" | "stateful" (see MODES); "auto": the model's own choice
    batch_size: Optional[int] = None  # windows (or chunks) per step; None: 64 windows, 16 chunks in sequence mode
    chunk: Optional[int] = None  # sequence mode: steps scored per chunk after the warm-up; None: 2 * window
    free_steps: Optional[int] = None  # sequence mode: steps run on the model's own predictions after each chunk; None: window
    forecast_steps: Optional[int] = None  # pick the best epoch by rolled validation forecasts this long; None: a day of sub-daily data, else horizon
    lr: float = 1e-3  # Adam learning rate
    clip_grad: Optional[float] = 1.0  # max gradient norm; None turns clipping off
    patience: Optional[int] = None  # stop after this many epochs without a better val loss
    stateful: bool = False  # same as mode="stateful": carry the state across consecutive chunks
    device: str = "auto"  # "auto" -> cuda, then mps, then cpu; or any torch device
    threads: Any = "auto"  # CPU threads during the fit; "auto": 1 for a model under 10,000 weights, else torch's count
    seed: int = 0  # seeds weights, shuffling and dropout
    live: Any = "auto"  # "auto" | "widgets" | "text" | False


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    SECTIONS = ("data", "model", "train")

    @classmethod
    def from_kwargs(cls, **kwargs) -> "RunConfig":
        """Spread flat ``ww.train`` keywords over the sections; unknown names are errors."""
        owners = keyword_owners()
        sections: dict = {name: {} for name in cls.SECTIONS}
        for key, value in kwargs.items():
            if key not in owners:
                raise ConfigError(
                    f"unknown setting {key!r}{closest(key, owners)}; "
                    f"valid settings: {', '.join(sorted(owners))}"
                )
            sections[owners[key]][key] = plain(value)
        config = cls(
            data=DataConfig(**sections["data"]),
            model=ModelConfig(**sections["model"]),
            train=TrainConfig(**sections["train"]),
        )
        config.validate()
        return config

    def to_dict(self) -> dict:
        return {name: dataclasses.asdict(getattr(self, name)) for name in self.SECTIONS}

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        return cls(
            data=DataConfig(**values["data"]),
            model=ModelConfig(**values["model"]),
            train=TrainConfig(**values["train"]),
        )

    def settled(self, modes: tuple, why: str = "") -> "RunConfig":
        """A copy with the settings left to the model decided: the training mode (the first
        of the model's ``modes`` for "auto"), the batch size and the chunk length. The copy is
        what the Run records and saves, so the mode that decides its rollouts travels with it.
        ``why`` explains, in an error, why the model learns in those modes only."""
        config = RunConfig.from_dict(self.to_dict())
        t = config.train
        mode = "stateful" if t.stateful else t.mode
        if mode == "auto":  # a one-row window is one-to-one: nothing to warm up, nothing to carry
            mode = "window" if config.data.window == 1 and "window" in modes else modes[0]
        if mode not in modes:
            given = "stateful=True" if t.stateful else f"mode={mode!r}"
            raise ConfigError(
                f"`{given}` is not a way {self.model.model!r}{why} can learn: it learns in mode "
                f"{' or '.join(repr(m) for m in modes)}; leave `{given.split('=')[0]}` out"
            )
        t.mode, t.stateful = mode, mode == "stateful"
        if t.batch_size is None:
            t.batch_size = SEQUENCE_BATCH if mode == "sequence" else WINDOW_BATCH
        if mode == "sequence":
            t.chunk = 2 * config.data.window if t.chunk is None else t.chunk
            t.free_steps = config.data.window if t.free_steps is None else t.free_steps
        return config

    def validate(self) -> None:
        """Check the numbers that make no sense whatever the data."""
        d, m, t = self.data, self.model, self.train
        for name, value, example in (("val_fraction", d.val_fraction, 0.2), ("dropout", m.dropout, 0.1),
                                     ("lr", t.lr, 1e-3), ("clip_grad", t.clip_grad, 1.0)):
            if not (name == "clip_grad" and value is None):
                _number(name, value, example)
        for name, value in (("bidirectional", m.bidirectional), ("bias", m.bias), ("stateful", t.stateful),
                            ("calendar", d.calendar)):
            if not isinstance(value, bool):
                raise ConfigError(f"`{name}` ({value!r}) must be True or False")
        for name in ("target", "covariates", "future_covariates"):
            _columns(name, getattr(d, name))
        for name, example in (("time", "timestamp"), ("series", "turbine")):
            value = getattr(d, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
                raise ConfigError(f"`{name}` ({value!r}) must be the name of one column, such as {name}={example!r}")
        _frequency(d.freq)
        _choice("fill", d.fill, CHOICES["fill"])
        _choice("series_scaling", d.series_scaling, CHOICES["series_scaling"])
        _bounds(d.bounds)
        if not isinstance(m.options, dict) or not all(isinstance(k, str) for k in m.options):
            raise ConfigError(f"`options` ({m.options!r}) must be a dict of the model's extra keywords, "
                              "such as options={'kernel_size': 3}")
        if isinstance(t.seed, bool) or not isinstance(t.seed, int) or not 0 <= t.seed < 2**63:
            raise ConfigError(f"`seed` ({t.seed!r}) must be a whole number from 0 to 2**63 - 1, such as 0")
        _positive_int("window", d.window)
        _positive_int("horizon", d.horizon)
        _positive_int("hidden_size", m.hidden_size)
        _positive_int("num_layers", m.num_layers)
        _positive_int("epochs", t.epochs)
        for name in ("batch_size", "chunk", "forecast_steps"):
            if getattr(t, name) is not None:
                _positive_int(name, getattr(t, name))
        if t.free_steps is not None and (isinstance(t.free_steps, bool) or not isinstance(t.free_steps, int)
                                         or t.free_steps < 0):
            raise ConfigError(f"`free_steps` ({t.free_steps!r}) must be a whole number, 0 to turn the "
                              "free-running part off")
        _choice("mode", t.mode, CHOICES["mode"])
        if t.threads != "auto" and (isinstance(t.threads, bool) or not isinstance(t.threads, int) or t.threads < 1):
            raise ConfigError(f"`threads` ({t.threads!r}) must be 'auto' or a whole number of at least 1")
        if t.stateful and t.mode not in ("auto", "stateful"):
            raise ConfigError(f"`stateful=True` is mode='stateful', which contradicts mode={t.mode!r}; "
                              "pass one of them")
        if not 0.0 < float(d.val_fraction) < 1.0:
            raise ConfigError(
                f"`val_fraction` ({d.val_fraction}) must lie strictly between 0 and 1; "
                "0.2 keeps the last 20% of rows for validation"
            )
        for name, value in (("scaler", d.scaler), ("task", d.task), ("nonlinearity", m.nonlinearity)):
            _choice(name, value, CHOICES[name])
        if not 0.0 <= float(m.dropout) < 1.0:
            raise ConfigError(f"`dropout` ({m.dropout}) must be in [0, 1); try 0.1 or 0.2")
        if not 0.0 < float(t.lr) < math.inf:
            raise ConfigError(f"`lr` ({t.lr}) must be positive and finite; Adam's usual value is 1e-3")
        if t.clip_grad is not None and not float(t.clip_grad) > 0.0:
            raise ConfigError(
                f"`clip_grad` ({t.clip_grad}) must be positive, or None to turn clipping off"
            )
        if t.patience is not None:
            _positive_int("patience", t.patience)
        if d.season is not None:
            _positive_int("season", d.season)
        _choice("live", t.live, CHOICES["live"])


def keyword_owners() -> dict:
    """Map each flat ``ww.train`` keyword to the section that owns it."""
    owners = {}
    for section, klass in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
        for f in dataclasses.fields(klass):
            owners[f.name] = section
    return owners


def field_docs() -> dict:
    """Each keyword's default and its one-line comment, read from this file's source."""
    import inspect
    import re

    source = inspect.getsource(inspect.getmodule(field_docs))
    comments = dict(re.findall(r"^    (\w+): [^#\n]*#\s*(.+)$", source, flags=re.M))
    docs = {}
    for klass in (DataConfig, ModelConfig, TrainConfig):
        for f in dataclasses.fields(klass):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            docs[f.name] = (default, comments.get(f.name, ""))
    return docs


def plain(value):
    """Numpy numbers and arrays as the Python numbers and lists they hold: the settings are
    checked against Python types and saved in files that load without pickled objects."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):  # arrays, pandas Index
        return [plain(v) for v in list(value)]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _columns(name: str, value) -> None:
    names = value if isinstance(value, list) else [value]
    if value is not None and not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in names):
        raise ConfigError(f"`{name}` ({value!r}) must be a column name or a list of names, "
                          f"such as {name}=['temperature']")


def _frequency(value) -> None:
    if value is None:
        return
    import pandas as pd

    try:
        if not isinstance(value, str):
            raise TypeError
        pd.tseries.frequencies.to_offset(value)
    except (ValueError, TypeError):
        raise ConfigError(f"`freq` ({value!r}) is not a pandas frequency; pass one such as '1h', '10min' "
                          "or '1D', or None to keep the rows as they are") from None


def _bounds(value) -> None:
    """``{"power": (0, None)}``: per column, a lower and an upper limit, None (or inf) for none."""
    if value is None:
        return
    example = "bounds={'power': (0, None)}"
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"`bounds` ({value!r}) must be a dict from target name to (lower, upper), "
                          f"such as {example}, or None")
    for name, pair in value.items():
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(
                v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v))
                for v in pair):
            raise ConfigError(f"`bounds` gives {name!r} the limits {pair!r}; give a pair (lower, upper) of "
                              f"numbers, None for no limit on that side, such as {example}")
        low, high = (-math.inf if pair[0] is None else pair[0]), (math.inf if pair[1] is None else pair[1])
        if not low < high:
            raise ConfigError(f"`bounds` gives {name!r} a lower limit ({pair[0]}) that is not below its "
                              f"upper limit ({pair[1]}); swap them or widen the range")


def _positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"`{name}` ({value!r}) must be a whole number of at least 1")


def _number(name: str, value, example: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"`{name}` ({value!r}) must be a number, such as {example!r}")


def _choice(name: str, value, valid: tuple) -> None:
    if value not in valid:
        raise ConfigError(
            f"`{name}` ({value!r}) is not one of {', '.join(repr(v) for v in valid)}"
            f"{closest(str(value), [str(v) for v in valid if v is not None])}"
        )
