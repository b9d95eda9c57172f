"""The dashboard through its widgets' values and clicks: the knobs of the chosen model,
training and stopping in the background, a failing fit, comparing Runs, and the copied cell
run in a real IPython shell."""
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import windwidgets as ww
from windwidgets.dashboard import devices, model_options
from windwidgets.views.compare import COLUMNS, compare_figure
from windwidgets.zoo import registry

TINY = dict(hidden_size=8, num_layers=1, window=12, epochs=2, batch_size=32)


def shown(board) -> set:
    return {name for name, control in board.controls.items() if control.layout.display != "none"}


def test_the_chosen_model_shows_its_own_knobs_and_options(small_wind):
    board = ww.Dashboard(small_wind, **TINY)
    assert board.controls["target"].options == ("speed", "direction", "temperature", "pressure")
    assert "time" not in shown(board) and "series" not in shown(board)  # the table has no such columns
    assert "nonlinearity" not in shown(board) and board.option_controls == {}  # lstm
    board.controls["model"].value = "rnn"
    assert "nonlinearity" in shown(board)
    board.controls["model"].value = "cnn_lstm"
    assert "nonlinearity" not in shown(board)
    assert {k: c.value for k, c in board.option_controls.items()} == {"kernel_size": 3, "conv_layers": 1,
                                                                      "channels": ""}
    board.option_controls["kernel_size"].value = 5
    assert board.settings()["options"] == {"kernel_size": 5}  # only what differs from the model's default
    board.controls["model"].value = "seq2seq"
    assert model_options("seq2seq") == {"teacher_forcing": 1.0, "free_running_from": 0.7}
    assert board.option_controls["teacher_forcing"].value == 1.0 and board.settings()["options"] == {}
    assert board.controls["device"].options == devices() and devices()[:2] == ("auto", "cpu")
    assert board.controls["lr"].value == pytest.approx(1e-3)  # a log slider
    assert board.controls["mode"].options == ("auto", "window", "sequence", "stateful")
    board.controls["fill"].value, board.controls["scaler"].value, board.controls["mode"].value = \
        "none", "none", "sequence"
    assert (board.settings()["fill"], board.settings()["scaler"], board.settings()["mode"]) == (None, None, "sequence")


def test_a_long_table_offers_its_time_and_series_columns():
    farm = ww.datasets.wind(stations=2, days=10)  # station, time, then the numeric columns
    farm["note"] = [f"reading {i}" for i in range(len(farm))]  # text, neither a time nor an id
    farm["stamp"] = farm["time"].astype(str)  # text that parses as times
    board = ww.Dashboard(farm, name="farm", target="speed", **TINY)
    assert {"time", "series"} <= shown(board)
    assert board.controls["time"].value == "time"  # the one datetime column, chosen out loud
    assert board.controls["time"].options == ("none", "time", "stamp")
    assert board.controls["series"].options == ("none", "station")
    assert board.controls["covariates"].options == ("direction", "temperature", "pressure")  # not the target
    board.controls["covariates"].value = ("temperature", "pressure")
    board.controls["target"].value = ("speed", "temperature")
    assert board.controls["covariates"].options == ("direction", "pressure")
    assert board.controls["covariates"].value == ("pressure",)
    board.controls["target"].value = ("speed",)

    whole = bytes(board.preview.value)
    assert board.preview_series.layout.display == "none"
    assert board.preview_figure().axes[0].get_lines() == []  # not the series interleaved as one line
    assert ("`time` (&#x27;time&#x27;) repeats its values: the table holds several series; choose the column "
            "that names them as `series` (&#x27;station&#x27;)") in board.message.value
    board.controls["series"].value = "station"
    assert board.preview_series.options == (("S1", "S1"), ("S2", "S2")) and board.preview_series.value == "S1"
    first = bytes(board.preview.value)
    line, validation = board.preview_figure().axes[0].get_lines()  # one series, where validation starts
    assert len(line.get_xdata()) == 240 and board.preview_figure().axes[0].get_title(loc="left") == "series S1"
    board.preview_series.value = "S2"
    assert len({whole, first, bytes(board.preview.value)}) == 3  # one series at a time, redrawn
    board.controls["window"].value = 500  # checked as it changes, before Train
    assert ("series &#x27;S1&#x27;: `window` + `horizon` (500 + 1) is longer than the training part of the "
            "series (192 of 240 rows") in board.message.value
    board.controls["window"].value = 12
    assert board.message.value == ""

    board.train_button.click()
    board.wait(timeout=60)
    assert board.output.outputs == ()  # no warning about guessing the time column
    (run,) = board.runs
    assert run.config.data.series == "station" and 'series = "station"' in board.cell_text.value
    assert board.explore_series.options == (("S1", "S1"), ("S2", "S2")) and board.explore_series.value == "S1"
    assert board.explore_note.value.startswith("run 0, series S1: 48 steps from row 192")
    board.explore_series.value = "S2"
    assert board.explore_note.value.startswith("run 0, series S2: 48 steps from row 192")
    assert bytes(board.explore_plot.value).startswith(b"\x89PNG")
    board.compared.value = (0,)  # the explored series, named in the legend
    assert bytes(board.compare_plot.value).startswith(b"\x89PNG") and board.output.outputs == ()
    figure = compare_figure({"run 0": run}, 24, "S2")
    assert [line.get_label() for line in figure.axes[0].get_lines()] == ["speed (truth)", "run 0, S2"]
    s2 = run.member("S2")
    truth = figure.axes[0].get_lines()[0].get_ydata()
    np.testing.assert_allclose(truth, s2.frame["speed"].iloc[s2.n_train - 24 : s2.n_train + 24])


