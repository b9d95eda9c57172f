import io

import numpy as np
import pandas as pd
import pytest
import torch

import windwidgets as ww
from windwidgets.errors import ConfigError, WindwidgetsError
from windwidgets.train import Event, Events, Progress, TrainingWarning
from windwidgets.config import RunConfig
from windwidgets.views.text import TextView, stop_line


def prepared(data, **settings):
    """An unfitted Run whose events a test can subscribe to before calling ``_fit``."""
    return ww.prepare(data, **settings)


def test_events_come_in_order(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", **tiny_settings)
    names = []
    run.trainer.events.subscribe(lambda event, progress: names.append(event))
    run.fit()
    batches = run.trainer.progress.batches
    assert names[0] is Event.FIT_START and names[-1] is Event.FIT_END
    assert names.count(Event.EPOCH_START) == names.count(Event.EPOCH_END) == 2
    assert names.count(Event.BATCH_END) == 2 * batches
    assert names[1:3 + batches] == [Event.EPOCH_START] + [Event.BATCH_END] * batches + [Event.EPOCH_END]


def test_unknown_event_names_are_errors():
    events = Events()
    events.emit("epoch_end", Progress(epochs=1, batches=1, device="cpu"))  # a valid name works
    with pytest.raises(WindwidgetsError, match=r"unknown event 'epoch_ended'; events are fit_start"):
        events.emit("epoch_ended", Progress(epochs=1, batches=1, device="cpu"))


def test_same_seed_same_history(small_wind, tiny_settings):
    settings = {**tiny_settings, "dropout": 0.2, "num_layers": 2}
    first = ww.train(small_wind, target="speed", **settings)
    second = ww.train(small_wind, target="speed", **settings)
    other = ww.train(small_wind, target="speed", seed=1, **settings)
    columns = ["train_loss", "val_loss", "grad_norm"]
    pd.testing.assert_frame_equal(first.history[columns], second.history[columns])
    assert not np.allclose(first.history["train_loss"], other.history["train_loss"])


def test_nan_loss_stops_at_once_and_restores_good_weights(small_wind, tiny_settings):
    wind = small_wind.copy()
    wind["speed"] *= 1e19  # unscaled, the squared error overflows float32 to inf
    with pytest.warns(TrainingWarning, match=r"the loss became inf at epoch 1, batch 1.*learning rate.*unscaled data"):
        run = ww.train(wind, target="speed", scaler=None, **tiny_settings)
    assert run.stop_reason == "nan" and len(run.history) == 0
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
    assert np.isfinite(run.forecast(3).to_numpy()).all()


def test_stop_ends_after_the_current_batch(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", **{**tiny_settings, "epochs": 50})
    batches = []

    def stop_on_third(event, progress):
        if event is Event.BATCH_END:
            batches.append(progress.batch)
            if len(batches) == 3:
                run.stop()

    run.trainer.events.subscribe(stop_on_third)
    run.fit()
    assert batches == [1, 2, 3] and run.stop_reason == "stopped"
    assert len(run.history) == 1 and len(run.forecast(5)) == 5


def test_early_stopping_restores_the_best_epoch(small_wind, tiny_settings):
    run = ww.train(small_wind, target="speed", patience=2, lr=0.05, min_delta=0, **{**tiny_settings, "epochs": 40})
    history = run.history
    best = int(history.loc[history["val_loss"].idxmin(), "epoch"])
    assert run.stop_reason == "early_stopping" and len(history) == best + 2
    assert run.trainer.validate() == pytest.approx(history["val_loss"].min(), rel=1e-5)


def test_a_flattened_validation_loss_ends_the_fit_before_the_patience_runs_out(small_wind, tiny_settings):
    settings = {**tiny_settings, "epochs": 30, "patience": 10, "forecast_steps": 1}
    run = ww.train(small_wind, target="speed", min_delta=0.05, **settings)
    losses = list(run.history["val_loss"])
    gains = [(min(losses[:i]) - loss) / min(losses[:i]) for i, loss in enumerate(losses) if i]
    # the first epoch to beat the best before it by under 5% ends the fit; a worse one does not
    assert run.stop_reason == "flattened" and 0 <= gains[-1] < 0.05
    assert all(gain < 0 or gain >= 0.05 for gain in gains[:-1]) and len(losses) < 30
    assert run.trainer.progress.best_epoch == int(np.argmin(losses)) + 1  # the weights kept: the lowest loss
    assert "the validation loss had flattened (min_delta)" in stop_line(run.trainer.progress)
    waited = ww.train(small_wind, target="speed", min_delta=0, **settings)  # 0: the patience alone
    assert waited.stop_reason != "flattened" and len(waited.history) > len(losses)


def test_flattened_reads_a_gain_under_min_delta_of_the_best_before():
    from windwidgets.train.stopping import flattened

    assert flattened(0.995, [1.2, 1.0], 0.01)  # 0.5% better than the best before: flattened
    assert not flattened(0.98, [1.2, 1.0], 0.01)  # 2% better: still learning
    assert not flattened(1.1, [1.2, 1.0], 0.01)  # worse: patience counts it
    assert not flattened(0.995, [1.2, 1.0], 0)  # min_delta=0: the patience alone
    assert not flattened(0.5, [], 0.01) and not flattened(float("nan"), [1.0], 0.01)
    assert flattened(0.999, [float("inf"), 1.0], 0.01)  # a diverged epoch is no best


def test_the_learning_rate_halves_after_each_epoch_that_does_not_lower_the_validation_loss(small_wind, tiny_settings):
    settings = {**tiny_settings, "epochs": 14, "patience": 14, "min_delta": 0, "lr": 0.05, "forecast_steps": 1}
    history = ww.train(small_wind, target="speed", **settings).history
    losses, rates = list(history["val_loss"]), list(history["lr"])
    expected = [0.05]
    for i in range(1, len(losses)):
        stalled = i > 1 and losses[i - 1] >= min(losses[: i - 1])
        expected.append(expected[-1] * (0.5 if stalled else 1))
    assert rates == pytest.approx(expected) and min(rates) < 0.05  # it did stall, and slowed down
    kept = ww.train(small_wind, target="speed", lr_factor=1, **settings).history["lr"]
    assert (kept == 0.05).all()  # lr_factor=1: a constant rate
    unstopped = ww.train(small_wind, target="speed", **{**settings, "patience": None}).history["lr"]
    assert (unstopped == 0.05).all()  # without patience nothing changes


def test_min_delta_outside_0_1_is_refused_with_the_fix(small_wind):
    with pytest.raises(ConfigError, match=r"`min_delta` \(1.5\) must be in \[0, 1\); 0.01 stops at a gain under 1%"):
        ww.train(small_wind, target="speed", min_delta=1.5)
    with pytest.raises(ConfigError, match=r"`lr_factor` \(0\) must be in \(0, 1\]; 0.5 halves it"):
        ww.train(small_wind, target="speed", lr_factor=0)


def test_interrupt_keeps_a_usable_model(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", **{**tiny_settings, "epochs": 5})

    def interrupt_in_epoch_two(event, progress):
        if event is Event.BATCH_END and progress.epoch == 2:
            raise KeyboardInterrupt

    run.trainer.events.subscribe(interrupt_in_epoch_two)
    run.fit()
    assert run.stop_reason == "interrupted" and list(run.history["epoch"]) == [1]
    assert run.trainer.validate() == pytest.approx(run.history["val_loss"].iloc[0], rel=1e-5)


def test_stateful_training_carries_the_state(tiny_settings):
    sine = ww.datasets.sine(n=1200)
    run = ww.train(sine, model="rnn", hidden_size=16, num_layers=1, window=25, epochs=15, batch_size=4,
                   lr=5e-3, stateful=True, live=False)
    assert run.trainer.progress.batches >= 8
    assert run.history["val_loss"].iloc[-1] < 0.02  # measured 0.003
    with pytest.raises(ww.ConfigError, match=r"`mode='stateful'` is not a way 'lstm' with bidirectional=True"):
        ww.train(sine, bidirectional=True, stateful=True, live=False)


def test_gradients_are_clipped(small_wind, tiny_settings):
    run = prepared(small_wind, target="speed", clip_grad=0.01, **tiny_settings)
    norms = []

    def after_step(event, progress):
        if event is Event.BATCH_END:
            grads = [p.grad for p in run.model.parameters()]
            norms.append((progress.grad_norm, float(torch.linalg.vector_norm(torch.cat([g.flatten() for g in grads])))))

    run.trainer.events.subscribe(after_step)
    run.fit()
    assert all(clipped <= 0.01 * 1.001 for _, clipped in norms)
    assert max(before for before, _ in norms) > 0.02  # the recorded norm is the one before clipping


def test_text_view_prints_one_line_per_epoch(small_wind, tiny_settings):
    stream = io.StringIO()
    view = TextView(stream)
    run = ww.train(small_wind, target="speed", **tiny_settings)
    for row_number in range(2):
        progress = run.trainer.progress
        progress.history = run.history.to_dict("records")[: row_number + 1]
        progress.epoch = row_number + 1
        view(Event.EPOCH_END, progress)
    view(Event.FIT_END, run.trainer.progress)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("epoch   1/2  train ") and " val " in lines[0]
    assert lines[-1].startswith("finished 2 epochs; kept the weights of epoch")
    assert "\r" not in stream.getvalue()  # not a tty: no carriage-return bar


def test_a_fit_sets_its_cpu_threads_and_puts_them_back(small_wind):
    from windwidgets.config import RunConfig
    from windwidgets.train import Event

    before = torch.get_num_threads()
    for threads, expected in (("auto", 1), (2, 2)):  # a small model runs on one thread
        run = ww.prepare(small_wind, target="speed", window=12, hidden_size=8, epochs=1,
                                                            threads=threads, device="cpu", live=False)
        seen = []
        run.trainer.events.subscribe(lambda event, p: seen.append(torch.get_num_threads())
                                     if event is Event.BATCH_END else None)
        run.fit()
        assert set(seen) == {expected} and torch.get_num_threads() == before
    with pytest.raises(ww.ConfigError, match=r"`threads` \('many'\) must be 'auto' or a whole number"):
        RunConfig.from_kwargs(threads="many")


def test_auto_threads_leave_the_cores_other_work_holds():
    from windwidgets.train.threads import fit_threads

    big, cpu = torch.nn.LSTM(64, 64, 2), torch.device("cpu")  # 66,560 weights
    ours = torch.get_num_threads()
    assert fit_threads("auto", torch.nn.Linear(4, 4), cpu) == 1  # small: one thread, busy or not
    assert fit_threads("auto", big, cpu, load=5.0, cpus=2) == 1  # two cores, four other jobs running
    assert fit_threads("auto", big, cpu, load=3.0, cpus=8) == (6 if ours > 6 else None)  # two others: six left
    assert fit_threads("auto", big, cpu, load=1.0, cpus=ours) is None  # only this fit runs: torch's count
    assert fit_threads(3, big, cpu, load=9.0) == 3 and fit_threads("auto", big, torch.device("meta")) is None


def test_loss_mae_aims_at_the_median():
    # spikes of 50 in a tenth of the hours, at random: the mean of the next value is about 5,
    # its median 0; MSE learns the one, MAE the other
    rng = np.random.default_rng(0)
    values = np.where(rng.random(2000) < 0.1, 50.0, 0.0) + rng.normal(0, 0.1, 2000)
    data = pd.DataFrame({"y": values}, index=pd.date_range("2024-01-01", periods=2000, freq="h"))
    settings = dict(window=4, hidden_size=8, num_layers=1, epochs=4, live=False, lr=1e-2)
    middle = {}
    for loss in ("mse", "mae"):
        run = ww.train(data, loss=loss, **settings)
        assert run.config.train.loss == loss
        middle[loss] = np.median(run.backtest(steps=1).predictions["model"])
    assert abs(middle["mae"]) < 1.0 < middle["mse"]
    with pytest.raises(ConfigError, match=r"`loss` \('mse1'\) is not one of 'mse', 'mae', 'huber'"):
        ww.train(data, loss="mse1", **settings)
