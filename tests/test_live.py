"""The live views without a browser: widget state after events, Stop clicks, text output."""
import copy
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
from windwidgets.fit import _in_background
from windwidgets.forecast.preview import live_preview as forecast_preview
from windwidgets.config import RunConfig
from windwidgets.train import Event, Progress, TrainingWarning
from windwidgets.train.guards import GradientWatch
from windwidgets.views import make_view
from windwidgets.views.live import LiveView
from windwidgets.views.pace import Pace
from windwidgets.views.svg import Trace
from windwidgets.views.text import TextView

def prepared(data, **settings):
    return ww.prepare(data, **settings)


def eager(view: LiveView) -> LiveView:
    """Redraw on every event, so a test sees each one (the schedule has its own tests)."""
    view.draw_pace = Pace(0.0, float("inf"))
    return view


def points(svg: str) -> list[int]:
    """How many points each polyline of an SVG chart has."""
    return [len(p.split()) for p in re.findall(r"points='([^']*)'", svg)]


class Clock:
    """A clock that moves only when told: the views' schedules without sleeping."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def recorded():
    """The events of a real tiny fit (4 epochs, 25 batches each), with a copy of the progress
    as each subscriber saw it, to replay to views; and the Run."""
    run = prepared(ww.datasets.wind(days=21), target="speed", hidden_size=8, num_layers=1, window=12,
                   epochs=4, batch_size=16, live=False)
    events = []
    run.trainer.events.subscribe(lambda event, p: events.append((event, copy.deepcopy(p))))
    run.fit()
    return events, run


def replay(view, events, clock: Clock | None = None, epoch_seconds: float = 0.0, until=None) -> None:
    """Feed ``view`` the recorded events; the clock moves ``epoch_seconds`` over each epoch."""
    for event, p in events:
        if clock is not None and event is Event.BATCH_END:
            clock.now += epoch_seconds / p.batches
        if event is until:
            return
        view(event, p)


def test_panel_state_follows_the_events(recorded):
    events, run = recorded
    view = eager(LiveView(title="lstm, hidden 8 x 1 layers"))
    fit_start, first = events[0][1], next(p for e, p in events if e is Event.BATCH_END)
    view(Event.FIT_START, fit_start)
    assert view.bar.max == 4 * fit_start.batches and "training on cpu" in view.status.value
    view(Event.BATCH_END, first)
    assert view.bar.value == 1
    assert f"epoch 1/4 &middot; batch 1/{first.batches}" in view.progress_text.value
    assert f"train loss <b>{first.train_loss:.4g}</b>" in view.stats.value and "device cpu" in view.stats.value
    assert "val loss" not in view.stats.value  # no epoch has finished yet

    replay(view, events[2:], until=Event.FIT_END)
    p = events[-1][1]
    assert view.bar.value == 4 * p.batches
    assert f"best epoch {p.best_epoch} (val {p.best_val_loss:.4g})" in view.stats.value
    loss_svg = view.loss_chart.value
    # batch trace (one point per batch, the first one twice), train and validation by epoch
    assert sorted(points(loss_svg)) == [4, 4, 4 * p.batches + 1]
    assert "validation" in loss_svg and "stroke-dasharray" in loss_svg  # best-epoch marker
    assert f">best epoch {p.best_epoch}<" in loss_svg and ">per batch<" in loss_svg and ">epoch<" in loss_svg
    assert re.findall(r"text-anchor='middle'>([^<]*)<", loss_svg)[:3] == ["0", "1", "2"]  # whole epochs
    assert sorted(points(view.gradient_chart.value)) == [4 * p.batches + 1]


def test_log_scale_toggle_redraws_the_chart_in_place(recorded):
    view = eager(LiveView())
    replay(view, recorded[0], until=Event.FIT_END)
    log_chart = view.loss_chart.value
    chart_widget = view.loss_chart
    view.log_scale.value = False
    assert view.loss_chart is chart_widget and view.loss_chart.value != log_chart
    view.log_scale.value = True
    assert view.loss_chart.value == log_chart


def test_redraws_are_throttled_by_time_not_by_batches(recorded):
    events, _ = recorded
    clock = Clock()  # still: every batch comes at once
    view = LiveView(min_interval=0.3, clock=clock)
    replay(view, events, until=Event.FIT_END)
    batches = 4 * events[-1][1].batches
    assert view.draws == 1  # the first batch only
    assert len(view.batch_loss) == batches  # yet every batch was recorded
    view(Event.FIT_END, events[-1][1])
    assert view.draws == 2  # the end always draws
    clock = Clock()
    view = LiveView(min_interval=0.3, clock=clock)
    replay(view, events, clock, epoch_seconds=3.0, until=Event.FIT_END)
    # a batch every 0.12 s: a redraw every third batch (0.36 s >= 0.3 s), from the first
    assert view.draws == len(range(0, batches, 3))


# -- the schedule of redraws and previews -----------------------------------------------------
def test_a_slow_first_run_does_not_hold_the_next_ones_back():
    clock = Clock()
    pace = Pace(interval=2.0, budget=0.01, clock=clock)
    runs = []

    def job(cost):
        clock.now += cost
        runs.append(clock.now)

    while clock.now < 60:  # a check every half second, as epoch ends would
        clock.now += 0.5
        if pace.due():
            pace.timed(job, 5.0 if not runs else 0.001)  # the first: 5 s of warm-up
    # the old rule (wait cost / budget after each run) waited 500 s after the first
    gaps = [b - a for a, b in zip(runs, runs[1:])]
    assert len(runs) >= 22 and max(gaps) <= 2.0 + 0.5 + 0.001
    assert pace.cost() == pytest.approx(0.001)


def test_one_slow_run_among_many_is_ignored_and_a_steady_cost_is_spaced_by_the_budget():
    clock = Clock()
    pace = Pace(interval=2.0, budget=0.01, clock=clock)
    for cost in (1.0, 0.01, 0.01, 3.0, 0.01):  # the first left out, one outlier at 3 s
        pace.timed(lambda: setattr(clock, "now", clock.now + cost))
    assert pace.cost() == pytest.approx(0.01) and pace.gap() == 2.0
    for _ in range(5):
        pace.timed(lambda: setattr(clock, "now", clock.now + 0.1))
    assert pace.cost() == pytest.approx(0.1)
    assert pace.gap() == pytest.approx(10.0) and pace.gap(urgent=True) == pytest.approx(10.0)
    clock.now += 5.0
    assert not pace.due() and not pace.due(urgent=True)  # 5 s of 0.1 s runs would be 2%
    cheap = Pace(interval=2.0, budget=0.01, clock=clock)
    cheap.timed(lambda: None)
    assert not cheap.due() and cheap.due(urgent=True)  # a new best does not wait for the interval


def test_previews_keep_up_after_a_slow_first_one(recorded):
    """A real fit's events, 3 s per epoch on an injected clock; the first preview takes 20 s
    (as one run while another process held the CPU might): the later ones still come at each
    epoch end (3 s >= PREVIEW_INTERVAL), where the old rule (the last cost over the budget)
    waited 4000 s. The preview of the last epoch, the best, is the kept weights' one."""
    events, run = recorded
    clock, made = Clock(), []
    real = forecast_preview(run)

    def preview():
        clock.now += 20.0 if not made else 0.01
        made.append(view._progress.epoch)
        return real()

    view = LiveView(preview=preview, clock=clock)
    replay(view, events, clock, epoch_seconds=3.0)
    assert made == [1, 2, 3, 4] and run.trainer.progress.best_epoch == 4
    assert title_of(view.forecast_chart.value) == "speed, free-running forecast, kept weights of epoch 4"


