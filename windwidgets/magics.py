"""``%%windtrain``, ``%windforecast`` and ``%windzoo``: parse what was typed, call the API,
put the result in the notebook's namespace.

The options of ``%%windtrain`` are read from the fields of the configuration dataclasses
(:mod:`windwidgets.config`): their names, types, defaults and comments. A field added there
is an option here, with its help line, without touching this file.
"""
from __future__ import annotations

import base64
import dataclasses
import io
import keyword
import shlex
import sys
import typing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.display import display

from . import api, zoo
from .config import DataConfig, ModelConfig, RunConfig, TrainConfig, field_docs, keyword_owners
from .errors import WindwidgetsError, closest
from .fit import BaseRun
from .run import Run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML bodies through tomli when it is there
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

TRUE, FALSE, NONE = ("true", "yes", "on", "1"), ("false", "no", "off", "0"), "none"
KINDS = {"int": "INT", "float": "FLOAT", "bool": "[true|false]", "str": "TEXT",
         "columns": "COLUMNS", "dict": "KEY=VALUE,...", "any": "VALUE", "name": "NAME"}


# -- options ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    """One ``--name value`` option: how its text (or TOML value) becomes a Python value."""

    name: str  # the keyword, with underscores: hidden_size
    kind: str  # int | float | bool | str | columns | dict | any | name
    default: object = None
    help: str = ""
    optional: bool = False  # "none" gives None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def from_text(self, text: str):
        """The value of ``--name text``."""
        if self.optional and text.lower() == NONE:
            return None
        kind = self.kind
        try:
            if kind == "int":
                return int(text)
            if kind == "float":
                return float(text)
        except ValueError:
            raise UsageError(f"{self.flag} takes {_article(kind)}, not {text!r}") from None
        if kind == "bool":
            return _boolean(text, self.flag)
        if kind == "columns":
            names = [part.strip() for part in text.split(",") if part.strip()]
            return names if "," in text else text.strip()
        if kind == "dict":
            return _pairs(text, self.flag)
        if kind == "any":
            return _literal(text)
        return text

    def from_toml(self, value):
        """The value of ``name = value`` in a cell body; TOML already typed it."""
        if isinstance(value, str):
            return self.from_text(value)
        kind, ok = self.kind, False
        if kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind == "float":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "columns":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif kind == "dict":
            ok = isinstance(value, dict)
        elif kind == "any":
            ok = not isinstance(value, (list, dict))
        if not ok:
            raise UsageError(f"`{self.name}` in the cell body is {value!r}; it takes "
                             f"{_article(kind)}, e.g. {self.name} = {_toml(self.default, kind)}")
        return value

    def usage(self) -> str:
        shown = self.default is not None or self.optional
        default = f" (default: {_show(self.default)})" if shown else ""
        return f"  {self.flag} {KINDS[self.kind]}".ljust(32) + f"{self.help}{default}"


def config_options() -> dict[str, Option]:
    """Every keyword of ``ww.train``, as an option, in the order of the dataclass fields."""
    docs = field_docs()
    options = {}
    for klass in (DataConfig, ModelConfig, TrainConfig):
        hints = typing.get_type_hints(klass)
        for f in dataclasses.fields(klass):
            kind, optional = _kind(hints[f.name])
            default, comment = docs[f.name]
            options[f.name] = Option(f.name, kind, default, comment, optional)
    return options


def _kind(hint) -> tuple[str, bool]:
    """("int", False) for ``int``, ("int", True) for ``Optional[int]``, "columns" for lists."""
    if hint is typing.Any:
        return "any", True
    args = typing.get_args(hint) if typing.get_origin(hint) is typing.Union else (hint,)
    optional = type(None) in args
    types = [typing.get_origin(a) or a for a in args if a is not type(None)]
    if list in types or tuple in types:
        return "columns", optional
    for kind in (bool, int, float, dict, str):
        if types == [kind]:
            return kind.__name__, optional
    return "any", True


