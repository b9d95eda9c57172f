"""The magics in an in-process IPython shell: %load_ext, %%windtrain, %windforecast, %windzoo."""
import _thread
import os
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
import torch
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import windwidgets as ww
from windwidgets.config import keyword_owners
from windwidgets.magics import FORECAST_OPTIONS, config_options, parse_line, zoo_table
from windwidgets.zoo import registry

TINY = "--window 12 --hidden-size 8 --num-layers 1 --batch-size 32"



@pytest.fixture(scope="module")
def shell():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "windwidgets")
    shell.user_ns["wind"] = ww.datasets.wind(days=20)  # 480 hourly rows
    shell.user_ns["sine"] = ww.datasets.sine(n=400)
    yield shell
    shell.run_line_magic("unload_ext", "windwidgets")


@pytest.fixture(scope="module")
def trained(shell):
    """A Run trained through the magic, stored as `wind_run`."""
    result = shell.run_cell(f"%windtrain --data wind --target speed --model gru {TINY} --epochs 2 "
                            "--live false --out wind_run")
    result.raise_error()
    return shell.user_ns["wind_run"]


@pytest.fixture
def model_name():
    """Registers a user's model for one test and removes it afterwards."""
    names = []

    def register(name, builder, **kwargs):
        ww.zoo.register(name, builder, **kwargs)
        names.append(name)
        return name

    yield register
    for name in names:
        registry._REGISTRY.pop(name, None)


class Linear(torch.nn.Module):
    """A user's model: one linear map of the flattened window; ``on_batch`` runs per batch."""

    def __init__(self, spec, on_batch=None):
        super().__init__()
        self.linear = torch.nn.Linear(spec.window * spec.input_size, spec.horizon * spec.output_size)
        self.on_batch, self.batches = on_batch, 0

    def forward(self, x):  # x: (batch, window, inputs)
        if self.training and self.on_batch is not None:
            self.batches += 1
            self.on_batch(self.batches)
        return self.linear(x.flatten(1))  # (batch, horizon * outputs)


def usage_error(shell, capsys, source):
    """Run a cell that must fail with one clean line; return that line."""
    capsys.readouterr()
    result = shell.run_cell(source)
    captured = capsys.readouterr()
    assert isinstance(result.error_in_exec, UsageError), (source, result.error_in_exec)
    assert "Traceback" not in captured.out + captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("UsageError: ")
    return lines[0][len("UsageError: "):]


def test_load_ext_registers_the_magics_and_unload_removes_them(shell):
    assert shell.find_cell_magic("windtrain") and shell.find_line_magic("windtrain")
    assert shell.find_line_magic("windforecast") and shell.find_line_magic("windzoo")
    shell.run_line_magic("unload_ext", "windwidgets")
    assert shell.find_cell_magic("windtrain") is None and shell.find_line_magic("windzoo") is None
    shell.run_line_magic("load_ext", "windwidgets")
    assert shell.find_cell_magic("windtrain") is not None


def test_windtrain_body_and_line_overrides_train_like_the_api(shell, capsys):
    """The TOML body sets, the line wins; the Run equals the one ww.train makes from the same
    settings, and the terminal's text view prints one line per epoch."""
    result = shell.run_cell(
        "%%windtrain --data wind --target speed --epochs 2 --model gru --out body_run\n"
        "# settings as in ww.train; the line options win\n"
        "model = \"lstm\"\nepochs = 7\nhidden_size = 8\nwindow = 12\nnum_layers = 1\n"
    )
    result.raise_error()
    out = capsys.readouterr().out
    assert "epoch   1/2" in out and "epoch   2/2" in out and "finished 2 epochs" in out
    run = shell.user_ns["body_run"]
    assert isinstance(run, ww.Run) and isinstance(run.model.rnn, torch.nn.GRU)
    assert (run.config.train.epochs, run.config.model.hidden_size, run.config.model.num_layers) == (2, 8, 1)
    same = ww.train(shell.user_ns["wind"], target="speed", epochs=2, model="gru", hidden_size=8,
                    window=12, num_layers=1, live=False)
    columns = ["epoch", "train_loss", "val_loss"]
    pd.testing.assert_frame_equal(run.history[columns], same.history[columns])
    pd.testing.assert_frame_equal(run.forecast(5), same.forecast(5))