def test_a_slow_preview_is_spaced_by_the_budget_and_its_title_says_the_fit_moved_on(recorded):
    events, run = recorded
    clock, real = Clock(), forecast_preview(run)

    def preview():
        clock.now += 1.0  # 1 s a preview: within 1.5% of the fit, one a minute at most
        return real()

    view, titles = eager(LiveView(preview=preview, clock=clock)), []
    for event, p in events:
        clock.now += 3.0 / p.batches if event is Event.BATCH_END else 0.0  # 3 s an epoch
        view(event, p)
        if event is Event.EPOCH_END:
            titles.append(title_of(view.forecast_chart.value))
    assert titles == ["speed, free-running forecast, epoch 1",  # its cost, the first, left out
                      "speed, free-running forecast, epoch 2",  # 1 s: the next one 67 s later
                      "speed, free-running forecast, epoch 2 (fit at epoch 3)",
                      "speed, free-running forecast, epoch 2 (fit at epoch 4)"]
    assert title_of(view.forecast_chart.value) == "speed, free-running forecast, kept weights of epoch 4"
    assert view.preview_pace.runs == 3 and view.preview_pace.gap() == pytest.approx(1.0 / LiveView.PREVIEW_BUDGET)


def title_of(svg: str) -> str:
    return re.search(r"font-weight='bold'>([^<]*)<", svg).group(1)


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
        run.fit()
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
    run.fit()
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
    run.fit(background=True)
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
    run.fit()
    best = run.trainer.progress.best_epoch
    assert view.status.value.startswith("finished 3 epochs; kept the weights of epoch")
    assert view.stop_button.disabled and view.log_scale.disabled
    assert view.bar.bar_style == "success" and view.bar.value == view.bar.max
    assert title_of(view.forecast_chart.value) == f"speed, free-running forecast, kept weights of epoch {best}"
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