TRAIN_EXTRA = {
    "data": Option("data", "name", None, "a notebook variable (DataFrame, Series, ndarray) "
                   "or the path of a CSV or Parquet file; required"),
    "out": Option("out", "name", "run", "the notebook variable that receives the Run"),
}
FORECAST_OPTIONS = {
    "steps": Option("steps", "int", None, "how many steps to forecast; required"),
    "future": Option("future", "name", None,
                     "a DataFrame variable with the known-future covariates of the forecast rows"),
    "context": Option("context", "name", None,
                      "a DataFrame variable: a new series to forecast on from its end"),
    "interval": Option("interval", "float", None, "coverage of a prediction interval, e.g. 0.9",
                       optional=True),
    "start": Option("start", "str", None, "forecast from this label or position of the data "
                    "(to compare with what happened); default: after the last row"),
    "plot": Option("plot", "bool", False, "show the forecast as a figure"),
    "out": Option("out", "name", "forecast", "the notebook variable that receives the DataFrame"),
}


def parse_line(line: str, options: dict[str, Option], magic: str) -> tuple[dict, list]:
    """``--name value`` pairs (``--name=value`` too; a bare ``--flag`` for booleans, or
    ``--no-flag``) into ``{name: value}``, and the positional words left over."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise UsageError(f"%{magic}: cannot read the line ({error}); check the quotes") from None
    values, positional, i = {}, [], 0
    while i < len(words):
        word = words[i]
        i += 1
        if not word.startswith("--") or word == "--":
            positional.append(word)
            continue
        name, has_value, text = word[2:].partition("=")
        key = name.replace("-", "_")
        negate = (key not in options and key.startswith("no_")
                  and getattr(options.get(key[3:]), "kind", "") == "bool")
        key = key[3:] if negate else key
        if key not in options:
            raise UsageError(f"%{magic}: unknown option --{name}{_nearest(name, options, '--')}; "
                             f"%{magic}? lists them all")
        option = options[key]
        if key in values:
            raise UsageError(f"%{magic}: {option.flag} is given twice; keep one")
        if negate:
            value = False
        elif has_value:
            value = option.from_text(text)
        elif option.kind == "bool":
            takes_next = i < len(words) and not words[i].startswith("--")
            value = _boolean(words[i], option.flag) if takes_next else True
            i += takes_next
        elif i < len(words) and not words[i].startswith("--"):
            value = option.from_text(words[i])
            i += 1
        else:
            example = _show(option.default) if option.default is not None else KINDS[option.kind]
            raise UsageError(f"%{magic}: {option.flag} needs a value, e.g. {option.flag} {example}")
        values[key] = value
    return values, positional


def parse_body(cell: str, options: dict[str, Option]) -> dict:
    """The TOML settings of a cell body; ``[data]``, ``[model]`` and ``[train]`` tables
    may group them as in :class:`~windwidgets.config.RunConfig`."""
    if not cell or not cell.strip():
        return {}
    if tomllib is None:  # pragma: no cover
        raise UsageError("a %%windtrain cell body needs Python 3.11 (tomllib) or the tomli package")
    try:
        table = tomllib.loads(cell)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"the cell body is not valid TOML ({error}); write one setting a line, "
                         "e.g. hidden_size = 32 or target = \"speed\"") from None
    owners = keyword_owners()
    flat = {}
    for key, value in table.items():
        if key in RunConfig.SECTIONS and isinstance(value, dict):
            for inner, item in value.items():
                name = inner.replace("-", "_")
                if owners.get(name) != key:
                    where = (f"; it belongs in [{owners[name]}]" if name in owners
                             else _nearest(inner, options, ""))
                    raise UsageError(f"unknown key {inner!r} in [{key}] of the cell body{where}")
                flat[name] = item
        else:
            flat[key.replace("-", "_")] = value
    values = {}
    for name, value in flat.items():
        if name not in options:
            raise UsageError(f"unknown key {name!r} in the cell body{_nearest(name, options, '')}; "
                             "%windtrain? lists the settings")
        values[name] = options[name].from_toml(value)
    return values


# -- the magics ------------------------------------------------------------------------------
@magics_class
class WindMagics(Magics):
    """The windwidgets magics; ``%load_ext windwidgets`` registers them."""

    @line_cell_magic
    def windtrain(self, line: str, cell: str | None = None):
        options = {**TRAIN_EXTRA, **config_options()}
        settings = parse_body(cell or "", options)
        given, positional = parse_line(line, options, "windtrain")
        if positional:
            raise UsageError(f"%windtrain: unexpected {' '.join(positional)!r}; options start with "
                             f"--, e.g. --data {positional[0]}")
        settings.update(given)
        out = _target_name(settings.pop("out", "run"), "--out")
        data = self._data(settings.pop("data", None))
        try:
            run = api.train(data, **settings)
        except WindwidgetsError as error:
            raise UsageError(_one_line(error)) from None
        self.shell.user_ns[out] = run  # at once: a background fit lands here while it trains
        if run.stop_reason == "interrupted":
            p = run.trainer.progress
            kept = (f"the weights of epoch {p.best_epoch}" if p.best_epoch
                    else "its initial weights (no epoch had finished)")
            print(f"training interrupted at epoch {p.epoch}; `{out}` holds the Run with {kept}")

    @line_magic
    def windforecast(self, line: str):
        values, positional = parse_line(line, FORECAST_OPTIONS, "windforecast")
        if len(positional) > 1:
            raise UsageError(f"%windforecast: one Run at a time, got {' '.join(positional)!r}; "
                             "e.g. %windforecast run --steps 24")
        run = self._run(positional[0] if positional else "run")
        if not isinstance(run, Run):  # a classifier: its own words say what to use instead
            try:
                run.forecast
            except WindwidgetsError as error:
                raise UsageError(_one_line(error)) from None
        if values.get("steps") is None:
            raise UsageError("%windforecast: --steps is required, e.g. --steps 24")
        out = _target_name(values.get("out", "forecast"), "--out")
        kwargs = {"steps": values["steps"]}
        for name in ("future", "context"):
            if values.get(name) is not None:
                kwargs[name] = self._variable(values[name], f"--{name}", (pd.DataFrame,))
        if values.get("start") is not None:
            kwargs["start"] = _label(values["start"], run.frame.index)
        if "interval" in values:
            kwargs["interval"] = values["interval"]
        try:
            forecast = run.forecast(**kwargs)
            figure = None
            if values.get("plot"):
                figure = run.plot_forecast(forecast, context=kwargs.get("context"))
        except WindwidgetsError as error:
            raise UsageError(_one_line(error)) from None
        self.shell.user_ns[out] = forecast
        display(forecast)
        if figure is not None:
            display(_figure_bundle(figure), raw=True)

    @line_magic
    def windzoo(self, line: str):
        if line.strip():
            raise UsageError(f"%windzoo takes no options, got {line.strip()!r}")
        table = zoo_table()  # shown whole: pandas' own display would cut the knobs short
        display({"text/plain": _text_table(table), "text/html": table.to_html(index=False)}, raw=True)

    @line_magic
    def windboard(self, line: str):
        values, positional = parse_line(line, config_options(), "windboard")
        if len(positional) != 1:
            raise UsageError(f"%windboard: name one DataFrame, e.g. %windboard wind; "
                             f"got {' '.join(positional) or 'none'}{self._tabular_hint()}")
        data = self._data(positional[0])
        from .dashboard import Dashboard  # ipywidgets only when a dashboard is asked for

        name = positional[0] if positional[0].isidentifier() else repr(positional[0])
        try:
            return Dashboard(data, name=name, **values)
        except WindwidgetsError as error:
            raise UsageError(_one_line(error)) from None

    # -- notebook variables ------------------------------------------------------------------
    def _data(self, reference):
        """The object ``--data`` names: a tabular variable, or a file path."""
        if reference is None:
            raise UsageError("%windtrain: --data is required: name a DataFrame, Series or array of "
                             f"the notebook, or a CSV/Parquet file{self._tabular_hint()}")
        namespace = self.shell.user_ns
        if reference in namespace:
            value = namespace[reference]
            if _is_tabular(value) or isinstance(value, (str, Path)):
                return value
            raise UsageError(f"--data {reference}: `{reference}` is not tabular (type "
                             f"{type(value).__name__}); pass a DataFrame, Series or numpy array"
                             f"{self._tabular_hint()}")
        if Path(reference).expanduser().is_file():
            return str(Path(reference).expanduser())
        tabular = self._tabular_names()
        nearest = _nearest(reference, tabular, "") if reference.isidentifier() else ""
        raise UsageError(f"--data {reference}: no notebook variable and no file of that name{nearest}"
                         f"{self._tabular_hint()}")

    def _tabular_names(self) -> list[str]:
        hidden = getattr(self.shell, "user_ns_hidden", {})
        return [name for name, value in self.shell.user_ns.items()
                if not name.startswith("_") and name not in hidden and _is_tabular(value)]

    def _tabular_hint(self) -> str:
        names = self._tabular_names()
        return (f"; DataFrame-like variables here: {', '.join(names)}" if names
                else "; there is no DataFrame, Series or array in the notebook yet")

    def _run(self, name: str) -> BaseRun:
        runs = [n for n, v in self.shell.user_ns.items() if isinstance(v, BaseRun) and not n.startswith("_")]
        value = self.shell.user_ns.get(name)
        if not isinstance(value, BaseRun):
            what = "is not defined" if value is None else f"is a {type(value).__name__}, not a Run"
            where = (f"; Runs here: {', '.join(runs)}" if runs
                     else "; train one first with %%windtrain (it stores `run`)")
            raise UsageError(f"%windforecast: `{name}` {what}{where}")
        return value

    def _variable(self, name: str, flag: str, types: tuple):
        value = self.shell.user_ns.get(name)
        if not isinstance(value, types):
            what = "is not defined" if name not in self.shell.user_ns else f"is a {type(value).__name__}"
            raise UsageError(f"{flag} {name}: `{name}` {what}; pass the name of a "
                             f"{' or '.join(t.__name__ for t in types)}")
        return value


def zoo_table() -> pd.DataFrame:
    """name, summary and knobs (with their defaults) of every model, built-in and registered."""
    docs = field_docs()
    rows = []
    for name in zoo.names():
        entry = zoo.entry(name)
        knobs = [f"{k}={_show(docs[k][0])}" if k in docs else str(k) for k in entry.knobs]
        rows.append({"name": name, "summary": entry.summary, "knobs": ", ".join(knobs)})
    return pd.DataFrame(rows, columns=["name", "summary", "knobs"])


# -- help --------------------------------------------------------------------------------------
def train_help() -> str:
    options = config_options()
    sections = []
    for title, klass in (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig)):
        lines = [options[f.name].usage() for f in dataclasses.fields(klass)]
        sections.append(f"{title}:\n" + "\n".join(lines))
    return (
        "Train a model with windwidgets.train and store the Run in the notebook.\n\n"
        "    %%windtrain --data NAME [--out NAME] [--setting VALUE ...]\n"
        "    # optional body: the same settings as TOML; options on the line win\n\n"
        "Example::\n\n"
        "    %%windtrain --data wind --target speed --model lstm --window 48 --epochs 30\n"
        "    hidden_size = 32\n"
        "    covariates = [\"temperature\", \"pressure\"]\n\n"
        "The settings are the keywords of windwidgets.train, with dashes for underscores.\n"
        "Lists are comma-separated (--covariates temperature,pressure); `none` gives None;\n"
        "a true/false setting is a flag (--bidirectional), takes a value (--bias false) or\n"
        "is turned off with --no- (--no-bias). In the body, [data], [model] and [train]\n"
        "tables may group the settings. Ctrl-C (the notebook's interrupt) stops training and\n"
        "still stores the Run with the best weights so far.\n\n"
        "front door:\n" + "\n".join(o.usage() for o in TRAIN_EXTRA.values()) + "\n"
        + "\n".join(sections)
    )


def forecast_help() -> str:
    return (
        "Forecast with a trained Run, show the DataFrame and store it in the notebook.\n\n"
        "    %windforecast [RUN] --steps N [--future NAME] [--context NAME] [--interval 0.9]\n"
        "                  [--start X] [--plot] [--out NAME]\n\n"
        "RUN is the notebook variable holding the Run (default: run). The forecast calls\n"
        "RUN.forecast(...) and is stored under --out; --plot also shows RUN.plot_forecast().\n\n"
        + "\n".join(o.usage() for o in FORECAST_OPTIONS.values())
    )


def board_help() -> str:
    return ("Open the dashboard (windwidgets.Dashboard) on a DataFrame of the notebook or a\n"
            "CSV/Parquet file; options set the controls' starting values.\n\n"
            "    %windboard NAME [--setting VALUE ...]\n\n"
            "Example::\n\n"
            "    %windboard wind --target speed --model gru --epochs 10\n\n"
            "The settings are those of %%windtrain (%windtrain? lists them).\n")


def zoo_help() -> str:
    return ("The models that --model accepts, built-in and registered with\n"
            "windwidgets.zoo.register, with the settings each reads and their defaults.\n"
            "windwidgets.magics.zoo_table() returns the same table as a DataFrame.\n\n"
            "    %windzoo\n")


MAGICS = {"line": ("windtrain", "windforecast", "windzoo", "windboard"), "cell": ("windtrain",)}


def load_ipython_extension(shell) -> None:
    shell.register_magics(WindMagics)


def unload_ipython_extension(shell) -> None:
    for kind, names in MAGICS.items():
        for name in names:
            shell.magics_manager.magics[kind].pop(name, None)
    shell.magics_manager.registry.pop(WindMagics.__name__, None)


# -- small helpers -----------------------------------------------------------------------------
def _is_tabular(value) -> bool:
    if isinstance(value, (pd.DataFrame, pd.Series, np.ndarray)):
        return True
    return (isinstance(value, tuple) and len(value) == 2  # (sequences, labels) for task="classify"
            and all(isinstance(v, np.ndarray) for v in value))


def _target_name(name, flag: str) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"{flag} {name!r} is not a valid variable name; use e.g. {flag} run2")
    return name


def _label(text: str, index: pd.Index):
    """``--start`` text as a label of ``index`` (a timestamp for a DatetimeIndex) or a position."""
    if isinstance(index, pd.DatetimeIndex) and not text.lstrip("-").isdigit():  # digits: a position
        try:
            stamp = pd.Timestamp(text)
        except ValueError:
            raise UsageError(f"--start {text!r} is not a time; the data runs from {index[0]} "
                             f"to {index[-1]}") from None
        if index.tz is not None and stamp.tz is None:
            stamp = stamp.tz_localize(index.tz)
        return stamp
    try:
        return int(text)
    except ValueError:
        return text


def _boolean(text: str, flag: str) -> bool:
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise UsageError(f"{flag} takes true or false, not {text!r}")


def _pairs(text: str, flag: str) -> dict:
    values = {}
    for part in filter(None, (p.strip() for p in _top_level(text))):
        key, has_value, value = part.partition("=")
        if not has_value or not key.strip().isidentifier():
            raise UsageError(f"{flag} takes key=value pairs separated by commas, not {part!r}")
        values[key.strip()] = _literal(value.strip())
    return values


def _top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets: "power=[0,inf],speed=[0,40]" is two pairs."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "[({") - (char in "])}")
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def _literal(text: str):
    """A TOML literal (3, 0.5, true, [1, 2]) when the text is one, else the text itself."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == NONE:
        return None
    if tomllib is not None:
        try:
            return tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            pass
    return text


