"""The settings of a fit, one dataclass per layer.

Each dataclass owns its defaults, and each field says beside it what it does and what it
takes (:func:`setting`). ``ww.train``'s help, the ``%%windtrain`` options, the dashboard's
controls and :meth:`RunConfig.validate` are all read from those fields (:func:`describe`),
so they cannot drift apart.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import numpy as np

from .config_rules import (INTERVAL_WORDS, bounds_rule, choice_rule, columns_rule, frequency_rule, inside,
                           quantile_rule, refit_rule, sizes_rule, sorted_levels, static_setting, statics_rule,
                           time_rule)
from .errors import ConfigError, check_whole, closest

Columns = Union[str, list, None]
Statics = Union[str, list, dict, None]  # column names, or a table by series id (see config_rules.statics_rule)


MODES = {  # how a model learns, which decides how its forecasts roll forward
    "window": "many-to-one windows from a zero state; a rollout re-reads the last window per block",
    "sequence": "every step of chunks from random offsets after a window's warm-up, then free-running steps "
                "on its own predictions; a rollout carries the state",
    "stateful": "consecutive chunks with the state carried between them (truncated BPTT); a rollout carries the state",
}
WINDOW_BATCH = 64  # windows per step when batch_size is None; also sets a sequence epoch's steps
SEQUENCE_BATCH = 16  # chunks per step in sequence mode when batch_size is None


def setting(default, help: str, *, choices: tuple | None = None, minimum: int | None = None,
            within: str | None = None, hint: str = ""):
    """A settings field, described where it is declared.

    ``help`` says in a line what it does (``help(ww.train)``, ``%%windtrain?`` and the
    dashboard's tooltips show it). The rest is what :meth:`RunConfig.validate` checks:
    ``choices`` the values it takes one of; ``minimum`` the least whole number it takes;
    ``within`` the interval a number lies in, written as in mathematics ("[0, 1)", "(0, inf)");
    ``hint`` ends its error message. The annotation says what kind of value the field takes
    and, with ``Optional``, that None is one.
    """
    metadata = {"help": help, "choices": choices, "minimum": minimum, "within": within, "hint": hint}
    if isinstance(default, (dict, list)):  # each instance gets its own copy
        return field(default_factory=default.copy, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class DataConfig:
    target: Columns = setting(None, "column(s) to forecast; None takes every numeric column")
    covariates: Columns = setting(None, 'past-only inputs, observed up to "now", unknown ahead')
    future_covariates: Columns = setting(None, "inputs known ahead; needed again at forecast time")
    static_covariates: Statics = setting(None, "panels: inputs with one value per series (rated power): column(s) "
                                         "constant within each series, or a table by series id; numbers only")
    window: int = setting(48, "input length in time steps", minimum=1)
    horizon: int = setting(1, "steps predicted per forward pass", minimum=1)
    val_fraction: float = setting(0.2, "the last share of rows, chronologically, validates")
    scaler: Optional[str] = setting("standard", '"standard" | "minmax" | "robust" (median and quartiles) | None, '
                                    "fitted on train rows only", choices=("standard", "minmax", "robust", None))
    calendar: bool = setting(False, "add the time of day and weekday (sin, cos) as known-future covariates")
    season: Optional[int] = setting(None, "seasonal period for MASE; None infers it from the index", minimum=1)
    task: str = setting("forecast", '"forecast", or "classify" for many-to-one classification',
                        choices=("forecast", "classify"))
    series: Optional[str] = setting(None, "column naming each series of a long table: one global model across them")
    series_scaling: str = setting("global", 'panels: "global" (one scaler for all series) | "series" (one each)',
                                  choices=("global", "series"))
    time: Optional[str] = setting(None, "column of timestamps that becomes the index; None picks a lone "
                                  "datetime column")
    time_unit: Optional[str] = setting(None, 'what numbers in the time column count since 1970-01-01 UTC: "s" | '
                                       '"ms" | "us" | "ns" (naive times, in UTC); None refuses numbers',
                                       choices=("s", "ms", "us", "ns", None))
    freq: Optional[str] = setting(None, 'regularise the times to this step ("1h"), averaging rows; None refuses gaps')
    fill: Optional[str] = setting(None, 'missing values: "interpolate" | "ffill" | None to refuse them',
                                  choices=("interpolate", "ffill", None))
    fill_limit: Any = setting(None, 'the longest hole fill may fill, in rows (3) or as a duration ("3h"); '
                              "None: any, unless most rows would be made up")
    bounds: Optional[dict] = setting(None, 'physical limits per target, {"power": (0, None)}: clip forecasts '
                                     "and bands")

    def __post_init__(self):
        object.__setattr__(self, "bounds", frozen(self.bounds))
        object.__setattr__(self, "static_covariates", frozen(static_setting(self.static_covariates, self.series)))


@dataclass(frozen=True)
class ModelConfig:
    model: str = setting("lstm", "a name from ww.zoo.names()")
    hidden_size: int = setting(64, "features of the hidden state", minimum=1)
    num_layers: int = setting(2, "stacked recurrent layers", minimum=1)
    dropout: float = setting(0.0, "dropout between stacked layers", within="[0, 1)", hint="; try 0.1 or 0.2")
    bidirectional: bool = setting(False, "read the window both ways (window mode only: a two-way model carries no "
                                          "state forward)")
    nonlinearity: str = setting("tanh", '"tanh" | "relu", for the Elman rnn', choices=("tanh", "relu"))
    bias: bool = setting(True, "bias terms in the recurrent layers")
    options: dict = setting({}, "extra keywords for the model's builder")
    ensemble: int = setting(1, "copies of the model trained side by side, their weights drawn one after another "
                            "from `seed`, each keeping its own best epoch; forecasts are their mean (window mode)",
                            minimum=1)
    residual: bool = setting(False, "forecast the last value plus a linear map of the window's last 11 rows plus "
                             "the model's correction, gated from zero: it starts as persistence (window mode)")
    normalize: Optional[str] = setting(None, '"window": each window less its mean, over its std, per column, put '
                                       "back on the output (reversible instance normalisation; window mode) | None",
                                       choices=("window", None))

    def __post_init__(self):
        object.__setattr__(self, "options", frozen(self.options))

    @property
    def size(self) -> str:
        """For titles and summaries: "hidden 64 x 2 layers", with ", 3 members" for an ensemble."""
        return (f"hidden {self.hidden_size} x {self.num_layers} layers"
                + (f", {self.ensemble} members" if self.ensemble > 1 else ""))


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = setting(20, "passes over the training windows", minimum=1)
    mode: str = setting("auto", 'how the model learns, which decides how it forecasts: "window" (windows from a '
                        'zero state) | "sequence" (every step of chunks, then free-running) | "stateful" (chunks '
                        "carrying the state); \"auto\": the model's own choice",
                        choices=("auto", "window", "sequence", "stateful"))
    batch_size: Optional[int] = setting(None, "windows (or chunks) per step; None: 64 windows, 16 chunks in "
                                        "sequence mode", minimum=1)
    chunk: Optional[int] = setting(None, "sequence mode: steps scored per chunk after the warm-up; None: 2 * window",
                                   minimum=1)
    free_steps: Optional[int] = setting(None, "sequence mode: steps run on the model's own predictions after each "
                                        "chunk; None: window",
                                        minimum=0, hint=", 0 to turn the free-running part off")
    forecast_steps: Optional[int] = setting(None, "pick the best epoch by rolled validation forecasts this long "
                                            "(their error by the training loss, in scaled units: val_forecast in the "
                                            "history); None: a day of sub-daily data, else horizon", minimum=1)
    loss: str = setting("mse", '"mse" | "mae" | "huber" | "quantile": what a forecaster\'s training minimises; '
                        '"mae" aims at the median, as MAE scores; "quantile" learns `quantiles` (pinball loss)',
                        choices=("mse", "mae", "huber", "quantile"))
    quantiles: Optional[tuple[float, ...]] = setting(None, 'with loss="quantile", the levels learned, strictly '
                                                     "inside (0, 1), 0.5 among them (the point forecast); None: "
                                                     "(0.1, 0.5, 0.9)")
    lr: float = setting(1e-3, "Adam learning rate", within="(0, inf)", hint="; Adam's usual value is 1e-3")
    clip_grad: Optional[float] = setting(1.0, "max gradient norm; None turns clipping off", within="(0, inf]",
                                         hint=", or None to turn clipping off")
    patience: Optional[int] = setting(None, "stop after this many epochs without a better validation score "
                                      "(val_forecast, else val_loss)", minimum=1)
    min_delta: float = setting(0.0, "with patience, stop as soon as an epoch lowers the best one-step validation "
                               "loss by less than this share of it (it has flattened); 0 waits out the patience",
                               within="[0, 1)", hint="; 0.01 stops at a gain under 1%")
    lr_factor: float = setting(0.5, "with patience, multiply the learning rate by this after each epoch that does "
                               "not lower the best validation loss; 1 keeps it", within="(0, 1]",
                               hint="; 0.5 halves it")
    refit: bool = setting(False, "once the validation rows have chosen the epoch, learn again from the first "
                          "weights on every row for that many epochs and keep that (the latest rows, most like "
                          "the future where a process drifts); backtests then score only later rows")
    stateful: bool = setting(False, 'same as mode="stateful": carry the state across consecutive chunks')
    device: str = setting("auto", '"auto" -> cuda, then mps, then cpu; or any torch device')
    threads: Any = setting("auto", 'CPU threads during the fit; "auto": 1 for a model (or an ensemble\'s '
                           "member) under 10,000 weights, else torch's count less the cores other work holds")
    seed: int = setting(0, "seeds weights, shuffling and dropout")
    live: Any = setting("auto", '"auto": the live panel in a notebook, a line per epoch elsewhere | '
                        '"widgets" | "text" | False (nothing)',
                        choices=("auto", "widgets", "text", False, True))

    def __post_init__(self):
        object.__setattr__(self, "quantiles", sorted_levels(self.quantiles))


@dataclass(frozen=True)
class Setting:
    """One keyword of ``ww.train`` as its field describes it (see :func:`setting`)."""

    name: str
    section: str  # the RunConfig section that owns it: data, model or train
    default: Any
    help: str
    kind: str  # int | float | bool | str | columns | numbers | dict | any, read from the annotation
    optional: bool  # None is a value it takes (an Optional annotation)
    choices: Optional[tuple] = None
    minimum: Optional[int] = None
    within: Optional[str] = None
    hint: str = ""

    def check(self, value) -> None:
        """Refuse ``value`` where the description says it cannot be."""
        if value is None and self.optional:
            return
        if self.choices is not None:
            choice_rule(self.name, value, self.choices)
        elif self.kind == "bool" and not isinstance(value, bool):
            raise ConfigError(f"`{self.name}` ({value!r}) must be True or False")
        elif self.kind == "columns":
            columns_rule(self.name, value)
        elif self.minimum is not None:
            check_whole(self.name, value, self.minimum, hint=self.hint)
        elif self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"`{self.name}` ({value!r}) must be a number, such as {self.default!r}")
            if self.within is not None and not inside(value, self.within):
                words = INTERVAL_WORDS.get(self.within, f"in {self.within}")
                raise ConfigError(f"`{self.name}` ({value}) must be {words}{self.hint}")


def describe() -> dict:
    """Every ``ww.train`` keyword as a :class:`Setting`, in the order of the fields."""
    described = {}
    for section, klass in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
        hints = typing.get_type_hints(klass)
        for f in dataclasses.fields(klass):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            kind, optional = _kind(hints[f.name])
            described[f.name] = Setting(f.name, section, default, kind=kind, optional=optional, **f.metadata)
    return described


def keyword_owners() -> dict:
    """Map each flat ``ww.train`` keyword to the section that owns it."""
    return {name: described.section for name, described in describe().items()}


def field_docs() -> dict:
    """Each keyword's default and its one-line description."""
    return {name: (described.default, described.help) for name, described in describe().items()}


def _kind(hint) -> tuple[str, bool]:
    """("int", False) for ``int``, ("int", True) for ``Optional[int]``, "columns" for lists."""
    if hint is Any:
        return "any", False
    args = typing.get_args(hint) if typing.get_origin(hint) is Union else (hint,)
    optional = type(None) in args
    if tuple[float, ...] in args:
        return "numbers", optional  # checked by its own rule (quantile_rule)
    types = [typing.get_origin(a) or a for a in args if a is not type(None)]
    if list in types or tuple in types:
        return "columns", optional
    for kind in (bool, int, float, dict, str):
        if types == [kind]:
            return kind.__name__, optional
    return "any", False


CHOICES = {name: described.choices for name, described in describe().items() if described.choices}


@dataclass(frozen=True)
class RunConfig:
    """Every setting of a fit, by layer. Frozen: :func:`windwidgets.settle.settle` makes the one the Run keeps
    (the choices left to the model and the data made), and nothing changes it afterwards."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    SECTIONS = ("data", "model", "train")

    @classmethod
    def from_kwargs(cls, **kwargs) -> "RunConfig":
        """Spread flat ``ww.train`` keywords over the sections; unknown names are errors.
        ``stateful=True`` is read as ``mode="stateful"``, which it is."""
        sections = cls._spread({key: plain(value) for key, value in kwargs.items()})
        train = sections["train"]
        if train.get("stateful") is True:
            if train.get("mode", "auto") not in ("auto", "stateful"):
                raise ConfigError(f"`stateful=True` is mode='stateful', which contradicts mode={train['mode']!r}; "
                                  "pass one of them")
            train["mode"] = "stateful"
        config = cls(data=DataConfig(**sections["data"]), model=ModelConfig(**sections["model"]),
                     train=TrainConfig(**train))
        config.validate()
        return config

    @classmethod
    def _spread(cls, settings: dict) -> dict:
        """Flat settings as {section: {name: value}}; an unknown name is refused with the list."""
        owners = keyword_owners()
        sections: dict = {name: {} for name in cls.SECTIONS}
        for key, value in settings.items():
            if key not in owners:
                raise ConfigError(f"unknown setting {key!r}{closest(key, owners)}; "
                                  f"valid settings: {', '.join(sorted(owners))}")
            sections[owners[key]][key] = value
        return sections

    def to_dict(self) -> dict:
        """Plain dicts, lists and numbers: what a file saves and Ray ships."""
        return {name: _thawed(dataclasses.asdict(getattr(self, name))) for name in self.SECTIONS}

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        """The config ``to_dict`` wrote, as it was (a settled one stays settled)."""
        return cls(
            data=DataConfig(**values["data"]),
            model=ModelConfig(**values["model"]),
            train=TrainConfig(**values["train"]),
        )

    @classmethod
    def from_file(cls, values: dict) -> "RunConfig":
        """The config a run file holds, checked as ``ww.train`` checks its keywords. Files from
        before training modes recorded ``mode="auto"``: they learned on windows, or statefully."""
        train = dict(values["train"])
        if train.get("mode", "auto") == "auto":
            train["mode"] = "stateful" if train.get("stateful") else "window"
        config = cls.from_dict({**values, "train": train})
        config.validate()
        return config

    def replace(self, **changes) -> "RunConfig":
        """A copy with some flat settings changed (``config.replace(live=False)``), checked."""
        sections = self._spread(changes)
        config = dataclasses.replace(self, **{name: dataclasses.replace(getattr(self, name), **values)
                                              for name, values in sections.items() if values})
        config.validate()
        return config

    def validate(self) -> None:
        """Check the settings that make no sense whatever the data: first what each field's
        description asks (see :func:`setting`), then the rules its description cannot say."""
        d, m, t = self.data, self.model, self.train
        for described in describe().values():
            described.check(getattr(getattr(self, described.section), described.name))
        for name, example in (("time", "timestamp"), ("series", "turbine")):
            value = getattr(d, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
                raise ConfigError(f"`{name}` ({value!r}) must be the name of one column, such as {name}={example!r}")
        frequency_rule(d.freq)
        time_rule(d)
        bounds_rule(d.bounds)
        quantile_rule(t.loss, t.quantiles)
        statics_rule(d, m)
        if not isinstance(m.options, dict) or not all(isinstance(k, str) for k in m.options):
            raise ConfigError(f"`options` ({m.options!r}) must be a dict of the model's extra keywords, "
                              "such as options={'kernel_size': 3}")
        if isinstance(t.seed, bool) or not isinstance(t.seed, int) or not 0 <= t.seed < 2**63:
            raise ConfigError(f"`seed` ({t.seed!r}) must be a whole number from 0 to 2**63 - 1, such as 0")
        sizes_rule(m.ensemble, t.threads)
        refit_rule(t.refit, d.task)
        if not 0.0 < float(d.val_fraction) < 1.0:
            raise ConfigError(
                f"`val_fraction` ({d.val_fraction}) must lie strictly between 0 and 1; "
                "0.2 keeps the last 20% of rows for validation"
            )


class Frozen(dict):
    """A dict setting of a config (``bounds``, ``options``), read-only as the config is: a
    Run's config says what trained, so it cannot be edited in place."""

    def _refuse(self, *args, **kwargs):
        raise ConfigError("a Run's config is frozen: it says what trained; make a changed copy with "
                          "config.replace(name=value)")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):
        return Frozen, (dict(self),)


def frozen(value):
    """``value`` as a :class:`Frozen` dict (its dicts too) with tuples for lists, where it is a dict."""
    if not isinstance(value, dict):
        return value
    return Frozen((k, tuple(v) if isinstance(v, list) else frozen(v)) for k, v in value.items())


def _thawed(value):
    """Frozen dicts and tuples as the dicts and lists a file holds."""
    if isinstance(value, dict):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thawed(v) for v in value]
    return value


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