def test_line_options_cover_every_setting_and_its_type():
    options = {**config_options()}
    assert set(options) == set(keyword_owners())
    values, positional = parse_line(
        "--bidirectional --bias false --covariates temperature,pressure --target speed "
        "--clip-grad none --scaler minmax --lr=0.01 --live false --options kernel_size=3,mode=same "
        "--no-stateful --season 24 --mode window --free-steps 0 --batch-size none",
        options, "windtrain")
    assert positional == []
    assert values == {"bidirectional": True, "bias": False, "covariates": ["temperature", "pressure"],
                      "target": "speed", "clip_grad": None, "scaler": "minmax", "lr": 0.01,
                      "live": False, "options": {"kernel_size": 3, "mode": "same"}, "stateful": False,
                      "season": 24, "mode": "window", "free_steps": 0, "batch_size": None}
    values, positional = parse_line("my_run --steps 4 --start -30 --plot", FORECAST_OPTIONS, "windforecast")
    assert positional == ["my_run"] and values == {"steps": 4, "start": "-30", "plot": True}


def test_lists_booleans_and_none_reach_the_run(shell):
    shell.run_cell(
        f"%%windtrain --data wind --target speed --covariates temperature,pressure --no-bias {TINY}\n"
        "[train]\nepochs = 1\nclip_grad = \"none\"\nlive = false\n[data]\nscaler = \"minmax\"\n"
    ).raise_error()
    run = shell.user_ns["run"]
    assert run.layout.covariates == ("temperature", "pressure")
    assert run.config.model.bias is False and run.model.rnn.bias is False
    assert run.config.train.clip_grad is None and run.config.data.scaler == "minmax"


@pytest.mark.parametrize("make", [
    lambda tmp: ("path", _csv(tmp)),
    lambda tmp: ("series", ww.datasets.sine(n=200)["y"]),
    lambda tmp: ("array", ww.datasets.sine(n=200).to_numpy()),
], ids=["csv-file", "series", "ndarray"])
def test_data_is_a_variable_or_a_file(shell, tmp_path, make):
    kind, value = make(tmp_path)
    reference = value if kind == "path" else kind
    if kind != "path":
        shell.user_ns[kind] = value
    shell.run_cell(f"%windtrain --data {reference} {TINY} --epochs 1 --live false --out from_{kind}").raise_error()
    run = shell.user_ns[f"from_{kind}"]
    assert len(run.history) == 1 and len(run.frame) == 200


def _csv(tmp_path):
    path = tmp_path / "series.csv"
    ww.datasets.sine(n=200).to_csv(path, index_label="step")
    return path


def test_windforecast_displays_stores_and_plots(shell, trained, capsys):
    capsys.readouterr()
    shell.run_cell("%windforecast wind_run --steps 6 --plot --out fc").raise_error()
    out = capsys.readouterr().out
    forecast = shell.user_ns["fc"]
    pd.testing.assert_frame_equal(forecast, trained.forecast(6))
    assert str(forecast.index[0]) in out and "<Figure: gru forecast of speed, 6 hours ahead>" in out
    shell.run_cell("%windforecast wind_run --steps 3 --start '2024-01-15 06:00'").raise_error()
    expected = trained.forecast(3, start=pd.Timestamp("2024-01-15 06:00"))
    pd.testing.assert_frame_equal(shell.user_ns["forecast"], expected)
    truth = shell.user_ns["wind"]["speed"].loc[expected.index]
    assert np.abs(expected["speed"] - truth).max() < 5.0  # m/s; two epochs, measured 1.3


