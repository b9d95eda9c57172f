"""The dashboard's results tabs: Explore (a Run's forecast against the truth, one series of
a panel at a time), Compare (the Runs in a table, overlaid in one figure) and Code (the
``%%windtrain`` cell and ``ww.train`` call that train the chosen Run again)."""
from __future__ import annotations

import contextlib
import functools
import html
import traceback

import ipywidgets as widgets

from .errors import WindwidgetsError
from .views import code
from .views.compare import COLUMNS, compare_figure, png, table_html

DESCRIPTION = {"description_width": "130px"}
GRID = dict(grid_template_columns="repeat(2, minmax(300px, 1fr))", grid_gap="4px 12px")


def reported(callback):
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


def offer(dropdown: widgets.Dropdown, keys: list) -> None:
    """The series ``keys`` as a dropdown's choices, the first chosen; hidden when there are none."""
    dropdown.options = [(str(key), key) for key in keys]
    dropdown.value = keys[0] if keys else None
    dropdown.layout.display = None if keys else "none"


def picture(image: widgets.Image, data: bytes) -> None:
    """Show a PNG, or nothing at all (not a broken-image icon) when there is none."""
    image.value = data
    image.layout.display = None if data else "none"


class ResultsTabs:
    """The results tabs of :class:`~windwidgets.dashboard.Dashboard`, which holds ``runs``,
    ``rows`` (the Compare table), ``name`` and ``output``."""

    def _build_results(self) -> None:
        layout = widgets.Layout(width="auto")
        self.run_choice = widgets.Dropdown(description="run", options=[], style=DESCRIPTION,
                                           layout=widgets.Layout(width="460px"))
        self.steps_slider = widgets.IntSlider(description="steps ahead", min=1, max=2, value=1,
                                              continuous_update=False, style=DESCRIPTION, layout=layout)
        self.start_slider = widgets.IntSlider(description="start (row)", min=0, max=1, value=0,
                                              continuous_update=False, style=DESCRIPTION, layout=layout)
        self.interval_toggle = widgets.ToggleButton(description="90% interval", value=False, icon="arrows-v")
        self.explore_series = widgets.Dropdown(description="series", options=[], style=DESCRIPTION,
                                               layout=widgets.Layout(width="300px", display="none"))
        self.explore_series.add_class("windwidgets-explore-series")
        self.explore_plot = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", display="none"))
        self.explore_note = widgets.HTML("<i>train a model to explore its forecasts</i>")
        explore = widgets.VBox([widgets.HBox([self.run_choice, self.explore_series, self.interval_toggle]),
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
        self.explore_series.observe(self._on_explore_series, "value")
        for control in (self.steps_slider, self.start_slider, self.interval_toggle):
            control.observe(self._draw_explore, "value")
        self.sort_by.observe(self._list_runs, "value")
        self.descending.observe(self._list_runs, "value")
        self.compared.observe(self._draw_compare, "value")

    @reported
    def _list_runs(self, _change=None) -> None:
        self.runs_table.value = (table_html(self.rows, self.sort_by.value, self.descending.value)
                                 + "<small>in <code>dashboard.runs</code></small>")
        labels = [(f"{row['run']}: {row['model']} {row['knobs']}", row["run"]) for row in self.rows]
        self.compared.options = labels
        self.run_choice.options = labels
        self.run_choice.value = labels[-1][1]  # the latest run

    @reported
    def _on_run_choice(self, _change=None) -> None:
        run = self.chosen_run
        if run is None:
            return
        number = self.run_choice.value
        config, note = code.as_trained(run)
        self.cell_text.value = code.windtrain_cell(config, self.name, f"run{number}", note)
        self.call_text.value = code.train_call(config, self.name, f"run{number}", note)
        with self._quietly():  # one drawing below, not one per control moved here
            offer(self.explore_series, list(getattr(run, "members", None) or []))
        self._on_explore_series()

    @reported
    def _on_explore_series(self, _change=None) -> None:
        """Fit the sliders to the chosen series (a panel's, or the run's one), then draw."""
        run = self.explored_series
        if run is None or self._silent:
            return
        frame, n_train = getattr(run, "frame", None), getattr(run, "n_train", None)
        if frame is None or n_train is None or n_train >= len(frame):
            learned = frame is not None and run.config.train.refit  # refit=True learned every row
            self.explore_note.value = ("<i>this run learned every row it was given (refit=True): pass later rows "
                                       "with run.update(rows) to explore its forecasts</i>" if learned else
                                       "<i>this run has no series to explore here</i>")
            picture(self.explore_plot, b"")
            return
        with self._quietly():  # one drawing below, not one per slider moved here
            self.start_slider.min, self.start_slider.max = 0, len(frame) - 1
            self.start_slider.min, self.start_slider.value = n_train, n_train
            self.steps_slider.max = len(frame) - n_train
            self.steps_slider.value = min(self.steps_slider.max, 4 * run.config.data.window)
        self._draw_explore()

    @contextlib.contextmanager
    def _quietly(self):
        """Controls moved inside draw nothing (their handlers read ``_silent``); the caller
        draws once after."""
        self._silent = True
        try:
            yield
        finally:
            self._silent = False

    @property
    def explored_series(self):
        """The chosen run, or the chosen series of a panel as a one-series Run."""
        run = self.chosen_run
        if run is None or self.explore_series.value is None:
            return run
        return run.member(self.explore_series.value)

    @property
    def chosen_run(self):
        number = self.run_choice.value
        return None if number is None else self.runs[number]

    @reported
    def _draw_explore(self, _change=None) -> None:
        panel, series = self.chosen_run, self.explored_series
        if series is None or self._silent:
            return
        start = self.start_slider.value
        steps = min(self.steps_slider.value, len(series.frame) - start)  # where the truth is known
        key = self.explore_series.value
        try:  # the panel's own plot names the series in its title
            figure = (series if key is None else panel).plot_forecast(
                steps=steps, start=start, interval=0.9 if self.interval_toggle.value else None,
                **({} if key is None else {"series": key}))
        except WindwidgetsError as error:
            self.explore_note.value = f"<span style='color:#b00020'>{html.escape(str(error))}</span>"
            return
        which = "" if key is None else f", series {html.escape(str(key))}"
        self.explore_note.value = (f"run {self.run_choice.value}{which}: {steps} steps from row {start} "
                                   f"({html.escape(str(series.frame.index[start]))})")
        picture(self.explore_plot, png(figure))

    @reported
    def _draw_compare(self, _change=None) -> None:
        chosen = {f"run {n}": self.runs[n] for n in self.compared.value
                  if getattr(self.runs[n], "n_train", None) is not None}
        if not chosen:
            picture(self.compare_plot, b"")
            return
        steps = self.steps_slider.value if self.run_choice.value is not None else 24
        picture(self.compare_plot, png(compare_figure(chosen, steps, self.explore_series.value)))
