"""The dashboard: from trying models to comparing them to a reproducible cell.

Settings tabs (data, model, train) hold a control per setting of :mod:`windwidgets.config`,
generated from the fields' descriptions (kinds, choices, defaults, help as tooltips); the
model tab shows only the knobs the chosen model reads (the zoo registry's ``knobs``) and its
own options (the keywords and defaults of the module its builder returns). Train calls
:func:`windwidgets.api.fit`, which checks everything as ``ww.train`` does, in a background
thread so that Stop and the other tabs answer. Results tabs: Explore (a Run's forecast
against the truth), Compare (this dashboard's Runs in a table, overlaid in one figure) and
Code (the ``%%windtrain`` cell and ``ww.train`` call that train the Run again).
"""
from __future__ import annotations

import dataclasses
import functools
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
from .config import CHOICES, ModelConfig, RunConfig, Setting, describe
from .data.frames import read_frame
from .errors import WindwidgetsError
from .views import code
from .views.compare import COLUMNS, columns_figure, compare_figure, png, summary, table_html

NUMERIC_SETTINGS = ("target", "covariates", "future_covariates")
COLUMN_SETTINGS = NUMERIC_SETTINGS + ("time", "series")
PREVIEWED = NUMERIC_SETTINGS + ("val_fraction",)
DESCRIPTION = {"description_width": "130px"}
GRID = dict(grid_template_columns="repeat(2, minmax(300px, 1fr))", grid_gap="4px 12px")
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


def _reported(callback):
    """A widget callback whose errors land in the dashboard's output, not in a kernel log."""
    @functools.wraps(callback)
    def reported(self, *args):
        try:
            return callback(self, *args)
        except WindwidgetsError as error:
            self.output.append_stderr(f"{type(error).__name__}: {error}\n")
        except Exception:
            self.output.append_stderr(traceback.format_exc())

    return reported