def test_windforecast_interval_and_context(shell, trained):
    shell.run_cell("%windforecast wind_run --steps 4 --interval 0.9 --plot --out banded").raise_error()
    banded = shell.user_ns["banded"]
    pd.testing.assert_frame_equal(banded, trained.forecast(4, interval=0.9))
    assert list(banded.columns) == ["speed", "speed_lower", "speed_upper"]
    assert (banded["speed_lower"] < banded["speed"]).all() and (banded["speed"] < banded["speed_upper"]).all()
    shell.user_ns["recent"] = shell.user_ns["wind"].iloc[-60:-20]
    shell.run_cell("%windforecast wind_run --steps 5 --context recent --plot --out on_recent").raise_error()
    pd.testing.assert_frame_equal(shell.user_ns["on_recent"],
                                  trained.forecast(5, context=shell.user_ns["wind"].iloc[-60:-20]))


def test_windforecast_series_picks_one_series_of_a_panel_and_names_it(shell, trained, capsys):
    shell.user_ns["farm"] = ww.datasets.wind(stations=3, days=10)
    shell.run_cell(f"%windtrain --data farm --target speed --series station --time time {TINY} --epochs 1 "
                   "--live false --out farm_run").raise_error()
    farm_run = shell.user_ns["farm_run"]
    capsys.readouterr()
    shell.run_cell("%windforecast farm_run --steps 24 --series S3 --plot --out s3").raise_error()
    pd.testing.assert_frame_equal(shell.user_ns["s3"], farm_run.forecast(24, series="S3"))
    assert "<Figure: S3: lstm forecast of speed, 24 hours ahead>" in capsys.readouterr().out
    with pytest.raises(UsageError, match="--series S9: not a series of this panel; its series are S1, S2, S3"):
        shell.run_line_magic("windforecast", "farm_run --steps 2 --series S9")
    with pytest.raises(UsageError, match="--series S1: this Run was trained on one series"):
        shell.run_line_magic("windforecast", "wind_run --steps 2 --series S1")


def test_windforecast_plots_grids(shell):
    shell.user_ns["blobs"] = ww.datasets.grid(n=40, size=4)  # (time, 1, rows, columns)
    shell.run_cell("%windtrain --data blobs --model convlstm --hidden-size 2 --num-layers 1 --window 4 "
                   "--epochs 1 --live false --out grid_run").raise_error()
    shell.run_cell("%windforecast grid_run --steps 2 --plot --out grid_forecast").raise_error()
    assert shell.user_ns["grid_forecast"].grids.shape == (2, 1, 4, 4)


def test_windzoo_lists_builtin_and_registered_models(shell, model_name, capsys):
    name = model_name("flat_linear", lambda spec, config: Linear(spec), summary="one linear map",
                      knobs=("hidden_size", "kernel_size"))
    capsys.readouterr()
    shell.run_cell("%windzoo").raise_error()
    shown = capsys.readouterr().out
    assert "gru" in shown and "one linear map" in shown
    assert "hidden_size=64, num_layers=2, dropout=0.0, bidirectional=false, bias=true" in shown  # not cut
    table = zoo_table()
    assert list(table.columns) == ["name", "summary", "knobs"]
    rows = table.set_index("name")
    assert {"rnn", "lstm", "gru", name} <= set(rows.index)
    assert "hidden_size=64" in rows.loc["lstm", "knobs"] and "num_layers=2" in rows.loc["lstm", "knobs"]
    assert rows.loc[name, "summary"] == "one linear map"
    assert rows.loc[name, "knobs"] == "hidden_size=64, kernel_size"
    shell.run_cell(f"%windtrain --data sine --model {name} --window 12 --epochs 1 --live false "
                   "--out linear_run").raise_error()
    assert isinstance(shell.user_ns["linear_run"].model.module, Linear)


