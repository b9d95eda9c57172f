"""Faults during a fit or a save: nothing is lost and the next fit works (issue 11)."""
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import windwidgets as ww
from windwidgets.config import RunConfig
from windwidgets.train import Event
from windwidgets.views.live import LiveView
from windwidgets.views.text import TextView

SETTINGS = dict(window=6, hidden_size=4, num_layers=1, epochs=2, batch_size=16, live=False)


@pytest.fixture
def series():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"y": np.sin(np.arange(80) / 4) + 0.1 * rng.normal(size=80)},
                        index=pd.date_range("2025-01-01", periods=80, freq="h"))


def ctrl_c_as(code, when=lambda frame: True):
    """A trace hook that raises KeyboardInterrupt as the function ``code`` is entered, the
    first time ``when(frame)`` holds: a Ctrl-C landing exactly there."""
    def hook(frame, event, arg):
        if event == "call" and frame.f_code is code and when(frame):
            sys.settrace(None)
            raise KeyboardInterrupt
    return hook


NO_GRAD_EXIT = torch.no_grad.__exit__.__code__
SET_GRAD = torch.set_grad_enabled.__init__.__code__


def validation_ends(frame):
    """The exit of the ``no_grad`` that decorates ``Trainer.validate``."""
    return getattr(frame.f_back.f_locals.get("func"), "__qualname__", "") == "Trainer.validate"


def optimizer_restore(frame):
    """Adam's step wrapper putting grad mode back on as it returns."""
    return frame.f_locals.get("mode") is True and frame.f_back.f_code.co_name == "_use_grad"


@pytest.mark.parametrize("code, when", [(NO_GRAD_EXIT, validation_ends), (SET_GRAD, optimizer_restore)],
                         ids=["validation no_grad exit", "optimizer step wrapper"])
def test_a_ctrl_c_inside_a_grad_mode_switch_leaves_the_next_fit_working(series, code, when):
    sys.settrace(ctrl_c_as(code, when))
    try:
        run = ww.train(series, **SETTINGS)
    finally:
        sys.settrace(None)
    assert run.stop_reason == "interrupted"
    assert torch.is_grad_enabled()
    again = ww.train(series, **SETTINGS)
    assert again.stop_reason is None and len(again.history) == 2


@pytest.mark.parametrize("point", [(Event.BATCH_END, 1, 1), (Event.EPOCH_END, 1, None),
                                   (Event.EPOCH_START, 2, None), (Event.BATCH_END, 2, 1)])
def test_an_interrupt_anywhere_keeps_the_best_weights_and_the_next_fit_works(series, point):
    run = ww.prepare(series, **SETTINGS)

    def interrupt(event, p):
        if (event, p.epoch) == point[:2] and point[2] in (None, p.batch):
            raise KeyboardInterrupt

    run.trainer.events.subscribe(interrupt)
    with torch.no_grad():  # a caller's grad mode comes back as it was
        run.fit()
        assert not torch.is_grad_enabled()
    assert run.stop_reason == "interrupted" and torch.is_grad_enabled()
    best = run.trainer.best_state
    assert all(torch.equal(value, best[name]) for name, value in run.model.state_dict().items())
    assert np.isfinite(run.forecast(3).to_numpy()).all()
    assert len(ww.train(series, **SETTINGS).history) == 2


def failing_in_epoch_two(run):
    """A validation metric (real code in the loop) that breaks in the second epoch."""
    def metric(prediction, y):
        if run.trainer.progress.epoch == 2:
            raise ValueError("the metric broke")
        return 0.0
    return metric


def test_an_error_in_the_loop_ends_the_fit_as_an_error_and_reaches_the_waiting_caller(series):
    run = ww.prepare(series, **{**SETTINGS, "epochs": 3})
    run.trainer.metrics["val_broken"] = failing_in_epoch_two(run)
    panel, printed = LiveView(stop=run.stop), io.StringIO()
    run.trainer.events.subscribe(panel)
    run.trainer.events.subscribe(TextView(printed))
    run.fit(background=True)
    with pytest.raises(ValueError, match="the metric broke"):
        run.wait(timeout=60)
    p = run.trainer.progress
    assert run.stop_reason == "error" and p.best_epoch == 1 and len(run.history) == 1
    assert all(torch.equal(v, run.trainer.best_state[k]) for k, v in run.model.state_dict().items())
    assert panel.bar.bar_style == "danger"
    assert "failed with an error at epoch 2" in panel.status.value and "#b71c1c" in panel.status.value
    assert "ValueError at epoch 2, batch" in panel.badge.value and "the metric broke" in panel.badge.value
    assert "error: ValueError at epoch 2" in printed.getvalue()
    assert "failed with an error at epoch 2; kept the weights of epoch 1" in printed.getvalue()
    assert np.isfinite(run.forecast(3).to_numpy()).all()  # the error was handed over once


def test_an_error_in_a_fit_in_the_foreground_is_raised_by_the_call(series):
    run = ww.prepare(series, **{**SETTINGS, "epochs": 3})
    run.trainer.metrics["val_broken"] = failing_in_epoch_two(run)
    with pytest.raises(ValueError, match="the metric broke"):
        run.fit()
    assert run.stop_reason == "error" and run.trainer.progress.best_epoch == 1
    assert torch.is_grad_enabled()


def test_a_killed_save_leaves_a_temporary_file_that_the_next_save_removes(series, tmp_path):
    target, other = tmp_path / "run.pt", tmp_path / ".other.pt.abc.tmp"
    other.write_bytes(b"another file's save in progress")
    killed = textwrap.dedent(f"""
        import os, torch
        from windwidgets.files import write_atomically
        class DiesWhilePickled:
            def __reduce__(self):
                os._exit(9)  # the process ends mid-save, as under kill -9
        write_atomically({{"weights": torch.zeros(1000), "later": DiesWhilePickled()}}, {str(target)!r})
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(ww.__file__).parents[1])}
    assert subprocess.run([sys.executable, "-c", killed], env=env, timeout=120).returncode == 9
    assert len(list(tmp_path.glob(".run.pt.*.tmp"))) == 1 and not target.exists()
    run = ww.train(series, **{**SETTINGS, "epochs": 1})
    run.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "run.pt"]
    pd.testing.assert_frame_equal(ww.load(target).forecast(3), run.forecast(3))


def test_a_background_fit_gives_its_warnings_where_its_caller_waits():
    """A warning from the fit's thread would land on stderr in whatever cell is running; it is
    held and given again when the caller waits for the fit, as its error would be."""
    code = (
        "import sys, time, warnings, windwidgets as ww\n"
        "run = ww.prepare(ww.datasets.sine(n=300), window=8, hidden_size=4, num_layers=1, epochs=2, live=False)\n"
        "said = lambda event, p: warnings.warn('from the fit thread') if event is ww.Event.EPOCH_END else None\n"
        "run.fit(view=said, background=True)\n"
        "while run.training:\n"
        "    time.sleep(0.05)\n"
        "print('fit over', file=sys.stderr, flush=True)\n"
        "run.wait()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    before, _, after = done.stderr.partition("fit over")
    assert "from the fit thread" not in before and "from the fit thread" in after
