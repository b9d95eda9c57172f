"""``%%windtrain``, ``%%windsweep``, ``%windforecast``, ``%windzoo`` and ``%windboard``: parse what was typed,
call the API, put the result in the notebook's namespace.

The options and how a line and a body are parsed live in :mod:`windwidgets.magic_options`;
this module only turns what was typed into calls of the API and shows the results.
"""
from __future__ import annotations

import base64
import dataclasses
import io
import keyword
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.display import display

from . import api, zoo
from .config import DataConfig, ModelConfig, TrainConfig, field_docs
from .errors import WindwidgetsError
from .fit import BaseRun
from .magic_options import (FORECAST_OPTIONS, RAY_TRAIN, SWEEP_EXTRA, TRAIN_EXTRA, _nearest, _show,
                            config_options, parse_body, parse_line, sweep_body)
from .panel import PanelRun
from .run import Run


@magics_class
class WindMagics(Magics):
    """The windwidgets magics; ``%load_ext windwidgets`` registers them."""

    @line_cell_magic
    def windtrain(self, line: str, cell: str | None = None):
        options = {**TRAIN_EXTRA, **RAY_TRAIN, **config_options()}
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
        except (WindwidgetsError, ImportError) as error:  # ImportError: --workers without Ray
            raise UsageError(_one_line(error)) from None
        self.shell.user_ns[out] = run  # at once: a background fit lands here while it trains
        if run.stop_reason == "interrupted":
            p = run.trainer.progress
            kept = (f"the weights of epoch {p.best_epoch}" if p.best_epoch
                    else "its initial weights (no epoch had finished)")
            print(f"training interrupted at epoch {p.epoch}; `{out}` holds the Run with {kept}")

    @line_cell_magic
    def windsweep(self, line: str, cell: str | None = None):
        options = {**SWEEP_EXTRA, **config_options()}
        fixed, space = sweep_body(cell or "", options)
        given, positional = parse_line(line, options, "windsweep")
        if positional:
            raise UsageError(f"%windsweep: unexpected {' '.join(positional)!r}; options start with "
                             f"--, e.g. --data {positional[0]}")
        for name in given:  # options on the line win, over a searched setting too
            space.pop(name, None)
        fixed.update(given)
        if not space:
            raise UsageError("%windsweep: the cell body holds no search space; give lists or ranges, "
                             "e.g. model = [\"lstm\", \"gru\"] or lr = { loguniform = [1e-4, 1e-2] }")
        out = _target_name(fixed.pop("out", "sweep"), "--out")
        data = self._data(fixed.pop("data", None))
        from .scale.sweep import sweep

        try:
            result = sweep(data, space, **fixed)
        except (WindwidgetsError, ImportError) as error:
            raise UsageError(_one_line(error)) from None
        self.shell.user_ns[out] = result

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
        chosen = {} if values.get("series") is None else {"series": _series_id(run, values["series"])}
        if values.get("start") is not None:
            frame = run.member(chosen["series"]).frame if chosen else run.frame
            kwargs["start"] = _label(values["start"], frame.index)
        if "interval" in values:
            kwargs["interval"] = values["interval"]
        try:
            forecast = run.forecast(**kwargs, **chosen)
            figure = None
            if values.get("plot"):
                figure = run.plot_forecast(forecast, context=kwargs.get("context"), **chosen)
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
        "front door:\n" + "\n".join(o.usage() for o in {**TRAIN_EXTRA, **RAY_TRAIN}.values()) + "\n"
        + "\n".join(sections)
    )


def sweep_help() -> str:
    return (
        "Sweep settings with windwidgets.sweep on Ray; store the Sweep in the notebook.\n\n"
        "    %%windsweep --data NAME [--trials N] [--out NAME] [--setting VALUE ...]\n"
        "    # body: TOML; lists and ranges are the search space, single values are fixed\n\n"
        "Example::\n\n"
        "    %%windsweep --data wind --target speed --epochs 10 --trials 8\n"
        "    model = [\"lstm\", \"gru\"]\n"
        "    hidden_size = [32, 64]\n"
        "    lr = { loguniform = [1e-4, 1e-2] }\n\n"
        "Ranges: { loguniform = [low, high] } and { uniform = [low, high] }. A column setting\n"
        "is searched with a list of lists (covariates = [[\"a\"], [\"a\", \"b\"]]). Options on\n"
        "the line are fixed and win over the body. The Sweep's .best is an ordinary Run, .table\n"
        "has a row per trial. Bad trials stop early (successive halving); the leaderboard's Stop ends the sweep.\n"
        "Every other option is a setting of %%windtrain (%windtrain? lists them).\n\n"
        + "\n".join(o.usage() for o in SWEEP_EXTRA.values())
    )


def forecast_help() -> str:
    return (
        "Forecast with a trained Run, show the DataFrame and store it in the notebook.\n\n"
        "    %windforecast [RUN] --steps N [--future NAME] [--context NAME] [--interval 0.9]\n"
        "                  [--start X] [--series ID] [--plot] [--out NAME]\n\n"
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


MAGICS = {"line": ("windtrain", "windsweep", "windforecast", "windzoo", "windboard"),
          "cell": ("windtrain", "windsweep")}


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


def _series_id(run, text: str):
    """``--series`` text as one of a panel's ids (which may be numbers)."""
    if not isinstance(run, PanelRun):
        raise UsageError(f"--series {text}: this Run was trained on one series; --series picks a series "
                         "of a panel (a Run trained with series=...), leave it out here")
    found = [key for key in run.series if str(key) == text]
    if not found:
        shown = ", ".join(map(str, run.series[:10])) + (", ..." if len(run.series) > 10 else "")
        raise UsageError(f"--series {text}: not a series of this panel; its series are {shown}")
    return found[0]


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
WindMagics.windsweep.__doc__ = sweep_help()
WindMagics.windzoo.__doc__ = zoo_help()
WindMagics.windboard.__doc__ = board_help()
