"""ww.sweep and %%windsweep on a real local Ray (2 CPUs, loopback), started once for the module."""
import ipaddress
import math
import re
import sys

import numpy as np
import pytest
import torch
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import windwidgets as ww
from windwidgets.errors import ConfigError
from windwidgets.magics import SWEEP_EXTRA, config_options, sweep_body
from windwidgets.scale import SearchSpace
from windwidgets.train import TrainingWarning

TINY = dict(target="y", window=8, hidden_size=8, num_layers=1, batch_size=32)
LINE = "--target y --window 8 --hidden-size 8 --num-layers 1 --batch-size 32"


@pytest.fixture(scope="module")
def shell():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "windwidgets")
    shell.user_ns["sine"] = ww.datasets.sine(n=400)
    yield shell
    shell.run_line_magic("unload_ext", "windwidgets")


# -- no Ray needed ------------------------------------------------------------------------------
def test_a_bad_space_entry_names_the_value_and_the_fix():
    with pytest.raises(ConfigError, match=r"'hidden_size' the value 32; give a list of values to try"):
        SearchSpace({"hidden_size": 32})
    with pytest.raises(ConfigError, match=r"'hiden_size', which is not a setting of ww.train \(did you mean 'hidden_size'\?\)"):
        SearchSpace({"hiden_size": [8, 16]})
    with pytest.raises(ConfigError, match=r"a loguniform range is two numbers with 0 < low < high"):
        SearchSpace({"lr": {"loguniform": [0, 1e-2]}})
    with pytest.raises(ConfigError, match=r"'model' the value 'lstn', which ww.train refuses"):
        SearchSpace({"model": ["lstm", "lstn"]})
    with pytest.raises(ConfigError, match=r"'lr' is both in `space` and fixed"):
        SearchSpace({"lr": [1e-3]}, {"lr": 1e-2})


def test_a_metric_the_fits_do_not_score_is_refused_before_ray_starts():
    with pytest.raises(ConfigError, match=r"`metric` \('val_mae'\) is not one a trial reports; use one of 'auto', "
                                          r"'val_forecast', 'val_loss', 'train_loss'"):
        ww.sweep(ww.datasets.sine(n=200), {"model": ["lstm", "gru"]}, metric="val_mae", **TINY)
    with pytest.raises(ConfigError, match=r"`metric` \('val_forecast'\) ranks trials by rolled validation "
                                          r"forecasts, which these fits do not score \(forecast_steps=1, horizon=1"):
        ww.sweep(ww.datasets.sine(n=200), {"model": ["lstm", "gru"]}, metric="val_forecast", **TINY)
    with pytest.raises(ConfigError, match=r"`space` varies 'loss', but a trial's figures .* are in its own loss's units"):
        ww.sweep(ww.datasets.sine(n=200), {"loss": ["mse", "mae"]}, **TINY)


def test_the_space_turns_into_a_grid_or_draws():
    space = SearchSpace({"model": ["lstm", "gru"], "hidden_size": {"uniform": [8, 16]},
                         "lr": {"loguniform": [1e-4, 1e-2]}})
    assert space.names == ["model", "hidden_size", "lr"] and space.grid_size() == 2
    grid, drawn = space.trials(None), space.trials(40, seed=1)
    assert [point["model"] for point in grid] == ["lstm", "gru"] and len(drawn) == 40
    assert {point["model"] for point in drawn} == {"lstm", "gru"}
    assert all(isinstance(p["hidden_size"], int) and 8 <= p["hidden_size"] <= 16 for p in grid + drawn)  # whole stay whole
    assert {p["hidden_size"] for p in drawn} >= {8, 16}  # both ends drawn
    assert all(1e-4 <= p["lr"] <= 1e-2 for p in grid + drawn)
    assert sum(p["lr"] < 1e-3 for p in drawn) > 10  # log-uniform: half the draws below the geometric middle
    assert space.trials(40, seed=1) == drawn and space.trials(40, seed=2) != drawn  # the seed decides the draws
    # the halving lets a trial run to the most epochs any trial may get
    assert SearchSpace({"epochs": {"uniform": [5, 40]}}).most("epochs", 20) == 40
    assert SearchSpace({"epochs": [3, 7]}).most("epochs", 20) == 7 and space.most("epochs", 12) == 12


