"""The dashboard: from trying models to comparing them to a reproducible cell.

Settings tabs (data, model, train) hold a control per setting of :mod:`windwidgets.config`,
generated from the fields' descriptions (kinds, choices, defaults, help as tooltips); the
model tab shows only the knobs the chosen model reads (the zoo registry's ``knobs``) and its
own options (the keywords and defaults of the module its builder returns). Train calls
:func:`windwidgets.api.fit`, which checks everything as ``ww.train`` does, in a background
thread so that Stop and the other tabs answer. The controls offer only the columns that can
fill each role (see :mod:`windwidgets.dashboard_data`), and the data and settings are
checked as they change, beside Train. The results tabs live in
:mod:`windwidgets.dashboard_results`.
"""
from __future__ import annotations

import dataclasses
import html
import inspect
import math
import threading
import traceback
import typing
import warnings

import ipywidgets as widgets
import pandas as pd

from . import zoo
from .api import fit
from .fit import held_warnings
from .config import CHOICES, ModelConfig, RunConfig, Setting, describe
from .dashboard_data import (check_columns, check_data, label, numeric_columns, parse, series_columns,
                             series_rows, time_columns)
from .dashboard_results import DESCRIPTION, GRID, ResultsTabs, offer, picture, reported
from .data.frames import read_frame
from .errors import WindwidgetsError
from .views.compare import columns_figure, png, summary

NUMERIC_SETTINGS = ("target", "covariates", "future_covariates")
COLUMN_SETTINGS = NUMERIC_SETTINGS + ("time", "series")
PREVIEWED = NUMERIC_SETTINGS + ("val_fraction", "time", "series")
LR_RANGE = (-6, 0)  # the learning-rate slider's powers of ten