def test_the_rows_of_one_series_by_time():
    from windwidgets.dashboard_data import series_rows

    farm = ww.datasets.wind(stations=2, days=3)
    rows = series_rows(farm, "station", "S2", "time")
    assert list(rows["station"].unique()) == ["S2"] and len(rows) == 72
    assert isinstance(rows.index, pd.DatetimeIndex) and rows.index.is_monotonic_increasing


def test_a_bad_column_is_refused_with_the_columns_it_may_be_and_the_readmes_bounds_train(small_wind):
    with pytest.raises(ww.WindwidgetsError, match=r"`target` \('nope'\) names 'nope', not a numeric column "
                                                  r"of the data; numeric columns: 'speed', 'direction'"):
        ww.Dashboard(small_wind, target="nope")
    with pytest.raises(ww.WindwidgetsError, match=r"`covariates` \(\['speed', 'wind'\]\) names 'wind'"):
        ww.Dashboard(small_wind, covariates=["speed", "wind"])
    board = ww.Dashboard(small_wind, target="speed", bounds={"speed": (0, None)}, **TINY)
    assert board.settings()["bounds"] == {"speed": (0, None)} and board.message.value == ""
    board.controls["bounds"].value = "{speed = [0, inf]}"  # a TOML table, as a %%windtrain body writes it
    assert board.settings()["bounds"] == {"speed": [0, float("inf")]} and board.message.value == ""
    board.controls["bounds"].value = "{'speed': (0, None)}"
    board.train_button.click()
    board.wait(timeout=60)
    assert board.output.outputs == () and board.runs[0].config.data.bounds == {"speed": (0, None)}


def test_an_invalid_combination_shows_the_librarys_message_beside_train(small_wind):
    board = ww.Dashboard(small_wind, **TINY)
    assert board.message.value == ""
    board.controls["mode"].value, board.controls["stateful"].value = "window", True
    assert "`stateful=True` is mode=&#x27;stateful&#x27;, which contradicts mode=&#x27;window&#x27;" \
        in board.message.value
    board.controls["stateful"].value = False
    assert board.message.value == ""


def test_train_runs_in_the_background_and_stop_answers(small_wind):
    board = ww.Dashboard(small_wind, target="speed", **{**TINY, "epochs": 500})
    board.train_button.click()
    (run,) = board.runs
    assert run.training and board.training
    assert board.train_button.disabled and not board.stop_button.disabled
    board.train_button.click()  # a second click while it runs is refused with a reason
    assert "a fit is still running; press Stop" in board.output.outputs[0]["text"] and len(board.runs) == 1
    board.stop_button.click()
    board.wait(timeout=60)
    assert run.stop_reason == "stopped" and 1 <= len(run.history) < 500
    assert not board.train_button.disabled and board.stop_button.disabled
    assert len(board.rows) == 1 and board.rows[0]["epochs"] == len(run.history)
    assert f"\nepochs = {len(run.history)}\n" in board.cell_text.value  # the stop is not a setting
    assert f"# stopped at epoch {len(run.history)} of 500" in board.cell_text.value


def test_a_fit_that_fails_shows_its_error_in_the_dashboard(small_wind):
    class Broken(torch.nn.Module):
        def __init__(self, spec):
            super().__init__()
            self.linear = torch.nn.Linear(spec.input_size, spec.horizon * spec.output_size)

        def forward(self, x):
            raise RuntimeError("the broken model cannot go forward")

    ww.zoo.register("broken", lambda spec, config: Broken(spec))
    try:
        board = ww.Dashboard(small_wind, model="broken", **TINY)
        board.train_button.click()
        board.wait(timeout=60)
    finally:
        registry._REGISTRY.pop("broken")
    text = "".join(o["text"] for o in board.output.outputs)
    assert "run 0 failed: RuntimeError: the broken model cannot go forward" in text
    assert board.runs[0].stop_reason == "error" and not board.train_button.disabled