@pytest.mark.parametrize("mode", ["window", "sequence"])
def test_the_preview_reads_the_series_state_with_known_future_covariates(small_wind, tiny_settings, tmp_path, mode):
    run = ww.train(small_wind, target="speed", covariates=["pressure"], future_covariates=["temperature"],
                   horizon=3, mode=mode, **tiny_settings)
    preview = forecast_preview(run)()
    expected = run.forecast(48, start=run.n_train)["speed"].to_numpy()  # the realised temperatures
    np.testing.assert_allclose(preview["forecast"], expected, rtol=1e-5, atol=1e-5)
    loaded = ww.load(run.save(tmp_path / "run.pt"))  # no trainer, no training tensors: its kept rows
    assert loaded.trainer is None and loaded.n_train < run.n_train
    again = forecast_preview(loaded)()
    expected = loaded.forecast(len(again["forecast"]), start=loaded.frame.index[loaded.n_train])["speed"]
    np.testing.assert_allclose(again["forecast"], expected.to_numpy(), rtol=1e-5, atol=1e-5)


def test_a_failing_preview_is_reported_and_training_goes_on(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", **tiny_settings)

    def broken():
        raise RuntimeError("this model cannot roll forward")

    view = LiveView(stop=run.stop, preview=broken)
    run.trainer.events.subscribe(view)
    run.fit()
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
    assert not _in_background(view)  # no kernel to keep free
    assert "<b>gru</b>" in view.title.value


# -- the text view -------------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_text_view_prints_one_line_per_epoch(small_wind, tiny_settings, capsys):
    ww.train(small_wind, target="speed", **{**tiny_settings, "live": "text"})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and "\r" not in "".join(lines)
    origins = len(small_wind) - int(len(small_wind) * 0.8) - 24 + 1  # every validation row that starts a day
    assert lines[0] == f"val_forecast: MSE of 24-step forecasts from {origins} validation origins (scaled units)"
    assert re.match(r"epoch   1/2  train [\d.]+ +val [\d.]+ +val_forecast [\d.]+ +[\d.]+s", lines[1])
    assert lines[3].startswith("finished 2 epochs; kept the weights of epoch")


def test_text_view_draws_a_carriage_return_bar_on_a_tty(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", **tiny_settings)
    terminal = Terminal()
    run.trainer.events.subscribe(TextView(stream=terminal, min_interval=0.0))
    run.fit()
    text = terminal.getvalue()
    bars = re.findall(r"\repoch 1/2 \[#* *\] \d+/\d+ loss [\d.]+ +\d+s left", text)
    assert len(bars) == run.trainer.progress.batches
    screen = [line.rsplit("\r", 1)[-1] for line in text.split("\n")]  # what stays visible
    assert screen[0].startswith("epoch   1/2  train") and "[" not in screen[0]
    assert screen[2].startswith("finished 2 epochs")  # no first line: this view was not told the score


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
        "run = ww.prepare(ww.datasets.wind(days=21), target='speed', "
        "hidden_size=8, num_layers=1, window=12, epochs=400, live=False)\n"
        "run.fit(background=True)\n"
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


def test_a_panels_preview_names_its_series_and_the_picker_changes_it():
    farm = ww.datasets.wind(stations=3, days=10)
    titles = []
    run = ww.prepare(farm, target="speed", series="station", time="time", hidden_size=8, num_layers=1, window=12,
                     epochs=4, batch_size=32, forecast_steps=12, live="widgets")
    view = LiveView(stop=run.stop, preview=forecast_preview(run), title="lstm")
    run.trainer.events.subscribe(view)

    def pick_at_epoch_two(event, p):
        if event is Event.EPOCH_END:
            titles.append(title_of(view.forecast_chart.value))
            if p.epoch == 2:
                view.series_picker.value = "S3"  # as a click in the front end would

    run.trainer.events.subscribe(pick_at_epoch_two)
    run.fit()
    assert view.series_picker.options == (("S1", "S1"), ("S2", "S2"), ("S3", "S3"))
    assert view.series_picker.layout.display is None and view.series_picker.disabled  # frozen
    assert titles[0] == "S1: speed, free-running forecast, epoch 1"  # the first series by default
    assert titles[2].startswith("S3: speed, free-running forecast, epoch 3")  # the next epoch after the pick
    best = run.trainer.progress.best_epoch
    assert title_of(view.forecast_chart.value) == f"S3: speed, free-running forecast, kept weights of epoch {best}"
    preview = forecast_preview(run)("S3")
    s3 = run.member("S3")
    np.testing.assert_allclose(preview["forecast"], run.forecast(48, start=s3.frame.index[s3.n_train],
                                                                 series="S3")["speed"], rtol=1e-5)
    assert preview["series"] == "S3"


def test_the_panel_says_what_val_forecast_scores(small_wind):
    from windwidgets.api import fit

    placed = []
    run = fit(small_wind, RunConfig.from_kwargs(target="speed", hidden_size=8, num_layers=1, window=12,
                                                epochs=1, forecast_steps=6, live="widgets"), show=placed.append)
    (view,) = [s for s in run.trainer.events._subscribers if isinstance(s, LiveView)]
    origins = len(run.frame) - run.n_train - 6 + 1
    assert view.scored.value == (f"<small>val_forecast: MSE of 6-step forecasts from {origins} validation "
                                 "origins (scaled units)</small>")
    assert view.scored.layout.display is None
    assert LiveView().scored.layout.display == "none"  # nothing to say without a score