def _nearest(name: str, valid, prefix: str) -> str:
    if prefix:  # options are written with dashes
        name, valid = name.replace("_", "-"), [v.replace("_", "-") for v in valid]
    return closest(name, valid, form=prefix + "{}")


def _article(kind: str) -> str:
    return {"int": "a whole number", "float": "a number", "bool": "true or false",
            "columns": "a column name or a list of them", "dict": "a table of options",
            "any": "a single value", "str": "text", "name": "a name"}[kind]


def _show(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "{}"
    return str(value)


def _toml(value, kind: str) -> str:
    """An example of a TOML value for ``kind``: the default where it is one."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is not None and kind in ("int", "float", "str"):
        return f'"{value}"' if kind == "str" else str(value)
    return {"int": "64", "float": "0.5", "bool": "true", "str": '"text"', "name": '"df"',
            "columns": '["a", "b"]', "dict": "{ kernel_size = 3 }", "any": '"auto"'}[kind]


def _text_table(frame: pd.DataFrame) -> str:
    """Left-aligned columns, nothing cut."""
    rows = [list(map(str, frame.columns))] + [list(map(str, row)) for row in frame.itertuples(index=False)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(frame.columns))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _figure_bundle(figure) -> dict:
    """A matplotlib Figure as a display bundle: PNG for notebooks, a line for terminals."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    title = figure.axes[0].get_title() if figure.axes else "figure"
    return {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "text/plain": f"<Figure: {title}>"}


# `%windtrain?` shows these, generated from the options
WindMagics.windtrain.__doc__ = train_help()
WindMagics.windforecast.__doc__ = forecast_help()
WindMagics.windzoo.__doc__ = zoo_help()
WindMagics.windboard.__doc__ = board_help()