class Dashboard(widgets.VBox):
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
        self.numeric = [str(c) for c in self.data.select_dtypes("number").columns]
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
        self.settings_tabs = widgets.Tab([
            widgets.VBox([widgets.GridBox(pages["data"], layout=widgets.Layout(**GRID)), self.preview]),
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
        for setting, control in self.controls.items():
            control.observe(self._check, "value")
            if setting in PREVIEWED:
                control.observe(self._draw_preview, "value")
        self._on_model()
        self._draw_preview()
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
            candidates = self._time_columns() if name == "time" else self._series_columns()
            stamps = [str(c) for c in self.data.columns if pd.api.types.is_datetime64_any_dtype(self.data[c])]
            if name == "time" and value is None and len(stamps) == 1:
                value = stamps[0]  # what ww.train would pick by itself, said out loud
            if value is not None and value not in candidates:
                candidates.append(value)
            control = widgets.Dropdown(options=["none"] + candidates, value=_label(value), **common)
            control.layout.display = None if candidates else "none"
            return control
        if name == "model":
            return widgets.Dropdown(options=zoo.names(), value=value, **common)
        if name == "lr" and isinstance(value, (int, float)) and value > 0:
            low, high = min(LR_RANGE[0], math.floor(math.log10(value))), max(LR_RANGE[1], math.ceil(math.log10(value)))
            return widgets.FloatLogSlider(value=value, base=10, min=low, max=high, step=0.1,
                                          readout_format=".1e", continuous_update=False, **common)
        if name in self.CHOICES:
            options = [_label(v) for v in self.CHOICES[name]]
            if _label(value) not in options:  # a device this list does not name: keep it
                options.append(_label(value))
            return widgets.Dropdown(options=options, value=_label(value), **common)
        if setting.kind == "bool":
            return widgets.Checkbox(value=value, indent=False, description=name)
        if setting.kind == "int" and not setting.optional:
            return widgets.IntText(value=value, **common)
        if setting.kind == "float" and not setting.optional:
            return widgets.FloatText(value=value, **common)
        # optional numbers and free strings: a text box where an empty one means None
        return widgets.Text(value="" if value is None else str(value), placeholder="none", **common)

    def _time_columns(self) -> list[str]:
        """Columns that may hold the timestamps: datetimes, or text to parse."""
        return [str(c) for c in self.data.columns if pd.api.types.is_datetime64_any_dtype(self.data[c])
                or pd.api.types.is_object_dtype(self.data[c]) or pd.api.types.is_string_dtype(self.data[c])]

    def _series_columns(self) -> list[str]:
        """Columns that may name the series of a long table: text, categories, whole numbers."""
        return [str(c) for c in self.data.columns
                if not pd.api.types.is_datetime64_any_dtype(self.data[c])
                and not pd.api.types.is_float_dtype(self.data[c])
                and not pd.api.types.is_bool_dtype(self.data[c])]

    @_reported
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
                value = _parse(value)
            settings[name] = value
        defaults = model_options(settings["model"])
        options = {}
        for option, control in self.option_controls.items():
            value = _parse(control.value) if isinstance(control, widgets.Text) else control.value
            if value != defaults.get(option):
                options[option] = value
        settings["options"] = options
        return settings

    def _check(self, _change=None) -> None:
        """Say at once, beside Train, what the library thinks of the settings."""
        try:
            RunConfig.from_kwargs(**self.settings())
        except WindwidgetsError as error:
            self.message.value = f"<span style='color:#b00020'>{html.escape(f'{type(error).__name__}: {error}')}</span>"
            return
        self.message.value = ""

    @_reported
    def _draw_preview(self, _change=None) -> None:
        chosen = [c for name in NUMERIC_SETTINGS for c in self.controls[name].value]
        fraction = self.controls["val_fraction"].value
        n_train = int(len(self.data) * (1 - fraction)) if isinstance(fraction, float) and 0 < fraction < 1 else None
        _picture(self.preview, png(columns_figure(self.data, list(dict.fromkeys(chosen)), n_train)))

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
        """Wait for a fit in the background, then show how it went and add it to the tabs."""
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

    # -- results ---------------------------------------------------------------------------
    def _build_results(self) -> None:
        layout = widgets.Layout(width="auto")
        self.run_choice = widgets.Dropdown(description="run", options=[], style=DESCRIPTION,
                                           layout=widgets.Layout(width="460px"))
        self.steps_slider = widgets.IntSlider(description="steps ahead", min=1, max=2, value=1,
                                              continuous_update=False, style=DESCRIPTION, layout=layout)
        self.start_slider = widgets.IntSlider(description="start (row)", min=0, max=1, value=0,
                                              continuous_update=False, style=DESCRIPTION, layout=layout)
        self.interval_toggle = widgets.ToggleButton(description="90% interval", value=False, icon="arrows-v")
        self.explore_plot = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", display="none"))
        self.explore_note = widgets.HTML("<i>train a model to explore its forecasts</i>")
        explore = widgets.VBox([widgets.HBox([self.run_choice, self.interval_toggle]),
                                widgets.GridBox([self.steps_slider, self.start_slider], layout=widgets.Layout(**GRID)),
                                self.explore_note, self.explore_plot])

        self.sort_by = widgets.Dropdown(description="sort by", options=COLUMNS, value="val loss", style=DESCRIPTION)
        self.descending = widgets.Checkbox(description="largest first", value=False, indent=False)
        self.runs_table = widgets.HTML("<i>no runs yet</i>")
        self.runs_table.add_class("windwidgets-compare")
        self.compared = widgets.SelectMultiple(description="overlay", options=[], rows=4, style=DESCRIPTION,
                                               layout=widgets.Layout(width="460px"))
        self.compare_plot = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", display="none"))
        self.compared.add_class("windwidgets-overlay")
        self.compare_plot.add_class("windwidgets-compare-plot")
        compare = widgets.VBox([widgets.HBox([self.sort_by, self.descending]), self.runs_table,
                                self.compared, self.compare_plot])

        self.cell_text = widgets.Textarea(description="%%windtrain", rows=8, style=DESCRIPTION,
                                          layout=widgets.Layout(width="95%"))
        self.call_text = widgets.Textarea(description="ww.train", rows=6, style=DESCRIPTION,
                                          layout=widgets.Layout(width="95%"))
        copy = widgets.VBox([widgets.HTML("The cell and the call that train the chosen run again "
                                          "(the same config and, with its seed, the same history):"),
                             self.cell_text, self.call_text])
        self.results = widgets.Tab([explore, compare, copy], titles=["explore", "compare", "code"])

        self.run_choice.observe(self._on_run_choice, "value")
        for control in (self.steps_slider, self.start_slider, self.interval_toggle):
            control.observe(self._draw_explore, "value")
        self.sort_by.observe(self._list_runs, "value")
        self.descending.observe(self._list_runs, "value")
        self.compared.observe(self._draw_compare, "value")

    @_reported
    def _list_runs(self, _change=None) -> None:
        self.runs_table.value = (table_html(self.rows, self.sort_by.value, self.descending.value)
                                 + "<small>in <code>dashboard.runs</code></small>")
        labels = [(f"{row['run']}: {row['model']} {row['knobs']}", row["run"]) for row in self.rows]
        self.compared.options = labels
        self.run_choice.options = labels
        self.run_choice.value = labels[-1][1]  # the latest run

    @_reported
    def _on_run_choice(self, _change=None) -> None:
        run = self.chosen_run
        if run is None:
            return
        number = self.run_choice.value
        config, note = code.as_trained(run)
        self.cell_text.value = code.windtrain_cell(config, self.name, f"run{number}", note)
        self.call_text.value = code.train_call(config, self.name, f"run{number}", note)
        frame, n_train = getattr(run, "frame", None), getattr(run, "n_train", None)
        if frame is None or n_train is None or n_train >= len(frame):
            self.explore_note.value = "<i>this run has no single series to explore here (a panel?)</i>"
            _picture(self.explore_plot, b"")
            return
        self._silent = True  # one drawing below, not one per slider moved here
        try:
            self.start_slider.min, self.start_slider.max = 0, len(frame) - 1
            self.start_slider.min, self.start_slider.value = n_train, n_train
            self.steps_slider.max = len(frame) - n_train
            self.steps_slider.value = min(self.steps_slider.max, 4 * run.config.data.window)
        finally:
            self._silent = False
        self._draw_explore()

    @property
    def chosen_run(self):
        number = self.run_choice.value
        return None if number is None else self.runs[number]

    @_reported
    def _draw_explore(self, _change=None) -> None:
        run = self.chosen_run
        if run is None or self._silent:
            return
        start = self.start_slider.value
        steps = min(self.steps_slider.value, len(run.frame) - start)  # where the truth is known
        try:
            figure = run.plot_forecast(steps=steps, start=start, interval=0.9 if self.interval_toggle.value else None)
        except WindwidgetsError as error:
            self.explore_note.value = f"<span style='color:#b00020'>{html.escape(str(error))}</span>"
            return
        self.explore_note.value = (f"run {self.run_choice.value}: {steps} steps from row {start} "
                                   f"({html.escape(str(run.frame.index[start]))})")
        _picture(self.explore_plot, png(figure))

    @_reported
    def _draw_compare(self, _change=None) -> None:
        chosen = {f"run {n}": self.runs[n] for n in self.compared.value
                  if getattr(self.runs[n], "n_train", None) is not None}
        if not chosen:
            _picture(self.compare_plot, b"")
            return
        steps = self.steps_slider.value if self.run_choice.value is not None else 24
        _picture(self.compare_plot, png(compare_figure(chosen, steps)))


def _picture(image: widgets.Image, data: bytes) -> None:
    """Show a PNG, or nothing at all (not a broken-image icon) when there is none."""
    image.value = data
    image.layout.display = None if data else "none"


def _label(value) -> str:
    """A choice as its dropdown label ("none" for None); ``_parse`` reads it back. Labels,
    not values: ipywidgets takes a Dropdown value of None for "nothing chosen"."""
    return "none" if value is None else str(value)


def _parse(text: str):
    """'' -> None, '12' -> 12, '0.5' -> 0.5, a TOML table '{power = [0, inf]}' -> a dict,
    anything else stays text."""
    text = text.strip()
    if text == "" or text.lower() == "none":
        return None
    if text.startswith("{"):
        try:
            import tomllib
        except ImportError:  # Python 3.10: the text goes on and is refused with its value
            return text
        try:
            return tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


__all__ = ["Dashboard"]
