"""The dashboard: a control per setting of :mod:`windwidgets.config`, a Train button, the
live panel of the latest fit, and ``.runs``, the Runs it trained.

The controls are generated from the config dataclasses (their types, defaults and comments),
so a new setting gets a control without touching this file; the dashboard only collects the
values and calls :func:`windwidgets.api.fit`, which checks them like ``ww.train`` does.
"""
from __future__ import annotations

import dataclasses
import html
import traceback
import typing

import ipywidgets as widgets

from . import zoo
from .api import fit
from .config import CHOICES, DataConfig, ModelConfig, RunConfig, TrainConfig, field_docs
from .data.frames import read_frame
from .errors import WindwidgetsError

SECTIONS = (("data", DataConfig), ("model", ModelConfig), ("train", TrainConfig))
COLUMN_SETTINGS = ("target", "covariates", "future_covariates", "time", "series")
DESCRIPTION = {"description_width": "130px"}


class Dashboard(widgets.VBox):
    """Choose the settings, press Train, watch the fit; every Run lands in ``.runs``.

    Parameters
    ----------
    data : the series to train on (what ``ww.train`` accepts as a table).
    **defaults : starting values for the controls, by ``ww.train`` keyword.

    Attributes
    ----------
    controls : dict of setting name -> widget, one per setting of ``ww.train`` except
        ``SKIPPED``.
    runs : the Runs trained from this dashboard, oldest first.
    """

    SKIPPED = ("live", "options", "task")  # the panel is always live; dicts and tasks need code
    CHOICES = {**CHOICES, "device": ("auto", "cpu", "cuda", "mps")}

    def __init__(self, data, **defaults):
        self.data = read_frame(data)
        self.runs: list = []
        self.controls: dict[str, widgets.Widget] = {}
        docs = field_docs()
        unknown = sorted(set(defaults) - set(docs))
        if unknown:
            raise WindwidgetsError(
                f"unknown setting(s) {', '.join(map(repr, unknown))} for the Dashboard; "
                f"valid settings: {', '.join(sorted(docs))}"
            )
        tabs = []
        for section, klass in SECTIONS:
            hints = typing.get_type_hints(klass)
            boxes = []
            for f in dataclasses.fields(klass):
                if f.name in self.SKIPPED:
                    continue
                default, comment = docs[f.name]
                control = self._control(f.name, hints[f.name], defaults.get(f.name, default))
                control.tooltip = comment
                self.controls[f.name] = control
                boxes.append(control)
            tabs.append(widgets.GridBox(boxes, layout=widgets.Layout(
                grid_template_columns="repeat(2, minmax(300px, 1fr))", grid_gap="4px 12px")))
        self.tabs = widgets.Tab(tabs, titles=[name for name, _ in SECTIONS])
        self.train_button = widgets.Button(description="Train", icon="play", button_style="primary")
        self.train_button.on_click(self._on_train)
        self.output = widgets.Output()
        self.runs_table = widgets.HTML()
        self.live = widgets.VBox()
        super().__init__([self.tabs, widgets.HBox([self.train_button, self.runs_table]),
                          self.output, self.live])

    # -- controls --------------------------------------------------------------------------
    def _control(self, name: str, kind, value) -> widgets.Widget:
        common = dict(description=name, style=DESCRIPTION, layout=widgets.Layout(width="auto"))
        if name in COLUMN_SETTINGS:
            columns = [str(c) for c in self.data.columns]
            chosen = [value] if isinstance(value, str) else list(value or [])
            if name == "target" and not chosen:
                numeric = self.data.select_dtypes("number").columns
                chosen = [str(numeric[0] if len(numeric) else columns[0])]
            return widgets.SelectMultiple(options=columns, value=chosen, rows=min(4, len(columns)), **common)
        if name == "model":
            return widgets.Dropdown(options=zoo.names(), value=value, **common)
        if name in self.CHOICES:
            options = [("none" if v is None else v, v) for v in self.CHOICES[name]]
            return widgets.Dropdown(options=options, value=value, **common)
        if kind is bool:
            return widgets.Checkbox(value=value, indent=False, description=name)
        if kind is int:
            return widgets.IntText(value=value, **common)
        if kind is float:
            return widgets.FloatText(value=value, **common)
        # optional numbers and free strings: a text box where an empty one means None
        return widgets.Text(value="" if value is None else str(value), placeholder="none", **common)

    def settings(self) -> dict:
        """The ``ww.train`` keywords the controls hold now."""
        settings = {}
        for name, control in self.controls.items():
            value = control.value
            if name in COLUMN_SETTINGS:
                value = list(value) if len(value) > 1 else (value[0] if value else None)
            elif isinstance(control, widgets.Text):
                value = _parse(value)
            settings[name] = value
        return settings

    # -- training --------------------------------------------------------------------------
    def _on_train(self, _button=None) -> None:
        # append_* rather than `with output:` so that messages also land outside a kernel
        self.output.outputs = ()
        try:
            if any(run.training for run in self.runs):
                raise WindwidgetsError("a fit is still running; press its Stop button, "
                                       "or wait for it to end, before training again")
            config = RunConfig.from_kwargs(**self.settings(), live="widgets")
            run = fit(self.data, config, show=self._show)
        except WindwidgetsError as error:
            self.output.append_stderr(f"{type(error).__name__}: {error}\n")
            return
        except Exception:
            self.output.append_stderr(traceback.format_exc())
            return
        self.runs.append(run)
        self._list_runs()

    def _show(self, panel: widgets.Widget) -> None:
        self.live.children = (panel,)

    def _list_runs(self) -> None:
        rows = "".join(
            f"<tr><td>{i}</td><td>{html.escape(run.config.model.model)}</td>"
            f"<td>{run.config.model.hidden_size} x {run.config.model.num_layers}</td>"
            f"<td>{run.config.data.window}</td><td>{run.config.train.epochs}</td></tr>"
            for i, run in enumerate(self.runs)
        )
        self.runs_table.value = (
            "<table><tr><th>run</th><th>model</th><th>hidden x layers</th><th>window</th>"
            f"<th>epochs</th></tr>{rows}</table><small>in <code>dashboard.runs</code></small>"
        )


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