def test_interrupt_stops_training_and_keeps_the_run(shell, model_name, capsys):
    """Ctrl-C arrives from another thread (as the kernel's interrupt does) during the second
    epoch; the Run with the first epoch's weights lands under --out all the same."""
    ready = threading.Event()

    def batch_15_waits_for_ctrl_c(batch):  # 10 batches per epoch: batch 15 is in epoch 2
        if batch == 15:
            ready.set()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # sleep() returns early to raise KeyboardInterrupt
                time.sleep(0.01)

    name = model_name("signal_linear", lambda spec, config: Linear(spec, on_batch=batch_15_waits_for_ctrl_c))

    def interrupt():
        if ready.wait(timeout=60):
            _thread.interrupt_main()

    watcher = threading.Thread(target=interrupt, daemon=True)
    watcher.start()
    capsys.readouterr()
    result = shell.run_cell(f"%windtrain --data sine --model {name} --window 12 --batch-size 32 "
                            "--epochs 200 --out stopped")
    watcher.join()
    result.raise_error()
    out = capsys.readouterr().out
    run = shell.user_ns["stopped"]
    assert run.stop_reason == "interrupted" and len(run.history) == 1
    assert "training interrupted at epoch 2; `stopped` holds the Run with the weights of epoch 1" in out
    assert "interrupted at epoch 2; kept the weights of epoch 1" in out  # the text view's own line
    for key, value in run.model.state_dict().items():
        assert torch.equal(value, run.trainer.best_state[key])
    shell.run_cell("%windforecast stopped --steps 3 --out after_stop").raise_error()
    assert shell.user_ns["after_stop"].shape == (3, 1)


def test_a_real_bug_keeps_its_traceback(shell, model_name, capsys):
    def broken(spec, config):
        raise RuntimeError("builder exploded")

    name = model_name("broken_builder", broken)
    capsys.readouterr()
    result = shell.run_cell(f"%windtrain --data sine --model {name} --epochs 1")
    output = capsys.readouterr()
    assert isinstance(result.error_in_exec, RuntimeError)
    assert "Traceback" in output.out + output.err and "builder exploded" in output.out + output.err


ERRORS = [
    ("%windtrain --data wind --hiden-size 8", r"unknown option --hiden-size \(did you mean --hidden-size\?\)"),
    ("%%windtrain --data wind\nhiden_size = 8", r"unknown key 'hiden_size' in the cell body \(did you mean hidden_size\?\)"),
    ("%%windtrain --data wind\n[model]\nwindow = 8", r"unknown key 'window' in \[model\].*it belongs in \[data\]"),
    ("%%windtrain --data wind\nhidden_size = 8.5", r"`hidden_size` in the cell body is 8.5; it takes a whole number"),
    ("%%windtrain --data wind\nhidden_size = ", r"the cell body is not valid TOML"),
    ("%windtrain --data wnd", r"--data wnd: no notebook variable and no file of that name \(did you mean wind\?\); "
                              r"DataFrame-like variables here: .*wind"),
    ("numbers = {'a': 1}\n%windtrain --data numbers", r"--data numbers: `numbers` is not tabular \(type dict\)"),
    ("%windtrain --target speed", r"--data is required.*DataFrame-like variables here: .*wind"),
    ("%windtrain --data wind --target sped", r"`target` names column 'sped', which is not in the data "
                                             r"\(did you mean 'speed'\?\)"),
    ("%windtrain --data wind --epochs many", r"--epochs takes a whole number, not 'many'"),
    ("%windtrain --data wind --bidirectional maybe", r"--bidirectional takes true or false, not 'maybe'"),
    ("%windtrain --data wind --window 0", r"`window` \(0\) must be a whole number of at least 1"),
    ("%windtrain --data wind --model lstn", r"unknown model 'lstn' \(did you mean 'lstm'\?\)"),
    ("%windtrain --data wind --epochs", r"--epochs needs a value"),
    ("%windtrain --data wind --out 2fast", r"--out '2fast' is not a valid variable name"),
    ("%windtrain wind --epochs 1", r"unexpected 'wind'; options start with --, e.g. --data wind"),
    ("%windforecast nothing --steps 3", r"`nothing` is not defined"),
    ("%windforecast wind_run", r"--steps is required"),
    ("%windforecast wind_run --steps 0", r"`steps` \(0\) must be a whole number of at least 1"),
    ("%windforecast wind_run --steps 3 --start 1999-01-01", r"`start` .* is not a label of the data"),
    ("%windforecast wind_run --steps 3 --future nope", r"--future nope: `nope` is not defined"),
    ("%windforecast wind_run --steps 3 --stpes 4", r"unknown option --stpes \(did you mean --steps\?\)"),
    ("%windforecast wind_run --steps 3 --interval 1.5", r"`interval` \(1.5\) must be a coverage level"),
    ("%windforecast wind_run --steps 3 --context nope", r"--context nope: `nope` is not defined"),
    ("%windzoo lstm", r"%windzoo takes no options"),
]