def test_halving_stops_a_trial_worse_than_the_median_of_those_before_it_at_each_rung():
    from windwidgets.scale.tuning import Halving

    halving = Halving(8)  # rungs at 2, 4 and 8 epochs (a quarter of the epochs, doubled)
    assert list(halving.rungs) == [8, 4, 2]
    assert halving.go_on("a", 1, 9.0)  # before the first rung: nothing to compare
    assert halving.go_on("a", 2, 1.0) and halving.go_on("b", 2, 3.0) is False  # worse than the median (1.0)
    assert halving.go_on("c", 2, 2.0)  # the median of 1 and 3 is 2: no worse
    assert halving.go_on("d", 2, float("nan"))  # NaN stops nothing, and counts for no median
    assert halving.go_on("e", 2, float("inf")) is False
    assert halving.go_on("a", 4, 0.5) and halving.go_on("c", 4, 0.7) is False


def test_without_ray_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r'pip install "windwidgets\[ray\]"'):
        ww.sweep(ww.datasets.sine(n=200), {"model": ["lstm", "gru"]}, **TINY)


def test_a_sweep_body_splits_fixed_settings_from_the_space():
    options = {**SWEEP_EXTRA, **config_options()}
    fixed, space = sweep_body('model = ["lstm", "gru"]\nlr = { loguniform = [1e-4, 1e-2] }\nepochs = 2\n'
                              'covariates = ["a", "b"]\nfuture_covariates = [["c"], ["c", "d"]]\n', options)
    assert fixed == {"epochs": 2, "covariates": ["a", "b"]}
    assert space == {"model": ["lstm", "gru"], "lr": {"loguniform": [1e-4, 1e-2]},
                     "future_covariates": [["c"], ["c", "d"]]}
    with pytest.raises(UsageError, match="a setting of the sweep, not something to search"):
        sweep_body("trials = [2, 4]", options)


def test_the_magics_say_what_is_wrong_in_one_line(shell):
    with pytest.raises(UsageError, match=r"%windsweep: the cell body holds no search space; give lists or ranges"):
        shell.run_cell(f"%%windsweep --data sine {LINE}\nepochs = 2\n").raise_error()
    with pytest.raises(UsageError, match=r"`space` gives 'model' the value 'lstn', which ww.train refuses"):
        shell.run_cell(f"%%windsweep --data sine {LINE}\nmodel = [\"lstm\", \"lstn\"]\n").raise_error()
    with pytest.raises(UsageError, match=r"`workers` \(0\) must be a whole number of at least 1"):
        shell.run_cell(f"%windtrain --data sine {LINE} --workers 0").raise_error()
    from windwidgets.magics import WindMagics

    assert "--num-cpus" in WindMagics.windsweep.__doc__ and "--workers" in WindMagics.windtrain.__doc__


# -- on Ray ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for every test here: 2 CPUs, loopback; shut down at the end."""
    pytest.importorskip("ray")
    from windwidgets.scale import RaySession

    session = RaySession(num_cpus=2).__enter__()
    yield session
    session.__exit__(None, None, None)


