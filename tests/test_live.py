"""The live views without a browser: widget state after events, Stop clicks, text output."""
import gc
import io
import re
import subprocess
import sys
import threading
import time
import weakref
from xml.etree import ElementTree

import numpy as np
import pytest

import windwidgets as ww
from windwidgets.api import forecast_preview, prepare_run
from windwidgets.config import RunConfig
from windwidgets.train import Event, Progress, TrainingWarning
from windwidgets.train.guards import GradientWatch
from windwidgets.views import make_view
from windwidgets.views.live import LiveView
from windwidgets.views.svg import Trace
from windwidgets.views.text import TextView

def prepared(data, **settings):
    return prepare_run(data, RunConfig.from_kwargs(**settings))


def eager(view: LiveView) -> LiveView:
    """Redraw on every event, so a test sees each one (the throttle has its own test)."""
    view.min_interval, view.DRAW_BUDGET = 0.0, float("inf")
    return view


def points(svg: str) -> list[int]:
    """How many points each polyline of an SVG chart has."""
    return [len(p.split()) for p in re.findall(r"points='([^']*)'", svg)]


def simulate(view, epochs=2, batches=3, losses=None):
    """Feed a view the events of a fit, as the trainer would."""
    p = Progress(epochs=epochs, batches=batches, device="cpu")
    losses = iter(np.geomspace(1.0, 0.1, epochs * batches) if losses is None else losses)
    view(Event.FIT_START, p)
    for p.epoch in range(1, epochs + 1):
        view(Event.EPOCH_START, p)
        total = 0.0
        for p.batch in range(1, batches + 1):
            p.batch_loss = float(next(losses))
            total += p.batch_loss
            p.train_loss, p.grad_norm = total / p.batch, 0.5
            p.samples += 32
            p.seconds += 0.1
            view(Event.BATCH_END, p)
        p.val_loss = p.train_loss * 1.1
        if p.val_loss < p.best_val_loss:
            p.best_val_loss, p.best_epoch = p.val_loss, p.epoch
        p.history.append({"epoch": p.epoch, "train_loss": p.train_loss, "val_loss": p.val_loss,
                          "lr": 1e-3, "seconds": 0.3, "grad_norm": p.grad_norm})
        view(Event.EPOCH_END, p)
    return p


def test_panel_state_follows_the_events():
    view = eager(LiveView(title="lstm, hidden 8 x 1 layers"))
    p = Progress(epochs=2, batches=3, device="cpu")
    view(Event.FIT_START, p)
    assert view.bar.max == 6 and "training on cpu" in view.status.value
    p.epoch, p.batch, p.batch_loss, p.train_loss, p.grad_norm = 1, 2, 0.5, 0.6, 0.3
    p.samples, p.seconds = 64, 0.5
    view(Event.BATCH_END, p)
    assert view.bar.value == 2
    assert "epoch 1/2 &middot; batch 2/3" in view.progress_text.value
    assert "128 samples/s" in view.progress_text.value  # 64 windows in 0.5 s
    assert "0:01 left" in view.progress_text.value  # 4 batches to go at 0.25 s each
    assert "train loss <b>0.6</b>" in view.stats.value and "device cpu" in view.stats.value
    assert "val loss" not in view.stats.value  # no epoch has finished yet

    p = simulate(view)
    assert view.bar.value == 6
    assert f"best epoch 2 (val {p.best_val_loss:.4g})" in view.stats.value
    loss_svg = view.loss_chart.value
    # batch trace (6 points), train by epoch (2), validation by epoch (2)
    assert sorted(points(loss_svg)) == [2, 2, 7]  # 7: the batch from the first check, then 6
    assert "validation" in loss_svg and "stroke-dasharray" in loss_svg  # best-epoch marker
    assert ">best epoch 2<" in loss_svg and ">per batch<" in loss_svg and ">epoch<" in loss_svg
    assert re.findall(r"text-anchor='middle'>([^<]*)<", loss_svg)[:3] == ["0", "1", "2"]  # whole epochs
    assert sorted(points(view.gradient_chart.value)) == [7]