def devices() -> tuple:
    """What ``device`` may be on this machine: auto, cpu, each cuda:N, mps."""
    import torch

    found = ["auto", "cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    return tuple(found + (["mps"] if mps is not None and mps.is_available() else []))


def model_options(name: str) -> dict:
    """The ``options`` a model takes and their defaults, read from the signature of the
    module its builder returns (the model's own description); {} when it declares none."""
    entry = zoo.entry(name)
    try:
        module = typing.get_type_hints(entry.builder).get("return")
    except (NameError, TypeError):  # a user's builder with annotations we cannot resolve
        module = None
    parameters = inspect.signature(module).parameters if inspect.isclass(module) else {}
    return {key: (parameters[key].default if key in parameters else None) for key in entry.options or ()}


class Dashboard(ResultsTabs, widgets.VBox):
    """Choose the settings, press Train, watch the fit, explore and compare the Runs, copy
    the one you like as code.

    Parameters
    ----------
    data : the series to train on (what ``ww.train`` accepts as a table).
    name : the notebook variable that holds ``data``; the copied code reads it.
    **defaults : starting values for the controls, by ``ww.train`` keyword.

    Attributes
    ----------
    controls : dict of setting name -> widget, one per setting of ``ww.train`` except
        ``SKIPPED``; model options are in ``option_controls``.
    runs : the Runs trained from this dashboard, oldest first.
    """

    SKIPPED = ("live", "options", "task")  # the panel is always live; tasks need code

    def __init__(self, data, *, name: str = "df", **defaults):
        self.data = read_frame(data)
        self.name = name
        self.runs: list = []
        self.rows: list[dict] = []  # the Compare table, one row per finished Run
        self.CHOICES = {**CHOICES, "device": devices()}
        self.controls: dict[str, widgets.Widget] = {}
        self._follower: threading.Thread | None = None
        self._silent = False
        described = describe()
        unknown = sorted(set(defaults) - set(described))
        if unknown:
            raise WindwidgetsError(
                f"unknown setting(s) {', '.join(map(repr, unknown))} for the Dashboard; "
                f"valid settings: {', '.join(sorted(described))}"
            )
        self.numeric = numeric_columns(self.data)
        for setting in NUMERIC_SETTINGS:  # a wrong column is refused here, with the columns it may be
            check_columns(setting, defaults.get(setting), self.numeric)
        pages: dict = {section: [] for section in RunConfig.SECTIONS}
        for name, setting in described.items():
            if name not in self.SKIPPED:
                control = self._control(name, setting, defaults.get(name, setting.default))
                control.tooltip = setting.help
                self.controls[name] = control
                pages[setting.section].append(control)
        self.option_controls: dict[str, widgets.Widget] = {}
        self.options_box = widgets.VBox()
        self._given_options = dict(defaults.get("options") or {})
        self.preview = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.preview_series = widgets.Dropdown(description="preview series", options=[], style=DESCRIPTION,
                                               layout=widgets.Layout(width="300px", display="none"))
        self.preview_series.add_class("windwidgets-preview-series")
        self.settings_tabs = widgets.Tab([
            widgets.VBox([widgets.GridBox(pages["data"], layout=widgets.Layout(**GRID)), self.preview_series,
                          self.preview]),
            widgets.VBox([widgets.GridBox(pages["model"], layout=widgets.Layout(**GRID)), self.options_box]),
            widgets.GridBox(pages["train"], layout=widgets.Layout(**GRID)),
        ], titles=list(RunConfig.SECTIONS))

        self.train_button = widgets.Button(description="Train", icon="play", button_style="primary")
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger", disabled=True)
        self.train_button.add_class("windwidgets-train-button")
        self.stop_button.add_class("windwidgets-board-stop")
        self.train_button.on_click(self._on_train)
        self.stop_button.on_click(self._on_stop)
        self.message = widgets.HTML(layout=widgets.Layout(flex="1"))  # the library's own word on the settings
        self.output = widgets.Output()  # errors of a Train click, and of a fit that failed
        self.live = widgets.VBox()

        self._build_results()
        super().__init__([self.settings_tabs,
                          widgets.HBox([self.train_button, self.stop_button, self.message]),
                          self.output, self.live, self.results])
        self.add_class("windwidgets-dashboard")
        self.controls["model"].observe(self._on_model, "value")
        self.controls["target"].observe(self._offer_covariates, "value")
        self.controls["series"].observe(self._offer_series, "value")
        self.preview_series.observe(self._draw_preview, "value")
        for setting, control in self.controls.items():
            control.observe(self._check, "value")
            if setting in PREVIEWED:
                control.observe(self._draw_preview, "value")
        self._on_model()
        self._offer_covariates()
        self._offer_series()
        self._check()

    # -- controls --------------------------------------------------------------------------
    def _control(self, name: str, setting: Setting, value) -> widgets.Widget:
        common = dict(description=name, style=DESCRIPTION, layout=widgets.Layout(width="auto"))
        if name in NUMERIC_SETTINGS:
            chosen = [value] if isinstance(value, str) else list(value or [])
            if name == "target" and not chosen and self.numeric:
                chosen = self.numeric[:1]
            return widgets.SelectMultiple(options=self.numeric, value=chosen,
                                          rows=min(4, max(1, len(self.numeric))), **common)
        if name in ("time", "series"):  # shown only when the table has such columns
            candidates = time_columns(self.data) if name == "time" else series_columns(self.data)
            stamps = [str(c) for c in self.data.columns if pd.api.types.is_datetime64_any_dtype(self.data[c])]
            if name == "time" and value is None and len(stamps) == 1:
                value = stamps[0]  # what ww.train would pick by itself, said out loud
            if value is not None and value not in candidates:  # given: kept, and checked beside Train
                candidates.append(value)
            control = widgets.Dropdown(options=["none"] + candidates, value=label(value), **common)
            control.layout.display = None if candidates else "none"
            return control
        if name == "model":
            return widgets.Dropdown(options=zoo.names(), value=value, **common)
        if name == "lr" and isinstance(value, (int, float)) and value > 0:
            low, high = min(LR_RANGE[0], math.floor(math.log10(value))), max(LR_RANGE[1], math.ceil(math.log10(value)))
            return widgets.FloatLogSlider(value=value, base=10, min=low, max=high, step=0.1,
                                          readout_format=".1e", continuous_update=False, **common)
        if name in self.CHOICES:
            options = [label(v) for v in self.CHOICES[name]]
            if label(value) not in options:  # a device this list does not name: keep it
                options.append(label(value))
            return widgets.Dropdown(options=options, value=label(value), **common)
        if setting.kind == "bool":
            return widgets.Checkbox(value=value, indent=False, description=name)
        if setting.kind == "int" and not setting.optional:
            return widgets.IntText(value=value, **common)
        if setting.kind == "float" and not setting.optional:
            return widgets.FloatText(value=value, **common)
        # optional numbers and free strings: a text box where an empty one means None
        return widgets.Text(value="" if value is None else str(value), placeholder="none", **common)

    @reported
    def _offer_covariates(self, _change=None) -> None:
        """Covariates are chosen among the numeric columns that are not a target."""
        targets = set(self.controls["target"].value)
        for name in ("covariates", "future_covariates"):
            control = self.controls[name]
            kept = [c for c in control.value if c not in targets]
            control.options = [c for c in self.numeric if c not in targets]
            control.value = kept

    @reported
    def _offer_series(self, _change=None) -> None:
        """The data preview draws one series of a long table: the ids of the chosen column."""
        column = parse(self.controls["series"].value)
        ids = list(pd.unique(self.data[column])) if column in self.data.columns else []
        with self._quietly():  # one drawing below
            offer(self.preview_series, ids)
        self._draw_preview()

    @reported
    def _on_model(self, _change=None) -> None:
        """Show the knobs the chosen model reads, and its own options."""
        name = self.controls["model"].value
        knobs = zoo.entry(name).knobs
        for f in dataclasses.fields(ModelConfig):
            if f.name in self.controls and f.name != "model":
                self.controls[f.name].layout.display = None if f.name in knobs else "none"
        self.option_controls = {}
        for option, default in model_options(name).items():
            value = self._given_options.get(option, default)
            common = dict(description=option, style=DESCRIPTION, layout=widgets.Layout(width="auto"))
            if isinstance(default, bool):
                control = widgets.Checkbox(value=value, indent=False, description=option)
            elif isinstance(default, int):
                control = widgets.IntText(value=value, **common)
            elif isinstance(default, float):
                control = widgets.FloatText(value=value, step=0.05, **common)
            else:
                control = widgets.Text(value="" if value is None else str(value), placeholder="none", **common)
            control.tooltip = f"an option of {name}; default {default!r}"
            control.observe(self._check, "value")
            self.option_controls[option] = control
        title = widgets.HTML(f"<b>{html.escape(name)}'s own options</b>") if self.option_controls else widgets.HTML()
        self.options_box.children = [title, widgets.GridBox(list(self.option_controls.values()),
                                                            layout=widgets.Layout(**GRID))]

    def settings(self) -> dict:
        """The ``ww.train`` keywords the controls hold now (model options that differ from
        the model's defaults under ``options``)."""
        settings = {}
        for name, control in self.controls.items():
            value = control.value
            if name in NUMERIC_SETTINGS:
                value = list(value) if len(value) > 1 else (value[0] if value else None)
            elif isinstance(control, (widgets.Text, widgets.Dropdown)) and name != "model":
                value = parse(value)
            settings[name] = value
        defaults = model_options(settings["model"])
        options = {}
        for option, control in self.option_controls.items():
            value = parse(control.value) if isinstance(control, widgets.Text) else control.value
            if value != defaults.get(option):
                options[option] = value
        settings["options"] = options
        return settings

    def _check(self, _change=None) -> None:
        """Say at once, beside Train, what stops these settings from training on this data:
        the library's word on the settings, then the checks of the data against them."""
        try:
            config = RunConfig.from_kwargs(**self.settings())
            problem = check_data(self.data, config.data)
        except WindwidgetsError as error:
            problem = f"{type(error).__name__}: {error}"
        self.message.value = f"<span style='color:#b00020'>{html.escape(problem)}</span>" if problem else ""

    @reported
    def _draw_preview(self, _change=None) -> None:
        if not self._silent:
            picture(self.preview, png(self.preview_figure()))

    def preview_figure(self):
        """The data tab's plot: the chosen columns of one series over time, the start of its
        validation part marked; nothing drawn where several series are interleaved."""
        chosen = [c for name in NUMERIC_SETTINGS for c in self.controls[name].value]
        key = self.preview_series.value
        rows = series_rows(self.data, parse(self.controls["series"].value), key, parse(self.controls["time"].value))
        interleaved = rows.index.has_duplicates  # several series at each time: not one line to draw
        fraction = self.controls["val_fraction"].value
        n_train = int(len(rows) * (1 - fraction)) if isinstance(fraction, float) and 0 < fraction < 1 else None
        return columns_figure(rows, [] if interleaved else list(dict.fromkeys(chosen)), n_train,
                              note="the times repeat: choose `series` to preview one series" if interleaved
                              else "choose a target", title="" if key is None else f"series {key}")

    # -- training --------------------------------------------------------------------------
    def _on_train(self, _button=None) -> None:
        # append_* rather than `with output:` so that messages also land outside a kernel
        self.output.outputs = ()
        try:
            if self.training:
                raise WindwidgetsError("a fit is still running; press Stop, or wait for it to end, "
                                       "before training again")
            config = RunConfig.from_kwargs(**self.settings(), live="widgets")
            with warnings.catch_warnings(record=True) as caught:  # shown here, not in a log
                warnings.simplefilter("always")
                run = fit(self.data, config, show=self._show, background=True)
        except WindwidgetsError as error:
            self.output.append_stderr(f"{type(error).__name__}: {error}\n")
            return
        except Exception:
            self.output.append_stderr(traceback.format_exc())
            return
        for warning in caught:
            self.output.append_stderr(f"{warning.category.__name__}: {warning.message}\n")
        self.runs.append(run)
        self.train_button.disabled, self.stop_button.disabled = True, False
        self._follower = threading.Thread(target=self._follow, args=(run, len(self.runs) - 1),
                                          name="windwidgets-dashboard", daemon=True)
        run._job.follow(self._follower)  # run.wait() then returns once the Run is scored and listed

    def _on_stop(self, _button=None) -> None:
        if self.runs:
            self.runs[-1].stop()
        self.stop_button.disabled = True

    def _follow(self, run, number: int) -> None:
        """Wait for a fit in the background, then show how it went and add it to the tabs. The
        warnings of the fit and of its scoring are shown here, not on a cell's stderr."""
        with held_warnings() as held:
            try:
                run.wait()
            except Exception as error:  # the fit failed: its error belongs in the dashboard
                self.output.append_stderr(f"run {number} failed: {type(error).__name__}: {error}\n")
            try:
                self.rows.append(summary(run, number))
                self._list_runs()
            except Exception:
                self.output.append_stderr(traceback.format_exc())
            finally:
                self.train_button.disabled, self.stop_button.disabled = False, True
        for warning in held:
            self.output.append_stderr(f"run {number}: {warning.category.__name__}: {warning.message}\n")

    @property
    def training(self) -> bool:
        """True while a fit started here is running (or being scored)."""
        return self._follower is not None and self._follower.is_alive()

    def wait(self, timeout: float | None = None) -> "Dashboard":
        """Block until the running fit ends and its row is in the Compare table."""
        if self._follower is not None:
            self._follower.join(timeout)
        return self

    def _show(self, panel: widgets.Widget) -> None:
        self.live.children = (panel,)


__all__ = ["Dashboard"]