def test_ray_listens_on_loopback_only(ray_session):
    import psutil

    me = psutil.Process()
    addresses = set()
    for process in [me, *me.children(recursive=True)]:
        try:
            connections = process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        addresses |= {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
    assert addresses, "found no listening Ray process to check"
    def loopback(ip):
        address = ipaddress.ip_address(ip)
        return (getattr(address, "ipv4_mapped", None) or address).is_loopback  # ::ffff:127.0.0.1 too

    assert all(loopback(ip) for ip in addresses), addresses


def test_a_four_trial_sweep_in_the_shell_updates_the_leaderboard_and_brings_back_the_best_run(
        ray_session, shell, monkeypatch, tmp_path):
    from windwidgets.views.leaderboard import Leaderboard

    seen = []  # the widget's state after each report, as a front end would see it
    update = Leaderboard.update

    def watched(self, sweep, record):
        update(self, sweep, record)
        seen.append((self.status.value, self.table.value.count("<tr>") - 1))

    monkeypatch.setattr(Leaderboard, "update", watched)
    shell.run_cell(f"%%windsweep --data sine {LINE} --epochs 2 --live widgets --concurrent-trials 1 --out sw\n"
                   'model = ["lstm", "gru"]\nlr = [0.001, 0.01]\n').raise_error()
    result = shell.user_ns["sw"]
    table = result.table
    assert len(table) == 4 and set(table["model"]) == {"lstm", "gru"} and set(table["lr"]) == {0.001, 0.01}
    assert (table["epochs"] >= 1).all() and table["val_loss"].is_monotonic_increasing
    assert len(seen) >= 4 and seen[-1][1] == 4  # updated as trials reported; every trial shown
    board = result.view
    board.sort.value, board.descending.value = "trial", True
    assert [row["trial"] for row in board.sorted_rows()] == [4, 3, 2, 1]
    assert "rows" not in board.table.value and board.table.value.index(">4<") < board.table.value.index(">1<")

    best = result.best
    assert isinstance(best, ww.Run)
    assert best.history["val_loss"].min() == pytest.approx(table["val_loss"].iloc[0])
    assert best.config.model.model == table["model"].iloc[0]
    forecast = best.forecast(6)
    assert forecast.shape == (6, 1) and np.isfinite(forecast.to_numpy()).all()
    best.save(tmp_path / "best.pt")
    np.testing.assert_allclose(ww.load(tmp_path / "best.pt").forecast(6).to_numpy(), forecast.to_numpy())
    assert len(result.runs) == 4


def test_stop_ends_a_background_sweep_and_keeps_what_reported(ray_session, monkeypatch):
    import time

    from windwidgets import views
    from windwidgets.views import leaderboard

    for module in (views, leaderboard):  # as in a kernel: the leaderboard, and the sweep runs in a thread
        monkeypatch.setattr(module, "in_notebook", lambda: True)
    # trials far longer than the test waits: a trial of this size takes a few ms an epoch
    result = ww.sweep(ww.datasets.sine(n=400), {"lr": {"loguniform": [1e-3, 1e-2]}}, trials=4, epochs=3000,
                      concurrent_trials=1, live="widgets", **TINY)
    board = result.view
    deadline = time.monotonic() + 180  # the first trial starts a worker process: slow on busy cores
    while not board.rows and time.monotonic() < deadline:  # the cell has returned; trials report meanwhile
        time.sleep(0.05)
    assert result.running and board.rows
    board.stop_button.click()
    result.wait(timeout=60)
    assert not result.running and result.stopped and board.stop_button.disabled
    table = result.table
    assert 1 <= len(table) <= 4 and table["epochs"].max() < 3000  # stopped long before 3000 epochs
    assert not math.isnan(table["val_loss"].iloc[0])
    assert np.isfinite(result.best.forecast(3).to_numpy()).all()
    assert "stopped on request" in board.status.value


# -- ww.train(..., workers=N) ---------------------------------------------------------------------
def test_workers_are_checked_before_ray_starts(monkeypatch):
    with pytest.raises(ConfigError, match=r"`workers` \(0\) must be a whole number of at least 1"):
        ww.train(ww.datasets.sine(n=200), workers=0, **TINY)
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r'workers=...\) runs on Ray, which is not installed here; install it with pip'):
        ww.train(ww.datasets.sine(n=200), workers=2, **TINY)


def test_two_workers_drive_the_live_panel_stop_together_and_match_one_worker(ray_session, monkeypatch):
    from windwidgets.views.live import LiveView

    heard = []
    call = LiveView.__call__

    def stop_after_two_epochs(self, event, progress):
        heard.append(event)
        call(self, event, progress)
        if event is ww.Event.EPOCH_END and progress.epoch == 2:
            self._stop()  # what the panel's Stop button calls

    monkeypatch.setattr(LiveView, "__call__", stop_after_two_epochs)
    data = ww.datasets.sine(n=2000)
    settings = dict(TINY, model="gru", epochs=30)
    with pytest.raises(ConfigError, match=r"`workers` \(3\) needs 3 CPUs, one a worker; the Ray running in this session has 2"):
        ww.train(data, workers=3, **settings)
    run = ww.train(data, workers=2, live="widgets", **settings)
    assert isinstance(run, ww.Run) and run.stop_reason == "stopped"
    history = run.history
    assert 2 <= len(history) < 30  # every worker stopped soon after the Stop; none hung
    assert heard[0] is ww.Event.FIT_START and heard[-1] is ww.Event.FIT_END and ww.Event.BATCH_END in heard
    assert heard.count(ww.Event.EPOCH_END) == len(history)
    assert np.isfinite(run.forecast(5).to_numpy()).all()

    single = ww.train(data, **{**settings, "epochs": 2, "live": False}).history
    # As many windows a step and steps an epoch as one worker, in another order; measured: within 1%
    np.testing.assert_allclose(history["val_loss"].iloc[:2], single["val_loss"], rtol=0.05)
    np.testing.assert_allclose(history["train_loss"].iloc[:2], single["train_loss"], rtol=0.05)