def test_log_scale_toggle_redraws_the_chart_in_place():
    view = eager(LiveView())
    simulate(view, epochs=3, losses=np.geomspace(100.0, 0.01, 9))
    log_chart = view.loss_chart.value
    assert ">1e-2<" in log_chart or ">0.01<" in log_chart  # decade ticks on a log axis
    chart_widget = view.loss_chart
    view.log_scale.value = False
    assert view.loss_chart is chart_widget and view.loss_chart.value != log_chart
    assert ">0.01<" not in view.loss_chart.value and ">50<" in view.loss_chart.value


def test_redraws_are_throttled_by_time_not_by_batches():
    view = LiveView(min_interval=60.0)
    simulate(view, epochs=5, batches=200)
    assert view.draws == 1  # the first batch only: 1000 batches in well under a minute
    assert len(view.batch_loss) == 1000  # yet every batch was recorded
    view(Event.FIT_END, view._progress)
    assert view.draws == 2  # the end always draws


def test_trace_stays_bounded_and_keeps_the_mean():
    trace = Trace(limit=100)
    for i in range(1000):
        trace.add(i, float(i))
    assert 50 <= len(trace) <= 100 and trace.stride == 16
    assert trace.y[0] == pytest.approx(np.mean(range(16)))
    trace.add(1000, float("nan"))  # a NaN batch is not drawn
    assert all(np.isfinite(trace.y))


def test_exploding_gradients_raise_a_warning_that_both_views_show():
    watch = GradientWatch()
    assert all(watch.check(1.0 + 0.01 * batch, 1, batch) is None for batch in range(1, 31))
    message = watch.check(5000.0, 1, 31)
    assert re.search(r"gradient norm 5e\+03 at epoch 1, batch 31: \d+x the recent typical 1.1\d*\. "
                     r"Gradients are exploding; keep clip_grad on", message)
    assert "the gradients overflowed" in watch.check(float("inf"), 1, 32)
    view, printed = LiveView(), io.StringIO()
    assert view.badge.layout.display == "none" and view.badge.value == ""
    p = Progress(epochs=1, batches=40, device="cpu", epoch=1, batch=31, warning=message)
    view(Event.WARNING, p)
    TextView(printed)(Event.WARNING, p)
    assert view.badge.layout.display is None and "Gradients are exploding" in view.badge.value
    assert printed.getvalue() == f"warning: {message}\n"


def test_a_nan_loss_shows_the_trainers_warning(small_wind, tiny_settings):
    wind = small_wind.copy()
    wind["speed"] *= 1e19  # unscaled, the squared error overflows to inf
    run = prepared(wind, target="speed", scaler=None, **tiny_settings)
    view = LiveView(stop=run.stop, preview=forecast_preview(run))
    run.trainer.events.subscribe(view)
    with pytest.warns(TrainingWarning):
        run._fit()
    assert "the loss became inf at epoch 1, batch 1" in view.badge.value
    assert "learning rate" in view.badge.value and view.badge.layout.display is None
    assert view.bar.bar_style == "danger" and "stopped: the loss turned NaN" in view.status.value