def test_compare_two_runs_then_explore_and_copy_one_as_code(small_wind):
    board = ww.Dashboard(small_wind, name="wind", target="speed", **TINY)
    board.train_button.click()
    board.wait(timeout=60)
    board.controls["model"].value, board.controls["epochs"].value = "gru", 3
    board.train_button.click()
    board.wait(timeout=60)
    assert [row["model"] for row in board.rows] == ["lstm", "gru"] and board.rows[1]["epochs"] == 3
    for row, run in zip(board.rows, board.runs):
        scores = run.evaluate()
        assert (row["MAE"], row["MASE"]) == (scores["mae"], scores["mase"])
        assert row["val loss"] == run.history["val_loss"].min() and row["knobs"] == "hidden_size=8 num_layers=1"

    board.sort_by.value, board.descending.value = "epochs", True
    assert re.findall(r"<td>(lstm|gru)</td>", board.runs_table.value) == ["gru", "lstm"]
    assert re.findall(r"<th>([^<]+)</th>", board.runs_table.value) == list(COLUMNS)
    board.descending.value = False
    assert re.findall(r"<td>(lstm|gru)</td>", board.runs_table.value) == ["lstm", "gru"]

    assert bytes(board.compare_plot.value) == b""
    board.compared.value = (0, 1)
    assert bytes(board.compare_plot.value).startswith(b"\x89PNG")

    assert board.run_choice.value == 1  # the latest run is explored and copied
    first = bytes(board.explore_plot.value)
    assert first.startswith(b"\x89PNG") and "48 steps from row 403" in board.explore_note.value
    board.steps_slider.value = 10
    assert bytes(board.explore_plot.value) != first and "10 steps from row 403" in board.explore_note.value
    board.start_slider.value = 450
    assert "10 steps from row 450" in board.explore_note.value
    board.interval_toggle.value = True
    assert bytes(board.explore_plot.value).startswith(b"\x89PNG")

    cell = board.cell_text.value
    assert cell.startswith("%%windtrain --data wind --out run1\n") and 'model = "gru"' in cell
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "windwidgets")
    shell.user_ns.update(wind=small_wind, ww=ww)
    copies = []
    try:  # live=False: the same fit, without the text view printing into the test's output
        shell.run_cell(cell.replace("--out run1", "--out run1 --live false"), store_history=False).raise_error()
        copies.append(shell.user_ns.pop("run1"))
        shell.run_cell(board.call_text.value.replace("epochs=3,", "epochs=3, live=False,"),
                       store_history=False).raise_error()
        copies.append(shell.user_ns.pop("run1"))
    finally:
        shell.run_line_magic("unload_ext", "windwidgets")
    run = board.runs[1]
    expected = run.config.to_dict()
    expected["train"].pop("live")  # how a fit is shown is not part of what it learns
    for copy in copies:
        got = copy.config.to_dict()
        assert got["train"].pop("live") is False and got == expected
        columns = ["epoch", "train_loss", "val_loss"]
        pd.testing.assert_frame_equal(copy.history[columns], run.history[columns])


def test_windboard_opens_the_dashboard_with_the_options_as_starting_values():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "windwidgets")
    shell.user_ns["wind"] = ww.datasets.wind(days=10)
    try:
        board = shell.run_line_magic("windboard", "wind --model gru --epochs 3 --covariates temperature,pressure")
        assert isinstance(board, ww.Dashboard) and board.name == "wind"
        assert board.controls["model"].value == "gru" and board.controls["epochs"].value == 3
        assert board.controls["covariates"].value == ("temperature", "pressure")
        with pytest.raises(UsageError, match="%windboard: name one DataFrame, e.g. %windboard wind"):
            shell.run_line_magic("windboard", "")
        with pytest.raises(UsageError, match="unknown option --epoch "):
            shell.run_line_magic("windboard", "wind --epoch 3")
    finally:
        shell.run_line_magic("unload_ext", "windwidgets")


def test_a_script_that_trains_from_the_dashboard_waits_and_exits_ends_cleanly():
    """run.wait() returns once the fit and the dashboard's scoring of it have ended: no
    thread is left inside a torch call to abort the exit ("terminate called without an
    active exception", status 134)."""
    code = (
        "import threading, windwidgets as ww\n"
        "board = ww.Dashboard(ww.datasets.wind(days=60), target='speed', hidden_size=8, num_layers=1, "
        "window=12, epochs=1, batch_size=64)\n"
        "board.train_button.click()\n"
        "run = board.runs[0].wait()\n"
        "print(len(board.rows), [t.name for t in threading.enumerate() if t is not threading.main_thread()])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 []" and "terminate called" not in result.stderr