def _within(seconds: float, call):
    """``call()`` in a thread, or a test failure once ``seconds`` pass (a hung collective
    would otherwise hang the suite)."""
    import threading
    import warnings

    outcome = {}

    def target():
        with warnings.catch_warnings(record=True) as heard:
            warnings.simplefilter("always")
            try:
                outcome["value"] = call()
            except BaseException as error:  # noqa: BLE001 - raised again in the test
                outcome["error"] = error
        outcome["warnings"] = [str(w.message) for w in heard]

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: a worker waits for ever"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"], outcome["warnings"]


NAN = (r"the loss became (inf|nan) at epoch 1, batch \d+; training stopped and the weights of epoch 0 "
       r"were restored")


def test_a_nan_on_one_worker_stops_every_worker_at_the_same_step(ray_session):
    data = ww.datasets.sine(n=400)
    # Row 319 is the target of the last training window (312 of them, at 0 to 311) and of no
    # other: window 311 is in worker 1's share alone (worker r takes r, r + 2, ...), so only
    # worker 1 meets an inf loss, and worker 0 would wait for it in the next all-reduce.
    data.iloc[319, 0] = 1e20
    settings = dict(TINY, epochs=3, scaler=None, live=False)
    run, heard = _within(300, lambda: ww.train(data, workers=2, **settings))
    with pytest.warns(TrainingWarning, match=NAN):
        single = ww.train(data, **settings)
    assert run.stop_reason == single.stop_reason == "nan"
    assert re.match(NAN, run.trainer.progress.warning) and any(re.match(NAN, text) for text in heard)
    assert list(run.history.columns) == list(single.history.columns) and len(run.history) == len(single.history)
    for name, value in single.model.state_dict().items():  # the best (here the first) epoch's weights
        torch.testing.assert_close(run.model.state_dict()[name], value)
    assert np.isfinite(run.forecast(3).to_numpy()).all()


def test_a_trial_whose_loss_turns_nan_is_listed_with_its_message_and_the_others_go_on(ray_session):
    result, _ = _within(300, lambda: ww.sweep(ww.datasets.sine(n=400), {"lr": [1e-3, 1e20]}, epochs=2,
                                              concurrent_trials=1, live=False, **TINY))
    table = result.table.set_index("lr")
    assert len(table) == 2
    assert table.loc[1e-3, "status"] == "finished" and table.loc[1e-3, "epochs"] == 2
    assert table.loc[1e20, "status"] == "nan" and table.loc[1e20, "epochs"] == 0  # inf at epoch 1, batch 2
    assert re.match(NAN, table.loc[1e20, "message"]) and table.loc[1e-3, "message"] == ""
    assert result.best.config.train.lr == 1e-3 and len(result.runs) == 1


# -- the epoch kept is the one that forecasts best, on Ray as in one fit ---------------------------
WIND = dict(target="speed", window=12, num_layers=1, batch_size=32, epochs=3)


def test_workers_keep_the_epoch_whose_rolled_forecasts_score_best(ray_session):
    wind = ww.datasets.wind(days=30)  # hourly: the epoch is picked by 24-step forecasts
    run, _ = _within(300, lambda: ww.train(wind, workers=2, hidden_size=8, live=False, **WIND))
    single = ww.train(wind, hidden_size=8, live=False, **WIND)
    history = run.history
    assert run.config.train.forecast_steps == 24 and "val_forecast" in history
    assert run.trainer.progress.best_epoch == history.loc[history["val_forecast"].idxmin(), "epoch"]
    # the same windows a step in another order, as for the losses; measured: within 0.2%. Both
    # keep epoch 1, where the one-step val_loss would keep epoch 3
    np.testing.assert_allclose(history["val_forecast"], single.history["val_forecast"], rtol=0.02)
    assert run.trainer.progress.best_epoch == single.trainer.progress.best_epoch