@pytest.mark.parametrize("source, message", ERRORS, ids=[e[0].split("\n")[0][:48] for e in ERRORS])
def test_mistakes_are_one_clean_line(shell, trained, capsys, source, message):
    line = usage_error(shell, capsys, source)
    assert re.search(message, line), line


def test_help_is_generated_from_the_options(shell, capsys):
    for source in ("%windtrain?", "%%windtrain?"):
        capsys.readouterr()
        shell.run_cell(source)
        text = capsys.readouterr().out
        for name in keyword_owners():
            assert "--" + name.replace("_", "-") in text
        assert "features of the hidden state (default: 64)" in text
        assert "--data NAME" in text and "(default: run)" in text
    shell.run_cell("%windforecast?")
    text = capsys.readouterr().out
    assert "--steps INT" in text and "--interval FLOAT" in text and "(default: forecast)" in text
    shell.run_cell("%windzoo?")
    assert "windwidgets.zoo.register" in capsys.readouterr().out


def test_terminal_ipython_prints_text(tmp_path):
    """The real terminal IPython, fed line by line as a person types (a cell magic ends at
    two empty lines): text progress, the forecast as text, the typo as one line."""
    typed = ("%load_ext windwidgets\nimport windwidgets as ww\nsine = ww.datasets.sine(n=300)\n"
             "%%windtrain --data sine --window 12 --epochs 2\nhidden_size = 8\nnum_layers = 1\n\n\n"
             "%windforecast --steps 3 --plot\n%windtrain --data sine --hiden-size 3\n"
             "print('stored', type(run).__name__, len(run.history))\n")
    result = subprocess.run(
        [sys.executable, "-m", "IPython", "--quick", "--no-banner", "--simple-prompt", "--colors=nocolor",
         f"--ipython-dir={tmp_path}"],
        input=typed, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert "epoch   2/2" in result.stdout and "finished 2 epochs" in result.stdout
    assert "<Figure: lstm forecast of y, 3 steps ahead>" in result.stdout and "302" in result.stdout
    assert "stored Run 2" in result.stdout
    assert result.stderr.strip() == ("UsageError: %windtrain: unknown option --hiden-size "
                                     "(did you mean --hidden-size?); %windtrain? lists them all")


def test_windforecast_takes_the_known_future_from_a_variable(shell):
    shell.run_cell(f"%windtrain --data wind --target speed --future-covariates temperature {TINY} "
                   "--epochs 1 --live false --out with_future").raise_error()
    run, wind = shell.user_ns["with_future"], shell.user_ns["wind"]
    shell.user_ns["known"] = wind[["temperature"]].iloc[-10:-4]
    shell.run_cell(f"%windforecast with_future --steps 6 --future known --start '{wind.index[-10]}' "
                   "--out ahead").raise_error()
    expected = run.forecast(6, future=wind[["temperature"]].iloc[-10:-4], start=wind.index[-10])
    pd.testing.assert_frame_equal(shell.user_ns["ahead"], expected)
    with pytest.raises(UsageError, match=r"this model takes future covariates \(temperature\); pass future="):
        shell.run_line_magic("windforecast", "with_future --steps 6")