def test_stop_click_ends_the_fit_after_the_current_batch(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", **{**tiny_settings, "epochs": 5})
    view = LiveView(stop=run.stop, preview=forecast_preview(run))
    run.trainer.events.subscribe(view)
    batches_seen = []

    def click_in_epoch_two(event, p):
        if event is Event.BATCH_END:
            batches_seen.append((p.epoch, p.batch))
            if (p.epoch, p.batch) == (2, 3):
                view.stop_button.click()

    run.trainer.events.subscribe(click_in_epoch_two)
    run._fit()
    assert batches_seen[-1] == (2, 3)  # no batch ran after the click
    assert run.stop_reason == "stopped" and len(run.history) == 2
    assert view.status.value.startswith("stopped at epoch 2 on request; kept the weights of epoch")
    assert view.stop_button.disabled and view.stop_button.description == "stopped"
    assert view.bar.bar_style == "warning"
    assert np.isfinite(run.forecast(5).to_numpy()).all()  # usable at once


def test_stop_click_answers_a_fit_running_in_the_background(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", **{**tiny_settings, "epochs": 500})
    view = LiveView(stop=run.stop)
    run.trainer.events.subscribe(view)
    run._fit(background=True)
    deadline = time.monotonic() + 30
    while run.trainer.progress.epoch < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.training  # the call returned while the fit goes on
    view.stop_button.click()  # from this (the kernel's) thread, as a front end would
    assert "stopping after the current batch" in view.status.value
    run.wait(timeout=30)
    assert not run.training and run.stop_reason == "stopped"
    assert 2 <= len(run.history) < 500
    assert view.status.value.startswith(f"stopped at epoch {len(run.history)} on request")
    assert not [t for t in threading.enumerate() if t.name == "windwidgets-fit"]


def test_frozen_panel_keeps_its_charts_an_image_and_no_model(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", **{**tiny_settings, "epochs": 3})
    view = eager(LiveView(stop=run.stop, preview=forecast_preview(run), title="lstm, hidden 8"))
    run.trainer.events.subscribe(view)
    run._fit()
    best = run.trainer.progress.best_epoch
    assert view.status.value.startswith("finished 3 epochs; kept the weights of epoch")
    assert view.stop_button.disabled and view.log_scale.disabled
    assert view.bar.bar_style == "success" and view.bar.value == view.bar.max
    assert f"free-running forecast, epoch {best}</text>" in view.forecast_chart.value
    image = ElementTree.fromstring(view.summary)  # well-formed SVG: the cell's final image
    texts = [t.text for t in image.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[:2] == ["lstm, hidden 8", view.status.value]
    lines = [len(p.get("points").split()) for p in image.iter("{http://www.w3.org/2000/svg}polyline")]
    assert lines.count(3) == 2  # train and validation by epoch, in the image too
    chart = view.loss_chart.value
    view.log_scale.value = False  # frozen: the final charts stay as they are
    assert view.loss_chart.value == chart
    model = weakref.ref(run.model)
    del run
    gc.collect()
    assert model() is None  # the panel's widgets live on, the model does not


def test_forecast_preview_is_the_runs_own_forecast(small_wind, tiny_settings):
    run = ww.train(small_wind, target="speed", **tiny_settings)
    preview = forecast_preview(run)()
    steps = len(preview["forecast"])
    assert steps == 48  # at least 48 steps, or two windows
    expected = run.forecast(steps, start=run.n_train)["speed"].to_numpy()
    np.testing.assert_allclose(preview["forecast"], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(preview["truth"], run.frame["speed"].to_numpy()[run.n_train:run.n_train + steps])
    assert len(preview["context"]) == tiny_settings["window"] and not run.model.training


def test_a_failing_preview_is_reported_and_training_goes_on(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", **tiny_settings)

    def broken():
        raise RuntimeError("this model cannot roll forward")

    view = LiveView(stop=run.stop, preview=broken)
    run.trainer.events.subscribe(view)
    run._fit()
    assert len(run.history) == tiny_settings["epochs"] and run.stop_reason is None
    (report,) = view.errors.outputs
    assert report["name"] == "stderr" and "this model cannot roll forward" in report["text"]
    assert report["text"].startswith("the forecast preview failed and is off for this fit")


def test_make_view_is_the_one_choice():
    assert make_view(False) is None and make_view(None) is None
    assert isinstance(make_view("text"), TextView)
    assert isinstance(make_view("auto"), TextView)  # no kernel here
    placed = []
    view = make_view("widgets", show=placed.append, title="gru")
    assert isinstance(view, LiveView) and placed == [view.panel]
    assert not ww.api.in_background(view)  # no kernel to keep free
    assert "<b>gru</b>" in view.title.value


# -- the text view -------------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_text_view_prints_one_line_per_epoch(small_wind, tiny_settings, capsys):
    ww.train(small_wind, target="speed", **{**tiny_settings, "live": "text"})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "\r" not in "".join(lines)
    assert re.match(r"epoch   1/2  train [\d.]+ +val [\d.]+ +val_forecast [\d.]+ +[\d.]+s", lines[0])
    assert lines[2].startswith("finished 2 epochs; kept the weights of epoch")


def test_text_view_draws_a_carriage_return_bar_on_a_tty(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", **tiny_settings)
    terminal = Terminal()
    run.trainer.events.subscribe(TextView(stream=terminal, min_interval=0.0))
    run._fit()
    text = terminal.getvalue()
    bars = re.findall(r"\repoch 1/2 \[#* *\] \d+/\d+ loss [\d.]+ +\d+s left", text)
    assert len(bars) == run.trainer.progress.batches
    screen = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]  # what stays visible
    assert screen[0].startswith("epoch   1/2  train") and "[" not in screen[0]
    assert screen[2].startswith("finished 2 epochs")


def test_live_false_prints_nothing(small_wind, tiny_settings, capsys):
    ww.train(small_wind, target="speed", **tiny_settings)
    assert capsys.readouterr().out == ""


# -- the dashboard -------------------------------------------------------------------------
def test_dashboard_controls_come_from_the_config_and_train(small_wind):
    from windwidgets.config import keyword_owners

    board = ww.Dashboard(small_wind, hidden_size=8, num_layers=1, window=12, epochs=2, batch_size=32)
    assert set(board.controls) == set(keyword_owners()) - set(board.SKIPPED)
    assert board.controls["lr"].tooltip == "Adam learning rate"
    for name, choices in board.CHOICES.items():
        for value in choices:
            needs = {"time": "time"} if name == "time_unit" else {}  # a unit reads a time column
            RunConfig.from_kwargs(**{name: value}, **needs)  # every offered choice is valid
    board.controls["target"].value = ("speed",)
    board.train_button.click()
    board.wait(timeout=60)
    assert board.output.outputs == () and len(board.runs) == 1
    run = board.runs[0]
    assert (run.config.model.hidden_size, run.config.train.epochs) == (8, 2) and len(run.history) == 2
    (panel,) = board.live.children
    assert "windwidgets-live" in panel._dom_classes and "<td>lstm</td>" in board.runs_table.value


def test_dashboard_shows_errors_with_the_fix(small_wind):
    board = ww.Dashboard(small_wind, window=100000)
    board.train_button.click()
    (message,) = board.output.outputs
    assert message["text"].startswith("DataError: `window` + `horizon` (100000 + 1) is longer")
    assert board.runs == []
    board.controls["window"].value, board.controls["patience"].value = 12, "x"
    board.train_button.click()
    assert board.output.outputs[0]["text"] == "ConfigError: `patience` ('x') must be a whole number of at least 1\n"
    with pytest.raises(ww.WindwidgetsError, match=r"unknown setting\(s\) 'hiden_size' for the Dashboard"):
        ww.Dashboard(small_wind, hiden_size=8)


def test_exit_during_a_background_fit_is_clean():
    """A kernel shut down mid-fit: the fit is stopped, not killed inside a torch call (which
    aborts the process with "terminate called without an active exception")."""
    code = (
        "import time, windwidgets as ww\n"
        "from windwidgets.api import prepare_run\n"
        "from windwidgets.config import RunConfig\n"
        "run = prepare_run(ww.datasets.wind(days=21), RunConfig.from_kwargs(target='speed', "
        "hidden_size=8, num_layers=1, window=12, epochs=400, live=False))\n"
        "run._fit(background=True)\n"
        "time.sleep(0.5)\n"
        "print(run.training)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True" and "terminate called" not in result.stderr


def test_long_traces_are_drawn_as_their_envelope():
    from windwidgets.views.svg import envelope

    x = np.arange(2000.0)
    y = np.ones(2000)
    y[1234] = 50.0  # one spike among 2000 batches
    xs, ys = envelope(x, y, buckets=100)
    assert len(xs) == 200 and ys.max() == 50.0 and xs[ys.argmax()] == 1234
    assert np.all(np.diff(xs) >= 0)  # still left to right
    xs, _ = envelope(x[:1775], y[:1775], buckets=100)  # not a multiple of the buckets
    assert len(xs) <= 200 + 18 and xs[-1] == 1774  # the newest batches are drawn too
    assert envelope(x[:150], y[:150], buckets=100)[0].tolist() == x[:150].tolist()


def test_a_classifier_gets_the_panel_with_its_accuracy_and_no_preview():
    from windwidgets.api import fit

    x, y = ww.datasets.digits()
    placed = []
    run = fit((x[:300], y[:300]), RunConfig.from_kwargs(
        task="classify", hidden_size=16, num_layers=1, epochs=2, live="widgets"), show=placed.append)
    (view,) = [s for s in run.trainer.events._subscribers if isinstance(s, LiveView)]
    assert placed == [view.panel] and len(run.history) == 2
    assert re.search(r"val_accuracy <b>0?\.\d+</b>", view.stats.value)
    assert "no forecast preview for this model" in view.forecast_chart.value
    assert view.status.value.startswith("finished 2 epochs")