def test_a_sweep_ranks_trials_by_the_forecast_score_each_fit_keeps(ray_session):
    wind = ww.datasets.wind(days=30)
    result = ww.sweep(wind, {"hidden_size": [4, 8]}, concurrent_trials=1, live=False, **WIND)
    assert result.metric == "val_forecast"
    table = result.table
    assert len(table) == 2 and table["val_forecast"].is_monotonic_increasing
    for _, row in table.iterrows():  # each trial is the fit ww.train makes with its settings (measured: equal)
        single = ww.train(wind, hidden_size=int(row["hidden_size"]), live=False, **WIND)
        kept = single.history.set_index("epoch").loc[single.trainer.progress.best_epoch]
        assert row["val_forecast"] == pytest.approx(kept["val_forecast"], rel=1e-4)
        assert row["val_loss"] == pytest.approx(kept["val_loss"], rel=1e-4)  # the kept epoch's, not the lowest
    best = result.best
    assert best.config.model.hidden_size == table["hidden_size"].iloc[0]
    assert best.progress.best_epoch == best.history.loc[best.history["val_forecast"].idxmin(), "epoch"]


def test_a_trial_that_fails_shows_its_error_in_the_table_and_the_text_view(ray_session, capsys):
    # every value is checked here before Ray starts; a model registered in this process alone
    # passes, and its trial fails in the worker, which never heard of it
    ww.zoo.register("kernel_only", lambda spec, config: ww.zoo.build("gru", spec, config),
                    knobs=("hidden_size", "num_layers"))
    result = ww.sweep(ww.datasets.sine(n=400), {"model": ["gru", "kernel_only"]}, epochs=1, concurrent_trials=1,
                      live="text", **TINY)
    table = result.table.set_index("model")
    assert table.loc["gru", "status"] == "finished" and table.loc["kernel_only", "status"] == "error"
    assert "ModelError" in table.loc["kernel_only", "message"] and "kernel_only" in table.loc["kernel_only", "message"]
    assert re.search(r"trial +\d+ +error after 0 epochs: ModelError: unknown model 'kernel_only'",
                     capsys.readouterr().out)
    assert result.best.config.model.model == "gru"


def test_kept_workers_run_the_next_sweep_and_end_with_a_sweep_that_does_not_keep_them(ray_session):
    from windwidgets.scale import tuning

    data, settings = ww.datasets.sine(n=400), dict(epochs=2, concurrent_trials=1, live=False, **TINY)
    first = ww.sweep(data, {"lr": [1e-3, 1e-2]}, keep_ray=True, **settings)
    kept = list(tuning._POOL["workers"])
    second = ww.sweep(data, {"lr": [1e-3, 1e-2]}, keep_ray=True, **settings)
    assert len(kept) == 1 and tuning._POOL["workers"] == kept  # the same worker ran both sweeps
    pd_first, pd_second = first.table.drop(columns="seconds"), second.table.drop(columns="seconds")
    assert pd_first.equals(pd_second)  # the same trials, the same figures
    ww.sweep(data, {"lr": [1e-3]}, **settings)
    assert not tuning._POOL  # a sweep that does not keep Ray ends the workers, the kept ones too


def test_an_ensemble_trial_brings_back_each_member_s_own_epoch(ray_session):
    """Each member keeps its own best epoch in a trial too: the sweep's best Run holds the
    weights a fit here ends with, not the mean's best epoch (here the members keep 1 and 4)."""
    data = ww.datasets.wind(days=30)
    settings = dict(target="speed", window=12, hidden_size=4, num_layers=1, epochs=4, ensemble=2, threads=1)
    best = ww.sweep(data, {"lr": [3e-3]}, live=False, **settings).best
    single = ww.train(data, lr=3e-3, live=False, **settings)
    kept = single.trainer.progress.member_epochs
    assert kept != [single.progress.best_epoch] * len(kept)  # a member keeps an epoch not the mean's
    for name, value in single.model.state_dict().items():
        torch.testing.assert_close(best.model.state_dict()[name], value)
    assert best.progress.member_epochs == kept
